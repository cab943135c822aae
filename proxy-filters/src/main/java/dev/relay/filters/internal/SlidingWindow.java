package dev.relay.filters.internal;

/**
 * The sliding-window approximation the rate limits share (Cloudflare's "counting things"): two fixed windows
 * of {@code period}, the previous one weighted by the part of it the sliding window still covers, as if its
 * events had been spread evenly. The in-process limit ({@code limits.LocalLimitStore}, {@code limits.Rate}),
 * the shared one's local side ({@code redis.internal.SharedWindowKey}) and the Redis script all count this
 * way, so they must agree to the rounding: hence one place.
 *
 * <p>Times are in any one unit ({@code elapsed} and {@code period} alike; a wait comes back in it too).
 * {@code elapsed} is how far the current window has run, 0 to {@code period}.
 */
public final class SlidingWindow {
    private SlidingWindow() {}

    /**
     * The events in the last period: {@code previous x (period - elapsed) / period + current}. Multiplied
     * before divided, as the Redis script does, so a whole result comes out whole (a limit compared with it
     * is not missed by a rounding error of the weight).
     */
    public static double estimate(long previous, long current, long elapsed, long period) {
        return previous * (double) (period - elapsed) / period + current;
    }

    /**
     * How long, without new requests, until one more request fits under {@code limit}: while the current
     * count alone leaves room, the previous window's weight has to fade enough; otherwise the current window
     * has to end and then fade in turn within the next one. Rounded up; 0 when one more fits now.
     */
    public static long retryAfter(long limit, long previous, long current, long elapsed, long period) {
        long untilWindowEnd = period - elapsed;
        if (current + 1 <= limit) {
            if (previous == 0) {
                return 0;
            }
            // previous x (period - elapsed - wait) / period + current + 1 <= limit
            double wait = untilWindowEnd - (double) (limit - 1 - current) * period / previous;
            return Math.max(0, (long) Math.ceil(wait));
        }
        // Within the next window: current x (period - later) / period + 1 <= limit.
        double fade = period - (double) (limit - 1) * period / current;
        return untilWindowEnd + Math.max(0, (long) Math.ceil(fade));
    }
}
