package dev.relay.filters.limits;

import java.util.concurrent.CompletionStage;

/**
 * Where the {@code rate-limit} filter's decisions are made: the counters of one filter instance. The
 * local store ({@link LocalLimitStore}) keeps them in this process's sketches and answers at once; the
 * shared one ({@link RedisLimitStore}, so that several proxies share one limit) answers at once when its
 * local estimate can, else later, from another thread.
 *
 * <p>The answer is written into the request's {@link LimitVerdict} rather than returned, so that the
 * synchronous case allocates nothing: the local store returns {@code Stages.done()}.
 */
interface LimitStore {

    /**
     * Counts one request of {@code key} against the limits and writes the verdict into {@code verdict}
     * (the verdict's earlier contents are ignored). When it admits a request under an in-flight limit it
     * records the held slot in the verdict, for {@link #release}.
     *
     * @return a stage completed when {@code verdict} is written: an already completed shared stage when
     *         the answer was immediate; never failed for an over-limit request (that is a verdict)
     */
    CompletionStage<Void> acquire(String key, LimitVerdict verdict);

    /**
     * Gives back the in-flight slot {@code verdict} holds, if any. Called when the request is over
     * (whatever happened to it); calling it again, or for a verdict holding nothing, does nothing.
     */
    void release(LimitVerdict verdict);

    /**
     * The filter is released: no configuration uses it any more. A store holding something shared (a
     * connection to Redis) lets go of it; once; requests still in flight may go on calling the store.
     */
    default void close() {}
}
