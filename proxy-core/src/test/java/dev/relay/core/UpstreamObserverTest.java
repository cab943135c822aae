package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class UpstreamObserverTest {
    private static final HttpPeer PEER = HttpPeer.of("127.0.0.1:8080", false, "");

    /** Writes what it sees, prefixed with its name, to a shared list. */
    private static UpstreamObserver recording(String name, List<String> events) {
        return new UpstreamObserver() {
            @Override
            public void onAttemptStart(HttpPeer peer) {
                events.add(name + " start " + peer.hostAndPort());
            }

            @Override
            public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
                events.add(name + " end " + peer.hostAndPort() + " " + outcome + " " + durationNanos);
            }
        };
    }

    @Test
    void andThenCallsBothObserversInOrder() {
        List<String> events = new ArrayList<>();
        UpstreamObserver both = recording("first", events).andThen(recording("second", events));

        both.onAttemptStart(PEER);
        both.onAttemptEnd(PEER, AttemptOutcome.TIMEOUT, 42);

        assertEquals(List.of(
                "first start 127.0.0.1:8080",
                "second start 127.0.0.1:8080",
                "first end 127.0.0.1:8080 TIMEOUT 42",
                "second end 127.0.0.1:8080 TIMEOUT 42"), events);
    }

    @Test
    void andThenChainsKeepTheirOrder() {
        List<String> events = new ArrayList<>();
        UpstreamObserver chain = recording("a", events)
                .andThen(recording("b", events))
                .andThen(recording("c", events));

        chain.onAttemptStart(PEER);

        assertEquals(List.of("a start 127.0.0.1:8080", "b start 127.0.0.1:8080", "c start 127.0.0.1:8080"), events);
    }

    @Test
    void noneIgnoresEverythingAndCombinesWithOthers() {
        List<String> events = new ArrayList<>();

        UpstreamObserver.NONE.onAttemptStart(PEER);
        UpstreamObserver.NONE.onAttemptEnd(PEER, AttemptOutcome.SUCCESS, 1);
        UpstreamObserver.NONE.andThen(recording("x", events)).onAttemptEnd(PEER, AttemptOutcome.SUCCESS, 7);

        assertEquals(List.of("x end 127.0.0.1:8080 SUCCESS 7"), events);
    }
}
