package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Shared, already completed stages for the common synchronous answer of an asynchronous phase.
 *
 * <p>Returning one of these costs no allocation, and the engine continues on the same call stack
 * without a thread hop: the stages are {@link CompletableFuture}s that are already done, which is
 * what the engine's fast path tests for.
 *
 * <p>They cannot be changed: the instances are shared by every request of the process, so a caller
 * that completed, obtruded or cancelled one would change the answer of every other request. Every
 * method that would ({@code complete}, {@code completeExceptionally}, {@code obtrudeValue},
 * {@code obtrudeException}, {@code cancel}, {@code completeAsync}) throws
 * {@link UnsupportedOperationException}; {@code orTimeout} and {@code completeOnTimeout} do nothing
 * (the stage is already complete); {@link CompletionStage#toCompletableFuture()} returns the same
 * unmodifiable instance. Dependent stages ({@code thenApply} ...) are ordinary, modifiable futures.
 */
public final class Stages {
    private static final CompletableFuture<Void> DONE = UnmodifiableStage.completed(null);
    private static final CompletableFuture<Boolean> TRUE = UnmodifiableStage.completed(Boolean.TRUE);
    private static final CompletableFuture<Boolean> FALSE = UnmodifiableStage.completed(Boolean.FALSE);

    private Stages() {}

    /** A completed {@code CompletionStage<Void>}: "this phase is finished, go on". Shared, unmodifiable. */
    public static CompletionStage<Void> done() {
        return DONE;
    }

    /** A completed stage holding {@code true}. Shared, unmodifiable. */
    public static CompletionStage<Boolean> completedTrue() {
        return TRUE;
    }

    /** A completed stage holding {@code false}. Shared, unmodifiable. */
    public static CompletionStage<Boolean> completedFalse() {
        return FALSE;
    }

    /** A completed stage holding {@code value}: one of the shared, unmodifiable instances. */
    public static CompletionStage<Boolean> of(boolean value) {
        return value ? TRUE : FALSE;
    }

    /**
     * A completed stage holding {@code value}, unmodifiable like the shared ones but new on each call:
     * for a caller that makes one per value and hands it to every request that asks for that value (a
     * group keeps one per backend's peer), so the requests themselves allocate nothing.
     */
    public static <T> CompletionStage<T> completed(@Nullable T value) {
        return UnmodifiableStage.completed(value);
    }

    /**
     * A stage that failed with {@code error}, for phases that fail synchronously. A new instance on
     * each call, unmodifiable like the shared ones, so that whoever receives it cannot turn the
     * failure into a value.
     */
    public static <T> CompletionStage<T> failed(Throwable error) {
        return UnmodifiableStage.failed(requireNonNull(error, "error"));
    }

    /**
     * A {@link CompletableFuture} that is complete from construction and refuses every later change.
     * It stays a {@code CompletableFuture} (rather than a {@code CompletionStage} of its own) because
     * the engine's fast path tests {@code instanceof CompletableFuture && isDone()} to go on without
     * scheduling anything. The idea is Armeria's {@code UnmodifiableFuture}.
     */
    private static final class UnmodifiableStage<T> extends CompletableFuture<T> {

        static <T> UnmodifiableStage<T> completed(@Nullable T value) {
            UnmodifiableStage<T> stage = new UnmodifiableStage<>();
            stage.doComplete(value);
            return stage;
        }

        static <T> UnmodifiableStage<T> failed(Throwable error) {
            UnmodifiableStage<T> stage = new UnmodifiableStage<>();
            stage.doCompleteExceptionally(error);
            return stage;
        }

        private void doComplete(@Nullable T value) {
            super.complete(value);
        }

        private void doCompleteExceptionally(Throwable error) {
            super.completeExceptionally(error);
        }

        @Override
        public boolean complete(T value) {
            throw unmodifiable("complete");
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            throw unmodifiable("completeExceptionally");
        }

        @Override
        public void obtrudeValue(T value) {
            throw unmodifiable("obtrudeValue");
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw unmodifiable("obtrudeException");
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            throw unmodifiable("cancel");
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
            throw unmodifiable("completeAsync");
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
            throw unmodifiable("completeAsync");
        }

        // Already complete: a timeout could never fire. Overridden so that no future JDK change can
        // make them schedule anything on a shared instance.
        @Override
        public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
            return this;
        }

        @Override
        public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
            return this;
        }

        /** This instance: it is unmodifiable already, and a copy would cost an allocation. */
        @Override
        public CompletableFuture<T> toCompletableFuture() {
            return this;
        }

        private static UnsupportedOperationException unmodifiable(String method) {
            return new UnsupportedOperationException(method + ": a shared stage of Stages cannot be changed "
                    + "(expected: a new CompletableFuture of your own)");
        }
    }
}
