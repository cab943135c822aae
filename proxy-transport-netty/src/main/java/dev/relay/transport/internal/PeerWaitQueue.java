package dev.relay.transport.internal;

import org.jspecify.annotations.Nullable;

import java.util.ArrayDeque;

/**
 * The acquirers of one pool key on one event loop that wait, first come first served, for a stream
 * while every connection the {@link PeerLimits} allow is busy: the HTTP/1.1 streams hand them a
 * connection as one is given back, the HTTP/2 ones a stream as one closes. Bounded: an acquirer that
 * finds it full fails at once rather than queue without end behind a slow origin. An acquirer that
 * gave up meanwhile ({@link UpstreamStreams.Callback#isAbandoned()}, its deadline passed) is skipped,
 * and makes room. Confined to its event loop.
 */
final class PeerWaitQueue {
    private final ArrayDeque<StreamWaiter> waiting = new ArrayDeque<>();

    /** Queues {@code waiter} unless {@code max} live waiters are queued already; false then. */
    boolean offer(StreamWaiter waiter, int max) {
        if (waiting.size() >= max) {
            waiting.removeIf(w -> w.callback().isAbandoned());
            if (waiting.size() >= max) {
                return false;
            }
        }
        waiting.addLast(waiter);
        return true;
    }

    /** The longest waiting acquirer that still wants a stream, without taking it; null when none. */
    @Nullable StreamWaiter peek() {
        StreamWaiter w;
        while ((w = waiting.peekFirst()) != null && w.callback().isAbandoned()) {
            waiting.pollFirst();
        }
        return w;
    }

    /** Takes the longest waiting acquirer that still wants a stream; null when none. */
    @Nullable StreamWaiter poll() {
        StreamWaiter w = peek();
        if (w != null) {
            waiting.pollFirst();
        }
        return w;
    }

    boolean isEmpty() {
        return peek() == null;
    }
}
