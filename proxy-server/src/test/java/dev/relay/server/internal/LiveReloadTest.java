package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.server.testing.LoadClient;
import dev.relay.server.testing.Origins;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Live reload ({@code POST /reload}) of a running server, under load from a strict client. */
@Timeout(90)
class LiveReloadTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        cleanup.add(c);
        return c;
    }

    private static String conf(String listeners, String backend, String header) {
        return """
                proxy {
                  listeners = [ %s ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = false }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { name = all, upstream = web,
                               filters = [ { name = test-add-header, header = X-Config, value = %s } ] } ]
                }
                """.formatted(listeners, backend, header);
    }

    private static String oneLoop(String conf) {
        return conf.replace("access-log = false", "access-log = false, threads = 1");
    }

    /** A relay on an ephemeral port over {@code origin}; {@link #listenerOf} names that port for later configurations. */
    private InProcessRelay relayOver(TestOrigin origin) throws Exception {
        return closeLater(new InProcessRelay(dir.resolve("relay.conf"), conf("\"127.0.0.1:0\"", origin.address(), "one")));
    }

    /** The listener entry that keeps {@code relay}'s port (a configuration without it closes the port). */
    private static String listenerOf(InProcessRelay relay) {
        return "\"127.0.0.1:" + relay.proxy().getPort() + "\"";
    }

    @Test
    void twentyReloadsUnderLoadFailNoRequestAndTheLastConfigurationWins() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        TestOrigin b = closeLater(Origins.start("b"));
        InProcessRelay relay = relayOver(a);
        InetSocketAddress proxy = relay.proxy();
        // The port is fixed from now on: later configurations must name the same listener to keep it.
        String listener = listenerOf(relay);
        relay.rewrite(conf(listener, a.address(), "one"));
        assertEquals(200, relay.adminPost("/reload").statusCode());

        LoadClient load = new LoadClient(() -> proxy, "site.test", "/load", 4);
        long generation = 2;
        for (int i = 0; i < 20; i++) {
            boolean even = i % 2 == 0;
            relay.rewrite(conf(listener, even ? b.address() : a.address(), "gen" + i));
            HttpResponse<String> answer = relay.adminPost("/reload");
            assertEquals(200, answer.statusCode(), answer.body());
            assertTrue(answer.body().contains("\"generation\":" + (++generation)), answer.body());
            Thread.sleep(50);
        }
        load.close();

        assertEquals(0, load.errorCount(), "errors: " + load.errors());
        assertTrue(load.ok() > 100, "requests served: " + load.ok());
        Response last = RawHttpConnection.get(proxy, "site.test", "/after");
        assertEquals("a /after", last.bodyText());
        assertEquals("gen19", last.header("X-Config"));
    }

    @Test
    void aRequestInFlightFinishesOnTheConfigurationItStartedWith() throws Exception {
        TestOrigin slow = closeLater(Origins.start("slow"));
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"),
                conf("\"127.0.0.1:0\"", slow.address(), "old")));
        InetSocketAddress proxy = relay.proxy();
        String listener = "\"127.0.0.1:" + proxy.getPort() + "\"";

        slow.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(proxy, "site.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        slow.awaitHeldResponses(1, Duration.ofSeconds(15));
        relay.rewrite(conf(listener, slow.address(), "new"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        slow.releaseResponses();

        assertEquals("old", inFlight.get(15, TimeUnit.SECONDS).header("X-Config"));
        assertEquals("new", RawHttpConnection.get(proxy, "site.test", "/next").header("X-Config"));
    }

    @Test
    void anInvalidConfigurationIsRejectedWithItsReasonAndTheRunningOneStays() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"),
                conf("\"127.0.0.1:0\"", a.address(), "kept")));
        InetSocketAddress proxy = relay.proxy();
        relay.rewrite(conf("\"127.0.0.1:" + proxy.getPort() + "\"", a.address(), "x").replace("name = all, upstream = web",
                "name = all, upstream = nowhere"));

        HttpResponse<String> answer = relay.adminPost("/reload");

        assertEquals(400, answer.statusCode());
        assertTrue(answer.body().contains("relay.conf:6: key 'proxy.routes[0].upstream': unknown upstream 'nowhere'"),
                answer.body());
        assertTrue(answer.body().contains("\"status\":\"rejected\",\"generation\":1"), answer.body());
        assertEquals("kept", RawHttpConnection.get(proxy, "site.test", "/").header("X-Config"));
    }

    @Test
    void unchangedListenersStayBoundNewOnesAreBoundRemovedOnesClosedAndPoolsOfUnchangedGroupsAreKept() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        // One event loop: the engine pools upstream connections per loop.
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"),
                oneLoop(conf("\"127.0.0.1:0\"", a.address(), "one"))));
        InetSocketAddress first = relay.proxy();
        int second;
        try (ServerSocket s = new ServerSocket(0)) {
            second = s.getLocalPort();
        }
        String keep = "\"127.0.0.1:" + first.getPort() + "\"";
        relay.rewrite(oneLoop(conf(keep, a.address(), "one")));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        assertEquals(200, RawHttpConnection.get(first, "site.test", "/warm").status());
        long opened = relay.service().transportServer().upstreamConnectionsOpened();

        // Same group, other filter value, one more listener.
        relay.rewrite(oneLoop(conf(keep + ", \"127.0.0.1:" + second + "\"", a.address(), "two")));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        Response viaNew = RawHttpConnection.get(new InetSocketAddress("127.0.0.1", second), "site.test", "/new");
        assertEquals("two", viaNew.header("X-Config"));
        assertEquals(200, RawHttpConnection.get(first, "site.test", "/old").status());
        assertEquals(opened, relay.service().transportServer().upstreamConnectionsOpened(),
                "the unchanged group's pooled connection was reused");

        relay.rewrite(oneLoop(conf("\"127.0.0.1:" + second + "\"", a.address(), "three")));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        assertThrows(ConnectException.class, () -> new Socket(first.getAddress(), first.getPort()).close());
        assertEquals("three", RawHttpConnection.get(new InetSocketAddress("127.0.0.1", second), "site.test", "/").header("X-Config"));
    }

    @Test
    void aReloadThatChangesAGroupClosesThatGroupsIdleConnectionsAtOnce() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        TestOrigin b = closeLater(Origins.start("b"));
        InProcessRelay relay = relayOver(a);
        InetSocketAddress proxy = relay.proxy();
        String listener = listenerOf(relay);
        assertEquals(200, RawHttpConnection.get(proxy, "site.test", "/warm").status());
        a.awaitOpenConnections(1, Duration.ofSeconds(5));
        assertEquals(1, relay.service().transportServer().idleUpstreamConnections());

        // The group "web" now has another backend: a new group, the old one's pool is of no use.
        relay.rewrite(conf(listener, b.address(), "one"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        // Closed now, not at the group's idle timeout (60 s by default, far beyond this wait).
        a.awaitOpenConnections(0, Duration.ofSeconds(5));
        assertEquals(0, relay.service().transportServer().idleUpstreamConnections());
        assertEquals("b /after", RawHttpConnection.get(proxy, "site.test", "/after").bodyText());
    }

    @Test
    void aConnectionCarryingARequestAcrossTheReloadIsClosedWhenTheRequestEnds() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        TestOrigin b = closeLater(Origins.start("b"));
        InProcessRelay relay = relayOver(a);
        InetSocketAddress proxy = relay.proxy();
        a.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(proxy, "site.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        a.awaitHeldResponses(1, Duration.ofSeconds(15));
        relay.rewrite(conf(listenerOf(relay), b.address(), "one"));
        assertEquals(200, relay.adminPost("/reload").statusCode());
        a.releaseResponses();

        assertEquals("a /slow", inFlight.get(15, TimeUnit.SECONDS).bodyText());
        // Its group is gone: the connection is closed, not pooled to wait out its idle timeout.
        a.awaitOpenConnections(0, Duration.ofSeconds(5));
        assertEquals(0, relay.service().transportServer().idleUpstreamConnections());
    }

    @Test
    void settingsOfTheEngineAndOfKeptListenersAreNamedAsNeedingARestart() throws Exception {
        TestOrigin a = closeLater(Origins.start("a"));
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"),
                conf("\"127.0.0.1:0\"", a.address(), "one")));
        String listener = "{ address = \"127.0.0.1:" + relay.proxy().getPort() + "\" }";
        relay.rewrite(conf(listener, a.address(), "one"));
        assertEquals(200, relay.adminPost("/reload").statusCode());

        relay.rewrite(conf(listener.replace(" }", ", header-read-timeout = 5s }"), a.address(), "two")
                .replace("access-log = false", "access-log = false, retry-buffer = 1MiB, keepalive-timeout = 10s"));
        HttpResponse<String> answer = relay.adminPost("/reload");

        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("not applied until a restart or upgrade: proxy.server.retry-buffer, "
                + "proxy.server.keepalive-timeout, proxy.listeners[0] settings of 127.0.0.1:" + relay.proxy().getPort()),
                answer.body());
        assertEquals("two", RawHttpConnection.get(relay.proxy(), "site.test", "/").header("X-Config"));
    }
}
