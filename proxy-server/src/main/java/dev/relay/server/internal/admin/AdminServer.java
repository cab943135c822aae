package dev.relay.server.internal.admin;

import dev.relay.core.Addresses;
import dev.relay.core.Backend;
import dev.relay.lb.Backends;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.server.internal.ConfigReloader;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.internal.proxy.ProxyRuntime;
import dev.relay.server.internal.proxy.UpstreamGroup;
import dev.relay.transport.TransportRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The admin listener, a {@link Service} on an event loop of its own (epoll where available, so that
 * its socket can be handed to a new process on upgrade), never the proxy's:
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>{@code GET /health}</td><td>200 {@code ok} while the server runs; 503 {@code draining}
 *       once a stop (SIGTERM, upgrade) began, so a load balancer in front stops sending first</td></tr>
 *   <tr><td>{@code GET /ready}</td><td>200 once every listener is bound and until a stop begins; 503
 *       before and after</td></tr>
 *   <tr><td>{@code GET /metrics}</td><td>Prometheus text format</td></tr>
 *   <tr><td>{@code GET /upstreams}</td><td>JSON: each group's settings (selection, discovery,
 *       checks) and its backends with health, ejection and requests in flight</td></tr>
 *   <tr><td>{@code GET /cache}</td><td>JSON: each cache of the configuration (the {@code cache} filters)
 *       with its requests by result, lock and revalidation counts, and its tiers' entries, bytes, cap
 *       and evictions</td></tr>
 *   <tr><td>{@code POST /cache/purge}</td><td>{@code key=} (an exact cache key, with its variants) or
 *       {@code prefix=} (every key starting with it), in the query string or a form body: removes them
 *       from every cache; 200 {@code {"purged":N}}, or 400 when neither is given</td></tr>
 *   <tr><td>{@code POST /reload}</td><td>re-reads the configuration; 200 with the new generation,
 *       or 400 with the reason (the running configuration stays)</td></tr>
 * </table>
 */
