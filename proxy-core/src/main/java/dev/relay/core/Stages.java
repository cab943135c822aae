package dev.relay.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Shared, already completed stages for the common synchronous answer of an asynchronous phase.
 *
 * <p>Returning one of these costs no allocation, and the engine continues on the same call stack
 * without a thread hop. Do not call {@code obtrudeValue} on them: they are shared by every request.
 */
public final class Stages {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    private static final CompletableFuture<Boolean> TRUE = CompletableFuture.completedFuture(Boolean.TRUE);
    private static final CompletableFuture<Boolean> FALSE = CompletableFuture.completedFuture(Boolean.FALSE);

    private Stages() {}

    /** A completed {@code CompletionStage<Void>}: "this phase is finished, go on". */
    public static CompletionStage<Void> done() {
        return DONE;
    }

    /** A completed stage holding {@code true}. */
    public static CompletionStage<Boolean> completedTrue() {
        return TRUE;
    }

    /** A completed stage holding {@code false}. */
    public static CompletionStage<Boolean> completedFalse() {
        return FALSE;
    }

    /** A completed stage holding {@code value}; {@code Boolean}s reuse the shared instances. */
    public static CompletionStage<Boolean> of(boolean value) {
        return value ? TRUE : FALSE;
    }

    /** A stage that failed with {@code error}, for phases that fail synchronously. */
    public static <T> CompletionStage<T> failed(Throwable error) {
        return CompletableFuture.failedFuture(error);
    }
}
