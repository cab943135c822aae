package dev.relay.server.internal;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.server.testing.AccessLogLines;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The request shaping filters ({@code request-id}, {@code forwarded}, {@code rewrite}, {@code body-limit})
 * in the configured server, against real origins that record what they received: ids at the origin, the
 * client and in the access and error logs; forged and trusted forwarding chains; a rewrite that changes
 * the route; redirects seen by curl; bodies over the limit, declared and chunked.
 */
@Timeout(60)
class RequestShapingEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogLines accessLines = new AccessLogLines();

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private TestOrigin origin(String name) {
        TestOrigin origin = TestOrigin.builder().name(name).build().start();
        cleanup.add(origin);
        return origin;
    }

    private InProcessRelay start(String listener, String upstreams, String filters, String routes) throws IOException {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "%s" ]
                  server { upgrade-socket = none, %s }
                  upstreams { %s }
                  filters = [ %s ]
                  routes = [ %s ]
                }
                """.formatted(listener, accessLines.setting(), upstreams, filters, routes));
        cleanup.add(relay);
        return relay;
    }

    private InProcessRelay startWith(TestOrigin origin, String filters) throws IOException {
        return start("127.0.0.1:0", "web { backends = [ \"" + origin.address() + "\" ] }", filters,
                "{ name = all, upstream = web }");
    }

    private static Response get(InProcessRelay relay, String path, Map<String, String> headers) throws IOException {
        return RawHttpConnection.get(relay.proxy(), HOST, path, headers);
    }

    private String accessLine(int index) {
        Await.until(() -> accessLines.lines().size() > index, WAIT, () -> accessLines.lines().toString());
        return accessLines.lines().get(index);
    }

    // ---------------------------------------------------------------------------------------------
    // request-id

    @Test
    void aNewRequestIdReachesTheOriginTheClientAndTheAccessLog() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = request-id }");

        Response response = get(relay, "/x", Map.of());

        String id = response.header("X-Request-ID");
        assertTrue(id != null && id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), id);
        assertEquals(id, origin.awaitRequests(1, WAIT).get(0).header("X-Request-ID"));
        assertTrue(accessLine(0).endsWith(" request_id=" + id), accessLine(0));
    }

    @Test
    void aValidIncomingIdIsKeptAndAForgedOneReplaced() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = request-id, format = hex }");

        assertEquals("edge-7f3a:1", get(relay, "/kept", Map.of("X-Request-ID", "edge-7f3a:1")).header("X-Request-ID"));
        String replaced = get(relay, "/replaced", Map.of("X-Request-ID", "<script>")).header("X-Request-ID");

        assertTrue(replaced.matches("[0-9a-f]{32}"), replaced);
        List<RecordedRequest> seen = origin.awaitRequests(2, WAIT);
        assertEquals("edge-7f3a:1", seen.get(0).header("X-Request-ID"));
        assertEquals(replaced, seen.get(1).header("X-Request-ID"));
        assertTrue(accessLine(0).endsWith(" request_id=edge-7f3a:1"), accessLine(0));
        assertTrue(accessLine(1).endsWith(" request_id=" + replaced), accessLine(1));
    }

    @Test
    void theErrorLogLineOfAFailedRequestNamesItsId() throws Exception {
        ListAppender<ILoggingEvent> errors = new ListAppender<>();
        errors.start();
        Logger proxyLog = (Logger) LoggerFactory.getLogger("dev.relay.proxy");
        proxyLog.addAppender(errors);
        cleanup.add(() -> proxyLog.detachAppender(errors));
        InProcessRelay relay = start("127.0.0.1:0", "dead { backends = [ \"127.0.0.1:" + TestOrigin.closedPort() + "\" ] }",
                "{ name = request-id, header = X-Correlation-ID }", "{ name = all, upstream = dead }");

        Response response = get(relay, "/down", Map.of("X-Correlation-ID", "trace-42"));

        assertEquals(502, response.status());
        assertEquals("trace-42", response.header("X-Correlation-ID"), "the error page carries the id too");
        Await.until(() -> errors.list.stream().anyMatch(e -> e.getFormattedMessage().contains("GET /down")), WAIT,
                () -> errors.list.toString());
        String line = errors.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains("GET /down")).findFirst().orElseThrow();
        assertTrue(line.contains("Host: site.test, request id: trace-42"), line);
        assertTrue(accessLine(0).contains(" request_id=trace-42 error="), accessLine(0));
    }

    @Test
    void aRequestRefusedByAnotherFilterStillGetsAnIdButNeverTheClientsForgedOne() throws Exception {
        TestOrigin origin = origin("a");
        // Listed after ip-acl, request-id still runs first (its order): the 403 has an id too.
        InProcessRelay relay = startWith(origin, "{ name = ip-acl, rules = [ \"deny all\" ] }, { name = request-id, format = hex }");
        String hostile = "x\" error=CONNECT_REFUSED cache=hit";

        Response refused = get(relay, "/x", Map.of("X-Request-ID", hostile));

        assertEquals(403, refused.status());
        String id = refused.header("X-Request-ID");
        assertTrue(id != null && id.matches("[0-9a-f]{32}"), String.valueOf(id));
        String line = accessLine(0);
        assertTrue(line.contains("\" 403 ") && line.endsWith(" request_id=" + id), line);
        assertFalse(line.contains("CONNECT_REFUSED") || line.contains("cache=hit"), line);
        assertEquals(0, origin.connectionsAccepted());
    }

    // ---------------------------------------------------------------------------------------------
    // forwarded

    @Test
    void anUntrustedClientCannotForgeItsForwardingFields() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = forwarded, mode = both, trusted-proxies = [ \"10.0.0.0/8\" ] }");

        get(relay, "/", Map.of("X-Forwarded-For", "6.6.6.6", "X-Forwarded-Proto", "https",
                "Forwarded", "for=6.6.6.6;proto=https"));

        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertEquals(List.of("127.0.0.1"), seen.headerValues("X-Forwarded-For"));
        assertEquals("http", seen.header("X-Forwarded-Proto"));
        assertEquals(HOST, seen.header("X-Forwarded-Host"));
        assertEquals(Integer.toString(relay.proxy().getPort()), seen.header("X-Forwarded-Port"));
        assertEquals(List.of("for=127.0.0.1;proto=http;host=site.test"), seen.headerValues("Forwarded"));
    }

    @Test
    void aTrustedProxysChainIsKeptAndThisHopAppended() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = forwarded, mode = both, trusted-proxies = [ \"127.0.0.0/8\" ] }");

        get(relay, "/", Map.of("X-Forwarded-For", "198.51.100.7, 10.0.0.2", "X-Forwarded-Proto", "https",
                "Forwarded", "for=198.51.100.7;proto=https, for=_edge"));

        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertEquals("198.51.100.7, 10.0.0.2, 127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("https", seen.header("X-Forwarded-Proto"));
        assertEquals("for=198.51.100.7;proto=https, for=_edge, for=127.0.0.1;proto=http;host=site.test",
                seen.header("Forwarded"));
    }

    @Test
    void forwardedQuotesAndBracketsAnIpv6Client() throws Exception {
        assumeTrue(ipv6LoopbackWorks(), "no IPv6 loopback here");
        TestOrigin origin = origin("a");
        InProcessRelay relay = start("[::1]:0", "web { backends = [ \"" + origin.address() + "\" ] }",
                "{ name = forwarded, mode = forwarded, by = _relay }", "{ name = all, upstream = web }");

        RawHttpConnection.get(relay.proxy(), "[::1]:8080", "/", Map.of());

        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertEquals("by=_relay;for=\"[::1]\";proto=http;host=\"[::1]:8080\"", seen.header("Forwarded"));
        assertNull(seen.header("X-Forwarded-For"));
    }

    private static boolean ipv6LoopbackWorks() {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new InetSocketAddress("::1", 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // rewrite

    @Test
    void aRewriteBeforeRoutingSendsTheRequestToAnotherRoute() throws Exception {
        TestOrigin legacy = origin("legacy");
        TestOrigin modern = origin("modern");
        InProcessRelay relay = start("127.0.0.1:0", "legacy { backends = [ \"" + legacy.address() + "\" ] }, "
                        + "modern { backends = [ \"" + modern.address() + "\" ] }",
                "{ name = rewrite, rules = [ { match = \"^/old/(.*)$\", replace = \"/new/$1\" } ] }",
                "{ name = new, match.path-prefix = \"/new/\", upstream = modern }, { name = rest, upstream = legacy }");

        Response rewritten = get(relay, "/old/page?q=1", Map.of());
        Response untouched = get(relay, "/other", Map.of());

        assertEquals("modern", rewritten.header("X-Origin"));
        assertEquals("/new/page?q=1", modern.awaitRequests(1, WAIT).get(0).uri());
        assertEquals("legacy", untouched.header("X-Origin"));
        assertTrue(accessLine(0).contains(" route=new "), accessLine(0));
    }

    @Test
    void curlSeesARedirectWithItsLocation() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = rewrite, rules = [ "
                + "{ match = \"^/blog/(.*)\", redirect = \"https://blog.example/$1\", status = 301 }, "
                + "{ match = \"^/moved$\", redirect = \"/here?from=moved?\", status = 308 } ] }");
        String base = "http://127.0.0.1:" + relay.proxy().getPort();

        ExternalTool.Result blog = ExternalTool.run(WAIT, "curl", "-sS", "--max-time", "10", "-D", "-",
                base + "/blog/2026/relay?ref=rss");
        ExternalTool.Result moved = ExternalTool.run(WAIT, "curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code} %{redirect_url}", base + "/moved?drop=1");

        assertEquals(0, blog.exitCode(), blog.stderr());
        assertTrue(blog.stdout().startsWith("HTTP/1.1 301 "), blog.stdout());
        assertTrue(blog.stdout().contains("\nLocation: https://blog.example/2026/relay?ref=rss\r\n")
                || blog.stdout().contains("\nlocation: https://blog.example/2026/relay?ref=rss\r\n"), blog.stdout());
        assertTrue(blog.stdout().endsWith("Redirecting to https://blog.example/2026/relay?ref=rss\n"), blog.stdout());
        assertEquals("308 " + base + "/here?from=moved", moved.stdout());
        assertEquals(0, origin.requests().size(), "a redirect never reaches the origin");
    }

    // ---------------------------------------------------------------------------------------------
    // body-limit

    @Test
    void aDeclaredBodyOverTheLimitGets413AtOnceAndTheConnectionCloses() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = body-limit, max-size = 1MiB }");

        try (RawHttpConnection client = new RawHttpConnection(relay.proxy())) {
            client.setReadTimeout(10_000);
            client.send("POST /sink HTTP/1.1\r\nHost: site.test\r\nContent-Length: 2097152\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            Response response = client.readResponse();

            assertEquals(413, response.status());
            assertEquals("close", response.header("Connection"));
            assertTrue(client.closedByPeer());
        }
        assertEquals(0, origin.connectionsAccepted(), "nothing went upstream");
        assertTrue(accessLine(0).contains("\"POST /sink HTTP/1.1\" 413 "), accessLine(0));
        assertEquals(200, get(relay, "/after", Map.of()).status());
    }

    @Test
    void aChunkedUploadOverTheLimitIsCutWith413AndLeavesNothingUpstream() throws Exception {
        TestOrigin origin = origin("a");
        InProcessRelay relay = startWith(origin, "{ name = body-limit, max-size = 1MiB }");
        Path upload = dir.resolve("upload.bin");
        try (OutputStream out = Files.newOutputStream(upload)) {
            byte[] block = new byte[64 * 1024];
            for (int i = 0; i < 160; i++) {
                out.write(block);
            }
        }
        String url = "http://127.0.0.1:" + relay.proxy().getPort() + "/sink";

        ExternalTool.Result curl = ExternalTool.run(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20",
                "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload, "-o", "/dev/null",
                "-w", "%{http_code}", url);

        assertEquals("413", curl.stdout(), curl.stderr());
        origin.awaitOpenConnections(0, WAIT);
        assertTrue(origin.requests().stream().noneMatch(RecordedRequest::bodyComplete),
                "no upload reached the origin whole: " + origin.requests());
        assertTrue(accessLine(0).contains("\"POST /sink HTTP/1.1\" 413 "), accessLine(0));
        assertTrue(accessLine(0).endsWith(" error=HTTP_STATUS"), accessLine(0));
        Response after = get(relay, "/after", Map.of());
        assertEquals(200, after.status());
    }
}
