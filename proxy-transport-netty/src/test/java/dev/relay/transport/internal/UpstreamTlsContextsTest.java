package dev.relay.transport.internal;

import dev.relay.core.PeerOptions;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Contexts are built off the event loop, once per set-up, and the loop hears of it. */
class UpstreamTlsContextsTest {
    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void theFirstContextOfASetUpIsBuiltOffTheLoopWhichHearsOfItThenTakesItWithoutWaiting() throws Exception {
        UpstreamTlsContexts contexts = new UpstreamTlsContexts();
        PeerOptions options = PeerOptions.defaults();

        // The builder thread is held, so a build on the loop would show as a future done at once.
        CountDownLatch builderHeld = new CountDownLatch(1);
        UpstreamTlsContexts.BUILDER.execute(() -> awaitQuietly(builderHeld));
        CompletableFuture<Boolean> doneAtOnce = new CompletableFuture<>();
        CompletableFuture<Boolean> heardOnTheLoop = new CompletableFuture<>();
        loop.execute(() -> {
            Future<Void> first = contexts.ready(options, loop);
            doneAtOnce.complete(first.isDone());
            first.addListener(f -> heardOnTheLoop.complete(f.isSuccess() && loop.inEventLoop()));
        });

        assertFalse(doneAtOnce.get(5, TimeUnit.SECONDS), "built on the loop");
        builderHeld.countDown();
        assertTrue(heardOnTheLoop.get(30, TimeUnit.SECONDS), "success, told on the loop");
        Future<Void> again = contexts.ready(options, loop);
        assertTrue(again.isSuccess(), "a built set-up is ready at once");
        SslContext context = contexts.forOptions(options);
        assertSame(context, contexts.forOptions(options), "one context per set-up");
        assertTrue(context.isClient());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void anotherSetUpGetsAContextOfItsOwn() throws Exception {
        UpstreamTlsContexts contexts = new UpstreamTlsContexts();
        PeerOptions verifying = PeerOptions.defaults();
        PeerOptions trusting = PeerOptions.builder().verifyCert(false).build();

        contexts.ready(verifying, loop).get(30, TimeUnit.SECONDS);
        contexts.ready(trusting, loop).get(30, TimeUnit.SECONDS);

        assertEquals(2, java.util.Set.of(contexts.forOptions(verifying), contexts.forOptions(trusting)).size());
    }
}
