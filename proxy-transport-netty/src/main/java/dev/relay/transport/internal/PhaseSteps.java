package dev.relay.transport.internal;

import dev.relay.core.ProxyError;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * How a phase driver waits for a phase that answers with a stage, without a continuation object per
 * phase: the driver names the step where it resumes, and {@link #await} continues there at once when
 * the stage is already complete (no allocation, no hop), else on the event loop when it completes. A
 * stage that completes after the driver moved on (the call ended, or a retry replaced the attempt the
 * phase worked on) is dropped; a failed one goes to {@link #failStep}.
 *
 * <p>Mechanism only: the steps, their order and every call of a user callback stay in the driver,
 * {@link ProxyCall}.
 */
abstract class PhaseSteps {
    private final EventLoop loop;

    PhaseSteps(EventLoop loop) {
        this.loop = loop;
    }

    /** The event loop the phases run on (the driver keeps no copy of its own: 4 B per call). */
    final EventLoop loop() {
        return loop;
    }

    static boolean isDoneNormally(@Nullable CompletionStage<?> stage) {
        return stage instanceof CompletableFuture<?> f && f.isDone() && !f.isCompletedExceptionally();
    }

    /**
     * Continues at {@code step} once {@code stage} completes. A stage of attempt {@code scope} that
     * completes after the call moved on to another attempt is dropped.
     */
    final void await(@Nullable CompletionStage<?> stage, int step, String phase, @Nullable UpstreamAttempt scope) {
        if (stage == null) {
            failStep(ProxyError.internal(phase + " returned null instead of a CompletionStage", null), step, scope);
            return;
        }
        if (stage instanceof CompletableFuture<?> f && f.isDone() && !f.isCompletedExceptionally()) {
            resume(step, f.getNow(null), scope);
            return;
        }
        stage.whenComplete((value, failure) -> {
            if (loop.inEventLoop()) {
                resumeOrFail(step, value, failure, phase, scope);
            } else {
                loop.execute(() -> resumeOrFail(step, value, failure, phase, scope));
            }
        });
    }

    private void resumeOrFail(int step, @Nullable Object value, @Nullable Throwable failure, String phase,
                              @Nullable UpstreamAttempt scope) {
        if (dropIfStale(step, scope)) {
            return;
        }
        try {
            if (failure != null) {
                failStep(ProxyError.from(failure, phase), step, scope);
            } else {
                resume(step, value, scope);
            }
        } catch (Throwable t) {
            // Off the phase's own call stack nothing else would catch it: the request must still end.
            failRequest(ProxyError.from(t, phase));
        }
    }

    /**
     * Whether a stage completing now comes too late: the call is over, or moved on from attempt
     * {@code scope}. A stale step releases what it held.
     */
    abstract boolean dropIfStale(int step, @Nullable UpstreamAttempt scope);

    /** Continues the phases at {@code step} with the stage's {@code value}. */
    abstract void resume(int step, @Nullable Object value, @Nullable UpstreamAttempt scope);

    /** The phase before {@code step} failed with {@code e}. */
    abstract void failStep(ProxyError e, int step, @Nullable UpstreamAttempt scope);

    /** Ends the request with {@code e}. */
    abstract void failRequest(ProxyError e);
}
