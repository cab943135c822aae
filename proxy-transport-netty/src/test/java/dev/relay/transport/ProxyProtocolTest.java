package dev.relay.transport;

import dev.relay.core.CidrBlock;
import dev.relay.core.ConnectionFilter;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyProtocol;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.HashKey;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROXY protocol accepted on a listener (v1, v2 with TLVs and IPv6, LOCAL; missing, garbled, late or
 * untrusted headers close the connection), the connection filter (CIDRs, asynchronous, after the
 * PROXY header), and the PROXY header sent to an upstream, over raw sockets and a real origin.
 */
@Timeout(30)
class ProxyProtocolTest {
    private static final String REQUEST = "GET /small HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

    private TestOrigin origin;
    private ForwardingProxy proxy;
    private ProxyFixture fixture;

    @BeforeEach
    void start() {
        origin = TestOrigin.builder().name("o").build().start();
        proxy = new ForwardingProxy(origin.address());
        fixture = new ProxyFixture(proxy);
    }

    @AfterEach
    void stop() {
        fixture.close();
        origin.close();
    }

    @Test
    void aV1HeaderGivesTheClientAddressToTheSessionTheHashKeyAndXForwardedFor() throws Exception {
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());

        String answer = exchange(listener, ascii("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n" + REQUEST));

        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.10"), 56324), proxy.nextClient());
        assertEquals("192.0.2.10", proxy.hashKeys.poll(5, TimeUnit.SECONDS));
        assertEquals(new InetSocketAddress(InetAddress.getByName("198.51.100.2"), 443), proxy.servers.poll());
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals("192.0.2.10", seen.header("X-Forwarded-For"));
    }

    @Test
    void aV2HeaderWithIpv6AndTlvsGivesTheIpv6Client() throws Exception {
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());
        byte[] src = InetAddress.getByName("2001:db8::7").getAddress();
        byte[] dst = InetAddress.getByName("2001:db8::1").getAddress();
        // TLVs: PP2_TYPE_AUTHORITY "example.com" and PP2_TYPE_UNIQUE_ID, which the reader must skip.
        byte[] tlvs = concat(tlv(0x02, ascii("example.com")), tlv(0x05, new byte[] {1, 2, 3, 4}));
        ByteBuffer addresses = ByteBuffer.allocate(36 + tlvs.length).put(src).put(dst)
                .putShort((short) 40000).putShort((short) 8443).put(tlvs);

        String answer = exchange(listener, concat(v2(0x21, 0x21, addresses.array()), ascii(REQUEST)));

        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40000), proxy.nextClient());
        String forwardedFor = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("X-Forwarded-For");
        assertEquals(InetAddress.getByName("2001:db8::7"), InetAddress.getByName(forwardedFor));
    }

    @Test
    void aV2LocalHeaderKeepsTheTcpPeerAddress() throws Exception {
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());

        String answer = exchange(listener, concat(v2(0x20, 0x00, new byte[0]), ascii(REQUEST)));

        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        SocketAddress client = proxy.nextClient();
        assertEquals(InetAddress.getLoopbackAddress(), ((InetSocketAddress) client).getAddress());
        assertEquals("127.0.0.1", origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("X-Forwarded-For"));
    }

    @Test
    void aConnectionWithoutAHeaderIsClosedUnanswered() throws Exception {
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());

        assertEquals("", exchange(listener, ascii(REQUEST)));
        assertEquals("", exchange(listener, ascii("PROXY TCP4 not-an-address 198.51.100.2 1 2\r\n" + REQUEST)));
        assertEquals(0, origin.requestCount("/small"));
    }

    @Test
    void aSilentConnectionIsClosedAtTheHeaderReadTimeout() throws Exception {
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true)
                .headerReadTimeout(Duration.ofMillis(200)).keepAliveTimeout(Duration.ofSeconds(30)).build());

        // Less than the 13 bytes the decoder needs to tell v1 from v2: it waits, the timer does not.
        assertEquals("", exchange(listener, ascii("PROXY TC")));
    }

    @Test
    void aHeaderFromAnUntrustedPeerIsRefused() throws Exception {
        InetSocketAddress untrusted = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true)
                .proxyProtocolTrusted(List.of(CidrBlock.parse("10.0.0.0/8"))).build());
        InetSocketAddress trusted = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true)
                .proxyProtocolTrusted(List.of(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse("127.0.0.0/8"))).build());
        byte[] request = ascii("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n" + REQUEST);

        assertEquals("", exchange(untrusted, request));
        assertTrue(exchange(trusted, request).startsWith("HTTP/1.1 200"));
    }

    @Test
    void theConnectionFilterRefusesADeniedClientWithoutReadingAndCountsIt() throws Exception {
        ConnectionFilter denyLoopback = ConnectionFilter.cidrs(List.of(CidrBlock.parse("127.0.0.0/8")),
                List.of(CidrBlock.parse("127.0.0.1/32")));
        InetSocketAddress denied = fixture.server.bind("127.0.0.1:0",
                ListenerOptions.builder().connectionFilter(denyLoopback).build());
        InetSocketAddress allowed = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder()
                .connectionFilter(ConnectionFilter.cidrs(List.of(CidrBlock.parse("127.0.0.0/8")), List.of())).build());

        assertEquals("", exchange(denied, ascii(REQUEST)));
        assertEquals(1, fixture.server.connectionsRefused());
        assertTrue(exchange(allowed, ascii(REQUEST)).startsWith("HTTP/1.1 200"));
        assertEquals(1, fixture.server.connectionsRefused());
        assertEquals(1, origin.requestCount("/small"));
    }

    @Test
    void anAsynchronousFilterHoldsReadingUntilItAnswers() throws Exception {
        BlockingQueue<CompletableFuture<Boolean>> asked = new LinkedBlockingQueue<>();
        ConnectionFilter later = client -> {
            CompletableFuture<Boolean> verdict = new CompletableFuture<>();
            asked.add(verdict);
            return verdict;
        };
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0",
                ListenerOptions.builder().connectionFilter(later).build());
        try (Socket socket = new Socket(listener.getAddress(), listener.getPort())) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(ascii(REQUEST));
            CompletableFuture<Boolean> verdict = asked.poll(5, TimeUnit.SECONDS);
            assertNotNull(verdict, "the filter was not asked");
            assertEquals(0, origin.requestCount("/small"));
            CompletableFuture.runAsync(() -> verdict.complete(true));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        }
        ConnectionFilter failing = client -> Stages.failed(new IllegalStateException("deny list unreachable"));
        InetSocketAddress failed = fixture.server.bind("127.0.0.1:0",
                ListenerOptions.builder().connectionFilter(failing).build());
        assertEquals("", exchange(failed, ascii(REQUEST)));
    }

    @Test
    void withProxyProtocolTheFilterJudgesTheAddressTheHeaderGave() throws Exception {
        ListenerOptions options = ListenerOptions.builder().proxyProtocol(true)
                .connectionFilter(ConnectionFilter.cidrs(List.of(), List.of(CidrBlock.parse("192.0.2.0/24")))).build();
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", options);

        assertEquals("", exchange(listener, ascii("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n" + REQUEST)));
        String answer = exchange(listener, ascii("PROXY TCP4 203.0.113.9 198.51.100.2 56324 443\r\n" + REQUEST));
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertEquals(1, fixture.server.connectionsRefused());
        assertEquals("203.0.113.9", origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("X-Forwarded-For"));
    }

    @Test
    void v1AndV2HeadersReachTheUpstreamWithTheRealClientAndAreNotSharedAcrossClients() throws Exception {
        for (ProxyProtocol version : List.of(ProxyProtocol.V1, ProxyProtocol.V2)) {
            try (RecordingUpstream upstream = new RecordingUpstream()) {
                ForwardingProxy sending = new ForwardingProxy(session -> HttpPeer.plain(upstream.address())
                        .withOptions(PeerOptions.builder().sendProxyProtocol(version).build()));
                try (ProxyFixture front = new ProxyFixture(sending)) {
                    InetSocketAddress listener = front.server.bind("127.0.0.1:0",
                            ListenerOptions.builder().proxyProtocol(true).build());
                    String keepAlive = "GET /a HTTP/1.1\r\nHost: test\r\n\r\n";
                    // Two requests on one client connection: one upstream connection, one header.
                    String answer = exchange(listener, ascii("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n"
                            + keepAlive + REQUEST));
                    assertEquals(2, answer.split("HTTP/1.1 200", -1).length - 1, answer);
                    // Another client: its own upstream connection and header, never the pooled one.
                    assertTrue(exchange(listener, ascii("PROXY TCP4 203.0.113.9 198.51.100.2 40000 443\r\n"
                            + REQUEST)).startsWith("HTTP/1.1 200"));

                    List<byte[]> prefixes = upstream.connectionPrefixes(2);
                    assertEquals(version == ProxyProtocol.V1
                            ? "PROXY TCP4 192.0.2.10 198.51.100.2 56324 443" : "v2 192.0.2.10:56324", describe(prefixes.get(0)));
                    assertEquals(version == ProxyProtocol.V1
                            ? "PROXY TCP4 203.0.113.9 198.51.100.2 40000 443" : "v2 203.0.113.9:40000", describe(prefixes.get(1)));
                    assertEquals(2, upstream.connections());
                }
            }
        }
    }

    @Test
    void curlsHaproxyProtocolHeaderIsAccepted() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(onPath("curl"), "curl is not installed");
        InetSocketAddress listener = fixture.server.bind("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());

        Process curl = new ProcessBuilder("curl", "-s", "--max-time", "10", "--haproxy-protocol",
                "http://127.0.0.1:" + listener.getPort() + "/small").redirectErrorStream(true).start();
        assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl did not finish");

        assertEquals(0, curl.exitValue(), new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        // curl's v1 header carries its own socket's addresses: the client is curl's port, not the socket's.
        assertEquals(InetAddress.getLoopbackAddress(), ((InetSocketAddress) proxy.nextClient()).getAddress());
        assertEquals("127.0.0.1", origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("X-Forwarded-For"));
    }

    private static boolean onPath(String binary) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    /** The v1 line, or "v2 source:port" of a v2 header. */
    private static String describe(byte[] prefix) throws IOException {
        if (prefix[0] == 'P') {
            String text = new String(prefix, StandardCharsets.ISO_8859_1);
            return text.substring(0, text.indexOf("\r\n"));
        }
        ByteBuffer b = ByteBuffer.wrap(prefix);
        b.position(16);
        byte[] src = new byte[4];
        b.get(src);
        b.position(b.position() + 4);
        return "v2 " + InetAddress.getByAddress(src).getHostAddress() + ":" + (b.getShort() & 0xffff);
    }

    // --- helpers ---

    private static String exchange(InetSocketAddress listener, byte[] bytes) throws IOException {
        try (Socket socket = new Socket(listener.getAddress(), listener.getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException closedEarly) {
                // The proxy may close before all was written: what was read still tells.
            }
            try {
                return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException reset) {
                return "";
            }
        }
    }

    private static byte[] v2(int versionAndCommand, int familyAndProtocol, byte[] body) {
        return ByteBuffer.allocate(16 + body.length)
                .put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A})
                .put((byte) versionAndCommand).put((byte) familyAndProtocol).putShort((short) body.length).put(body)
                .array();
    }

    private static byte[] tlv(int type, byte[] value) {
        return ByteBuffer.allocate(3 + value.length).put((byte) type).putShort((short) value.length).put(value).array();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }

    /** Forwards to one upstream and adds {@code X-Forwarded-For} from the session's client address. */
    static final class ForwardingProxy extends ProxyFixture.SimpleProxy {
        final BlockingQueue<SocketAddress> clients = new LinkedBlockingQueue<>();
        final BlockingQueue<SocketAddress> servers = new LinkedBlockingQueue<>();
        final BlockingQueue<String> hashKeys = new LinkedBlockingQueue<>();

        ForwardingProxy(String upstream) {
            super(upstream);
        }

        ForwardingProxy(java.util.function.Function<Session, HttpPeer> peers) {
            super(peers);
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Object ctx) {
            clients.add(session.clientAddress());
            servers.add(session.serverAddress());
            hashKeys.add(new String(HashKey.parse("client-ip").key(session), StandardCharsets.ISO_8859_1));
            InetSocketAddress client = (InetSocketAddress) session.clientAddress();
            upstreamRequest.appendHeader("X-Forwarded-For", client.getAddress().getHostAddress());
            return Stages.done();
        }

        SocketAddress nextClient() throws InterruptedException {
            SocketAddress next = clients.poll(5, TimeUnit.SECONDS);
            assertNotNull(next, "no request reached upstreamRequestFilter");
            return next;
        }
    }

    /**
     * A raw HTTP/1.1 upstream that records the bytes each connection starts with (the PROXY header
     * and the first request) and answers every request {@code 200} with an empty body.
     */
    static final class RecordingUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final BlockingQueue<byte[]> prefixes = new LinkedBlockingQueue<>();
        private final List<Socket> sockets = new ArrayList<>();
        private final Thread acceptor;

        RecordingUpstream() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(this::acceptLoop, "recording-upstream");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String address() {
            return "127.0.0.1:" + server.getLocalPort();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    synchronized (sockets) {
                        sockets.add(s);
                    }
                    Thread t = new Thread(() -> serve(s), "recording-upstream-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                ByteArrayOutputStream first = new ByteArrayOutputStream();
                boolean recorded = false;
                java.io.DataInputStream data = new java.io.DataInputStream(in);
                byte[] start = new byte[16];
                data.readFully(start);
                if (start[0] == 0x0D && start[12] >> 4 == 2) {
                    // A v2 header: its signature holds CRLFCRLF, so it is taken whole by its length.
                    byte[] rest = new byte[((start[14] & 0xff) << 8) | (start[15] & 0xff)];
                    data.readFully(rest);
                    prefixes.add(concat(start, rest));
                    recorded = true;
                } else {
                    first.write(start);
                }
                byte[] window = new byte[4];
                int b;
                while ((b = in.read()) >= 0) {
                    if (!recorded) {
                        first.write(b);
                    }
                    window[0] = window[1];
                    window[1] = window[2];
                    window[2] = window[3];
                    window[3] = (byte) b;
                    if (window[0] == '\r' && window[1] == '\n' && window[2] == '\r' && window[3] == '\n') {
                        if (!recorded) {
                            prefixes.add(first.toByteArray());
                            recorded = true;
                        }
                        out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
                        out.flush();
                    }
                }
            } catch (IOException ignored) {
                // The proxy closed its connection: nothing more to record.
            }
        }

        List<byte[]> connectionPrefixes(int count) throws InterruptedException {
            List<byte[]> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] next = prefixes.poll(5, TimeUnit.SECONDS);
                assertNotNull(next, "upstream connection " + (i + 1) + " of " + count + " did not arrive");
                out.add(next);
            }
            return out;
        }

        int connections() {
            synchronized (sockets) {
                return sockets.size();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }
}
