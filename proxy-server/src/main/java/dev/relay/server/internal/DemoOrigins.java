package dev.relay.server.internal;

import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.server.Service;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.Selection;
import dev.relay.server.internal.config.ProxyConfig.UpstreamConfig;
import dev.relay.transport.TransportRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The demo origins of the bundled configuration: small HTTP/1.1 servers on loopback ports chosen by
 * the system, each answering every request with {@code 200 text/plain "Hello from demo origin N\n"}
 * and the header {@code X-Demo-Origin: N}. They run on Netty, on one event loop of their own (not the
 * proxy's, so that the demo never competes with the proxy for a loop); the JDK's HTTP server would
 * do, but it rewrites header names to {@code X-demo-origin}.
 *
 * <p>The sockets are bound at construction, so the proxy can be configured with their addresses
 * before anything starts. Origins are numbered in port order, which is the order the round robin
 * visits them in (the load balancer orders backends by address), so the first request goes to
 * origin 1 and the second to origin 2.
 */
public final class DemoOrigins implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(DemoOrigins.class);

    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final List<InetSocketAddress> addresses = new ArrayList<>();
    /** Origin number by bind order, filled once every port is known; read when a connection opens. */
    private int[] numbers;

    /** Binds {@code count} demo origins on loopback (0: none, and no thread either). */
    public DemoOrigins(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count: " + count + " (expected: >= 0)");
        }
        if (count == 0) {
            this.group = null;
            return;
        }
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("relay-demo-origin", true),
                NioIoHandler.newFactory());
        List<Channel> bound = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                // The origin's number is known once every port is: it is read from the channel's slot.
                int slot = i;
                Channel ch = new ServerBootstrap()
                        .group(group)
                        .channel(NioServerSocketChannel.class)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel c) {
                                c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                        new Answer(numberOf(slot)));
                            }
                        })
                        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        .syncUninterruptibly().channel();
                bound.add(ch);
            }
        } catch (RuntimeException e) {
            bound.forEach(Channel::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot bind the demo origins on loopback: " + e.getMessage(), e);
        }
        synchronized (this) {
            channels.addAll(bound);
            List<Channel> byPort = new ArrayList<>(bound);
            byPort.sort(Comparator.comparingInt(c -> ((InetSocketAddress) c.localAddress()).getPort()));
            numbers = new int[count];
            for (int n = 0; n < byPort.size(); n++) {
                numbers[bound.indexOf(byPort.get(n))] = n + 1;
                addresses.add((InetSocketAddress) byPort.get(n).localAddress());
            }
        }
    }

    private synchronized int numberOf(int slot) {
        return numbers[slot];
    }

    /** The origins' addresses, origin 1 first. */
    public synchronized List<InetSocketAddress> addresses() {
        return List.copyOf(addresses);
    }

    /** The upstream group {@code demo}: round robin over the origins. */
    public UpstreamConfig upstream() {
        List<Backend> backends = new ArrayList<>();
        for (InetSocketAddress a : addresses()) {
            backends.add(Backend.of(a));
        }
        PeerOptions options = PeerOptions.builder()
                .connectTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(30))
                .build();
        return new UpstreamConfig(ProxyConfig.DEMO_UPSTREAM, backends, Selection.ROUND_ROBIN, false, null, false,
                null, options);
    }

    /** Answers every request of one connection of origin {@code number}. */
    private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final int number;

        Answer(int number) {
            this.number = number;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            byte[] body = ("Hello from demo origin " + number + "\n").getBytes(StandardCharsets.UTF_8);
            boolean head = HttpMethod.HEAD.equals(request.method());
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .set("X-Demo-Origin", Integer.toString(number))
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public String name() {
        return "demo-origins";
    }

    @Override
    public void start(TransportRuntime runtime) {
        List<InetSocketAddress> list = addresses();
        for (int i = 0; i < list.size(); i++) {
            LOG.info("demo origin {} listening on http://{}:{}/", i + 1, list.get(i).getAddress().getHostAddress(),
                    list.get(i).getPort());
        }
    }

    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        // Stopped after the proxy has drained (services stop in reverse order): nothing is in flight.
        close();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        List<Channel> toClose;
        synchronized (this) {
            toClose = new ArrayList<>(channels);
            channels.clear();
        }
        toClose.forEach(Channel::close);
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
