package dev.relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * A real HTTP/2 origin for integration tests: Netty's frame codec on its own event loop, bound to
 * {@code 127.0.0.1} on an ephemeral port, over TLS (ALPN offering {@code h2} only) or in clear text with
 * prior knowledge (h2c). It records every request (headers and trailers as received, body size and SHA-256), counts
 * connections and the most streams open at once on one, and serves these routes (every response has
 * {@code x-origin: <name>}):
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><th>Path</th><th>Response</th></tr>
 *   <tr><td>{@code /} and any unknown path</td><td>200, {@code h2 origin <name>\n}</td></tr>
 *   <tr><td>{@code /bytes/{n}}</td><td>200, {@code n} pattern bytes ({@link TestOrigin#patternByte}) with
 *       {@code content-length}, generated as the stream's window allows</td></tr>
 *   <tr><td>{@code /echo}</td><td>200, the request body streamed back as it arrives</td></tr>
 *   <tr><td>{@code /sink}</td><td>200, {@code {"bytes":N,"sha256":"hex"}} of the request body</td></tr>
 *   <tr><td>{@code /headers}</td><td>200, the request's fields as {@code name: value} lines, pseudo-headers first</td></tr>
 *   <tr><td>{@code /trailers}</td><td>200, {@code hello}, then trailers {@code x-checksum} and {@code grpc-status: 0}</td></tr>
 *   <tr><td>{@code /trailers-only}</td><td>one HEADERS frame ending the stream: 200,
 *       {@code content-type: application/grpc}, {@code grpc-status: 7}, {@code grpc-message: denied}</td></tr>
 *   <tr><td>{@code /early-hints}</td><td>a 103 with a {@code link}, then 200 {@code hinted}</td></tr>
 *   <tr><td>{@code /delay/{ms}}</td><td>200 {@code delayed} after {@code ms} milliseconds</td></tr>
 *   <tr><td>{@code /reset?code=refused|cancel|internal}</td><td>RST_STREAM with that code (default internal)
 *       before any response; a refused stream is not recorded</td></tr>
 *   <tr><td>{@code /short-body}</td><td>{@code content-length: 100} but 50 bytes, then the end of the stream</td></tr>
 *   <tr><td>{@code /drop-connection}</td><td>no response: once the request is recorded, the whole connection
 *       is closed at once, without GOAWAY (an origin that crashed after reading the request)</td></tr>
 * </table>
 *
 * <p>Misbehaviour on command ({@link Builder}): {@code maxConcurrentStreams} announces a low
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}; {@code goAwayAfter(n)} sends GOAWAY (NO_ERROR) when a
 * connection's n-th stream arrives, naming the connection's first stream as the last it processes: the
 * first is answered, the others (open at that moment or later) are not;
 * {@code answerPings(false)} never acknowledges a PING.
 *
 * <pre>{@code
 * try (H2Origin origin = H2Origin.builder().name("h2").tls(TestCertificates.localhost()).build().start()) {
 *     // point the proxy at origin.address() with alpn = h2
 * }
 * }</pre>
 */
public final class H2Origin implements AutoCloseable {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final String name;
    private final TestCertificates.Server certificate;
    private final long maxConcurrentStreams;
    private final int goAwayAfter;
    private final boolean answerPings;
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connectionsAccepted = new AtomicInteger();
    private final AtomicInteger openConnections = new AtomicInteger();
    private final AtomicInteger maxStreamsSeen = new AtomicInteger();
    private final AtomicInteger pingsReceived = new AtomicInteger();
    private final AtomicInteger resetsReceived = new AtomicInteger();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong connectionIds = new AtomicLong();
    private final Map<String, AtomicInteger> resets = new ConcurrentHashMap<>();
    private EventLoopGroup group;
    private Channel serverChannel;
    private int port;

    private H2Origin(Builder b) {
        this.name = b.name;
        this.certificate = b.certificate;
        this.maxConcurrentStreams = b.maxConcurrentStreams;
        this.goAwayAfter = b.goAwayAfter;
        this.answerPings = b.answerPings;
    }

    /** A builder: plain h2c, name {@code h2}, no limits. */
    public static Builder builder() {
        return new Builder();
    }

    /** Binds and starts serving. */
    public H2Origin start() {
        SslContext ssl = sslContext();
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("h2-origin-" + name, true),
                NioIoHandler.newFactory());
        serverChannel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted(ch, ssl);
                    }
                }).bind(LOOPBACK, 0).syncUninterruptibly().channel();
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return this;
    }

    private SslContext sslContext() {
        if (certificate == null) {
            return null;
        }
        try {
            return certificate.nettyServerContextBuilder().sslProvider(SslProvider.JDK)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2)).build();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("cannot create the TLS context of origin " + name, e);
        }
    }

    private void accepted(SocketChannel ch, SslContext ssl) {
        long id = connectionIds.incrementAndGet();
        connectionsAccepted.incrementAndGet();
        openConnections.incrementAndGet();
        ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
        if (ssl != null) {
            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
        }
        Http2Settings settings = Http2Settings.defaultSettings();
        if (maxConcurrentStreams >= 0) {
            settings.maxConcurrentStreams(maxConcurrentStreams);
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer().initialSettings(settings)
                .autoAckPingFrame(answerPings).build();
        ch.pipeline().addLast(codec);
        ConnectionState state = new ConnectionState(id, ssl != null, ch.pipeline().context(codec), codec);
        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel stream) {
                stream.pipeline().addLast(new StreamHandler(state, (InetSocketAddress) ch.remoteAddress()));
            }
        }));
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2PingFrame ping && !ping.ack()) {
                    pingsReceived.incrementAndGet();
                }
                ReferenceCountUtil.release(msg);
            }
        });
    }

    /** The name given to the builder. */
    public String name() {
        return name;
    }

    /** {@code 127.0.0.1:port}. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** The bound port. */
    public int port() {
        return port;
    }

    /** Connections accepted since start. */
    public int connectionsAccepted() {
        return connectionsAccepted.get();
    }

    /** Connections open now. */
    public int openConnections() {
        return openConnections.get();
    }

    /** The most streams that were open at once on one connection. */
    public int maxConcurrentStreamsSeen() {
        return maxStreamsSeen.get();
    }

    /** PING frames received (not acknowledgements). */
    public int pingsReceived() {
        return pingsReceived.get();
    }

    /** RST_STREAM frames received from clients (a cancelled request). */
    public int resetsReceived() {
        return resetsReceived.get();
    }

    /** Body bytes the {@code /bytes/{n}} route has handed to its streams (it writes only while they are writable). */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Streams reset by the {@code /reset} route with {@code code}. */
    public int resets(String code) {
        AtomicInteger n = resets.get(code);
        return n == null ? 0 : n.get();
    }

    /** Every request received whole, in arrival order of its end. */
    public List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    /** Requests received whole for {@code path}. */
    public int requestCount(String path) {
        return (int) requests.stream().filter(r -> r.path().equals(path)).count();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Override
    public String toString() {
        return "H2Origin{" + name + ", " + address() + (certificate != null ? ", tls" : ", h2c") + '}';
    }

    /** Per connection: stream counts for the limits and GOAWAY. */
    private final class ConnectionState {
        final long id;
        final boolean tls;
        final ChannelHandlerContext codecContext;
        final Http2FrameCodec codec;
        int firstStream;
        int streams;
        int open;

        ConnectionState(long id, boolean tls, ChannelHandlerContext codecContext, Http2FrameCodec codec) {
            this.id = id;
            this.tls = tls;
            this.codecContext = codecContext;
            this.codec = codec;
        }

        /** GOAWAY naming the first stream as the last processed: every later one is refused unprocessed. */
        void goAway() {
            codec.goAway(codecContext, firstStream, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                    codecContext.newPromise());
            codecContext.flush();
        }
    }

    /** One stream: the request as it arrives, then its route's answer. */
    private final class StreamHandler extends ChannelDuplexHandler {
        private final ConnectionState connection;
        private final InetSocketAddress remote;
        private final BodyDigest digest = new BodyDigest();
        private Http2Headers request;
        private Http2Headers trailers;
        private String path;
        private boolean echoEnded;
        private long toSend = -1;
        private long sent;
        private boolean closed;

        StreamHandler(ConnectionState connection, InetSocketAddress remote) {
            this.connection = connection;
            this.remote = remote;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            connection.open++;
            maxStreamsSeen.accumulateAndGet(connection.open, Math::max);
            ctx.channel().closeFuture().addListener(f -> connection.open--);
            if (++connection.streams == 1) {
                connection.firstStream = ((io.netty.handler.codec.http2.Http2StreamChannel) ctx.channel()).stream().id();
            }
            if (connection.streams == goAwayAfter) {
                connection.goAway();
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame headers) {
                    if (request == null) {
                        request = headers.headers();
                        String target = String.valueOf(request.path());
                        int q = target.indexOf('?');
                        path = q < 0 ? target : target.substring(0, q);
                        if (path.equals("/reset")) {
                            reset(ctx, q < 0 ? "" : target.substring(q + 1));
                            return;
                        }
                        if (path.equals("/echo")) {
                            respondHeaders(ctx, 200, false);
                        }
                    } else {
                        trailers = headers.headers();
                    }
                    if (headers.isEndStream()) {
                        requestEnded(ctx);
                    }
                } else if (msg instanceof Http2DataFrame data) {
                    digest.update(data.content());
                    if ("/echo".equals(path)) {
                        echoEnded = data.isEndStream();
                        ctx.writeAndFlush(new DefaultHttp2DataFrame(data.content().retain(), echoEnded));
                    }
                    if (data.isEndStream()) {
                        requestEnded(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void reset(ChannelHandlerContext ctx, String query) {
            String code = query.startsWith("code=") ? query.substring(5) : "internal";
            Http2Error error = switch (code) {
                case "refused" -> Http2Error.REFUSED_STREAM;
                case "cancel" -> Http2Error.CANCEL;
                default -> Http2Error.INTERNAL_ERROR;
            };
            resets.computeIfAbsent(code, k -> new AtomicInteger()).incrementAndGet();
            closed = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
        }

        private void requestEnded(ChannelHandlerContext ctx) {
            if (closed) {
                return;
            }
            requests.add(new RecordedRequest(String.valueOf(request.method()), String.valueOf(request.path()), path,
                    "HTTP/2.0", fields(request), fields(trailers), digest.bytes(), digest.sha256Hex(), true, null, connection.tls,
                    connection.id, remote));
            route(ctx);
        }

        private static List<RecordedRequest.Header> fields(Http2Headers headers) {
            List<RecordedRequest.Header> fields = new ArrayList<>();
            if (headers != null) {
                headers.forEach(e -> fields.add(new RecordedRequest.Header(e.getKey().toString(), e.getValue().toString())));
            }
            return fields;
        }

        private void route(ChannelHandlerContext ctx) {
            if (path.equals("/echo")) {
                // A request without body, or one ended by trailers: the echo ends with an empty DATA frame.
                if (!echoEnded) {
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(true));
                }
            } else if (path.startsWith("/bytes/")) {
                toSend = Long.parseLong(path.substring("/bytes/".length()));
                Http2Headers h = headers(200).setLong("content-length", toSend);
                ctx.write(new DefaultHttp2HeadersFrame(h, toSend == 0));
                pump(ctx);
            } else if (path.equals("/sink")) {
                text(ctx, "{\"bytes\":" + digest.bytes() + ",\"sha256\":\"" + digest.sha256Hex() + "\"}");
            } else if (path.equals("/headers")) {
                StringBuilder sb = new StringBuilder();
                request.forEach(e -> sb.append(e.getKey()).append(": ").append(e.getValue()).append('\n'));
                text(ctx, sb.toString());
            } else if (path.equals("/trailers")) {
                respondHeaders(ctx, 200, false);
                ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII), false));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                        .add("x-checksum", BodyDigest.sha256Hex("hello".getBytes(StandardCharsets.US_ASCII)))
                        .add("grpc-status", "0"), true));
            } else if (path.equals("/trailers-only")) {
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers(200).add("content-type", "application/grpc")
                        .add("grpc-status", "7").add("grpc-message", "denied"), true));
            } else if (path.equals("/early-hints")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("103")
                        .add("link", "</style.css>; rel=preload"), false));
                text(ctx, "hinted");
            } else if (path.startsWith("/delay/")) {
                long ms = Long.parseLong(path.substring("/delay/".length()));
                ctx.executor().schedule(() -> text(ctx, "delayed"), ms, TimeUnit.MILLISECONDS);
            } else if (path.equals("/drop-connection")) {
                // Past the pipeline, so the codec sends no GOAWAY: the client sees only the close.
                Channel connection = ctx.channel().parent();
                connection.unsafe().close(connection.voidPromise());
            } else if (path.equals("/short-body")) {
                ctx.write(new DefaultHttp2HeadersFrame(headers(200).setInt("content-length", 100), false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(TestOrigin.patternBytes(0, 50)), true));
            } else {
                text(ctx, "h2 origin " + name + "\n");
            }
        }

        private Http2Headers headers(int status) {
            return new DefaultHttp2Headers().status(Integer.toString(status)).add("x-origin", name);
        }

        private void respondHeaders(ChannelHandlerContext ctx, int status, boolean endStream) {
            ctx.write(new DefaultHttp2HeadersFrame(headers(status), endStream));
        }

        private void text(ChannelHandlerContext ctx, String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ctx.write(new DefaultHttp2HeadersFrame(headers(200).setInt("content-length", bytes.length)
                    .add("content-type", "text/plain"), false));
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
        }

        /** Writes pattern bytes while the stream is writable; the rest when it is again. */
        private void pump(ChannelHandlerContext ctx) {
            while (sent < toSend && ctx.channel().isWritable()) {
                int n = (int) Math.min(16 * 1024, toSend - sent);
                ByteBuf chunk = Unpooled.wrappedBuffer(TestOrigin.patternBytes(sent, n));
                sent += n;
                bytesSent.addAndGet(n);
                ctx.write(new DefaultHttp2DataFrame(chunk, sent == toSend));
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (toSend > 0 && ctx.channel().isWritable()) {
                pump(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame) {
                resetsReceived.incrementAndGet();
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Builds an {@link H2Origin}. */
    public static final class Builder {
        private String name = "h2";
        private TestCertificates.Server certificate;
        private long maxConcurrentStreams = -1;
        private int goAwayAfter;
        private boolean answerPings = true;

        private Builder() {}

        /** The name sent in {@code x-origin}. */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /** Serve TLS with {@code certificate}, ALPN offering {@code h2} only. */
        public Builder tls(TestCertificates.Server certificate) {
            this.certificate = requireNonNull(certificate, "certificate");
            return this;
        }

        /** Announce {@code SETTINGS_MAX_CONCURRENT_STREAMS = streams}. */
        public Builder maxConcurrentStreams(long streams) {
            this.maxConcurrentStreams = streams;
            return this;
        }

        /** Send GOAWAY when a connection's {@code streams}-th stream arrives. */
        public Builder goAwayAfter(int streams) {
            this.goAwayAfter = streams;
            return this;
        }

        /** Whether PINGs are acknowledged (default yes). */
        public Builder answerPings(boolean answer) {
            this.answerPings = answer;
            return this;
        }

        /** The origin, not started. */
        public H2Origin build() {
            return new H2Origin(this);
        }
    }
}
