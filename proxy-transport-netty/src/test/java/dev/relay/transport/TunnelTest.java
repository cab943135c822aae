package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WebSocket/Upgrade and CONNECT tunnels end to end: the JDK's WebSocket client against a Netty
 * WebSocket server, curl as a forward proxy client, and raw sockets on both sides for the byte-level
 * rules (nothing forwarded before the 101, half-close, idle timeout, backpressure, origin close).
 */
@Timeout(30)
class TunnelTest {
    private static final String UPGRADE_REQUEST = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private HttpProxyServer lastServer;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // WebSocket with real peers

    @Test
    void jdkWebSocketClientTalksToNettyWebSocketServerThroughTheProxy() throws Exception {
        InetSocketAddress origin = nettyWebSocketEchoServer();
        Recorder proxy = new Recorder(s -> HttpPeer.plain("127.0.0.1:" + origin.getPort()));
        InetSocketAddress address = start(proxy, ProxyOptions.defaults(), ListenerOptions.inherit());

        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + address.getPort() + "/ws"), new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            received.add(text.toString());
                            text.setLength(0);
                        }
                        webSocket.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: hello", received.poll(5, TimeUnit.SECONDS));
        ws.sendText("again", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: again", received.poll(5, TimeUnit.SECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);

        Logged logged = proxy.next();
        assertEquals(101, logged.status);
        assertNull(logged.error);
        assertTrue(logged.requestBytes > 0 && logged.responseBytes > 0, "bytes both ways are counted: " + logged);
        assertEquals(List.of("requestFilter", "upstreamRequestFilter:websocket", "responseFilter:101"),
                proxy.phases.subList(0, 3));
    }

    @Test
    void anUpgradeRequestWhoseUpgradeAPhaseRemovedIsAnOrdinaryRequest() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> HttpPeer.plain(origin.address())) {
                @Override
                public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
                    session.requestHeader().headers().remove("Upgrade");
                    return Stages.completedFalse();
                }
            };
            InetSocketAddress address = start(proxy, ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                write(client, UPGRADE_REQUEST);
                RawOrigin.Conn upstream = origin.accept();
                String request = upstream.readHeader();
                assertFalse(request.toLowerCase().contains("upgrade"), request);
                upstream.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                String response = readAll(client);
                assertTrue(response.startsWith("HTTP/1.1 200 OK"), response);
                assertTrue(response.toLowerCase().contains("connection: close"), response);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Nothing is tunnelled before the 101 (Pingora CVE-2026-2833)

    @Test
    void bytesSentBeforeARefusedUpgradeNeverReachTheOrigin() throws Exception {
        for (String refusal : List.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno",
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) {
            try (RawOrigin origin = new RawOrigin()) {
                Recorder proxy = new Recorder(s -> HttpPeer.plain(origin.address()));
                InetSocketAddress address = start(proxy, ProxyOptions.defaults(), ListenerOptions.inherit());
                String smuggled = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
                RawOrigin.Conn upstream;
                try (Socket client = connect(address)) {
                    write(client, UPGRADE_REQUEST + smuggled);
                    upstream = origin.accept();
                    assertTrue(upstream.readHeader().startsWith("GET /ws "));
                    upstream.write(refusal);
                    String response = readAll(client);
                    assertTrue(response.startsWith(refusal.substring(0, 12)), response);
                    assertFalse(response.indexOf("HTTP/1.1", 10) >= 0, "one response only: " + response);
                }
                proxy.next();
                lastServer.close();
                // The proxy closed its pooled or used upstream connection: everything it sent is in.
                assertEquals("", upstream.readRest(), "bytes the client sent before the answer reached the origin");
            }
        }
    }

    @Test
    void bytesSentBeforeAnAccepted101GoToTheOriginAfterIt() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            InetSocketAddress address = start(new Recorder(s -> HttpPeer.plain(origin.address())),
                    ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                write(client, UPGRADE_REQUEST + "early");
                RawOrigin.Conn upstream = origin.accept();
                String request = upstream.readHeader();
                assertTrue(request.toLowerCase().contains("upgrade: raw")
                        && request.toLowerCase().contains("connection: upgrade"), request);
                assertEquals(-1, upstream.readWithin(Duration.ofMillis(200)), "nothing before the 101");
                upstream.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\nfrom-origin");
                assertEquals("early", upstream.readExactly(5));
                String head = readHeader(client);
                assertTrue(head.startsWith("HTTP/1.1 101"), head);
                assertTrue(head.toLowerCase().contains("upgrade: raw")
                        && head.toLowerCase().contains("connection: upgrade"), head);
                assertEquals("from-origin", readExactly(client, 11));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The tunnel itself

    @Test
    void halfCloseIsPassedOnInBothDirections() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> HttpPeer.plain(origin.address()));
            InetSocketAddress address = start(proxy, ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                RawOrigin.Conn upstream = upgraded(client, origin);
                write(client, "ping");
                client.shutdownOutput();
                assertEquals("ping", upstream.readExactly(4));
                assertEquals("", upstream.readRest(), "the client's FIN reaches the origin");
                // The other direction still works after the first is closed.
                upstream.write("pong");
                upstream.socket.shutdownOutput();
                assertEquals("pong", readAll(client));
            }
            Logged logged = proxy.next();
            assertEquals(101, logged.status);
            assertNull(logged.error);
            assertEquals(4, logged.requestBytes);
            assertEquals(4, logged.responseBytes);
        }
    }

    @Test
    void anOpenTunnelDoesNotCountAgainstTheInFlightLimit() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            InetSocketAddress address = start(new Recorder(s -> HttpPeer.plain(origin.address())),
                    ProxyOptions.builder().maxRequestsInFlight(1).build(), ListenerOptions.inherit());
            try (Socket tunnelled = connect(address); Socket client = connect(address)) {
                upgraded(tunnelled, origin);
                // The tunnel may stay open for hours: a request beside it is served, not shed with a 503.
                write(client, "GET /beside HTTP/1.1\r\nHost: x\r\n\r\n");
                RawOrigin.Conn upstream = origin.accept();
                assertTrue(upstream.readHeader().startsWith("GET /beside "));
                upstream.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                assertTrue(readHeader(client).startsWith("HTTP/1.1 200"));
                assertEquals(0, lastServer.requestsShed());
            }
        }
    }

    @Test
    void theOriginClosingMidTunnelClosesTheClient() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            InetSocketAddress address = start(new Recorder(s -> HttpPeer.plain(origin.address())),
                    ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                RawOrigin.Conn upstream = upgraded(client, origin);
                upstream.write("last words");
                upstream.socket.close();
                assertEquals("last words", readAll(client));
            }
        }
    }

    @Test
    void anIdleTunnelIsClosedOnBothSides() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> HttpPeer.plain(origin.address()));
            ProxyOptions options = ProxyOptions.builder().tunnelIdleTimeout(Duration.ofMillis(300)).build();
            InetSocketAddress address = start(proxy, options, ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                RawOrigin.Conn upstream = upgraded(client, origin);
                write(client, "x");
                assertEquals("x", upstream.readExactly(1));
                assertEquals("", readAll(client), "the client side is closed");
                assertEquals("", upstream.readRest(), "the origin side is closed");
            }
            Logged logged = proxy.next();
            assertEquals(dev.relay.core.ErrorType.READ_TIMEDOUT, logged.error.type());
        }
    }

    @Test
    void aClientThatDoesNotReadStopsReadingFromTheOrigin() throws Exception {
        int total = 64 * 1024 * 1024;
        try (RawOrigin origin = new RawOrigin()) {
            InetSocketAddress address = start(new Recorder(s -> HttpPeer.plain(origin.address())),
                    ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                client.setReceiveBufferSize(64 * 1024);
                RawOrigin.Conn upstream = upgraded(client, origin);
                AtomicLong written = new AtomicLong();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    byte[] block = new byte[64 * 1024];
                    try {
                        OutputStream out = upstream.socket.getOutputStream();
                        for (int sent = 0; sent < total; sent += block.length) {
                            out.write(block);
                            written.addAndGet(block.length);
                        }
                        out.flush();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                // Wait until the origin's writes stall: the proxy stopped reading from it.
                long last = -1;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (written.get() != last && System.nanoTime() < deadline) {
                    last = written.get();
                    Thread.sleep(300);
                }
                assertFalse(writer.isDone(), "the origin could write everything to a client that reads nothing");
                assertTrue(written.get() < total, "written: " + written.get());
                // Now the client reads: everything arrives.
                InputStream in = client.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long read = 0;
                while (read < total) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    read += n;
                }
                assertEquals(total, read);
                writer.get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void anUpgradeRequestIsNotRetriedAfterItWasSent() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> HttpPeer.plain(origin.address()));
            InetSocketAddress address = start(proxy, ProxyOptions.defaults(), ListenerOptions.inherit());
            try (Socket client = connect(address)) {
                write(client, UPGRADE_REQUEST);
                RawOrigin.Conn upstream = origin.accept();
                upstream.readHeader();
                upstream.socket.close();
                String response = readAll(client);
                assertTrue(response.startsWith("HTTP/1.1 502"), response);
            }
            assertEquals(1, proxy.next().attempts);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // CONNECT

    @Test
    void connectIsRefusedWith405UnlessTheListenerAllowsIt() throws Exception {
        InetSocketAddress address = start(new Recorder(s -> HttpPeer.plain("127.0.0.1:1")),
                ProxyOptions.defaults(), ListenerOptions.inherit());
        try (Socket client = connect(address)) {
            write(client, "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n");
            assertTrue(readAll(client).startsWith("HTTP/1.1 405"));
        }
    }

    @Test
    void connectToATargetOutsideTheAllowListIsRefusedWith403() throws Exception {
        ListenerOptions listener = ListenerOptions.builder().connectAllow(List.of("*.example.com:443", "127.0.0.1:8443")).build();
        InetSocketAddress address = start(new Recorder(s -> null), ProxyOptions.defaults(), listener);
        try (Socket client = connect(address)) {
            write(client, "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n");
            assertTrue(readAll(client).startsWith("HTTP/1.1 403"));
        }
        try (Socket client = connect(address)) {
            write(client, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
            assertTrue(readAll(client).startsWith("HTTP/1.1 403"), "*.example.com does not match example.com");
        }
    }

    @Test
    void connectTunnelsRawBytesToTheTargetTheClientNamed() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> null);
            ListenerOptions listener = ListenerOptions.builder().connectAllow(List.of("127.0.0.1:*")).build();
            InetSocketAddress address = start(proxy, ProxyOptions.defaults(), listener);
            try (Socket client = connect(address)) {
                write(client, "CONNECT " + origin.address() + " HTTP/1.1\r\nHost: " + origin.address() + "\r\n\r\n");
                RawOrigin.Conn target = origin.accept();
                String head = readHeader(client);
                assertTrue(head.startsWith("HTTP/1.1 200 Connection Established"), head);
                String notHttp = "\u0016\u0003\u0001 not http";
                write(client, notHttp);
                assertEquals(notHttp, target.readExactly(notHttp.length()));
                target.write("reply");
                assertEquals("reply", readExactly(client, 5));
                client.shutdownOutput();
                assertEquals("", target.readRest(), "the client's FIN reaches the target");
                target.socket.close();
                assertEquals("", readAll(client));
            }
            Logged logged = proxy.next();
            assertEquals(200, logged.status);
        }
    }

    @Test
    void curlUsesTheProxyAsAConnectTunnel() throws Exception {
        Assumptions.assumeTrue(onPath("curl"), "curl is not installed");
        TestOrigin origin = TestOrigin.builder().name("target").build().start();
        closeables.add(origin);
        Recorder proxy = new Recorder(s -> null);
        ListenerOptions listener = ListenerOptions.builder().connectAllow(List.of("127.0.0.1:" + origin.port())).build();
        InetSocketAddress address = start(proxy, ProxyOptions.defaults(), listener);
        Process curl = new ProcessBuilder("curl", "-s", "-S", "--max-time", "10", "-p", "-x",
                "http://127.0.0.1:" + address.getPort(), "http://127.0.0.1:" + origin.port() + "/")
                .redirectErrorStream(true).start();
        assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl finished");
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, curl.exitValue(), out);
        assertEquals("origin target\n", out);
        assertEquals(200, proxy.next().status);
    }

    // ---------------------------------------------------------------------------------------------
    // Tunnels through a TLS listener: the splice's downstream side sits behind the listener's SslHandler

    /** A listener terminating TLS with the test CA's {@code localhost} certificate. */
    private static ListenerOptions.Builder tlsListener() {
        TestCertificates.Server localhost = TestCertificates.localhost();
        return ListenerOptions.builder().tls(TlsSettings.builder()
                .certificate(localhost.certificateChainPem(), localhost.privateKeyPem()).build());
    }

    @Test
    void jdkWebSocketClientTalksWssThroughATlsListener() throws Exception {
        InetSocketAddress origin = nettyWebSocketEchoServer();
        Recorder proxy = new Recorder(s -> HttpPeer.plain("127.0.0.1:" + origin.getPort()));
        InetSocketAddress address = start(proxy, ProxyOptions.defaults(), tlsListener().build());

        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        HttpClient https = HttpClient.newBuilder().sslContext(TestCertificates.clientSslContext()).build();
        WebSocket ws = https.newWebSocketBuilder()
                .buildAsync(URI.create("wss://localhost:" + address.getPort() + "/ws"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        received.add(data.toString());
                        webSocket.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        ws.sendText("over tls", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: over tls", received.poll(5, TimeUnit.SECONDS));
        ws.sendText("again", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: again", received.poll(5, TimeUnit.SECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);

        Logged logged = proxy.next();
        assertEquals(101, logged.status());
        assertNull(logged.error());
        assertTrue(logged.requestBytes() > 0 && logged.responseBytes() > 0, logged.toString());
    }

    @Test
    void connectTunnelThroughATlsListenerPassesBytesAndTheClientsCloseNotifyOn() throws Exception {
        try (RawOrigin origin = new RawOrigin()) {
            Recorder proxy = new Recorder(s -> null);
            InetSocketAddress address = start(proxy, ProxyOptions.defaults(),
                    tlsListener().connectAllow(List.of("127.0.0.1:*")).build());
            try (SSLSocket client = tlsConnect(address)) {
                write(client, "CONNECT " + origin.address() + " HTTP/1.1\r\nHost: " + origin.address() + "\r\n\r\n");
                RawOrigin.Conn target = origin.accept();
                String head = readHeader(client);
                assertTrue(head.startsWith("HTTP/1.1 200 Connection Established"), head);
                write(client, "inner bytes");
                assertEquals("inner bytes", target.readExactly(11));
                target.write("reply");
                assertEquals("reply", readExactly(client, 5));

                // The client's close_notify is the end of its direction: the target gets a FIN. (OpenSSL,
                // the listener's engine where available, answers a close_notify with its own, so what
                // the target sends after it cannot reach the client: no half-open TLS direction here.)
                client.shutdownOutput();
                assertEquals("", target.readRest(), "the client's close_notify reaches the target as a FIN");
                target.socket.close();
            }
            Logged logged = proxy.next();
            assertEquals(200, logged.status());
            assertNull(logged.error());
            assertEquals(11, logged.requestBytes());
            assertEquals(5, logged.responseBytes());
        }
    }

    /** A TLS 1.3 client socket to the proxy, trusting the test CA, with SNI and host name check for localhost. */
    private static SSLSocket tlsConnect(InetSocketAddress address) throws IOException {
        Socket tcp = connect(address);
        SSLSocket tls = (SSLSocket) TestCertificates.clientSslContext().getSocketFactory()
                .createSocket(tcp, "localhost", address.getPort(), true);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setProtocols(new String[] {"TLSv1.3"});
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        return tls;
    }

    // ---------------------------------------------------------------------------------------------
    // Fixtures

    /** Starts a proxy with one loopback listener; returns the listener's address. */
    private InetSocketAddress start(ProxyHttp<?> proxy, ProxyOptions options, ListenerOptions listener) {
        lastServer = HttpProxyServer.create(proxy, options, ProxyFixture.RUNTIME);
        closeables.add(lastServer);
        return lastServer.bind("127.0.0.1:0", listener);
    }

    private RawOrigin.Conn upgraded(Socket client, RawOrigin origin) throws IOException {
        write(client, UPGRADE_REQUEST);
        RawOrigin.Conn upstream = origin.accept();
        upstream.readHeader();
        upstream.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n");
        String head = readHeader(client);
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        return upstream;
    }

    private InetSocketAddress nettyWebSocketEchoServer() {
        Channel channel = new ServerBootstrap()
                .group(ProxyFixture.RUNTIME.workers())
                .channel(ProxyFixture.RUNTIME.serverChannelType())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws"),
                                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                                        ctx.writeAndFlush(new TextWebSocketFrame("echo: " + frame.text()));
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
        closeables.add(() -> channel.close().syncUninterruptibly());
        return (InetSocketAddress) channel.localAddress();
    }

    private static boolean onPath(String binary) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket(address.getAddress(), address.getPort());
        socket.setSoTimeout(5000);
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    private static String readAll(Socket socket) throws IOException {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private static String readExactly(Socket socket, int n) throws IOException {
        return new String(socket.getInputStream().readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    /** Reads up to and including the blank line that ends a header, byte by byte (nothing beyond it). */
    private static String readHeader(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            out.write(b);
            String s = out.toString(StandardCharsets.ISO_8859_1);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** What one {@code logging} call saw. */
    record Logged(int status, ProxyError error, long requestBytes, long responseBytes, int attempts) {}

    /** Sends to the peer {@code peers} picks (null: the CONNECT target) and records the phases it saw. */
    static class Recorder implements ProxyHttp<Object> {
        final Function<Session, HttpPeer> peers;
        final List<String> phases = new java.util.concurrent.CopyOnWriteArrayList<>();
        final BlockingQueue<Logged> logged = new LinkedBlockingQueue<>();

        Recorder(Function<Session, HttpPeer> peers) {
            this.peers = peers;
        }

        @Override
        public Object newCtx() {
            return new Object();
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
            phases.add("requestFilter");
            return Stages.completedFalse();
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            return CompletableFuture.completedFuture(peers.apply(session));
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, dev.relay.core.RequestHeader upstreamRequest,
                                                           Object ctx) {
            phases.add("upstreamRequestFilter:" + upstreamRequest.headers().get("Upgrade"));
            return Stages.done();
        }

        @Override
        public CompletionStage<Void> responseFilter(Session session, dev.relay.core.ResponseHeader upstreamResponse,
                                                    Object ctx) {
            phases.add("responseFilter:" + upstreamResponse.status());
            return Stages.done();
        }

        @Override
        public CompletionStage<Void> logging(Session session, ProxyError error, Object ctx) {
            logged.add(new Logged(session.responseStatus(), error, session.requestBodyBytesRead(),
                    session.responseBodyBytesSent(), session.attempts()));
            return Stages.done();
        }

        Logged next() throws InterruptedException {
            Logged next = logged.poll(5, TimeUnit.SECONDS);
            if (next == null) {
                throw new AssertionError("logging was not called within 5 s");
            }
            return next;
        }
    }

    /** An origin on a plain server socket: the test reads and writes its connections byte by byte. */
    static final class RawOrigin implements AutoCloseable {
        final ServerSocket server;
        private final List<Socket> accepted = new ArrayList<>();

        RawOrigin() throws IOException {
            server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            server.setSoTimeout(5000);
        }

        String address() {
            return "127.0.0.1:" + server.getLocalPort();
        }

        Conn accept() throws IOException {
            Socket socket = server.accept();
            socket.setSoTimeout(5000);
            accepted.add(socket);
            return new Conn(socket);
        }

        @Override
        public void close() throws IOException {
            for (Socket s : accepted) {
                s.close();
            }
            server.close();
        }

        record Conn(Socket socket) {
            String readHeader() throws IOException {
                return TunnelTest.readHeader(socket);
            }

            String readExactly(int n) throws IOException {
                return TunnelTest.readExactly(socket, n);
            }

            /** Everything until the peer closes. */
            String readRest() throws IOException {
                return TunnelTest.readAll(socket);
            }

            /** The next byte if one comes within {@code wait}, else -1. */
            int readWithin(Duration wait) throws IOException {
                socket.setSoTimeout((int) wait.toMillis());
                try {
                    return socket.getInputStream().read();
                } catch (SocketTimeoutException e) {
                    return -1;
                } finally {
                    socket.setSoTimeout(5000);
                }
            }

            void write(String text) throws IOException {
                TunnelTest.write(socket, text);
            }
        }
    }
}
