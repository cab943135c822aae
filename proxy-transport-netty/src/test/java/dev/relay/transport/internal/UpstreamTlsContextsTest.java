package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.PeerOptions;
import dev.relay.transport.UpstreamTls;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Contexts are built off the event loop, once per set-up and process, and the loop hears of it. */
class UpstreamTlsContextsTest {
    private static final AtomicInteger SET_UPS = new AtomicInteger();
    private final EventLoop loop = new DefaultEventLoop();

    /** A set-up no other test of this JVM built: contexts are per process. */
    private static PeerOptions.Builder freshSetUp() {
        return PeerOptions.builder().alternativeName("set-up-" + SET_UPS.incrementAndGet() + ".test");
    }

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void theFirstContextOfASetUpIsBuiltOffTheLoopWhichHearsOfItThenTakesItWithoutWaiting() throws Exception {
        PeerOptions options = freshSetUp().build();

        // The builder thread is held, so a build on the loop would show as a future done at once.
        CountDownLatch builderHeld = new CountDownLatch(1);
        UpstreamTlsContexts.BUILDER.execute(() -> awaitQuietly(builderHeld));
        CompletableFuture<Boolean> doneAtOnce = new CompletableFuture<>();
        CompletableFuture<Boolean> heardOnTheLoop = new CompletableFuture<>();
        loop.execute(() -> {
            Future<Void> first = UpstreamTlsContexts.ready(options, loop);
            doneAtOnce.complete(first.isDone());
            first.addListener(f -> heardOnTheLoop.complete(f.isSuccess() && loop.inEventLoop()));
        });

        assertFalse(doneAtOnce.get(5, TimeUnit.SECONDS), "built on the loop");
        builderHeld.countDown();
        assertTrue(heardOnTheLoop.get(30, TimeUnit.SECONDS), "success, told on the loop");
        Future<Void> again = UpstreamTlsContexts.ready(options, loop);
        assertTrue(again.isSuccess(), "a built set-up is ready at once");
        SslContext context = UpstreamTlsContexts.forOptions(options);
        assertSame(context, UpstreamTlsContexts.forOptions(options), "one context per set-up");
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
        PeerOptions verifying = freshSetUp().build();
        PeerOptions trusting = freshSetUp().verifyCert(false).build();

        UpstreamTlsContexts.ready(verifying, loop).get(30, TimeUnit.SECONDS);
        UpstreamTlsContexts.ready(trusting, loop).get(30, TimeUnit.SECONDS);

        assertEquals(2, java.util.Set.of(UpstreamTlsContexts.forOptions(verifying),
                UpstreamTlsContexts.forOptions(trusting)).size());
    }

    @Test
    void aPreparedSetUpIsReadyAtOnceForTheFirstConnectionOnAnyServer() throws Exception {
        PeerOptions options = freshSetUp().alpn(Alpn.H2_OR_H1).build();

        UpstreamTls.prepare(options).toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertTrue(UpstreamTlsContexts.ready(options, loop).isSuccess(), "no wait: built while the server started");
        assertTrue(UpstreamTls.prepare(options).toCompletableFuture().isDone(), "a second prepare builds nothing");
    }
}
