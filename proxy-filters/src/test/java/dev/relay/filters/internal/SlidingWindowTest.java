package dev.relay.filters.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SlidingWindowTest {
    @Test
    void retryAfterWaitsForThePreviousWindowToFadeWhenTheCurrentOneHasRoom() {
        // limit 10, current 5, previous 10 at elapsed 0: estimate 15. One more needs previous weight <= 4/10:
        // at elapsed 600 ms.
        assertEquals(600, SlidingWindow.retryAfter(10, 10, 5, 0, 1000));
        assertEquals(0, SlidingWindow.retryAfter(10, 0, 5, 0, 1000));
        assertEquals(15.0, SlidingWindow.estimate(10, 5, 0, 1000));
        assertEquals(10.0, SlidingWindow.estimate(10, 5, 500, 1000));
    }

    @Test
    void aWaitOfWholeSecondsInNanosecondsComesOutWhole() {
        // limit 2, nothing in this window, 3 in the previous one: one more fits once its weight is 1/3, at
        // 40 s of 60. Dividing first (1 - 1/3) made it 40 s + 1 ns, and a Retry-After of 41.
        assertEquals(40_000_000_000L, SlidingWindow.retryAfter(2, 3, 0, 0, 60_000_000_000L));
    }
}
