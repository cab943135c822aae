package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StagesTest {

    @Test
    void sharedStagesAreCompletedCompletableFuturesSoTheEngineTakesItsFastPath() {
        // The engine's test, verbatim: a stage that fails it costs a callback and a hop per phase.
        for (CompletionStage<?> stage : List.of(Stages.done(), Stages.completedTrue(), Stages.completedFalse())) {
            assertTrue(stage instanceof CompletableFuture<?> f && f.isDone() && !f.isCompletedExceptionally(),
                    stage + " must be a CompletableFuture completed normally");
        }
        assertNull(((CompletableFuture<Void>) Stages.done()).getNow(null));
        assertEquals(Boolean.TRUE, ((CompletableFuture<Boolean>) Stages.completedTrue()).getNow(null));
        assertEquals(Boolean.FALSE, ((CompletableFuture<Boolean>) Stages.completedFalse()).getNow(null));
    }

    @Test
    void sharedStagesAreShared() {
        assertSame(Stages.done(), Stages.done());
        assertSame(Stages.completedTrue(), Stages.of(true));
        assertSame(Stages.completedFalse(), Stages.of(false));
    }

    @Test
    void sharedStagesCannotBeChanged() {
        CompletableFuture<Boolean> shared = (CompletableFuture<Boolean>) Stages.completedTrue();

        assertUnsupported(() -> shared.complete(false));
        assertUnsupported(() -> shared.completeExceptionally(new IllegalStateException("x")));
        assertUnsupported(() -> shared.obtrudeValue(false));
        assertUnsupported(() -> shared.obtrudeException(new IllegalStateException("x")));
        assertUnsupported(() -> shared.cancel(true));
        assertUnsupported(() -> shared.completeAsync(() -> false));
        assertUnsupported(() -> shared.completeAsync(() -> false, Runnable::run));
        assertSame(shared, shared.orTimeout(1, TimeUnit.NANOSECONDS));
        assertSame(shared, shared.completeOnTimeout(false, 1, TimeUnit.NANOSECONDS));

        assertEquals(Boolean.TRUE, shared.join(), "still true for every other request");
        assertFalse(shared.isCancelled());
        assertFalse(shared.isCompletedExceptionally());
    }

    @Test
    void completedHoldsItsValueTakesTheFastPathAndCannotBeChanged() {
        CompletableFuture<String> kept = Stages.completed("peer").toCompletableFuture();

        assertTrue(kept.isDone() && !kept.isCompletedExceptionally(), "the engine's fast path");
        assertEquals("peer", kept.getNow(null));
        assertUnsupported(() -> kept.complete("other"));
        assertUnsupported(() -> kept.obtrudeValue("other"));
        assertUnsupported(() -> kept.cancel(true));
        assertEquals("peer", kept.join(), "still the same value for every request it is handed to");
        assertNull(Stages.completed(null).toCompletableFuture().join());
        assertNotSame(Stages.completed("peer"), Stages.completed("peer"), "one per caller that keeps it, not interned");
    }

    @Test
    void toCompletableFutureHandsOutNoMutableView() {
        CompletableFuture<Void> view = Stages.done().toCompletableFuture();

        assertUnsupported(() -> view.complete(null));
        assertUnsupported(() -> view.obtrudeException(new IllegalStateException("x")));
        assertTrue(view.isDone() && !view.isCompletedExceptionally());
        assertNull(view.join());
    }

    @Test
    void dependentStagesAreOrdinaryFutures() {
        CompletableFuture<String> dependent = Stages.completedTrue().thenApply(String::valueOf).toCompletableFuture();

        assertEquals("true", dependent.join());
        // What a caller builds on a shared stage is its own: it may obtrude, the shared one stays.
        dependent.obtrudeValue("changed");
        assertEquals("changed", dependent.join());
        assertEquals(Boolean.TRUE, Stages.completedTrue().toCompletableFuture().join());
    }

    @Test
    void failedStagesCarryTheErrorAndCannotBeChanged() {
        ProxyError error = ProxyError.httpStatus(503);
        CompletableFuture<String> failed = Stages.<String>failed(error).toCompletableFuture();

        assertTrue(failed.isDone() && failed.isCompletedExceptionally());
        CompletionException thrown = assertThrows(CompletionException.class, failed::join);
        assertSame(error, thrown.getCause());
        assertUnsupported(() -> failed.complete("recovered"));
        assertUnsupported(() -> failed.obtrudeValue("recovered"));
        assertUnsupported(() -> failed.cancel(false));
        assertSame(error, assertThrows(CompletionException.class, failed::join).getCause());
        assertEquals("recovered", failed.exceptionally(e -> "recovered").join(), "recovery goes through a new stage");
        assertThrows(NullPointerException.class, () -> Stages.failed(null));
    }

    private static void assertUnsupported(Executable call) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, call);
        assertInstanceOf(String.class, e.getMessage());
    }
}