public final class AdminServer implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final String address;
    private final Supplier<Server> server;
    private final RelayMetrics metrics;
    private final ConfiguredProxy proxy;
    private final ConfigReloader reloader;
    private final ChannelGroup connections = new DefaultChannelGroup("relay-admin", GlobalEventExecutor.INSTANCE);
    private final ExecutorService reloads = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "relay-admin-reload");
        t.setDaemon(true);
        return t;
    });
    private EventLoopGroup group;
    private Channel listener;
    private Integer inheritedFd;

    /**
     * An admin listener on {@code address}.
     *
     * @param server   the server, for readiness (a supplier: the server is built after its services)
     * @param reloader what {@code POST /reload} runs
     */
    public AdminServer(String address, Supplier<Server> server, RelayMetrics metrics, ConfiguredProxy proxy,
                       ConfigReloader reloader) {
        this.address = requireNonNull(address, "address");
        this.server = requireNonNull(server, "server");
        this.metrics = requireNonNull(metrics, "metrics");
        this.proxy = requireNonNull(proxy, "proxy");
        this.reloader = requireNonNull(reloader, "reloader");
    }

    /** The configured address. */
    public String address() {
        return address;
    }

    @Override
    public String name() {
        return "admin";
    }

    /** Adopts {@code fd} (the previous process's admin socket) instead of binding. Before start. */
    public synchronized void inherit(int fd) {
        inheritedFd = fd;
    }

    @Override
    public synchronized void start(TransportRuntime runtime) {
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-admin", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new Handler());
                    }
                });
        try {
            if (inheritedFd != null && epoll) {
                int fd = inheritedFd;
                listener = bootstrap.channelFactory(() -> new EpollServerSocketChannel(fd)).register()
                        .syncUninterruptibly().channel();
                LOG.info("admin listening on {} (socket taken over from the previous process)",
                        Addresses.format((InetSocketAddress) listener.localAddress()));
            } else {
                Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
                InetSocketAddress requested = Addresses.parseHostPort(address);
                if (requested.isUnresolved()) {
                    requested = new InetSocketAddress(requested.getHostString(), requested.getPort());
                }
                listener = bootstrap.channel(type).bind(requested).syncUninterruptibly().channel();
                LOG.info("admin listening on {}", Addresses.format((InetSocketAddress) listener.localAddress()));
            }
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    /** The bound address; null before start. */
    public synchronized InetSocketAddress boundAddress() {
        return listener == null ? null : (InetSocketAddress) listener.localAddress();
    }

    /** The listening socket's descriptor (epoll), for an upgrade; null otherwise. */
    public synchronized Integer listenerFileDescriptor() {
        return listener instanceof EpollServerSocketChannel epoll && epoll.isActive() ? epoll.fd().intValue() : null;
    }

    /** Stops accepting (the socket was handed over); open admin connections finish. */
    public synchronized void stopAccepting() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        // The proxy has drained by now (services stop in reverse order, the admin listener was added
        // before the proxy): nothing worth waiting for.
        close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        Channel l;
        EventLoopGroup g;
        synchronized (this) {
            l = listener;
            g = group;
        }
        if (l != null) {
            l.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        reloads.shutdownNow();
        if (g != null) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /**
     * The {@code /upstreams} document: per group its selection, hash key, TLS, where its backends
     * come from, its active check (null: none), whether passive health is on, its protocol ({@code alpn})
     * and its open HTTP/2 connections and streams ({@code h2_connections}, {@code h2_active_streams}); per backend its
     * weight, {@code healthy} (active checks), {@code enabled} (not drained), {@code ejected}
     * (passive health), {@code ready} (all three: it takes traffic) and {@code in_flight}.
     */
    String upstreamsJson() {
        ProxyRuntime rt = proxy.runtime();
        StringBuilder sb = new StringBuilder(512).append("{\"generation\":").append(rt.generation()).append(",\"upstreams\":{");
        boolean firstGroup = true;
        for (UpstreamGroup g : rt.groups().values()) {
            if (!firstGroup) {
                sb.append(',');
            }
            firstGroup = false;
            Backends backends = g.loadBalancer().backends();
            var config = g.config();
            Json.string(sb, g.name()).append(":{\"selection\":");
            Json.string(sb, config.selection().configName()).append(",\"hash_key\":");
            Json.string(sb, config.hashKey() == null ? null : config.hashKey().toString()).append(",\"tls\":")
                    .append(config.tls()).append(",\"discovery\":");
            Json.string(sb, config.discovery() == null ? "static" : config.discovery().describe())
                    .append(",\"health_check\":");
            Json.string(sb, config.healthCheck() == null ? null : config.healthCheck().describe())
                    .append(",\"outlier_detection\":").append(config.outlierDetection() != null)
                    .append(",\"alpn\":");
            Json.string(sb, config.options().alpn().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                    .append(",\"h2_connections\":").append(metrics.upstreamH2Connections(g.id()))
                    .append(",\"h2_active_streams\":").append(metrics.upstreamH2ActiveStreams(g.id()))
                    .append(",\"backends\":[");
            boolean first = true;
            for (Backend b : backends.list()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append("{\"address\":");
                Json.string(sb, b.hostAndPort());
                sb.append(",\"weight\":").append(b.weight())
                        .append(",\"healthy\":").append(backends.isHealthy(b))
                        .append(",\"enabled\":").append(backends.isEnabled(b))
                        .append(",\"ejected\":").append(backends.isEjected(b))
                        .append(",\"ready\":").append(backends.ready(b))
                        .append(",\"in_flight\":").append(backends.inFlight(b)).append('}');
            }
            sb.append("]}");
        }
        return sb.append("}}").toString();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpMethod method = request.method();
            boolean get = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
            Server s = server.get();
            switch (path) {
                case "/health" -> {
                    if (!get) {
                        methodNotAllowed(ctx, keepAlive, "GET");
                    } else if (s != null && s.isStopping()) {
                        send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "draining\n");
                    } else {
                        send(ctx, keepAlive, HttpResponseStatus.OK, "text/plain", "ok\n");
                    }
                }
                case "/ready" -> {
                    if (!get) {
                        methodNotAllowed(ctx, keepAlive, "GET");
                    } else if (s != null && s.isRunning()) {
                        send(ctx, keepAlive, HttpResponseStatus.OK, "text/plain", "ready\n");
                    } else {
                        send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
                                (s != null && s.isStopping() ? "draining" : "starting") + "\n");
                    }
                }
                case "/metrics" -> {
                    if (!get) {
                        methodNotAllowed(ctx, keepAlive, "GET");
                    } else {
                        send(ctx, keepAlive, HttpResponseStatus.OK, RelayMetrics.contentType(), metrics.scrape());
                    }
                }
                case "/upstreams" -> {
                    if (!get) {
                        methodNotAllowed(ctx, keepAlive, "GET");
                    } else {
                        send(ctx, keepAlive, HttpResponseStatus.OK, "application/json", upstreamsJson() + "\n");
                    }
                }
                case "/reload" -> {
                    if (!method.equals(HttpMethod.POST)) {
                        methodNotAllowed(ctx, keepAlive, "POST");
                        return;
                    }
                    // A reload reads files and binds sockets: never on this event loop.
                    reloads.execute(() -> {
                        ConfigReloader.Result result = reloader.reload("POST /reload");
                        StringBuilder body = new StringBuilder();
                        if (result.success()) {
                            body.append("{\"status\":\"reloaded\",\"generation\":").append(result.generation());
                        } else {
                            body.append("{\"status\":\"rejected\",\"generation\":").append(result.generation());
                        }
                        Json.string(body.append(",\"message\":"), result.message()).append("}\n");
                        ctx.executor().execute(() -> send(ctx, keepAlive,
                                result.success() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST,
                                "application/json", body.toString()));
                    });
                }
                case "/cache" -> {
                    if (!get) {
                        methodNotAllowed(ctx, keepAlive, "GET");
                    } else {
                        send(ctx, keepAlive, HttpResponseStatus.OK, "application/json", CacheAdmin.json(proxy.runtime().caches()));
                    }
                }
                case "/cache/purge" -> {
                    if (!method.equals(HttpMethod.POST)) {
                        methodNotAllowed(ctx, keepAlive, "POST");
                        return;
                    }
                    byte[] body = new byte[request.content().readableBytes()];
                    request.content().getBytes(request.content().readerIndex(), body);
                    CacheAdmin.Purge purge = CacheAdmin.purge(proxy.runtime().caches(), request.uri(), body);
                    send(ctx, keepAlive, purge.ok() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST,
                            "application/json", purge.body());
                }
                default -> send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "text/plain",
                        "not found (try /health, /ready, /metrics, /upstreams, /cache, POST /reload, POST /cache/purge)\n");
            }
        }

        private void methodNotAllowed(ChannelHandlerContext ctx, boolean keepAlive, String allow) {
            FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
                    ("method not allowed (expected: " + allow + ")\n").getBytes(StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.ALLOW, allow);
            write(ctx, keepAlive, r);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String type, String body) {
        send(ctx, keepAlive, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String type, byte[] body) {
        write(ctx, keepAlive, response(status, type, body));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    private static void write(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse r) {
        HttpUtil.setKeepAlive(r, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(r);
        } else {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** A few JSON helpers (the admin documents are small and fixed). */
    static final class Json {
        private Json() {}

        static StringBuilder string(StringBuilder sb, String s) {
            return dev.relay.server.internal.JsonText.string(sb, s);
        }
    }

    @Override
    public String toString() {
        return "AdminServer{" + address + '}';
    }
}
