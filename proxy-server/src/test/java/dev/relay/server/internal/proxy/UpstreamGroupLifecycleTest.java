package dev.relay.server.internal.proxy;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.transport.internal.UpstreamTlsContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upstream groups across reloads: a group whose settings did not change is kept, started, with its
 * load balancer; a new one is started; a dropped or changed one is closed; and attempt outcomes
 * reach the load balancer of the group that made the peer.
 */
@Timeout(30)
class UpstreamGroupLifecycleTest {
    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));
    private ConfiguredProxy proxy;

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private ProxyConfig config(String upstreams) {
        return loader.parseString("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams {
                %s
                  }
                  routes = [ { upstream = a } ]
                }
                """.formatted(upstreams), "test.conf");
    }

    private static boolean isClosed(UpstreamGroup group) {
        // A closed load balancer refuses to start; a started one says it already is.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> group.loadBalancer().start());
        return e.getMessage().contains("closed");
    }

    @Test
    void aTlsGroupHasItsContextBuiltWhenItStartsBeforeAnyRequest() throws Exception {
        // A set-up no other test of this JVM has (TLS contexts are per process).
        String alternative = "warm-" + System.nanoTime() + ".test";
        proxy = ConfiguredProxy.of(config("""
                a { backends = [ "127.0.0.1:9001" ] }
                tls-group { backends = [ "127.0.0.1:9443" ], tls = true, verify-name-alternative = "%s" }
                """.formatted(alternative)));
        PeerOptions options = proxy.groups().get("tls-group").config().options();
        assertEquals(alternative, options.alternativeName());

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
        while (!UpstreamTlsContexts.isBuilt(options) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(UpstreamTlsContexts.isBuilt(options), "built in the background, no connection made");
    }

    @Test
    void aReloadKeepsUnchangedGroupsStartsNewOnesAndClosesDroppedAndChangedOnes() {
        proxy = ConfiguredProxy.of(config("""
                a { backends = [ "127.0.0.1:9001" ] }
                b { backends = [ "127.0.0.1:9002" ] }
                c { backends = [ "127.0.0.1:9003" ] }
                """));
        UpstreamGroup a = proxy.groups().get("a");
        UpstreamGroup b = proxy.groups().get("b");
        UpstreamGroup c = proxy.groups().get("c");
        assertTrue(a.isStarted() && b.isStarted() && c.isStarted());

        proxy.swap(config("""
                a { backends = [ "127.0.0.1:9001" ] }
                b { backends = [ "127.0.0.1:9002" ], selection = least-connections }
                d { backends = [ "127.0.0.1:9004" ] }
                """));

        assertSame(a, proxy.groups().get("a"));
        assertSame(a.loadBalancer(), proxy.groups().get("a").loadBalancer());
        assertNotSame(b, proxy.groups().get("b"));
        assertTrue(proxy.groups().get("d").isStarted());
        assertTrue(isClosed(b), "changed");
        assertTrue(isClosed(c), "dropped");
        assertTrue(!isClosed(a), "kept, running");

        proxy.close();
        assertTrue(isClosed(a));
        assertTrue(isClosed(proxy.groups().get("d")));
        assertThrows(IllegalStateException.class, () -> proxy.swap(config("a { backends = [ \"127.0.0.1:9001\" ] }")));
    }

    @Test
    void attemptsOfTwoGroupsOnTheSameBackendAreCountedEachInItsOwnGroup() {
        proxy = ConfiguredProxy.of(config("""
                a { backends = [ "127.0.0.1:9001" ] }
                b { backends = [ "127.0.0.1:9001" ] }
                """));
        UpstreamGroup a = proxy.groups().get("a");
        UpstreamGroup b = proxy.groups().get("b");
        Backend backend = Backend.parse("127.0.0.1:9001");
        HttpPeer viaA = a.peer(backend);
        HttpPeer viaB = b.peer(backend);
        assertSame(viaA, a.peer(backend), "made once");
        assertNotEquals(viaA, viaB, "separate pools");
        assertEquals(backend, viaA.backend());

        proxy.onAttemptStart(viaA);
        assertEquals(1, a.loadBalancer().backends().inFlight(backend));
        assertEquals(0, b.loadBalancer().backends().inFlight(backend));
        proxy.onAttemptEnd(viaA, AttemptOutcome.SUCCESS, 1_000_000);
        assertEquals(0, a.loadBalancer().backends().inFlight(backend));

        // A peer no group of the snapshot made is ignored.
        proxy.onAttemptStart(HttpPeer.plain(backend));
        assertEquals(0, a.loadBalancer().backends().inFlight(backend));
    }

    @Test
    void aSnapshotThatCannotBeBuiltLeavesTheRunningOneInPlace() {
        proxy = ConfiguredProxy.of(config("a { backends = [ \"127.0.0.1:9001\" ] }"));
        ProxyConfig valid = config("a { backends = [ \"127.0.0.1:9001\" ] }\nb { backends = [ \"127.0.0.1:9002\" ] }");
        // A route to a group the configuration lacks (only a hand-made config can have one).
        ProxyConfig broken = new ProxyConfig(valid.source(), valid.server(), valid.listeners(), valid.upstreams(),
                java.util.List.of(new ProxyConfig.RouteConfig(0, java.util.List.of(), null, "nowhere", java.util.List.of(), "x")),
                java.util.List.of(), 0);
        assertThrows(IllegalArgumentException.class, () -> proxy.swap(broken));
        assertEquals(java.util.Set.of("a"), proxy.groups().keySet());
    }
}
