package dev.relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RawHttp2Connection} against Netty's own HTTP/2 server codec, in clear text and over TLS with ALPN. */
@Timeout(60)
class RawHttp2ConnectionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static EventLoopGroup group;
    private static Channel plain;
    private static Channel tls;

    @BeforeAll
    static void startServers() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        plain = server(null);
        SslContext context = TestCertificates.localhost().nettyServerContextBuilder()
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2"))
                .build();
        tls = server(context);
    }

    @AfterAll
    static void stopServers() {
        plain.close().syncUninterruptibly();
        tls.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A server that answers every request with 200 and the request's path as the body. */
    private static Channel server(SslContext context) throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (context != null) {
                            ch.pipeline().addLast(context.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new EchoPath()),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        // the protocol errors the tests provoke: the codec has answered them
                                    }
                                });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    @ChannelHandler.Sharable
    private static final class EchoPath extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(
                            headers.headers().path(), StandardCharsets.UTF_8), true));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private static int port(Channel server) {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    @Test
    void sendsARequestAndDecodesTheResponseHeaderAndBodyInClearText() throws Exception {
        try (RawHttp2Connection h2 = RawHttp2Connection.open(port(plain))) {
            h2.headers(1, RawHttp2Connection.get("localhost", "/hello"), true);
            h2.flush();

            Http2Headers response = h2.awaitHeaders(1, WAIT);
            RawHttp2Connection.Frame data = h2.awaitFrame(f -> f.type() == RawHttp2Connection.DATA, WAIT);

            assertEquals("200", response.status().toString());
            assertEquals("/hello", new String(data.payload(), StandardCharsets.UTF_8));
            assertTrue(data.has(RawHttp2Connection.END_STREAM));
            // The server's SETTINGS came first, and was acknowledged (else Netty would not have answered).
            assertEquals(RawHttp2Connection.SETTINGS, h2.frames().get(0).type());
        }
    }

    @Test
    void negotiatesH2ByAlpnOverTls() throws Exception {
        try (RawHttp2Connection h2 = RawHttp2Connection.openTls(port(tls), TestCertificates.clientSslContext(),
                "localhost")) {
            h2.headers(3, RawHttp2Connection.get("localhost", "/secure"), true);
            h2.flush();

            assertEquals("200", h2.awaitHeaders(3, WAIT).status().toString());
        }
    }

    @Test
    void recordsPingAcksAndTheGoAwayOfAProtocolErrorWithItsCode() throws Exception {
        try (RawHttp2Connection h2 = RawHttp2Connection.open(port(plain))) {
            h2.ping(0x0102030405060708L);
            h2.settings(Map.of(0x3, 100L)); // SETTINGS_MAX_CONCURRENT_STREAMS
            h2.windowUpdate(0, 0);         // an increment of 0 on the connection: a connection error
            h2.flush();

            RawHttp2Connection.Frame pingAck = h2.awaitFrame(
                    f -> f.type() == RawHttp2Connection.PING && f.has(RawHttp2Connection.ACK), WAIT);
            RawHttp2Connection.GoAway goAway = h2.awaitGoAway(WAIT);

            assertEquals(0x0102030405060708L, java.nio.ByteBuffer.wrap(pingAck.payload()).getLong());
            assertEquals(Http2Error.PROTOCOL_ERROR, goAway.error());
            assertTrue(h2.awaitClosed(WAIT), "the server closes after its GOAWAY");
        }
    }

    @Test
    void recordsAStreamResetWithItsError() throws Exception {
        try (RawHttp2Connection h2 = RawHttp2Connection.open(port(plain))) {
            h2.headers(1, RawHttp2Connection.request("POST", "localhost", "/upload"), false);
            h2.windowUpdate(1, 0); // an increment of 0 on a stream: a stream error
            h2.flush();

            assertEquals(Http2Error.PROTOCOL_ERROR, h2.awaitReset(1, WAIT));
        }
    }

    @Test
    void aFloodStopsWhenTheServerClosesTheConnection() throws Exception {
        try (RawHttp2Connection h2 = RawHttp2Connection.open(port(plain))) {
            h2.windowUpdate(0, 0);
            h2.flush();
            h2.awaitGoAway(WAIT);
            assertTrue(h2.awaitClosed(WAIT));

            // The socket is closed by the server: writing soon fails, and the flood stops there.
            int sent = h2.sendUntilClosed(1_000_000, (c, i) -> c.ping(i));

            assertTrue(sent < 1_000_000, "sent " + sent);
        }
    }
}
