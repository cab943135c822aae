package dev.relay.server.internal.proxy;

import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.RequestHeader;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ConfigLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request's backend picks ({@link ConfiguredProxy.Context#nextBackend}): made only when the request
 * needs them (a failure, or no backend ready), with the same answers as when they were made up front.
 */
@Timeout(10)
class ContextBackendPicksTest {
    private static final byte[] KEY = "k".getBytes(StandardCharsets.US_ASCII);
    private static final Backend A = Backend.parse("127.0.0.1:1");
    private static final Backend B = Backend.parse("127.0.0.1:2");

    private final ConfiguredProxy proxy = ConfiguredProxy.of(new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()))
            .parseString("""
                    proxy {
                      listeners = [ "127.0.0.1:0" ]
                      upstreams { web { backends = [ "127.0.0.1:1", "127.0.0.1:2" ] } }
                    }
                    """, "test.conf"));

    @AfterEach
    void close() {
        proxy.close();
    }

    private ConfiguredProxy.Context routed() {
        ConfiguredProxy.Context ctx = proxy.newCtx();
        assertNotNull(ctx.resolveRoute(RequestHeader.of("GET", "/")));
        return ctx;
    }

    @Test
    void aRequestThatFailsNothingPicksAReadyBackendAndHasNoFailures() {
        ConfiguredProxy.Context ctx = routed();
        UpstreamGroup group = ctx.route().upstream();

        Backend picked = ctx.nextBackend(group, KEY);

        assertTrue(picked.equals(A) || picked.equals(B), String.valueOf(picked));
        assertEquals(List.of(), ctx.failedBackends());
    }

    @Test
    void failuresWalkOnToTheOtherBackendThenNoneIsLeft() {
        ConfiguredProxy.Context ctx = routed();
        UpstreamGroup group = ctx.route().upstream();

        Backend first = ctx.nextBackend(group, KEY);
        ctx.picks().markFailed(first);
        assertTrue(ctx.picks().anotherLeft(group));
        Backend second = ctx.nextBackend(group, KEY);
        assertNotEquals(first, second);
        ctx.picks().markFailed(second);

        assertNull(ctx.nextBackend(group, KEY), "both failed: none left");
        assertFalse(ctx.picks().anotherLeft(group));
        assertEquals(List.of(first, second), ctx.failedBackends());
    }

    @Test
    void noEnabledBackendGivesNoneEvenWithAnyReadiness() {
        ConfiguredProxy.Context ctx = routed();
        UpstreamGroup group = ctx.route().upstream();
        group.loadBalancer().backends().setEnabled(A, false);
        group.loadBalancer().backends().setEnabled(B, false);

        assertNull(ctx.nextBackend(group, KEY));
        assertEquals(List.of(), ctx.failedBackends(), "not reached is not failed");
    }

    @Test
    void upstreamPeerHandsEveryRequestTheGroupsStageForItsBackend() {
        ConfiguredProxy.Context ctx = routed();
        UpstreamGroup group = ctx.route().upstream();

        CompletableFuture<HttpPeer> stage = group.peerStage(A).toCompletableFuture();

        assertSame(stage, group.peerStage(A), "made once per backend");
        assertTrue(stage.isDone() && !stage.isCompletedExceptionally());
        assertSame(group.peer(A), stage.join());
        assertEquals(A, stage.join().backend());
    }
}
