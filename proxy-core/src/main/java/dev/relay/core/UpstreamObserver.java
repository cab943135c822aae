package dev.relay.core;

/**
 * Sees every upstream attempt the engine makes: when it starts and how it ends. This is the passive
 * health signal (outlier ejection) and the load signal (least connections, latency-aware
 * balancing) that load balancers consume. Called on event loops: implementations must be
 * thread-safe, fast and non-blocking.
 */
public interface UpstreamObserver {

    /** An observer that ignores everything. */
    UpstreamObserver NONE = new UpstreamObserver() {};

    /** An attempt to {@code peer} starts (before connecting). */
    default void onAttemptStart(HttpPeer peer) {}

    /**
     * The attempt to {@code peer} that started last ended with {@code outcome} after {@code durationNanos}
     * (from start to the end of the response, or to the failure).
     */
    default void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {}

    /** Both observers, in order. */
    default UpstreamObserver andThen(UpstreamObserver next) {
        UpstreamObserver first = this;
        return new UpstreamObserver() {
            @Override
            public void onAttemptStart(HttpPeer peer) {
                first.onAttemptStart(peer);
                next.onAttemptStart(peer);
            }

            @Override
            public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
                first.onAttemptEnd(peer, outcome, durationNanos);
                next.onAttemptEnd(peer, outcome, durationNanos);
            }
        };
    }
}
