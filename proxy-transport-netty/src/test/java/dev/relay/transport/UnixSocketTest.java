package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.HashKey;
import dev.relay.testing.TestOrigin;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unix-domain socket listeners (curl {@code --unix-socket}, JDK clients; stale, foreign and live files
 * at the path; the mode; removal at close; the upgrade take-over) and Unix-domain socket upstreams
 * (a Netty domain-socket origin, pooled, keeping the client's Host), on NIO and the native transport.
 */
@Timeout(30)
class UnixSocketTest {
    private static final TransportRuntime NIO = TransportRuntime.create(TransportRuntime.Kind.NIO, 1);
    private static final String REQUEST = "GET /small HTTP/1.1\r\nHost: unix.test\r\nConnection: close\r\n\r\n";

    @TempDir
    Path dir;

    static Stream<TransportRuntime> runtimes() {
        return ProxyFixture.RUNTIME.kind() == TransportRuntime.Kind.NIO
                ? Stream.of(NIO) : Stream.of(NIO, ProxyFixture.RUNTIME);
    }

    @AfterAll
    static void closeRuntime() {
        NIO.close();
    }

    // The runtimes are shared: JUnit must not close them (they are AutoCloseable) after each case.
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("runtimes")
    void curlThroughAUnixListenerReachesATcpOrigin(TransportRuntime runtime) throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        try (TestOrigin origin = TestOrigin.builder().name("tcp").build().start()) {
            ClientRecordingProxy proxy = new ClientRecordingProxy(session -> HttpPeer.plain(origin.address()));
            try (HttpProxyServer server = HttpProxyServer.create(proxy, ProxyOptions.defaults(), runtime)) {
                Path socket = dir.resolve("relay.sock");
                UnixDomainSocketAddress bound = server.bindUnix(socket, ListenerOptions.inherit());
                assertEquals(socket.toAbsolutePath(), bound.getPath());

                Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "10", "--unix-socket", socket.toString(),
                        "-o", "-", "-w", "\n%{http_code}", "http://curl.test/small").redirectErrorStream(true).start();
                assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl did not finish");
                String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

                assertTrue(out.endsWith("\n200"), out);
                assertEquals("curl.test", origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("Host"));
                SocketAddress client = proxy.clients.poll(5, TimeUnit.SECONDS);
                assertInstanceOf(UnixDomainSocketAddress.class, client, "Session.clientAddress() of a unix client");
                assertEquals("unix", proxy.hashKeys.poll(5, TimeUnit.SECONDS), "client-ip hash key of a unix client");
            }
        }
    }

    // The runtimes are shared: JUnit must not close them (they are AutoCloseable) after each case.
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("runtimes")
    void aUnixUpstreamIsPooledAndKeepsTheClientsHost(TransportRuntime runtime) throws Exception {
        Path socket = dir.resolve("origin.sock");
        try (UnixOrigin origin = new UnixOrigin(runtime, socket)) {
            ClientRecordingProxy proxy = new ClientRecordingProxy(session -> HttpPeer.unix(socket));
            try (HttpProxyServer server = HttpProxyServer.create(proxy, ProxyOptions.defaults(), runtime)) {
                InetSocketAddress address = server.bind("127.0.0.1:0");
                var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                for (int i = 0; i < 2; i++) {
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + address.getPort() + "/hello"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    assertEquals("unix origin saw Host 127.0.0.1:" + address.getPort(), response.body());
                }
                assertEquals(1, origin.connections.size(), "the second request reuses the pooled connection");
                assertEquals(1, server.upstreamConnectionsReused());
            }
        }
    }

    @Test
    void aPeerWithoutAHostHeaderSendsLocalhostToAUnixUpstream() throws Exception {
        Path socket = dir.resolve("origin.sock");
        try (UnixOrigin origin = new UnixOrigin(NIO, socket);
             HttpProxyServer server = HttpProxyServer.create(
                     new ClientRecordingProxy(session -> HttpPeer.plain("unix:" + socket)), ProxyOptions.defaults(), NIO)) {
            InetSocketAddress address = server.bind("127.0.0.1:0");
            String answer = exchange(address, "GET /x HTTP/1.0\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.") && answer.contains(" 200 "), answer);
            assertTrue(answer.endsWith("unix origin saw Host localhost"), answer);
        }
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception {
        Path socket = dir.resolve("stale.sock");
        // A socket bound and closed by the JDK stays on disk with nobody listening: what a crash leaves.
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket)).close();
        assertTrue(Files.exists(socket));
        try (TestOrigin origin = TestOrigin.builder().name("o").build().start();
             HttpProxyServer server = newServer(origin)) {
            server.bindUnix(socket, ListenerOptions.inherit());
            assertTrue(exchange(UnixDomainSocketAddress.of(socket), REQUEST).startsWith("HTTP/1.1 200"));
        }
    }

    @Test
    void aRegularFileAtThePathIsRefusedAndKept() throws Exception {
        Path file = dir.resolve("data.sock");
        Files.writeString(file, "precious");
        try (TestOrigin origin = TestOrigin.builder().name("o").build().start();
             HttpProxyServer server = newServer(origin)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> server.bindUnix(file, ListenerOptions.inherit()));
            assertTrue(e.getMessage().contains("cannot listen on unix:" + file)
                    && e.getMessage().contains("exists and is not a socket"), e.getMessage());
            assertEquals("precious", Files.readString(file));
        }
    }

    @Test
    void aSocketAnotherProcessListensOnIsRefused() throws Exception {
        Path socket = dir.resolve("live.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                .bind(UnixDomainSocketAddress.of(socket));
             TestOrigin origin = TestOrigin.builder().name("o").build().start();
             HttpProxyServer server = newServer(origin)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> server.bindUnix(socket, ListenerOptions.inherit()));
            assertTrue(e.getMessage().contains("another process listens"), e.getMessage());
            assertTrue(live.isOpen() && Files.exists(socket));
        }
    }

    @Test
    void theSocketFileGetsItsModeAndIsRemovedAtClose() throws Exception {
        Path socket = dir.resolve("mode.sock");
        try (TestOrigin origin = TestOrigin.builder().name("o").build().start()) {
            HttpProxyServer server = newServer(origin);
            try {
                server.bindUnix(socket, ListenerOptions.builder()
                        .unixSocketMode(PosixFilePermissions.fromString("rw-rw----")).build());
                assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
                assertEquals(List.of(UnixDomainSocketAddress.of(socket)), server.boundUnixSockets());
                assertTrue(server.closeListener(UnixDomainSocketAddress.of(socket)));
                assertFalse(Files.exists(socket), "closeListener removes the socket file");

                server.bindUnix(socket, ListenerOptions.inherit());
            } finally {
                server.close();
            }
            assertFalse(Files.exists(socket), "close removes the socket file");
            try (var files = Files.list(dir)) {
                assertEquals(List.of(), files.toList(), "no private bind names left behind");
            }
        }
    }

    @Test
    void anUpgradeTakesOverALiveSocketAndTheOldListenerLeavesTheNewFile() throws Exception {
        Path socket = dir.resolve("upgrade.sock");
        try (TestOrigin origin = TestOrigin.builder().name("o").build().start();
             HttpProxyServer replacement = newServer(origin)) {
            HttpProxyServer old = newServer(origin);
            try {
                old.bindUnix(socket, ListenerOptions.inherit());
                replacement.bindUnixReplacing(socket, ListenerOptions.inherit());
            } finally {
                old.close();
            }
            assertTrue(Files.exists(socket), "the old process's close leaves the new socket file");
            assertTrue(exchange(UnixDomainSocketAddress.of(socket), REQUEST).startsWith("HTTP/1.1 200"));
            assertEquals(1, replacement.requestsServed());
        }
    }

    @Test
    void bindRefusesAUnixAddressAndNamesBindUnix() {
        try (HttpProxyServer server = HttpProxyServer.create(
                new ClientRecordingProxy(s -> HttpPeer.plain("127.0.0.1:1")), ProxyOptions.defaults(), NIO)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> server.bind("unix:" + dir.resolve("x.sock")));
            assertTrue(e.getMessage().contains("bindUnix"), e.getMessage());
        }
    }

    private static HttpProxyServer newServer(TestOrigin origin) {
        return HttpProxyServer.create(new ClientRecordingProxy(session -> HttpPeer.plain(origin.address())),
                ProxyOptions.defaults(), ProxyFixture.RUNTIME);
    }

    private static boolean onPath(String binary) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, binary))) {
                return true;
            }
        }
        return false;
    }

    /** Sends {@code request} on a new connection to {@code address}; everything read until close. */
    private static String exchange(SocketAddress address, String request) throws IOException {
        StandardProtocolFamily family = address instanceof UnixDomainSocketAddress
                ? StandardProtocolFamily.UNIX : StandardProtocolFamily.INET;
        try (SocketChannel channel = SocketChannel.open(family)) {
            channel.connect(address);
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            // Bounded by the proxy's own timeouts and the class @Timeout: the proxy closes after the answer.
            StringBuilder out = new StringBuilder();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                out.append(StandardCharsets.ISO_8859_1.decode(buffer));
                buffer.clear();
            }
            return out.toString();
        }
    }

    /** Forwards to the peer given, and records the client address and client-ip hash key of each request. */
    static final class ClientRecordingProxy extends ProxyFixture.SimpleProxy {
        final BlockingQueue<SocketAddress> clients = new LinkedBlockingQueue<>();
        final BlockingQueue<String> hashKeys = new LinkedBlockingQueue<>();

        ClientRecordingProxy(java.util.function.Function<Session, HttpPeer> peers) {
            super(peers);
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Object ctx) {
            clients.add(session.clientAddress());
            hashKeys.add(new String(HashKey.parse("client-ip").key(session), StandardCharsets.ISO_8859_1));
            return Stages.done();
        }
    }

    /** An HTTP/1.1 origin on a Unix-domain socket, on the transport's own domain-socket channel. */
    static final class UnixOrigin implements AutoCloseable {
        final BlockingQueue<Channel> connections = new LinkedBlockingQueue<>();
        private final Channel listener;

        UnixOrigin(TransportRuntime runtime, Path path) {
            listener = new ServerBootstrap()
                    .group(runtime.acceptors(), runtime.workers())
                    .channel(runtime.serverDomainSocketChannelType())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            connections.add(ch);
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                            byte[] body = ("unix origin saw Host " + req.headers().get(HttpHeaderNames.HOST))
                                                    .getBytes(StandardCharsets.UTF_8);
                                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                    HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                                            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                            ctx.writeAndFlush(response);
                                        }
                                    });
                        }
                    })
                    .bind(runtime.domainSocketAddress(UnixDomainSocketAddress.of(path))).syncUninterruptibly().channel();
        }

        @Override
        public void close() {
            listener.close().syncUninterruptibly();
            for (Channel ch : connections) {
                ch.close().syncUninterruptibly();
            }
        }
    }
}
