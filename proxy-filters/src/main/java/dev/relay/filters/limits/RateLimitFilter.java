package dev.relay.filters.limits;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.redis.RedisRateLimiter;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The {@code rate-limit} filter: per-key request rates and concurrency, answered with {@code 429 Too
 * Many Requests} (and {@code Retry-After}) or {@code 503 Service Unavailable} before the request goes
 * anywhere. From Java, registered like any module:
 *
 * <pre>{@code
 * modules.add(RateLimitFilter.builder(RateLimitKey.header("X-Api-Key"))
 *         .limit(10, Duration.ofSeconds(1))     // sliding window: 10 per second
 *         .burst(20)                            // or a token bucket: 10 per second, 20 at once
 *         .maxInFlight(4)                       // and at most 4 at a time per key (503 beyond)
 *         .build());
 * }</pre>
 *
 * <p><b>Algorithms.</b> {@code limit} per {@code period} alone is a sliding window (a {@link Rate}): a
 * request is admitted while the estimate {@code previous x (1 - elapsed / period) + current} stays within
 * {@code limit}, where {@code previous} and {@code current} count the admitted requests of the last and
 * the current window (refused requests do not count, so a client that keeps trying is let through again
 * as its old requests age). With {@code burst}, it is a token bucket (a {@link TokenBucket}) refilled at
 * {@code limit / period} and holding {@code burst} tokens: up to {@code burst} requests at once, then the
 * rate. {@code maxInFlight} counts the requests of a key that have started and not ended (an
 * {@link Inflight}); the slot is given back once the response is done, failed, or its client left.
 * Counters are count-min sketches of fixed size per filter (1 MiB for the window, 512 KiB for the
 * buckets, 256 KiB for the in-flight counts), so the number of keys costs no memory; a key sharing all
 * its counters with busier keys may be limited early, never late.
 *
 * <p><b>Fields.</b> Following draft-ietf-httpapi-ratelimit-headers-10 (structured fields), a 429 and,
 * unless {@link Builder#headers(boolean) headers(false)}, every admitted response carry
 * {@code RateLimit-Policy: "default";q=10;w=1} (quota {@code q} per window of {@code w} seconds: the
 * period rounded up to whole seconds, the quota scaled to it) and {@code RateLimit: "default";r=3;t=1}
 * ({@code r} requests left, {@code t} seconds until the quota resets: the current window's end, or the
 * bucket full again; on a 429, the {@code Retry-After}). {@code Retry-After} is in seconds, rounded up.
 * A 503 for the in-flight limit carries neither.
 *
 * <p><b>Shared limits.</b> With {@link Builder#redis(RedisRateLimiter) redis(limiter)}, the rate is counted in
 * Redis, so that every proxy using the same limiter settings (key prefix, limit, period) shares one limit:
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.builder(RedisUri.parse("redis://10.0.0.5:6379")).build();
 * modules.add(RateLimitFilter.builder(RateLimitKey.clientIp())
 *         .redis(RedisRateLimiter.builder(redis, 100, Duration.ofSeconds(1)).keyPrefix("relay:rl:api:").build())
 *         .build());
 * }</pre>
 *
 * <p>The limiter decides most requests on its local estimate, at once; the others take one round trip, and
 * the request resumes on its event loop when the answer comes. A refusal over the limit is the same 429.
 * When Redis cannot be asked, the limiter's {@link RedisRateLimiter.WhenUnavailable policy} decides: admitted
 * without {@code RateLimit} fields (how much is left is unknown), or refused with {@code 503} and
 * {@code Retry-After: 1} (the proxy cannot decide; the limit is not known to be exceeded, so not 429).
 * {@code maxInFlight} stays per instance. A token bucket ({@code burst}) cannot be shared.
 *
 * <p><b>Keys.</b> See {@link RateLimitKey}; a request without a key is not limited. Each filter (each
 * configuration block, each {@code build()}) has its own counters; a reload of the configured server
 * starts them afresh, but for a shared limit, whose counters are in Redis.
 */
public final class RateLimitFilter implements HttpModuleFactory {
    /** The name configurations use. */
    public static final String NAME = "rate-limit";

    /**
     * Where the filter runs in its list ({@link #order()}): after {@code ip-acl} (-400: a denied address costs
     * no count) and {@code cors} (-300: a preflight is answered without a count, and the 429 of a cross-origin
     * request carries the CORS fields, so the page can read its {@code Retry-After}), before
     * {@code basic-auth} and {@code jwt} (-200), so a flood of guessed passwords is limited before it costs a
     * bcrypt each.
     */
    public static final int ORDER = -250;

    private static final String POLICY = "\"default\"";

    private final RateLimitKey key;
    private final LimitStore store;
    private final boolean headers;
    private final @Nullable String policyField;
    private final String description;

    private RateLimitFilter(RateLimitKey key, LimitStore store, boolean headers, @Nullable String policyField) {
        this.key = key;
        this.store = store;
        this.headers = headers;
        this.policyField = policyField;
        this.description = NAME + "(key " + key + ", " + store + (headers ? "" : ", no headers") + ")";
    }

    /** A builder of a filter counting requests by {@code key}. */
    public static Builder builder(RateLimitKey key) {
        return new Builder(key);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** {@link #ORDER}: after {@code ip-acl} and {@code cors}, before authentication. */
    @Override
    public int order() {
        return ORDER;
    }

    /** A module for one request: its verdict and, under an in-flight limit, its slot. */
    @Override
    public HttpModule newModule() {
        return new RateLimitModule(this);
    }

    /**
     * No configuration uses this filter any more: a shared limit lets go of its Redis client (closed when no
     * other filter holds it). Requests still in flight may go on; a second call does nothing.
     */
    @Override
    public void release() {
        store.close();
    }

    /** This filter's settings over another store: how a store other than the local one is plugged in. */
    RateLimitFilter withStore(LimitStore other) {
        return new RateLimitFilter(key, requireNonNull(other, "other"), headers, policyField);
    }

    RateLimitKey key() {
        return key;
    }

    LimitStore store() {
        return store;
    }

    /** Whether admitted responses get the {@code RateLimit} fields. */
    boolean headersOnAdmitted() {
        return headers;
    }

    /** {@code RateLimit-Policy}'s value; null without a rate limit. */
    @Nullable String policyField() {
        return policyField;
    }

    /** {@code RateLimit}'s value for {@code remaining} requests and {@code resetSeconds}. */
    static String rateLimitField(long remaining, long resetSeconds) {
        return POLICY + ";r=" + remaining + ";t=" + resetSeconds;
    }

    /**
     * The policy as the draft writes it: a window in whole seconds ({@code w}, an Integer) and the quota
     * over it; a period that is not whole seconds is rounded up and the quota scaled to the same rate.
     */
    static String policyField(long limit, Duration period) {
        long periodNanos = period.toNanos();
        long windowSeconds = LocalLimitStore.ceilSeconds(periodNanos);
        long quota = periodNanos == windowSeconds * 1_000_000_000L ? limit
                : (long) Math.floor(limit * (windowSeconds * 1e9 / periodNanos));
        return POLICY + ";q=" + quota + ";w=" + windowSeconds;
    }

    @Override
    public String toString() {
        return description;
    }

    /** Builds a {@link RateLimitFilter}; final, one use. Needs a rate ({@link #limit}) or {@link #maxInFlight}, or both. */
    public static final class Builder {
        private final RateLimitKey key;
        private long limit;
        private @Nullable Duration period;
        private long burst;
        private long maxInFlight;
        private boolean headers = true;
        private LongSupplier clock = System::nanoTime;
        private @Nullable RedisRateLimiter redis;
        private Runnable onRelease = () -> { };

        private Builder(RateLimitKey key) {
            this.key = requireNonNull(key, "key");
        }

        /** At most {@code limit} requests per key in any {@code period} (at least 1 ms): a sliding window, or with {@link #burst} the refill rate. */
        public Builder limit(long limit, Duration period) {
            requireNonNull(period, "period");
            if (limit < 1) {
                throw new IllegalArgumentException("limit: " + limit + " (expected: at least 1)");
            }
            if (period.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("period: " + period + " (expected: at least 1ms)");
            }
            if (period.toNanos() / limit < 1) {
                throw new IllegalArgumentException("limit: " + limit + " per " + period
                        + " (expected: at most one request per nanosecond)");
            }
            this.limit = limit;
            this.period = period;
            return this;
        }

        /** Makes the rate a token bucket holding {@code burst} tokens (at least 1): that many requests at once, then the rate. */
        public Builder burst(long burst) {
            if (burst < 1) {
                throw new IllegalArgumentException("burst: " + burst + " (expected: at least 1)");
            }
            this.burst = burst;
            return this;
        }

        /** At most {@code max} requests per key at a time (at least 1); more are answered 503. */
        public Builder maxInFlight(long max) {
            if (max < 1) {
                throw new IllegalArgumentException("max-in-flight: " + max + " (expected: at least 1)");
            }
            this.maxInFlight = max;
            return this;
        }

        /** Whether admitted responses carry {@code RateLimit-Policy} and {@code RateLimit} (default true; a 429 always does). */
        public Builder headers(boolean headers) {
            this.headers = headers;
            return this;
        }

        /**
         * Counts the rate in Redis through {@code limiter}, shared with every proxy using the same limiter
         * settings; the rate is the limiter's (calling {@link #limit} too is allowed only with the same
         * values). Not with {@link #burst}. The filter does not own the limiter's client: close it after the
         * filter's last request.
         */
        public Builder redis(RedisRateLimiter limiter) {
            this.redis = requireNonNull(limiter, "limiter");
            return this;
        }

        /** What the filter's {@link RateLimitFilter#release()} lets go of (the provider's hold on a shared client). */
        Builder releasing(Runnable hold) {
            this.onRelease = requireNonNull(hold, "hold");
            return this;
        }

        /** The time source in nanoseconds ({@link System#nanoTime()} by default); tests pass a manual clock. */
        public Builder clock(LongSupplier nanos) {
            this.clock = requireNonNull(nanos, "nanos");
            return this;
        }

        /** The filter, with counters of its own (or the shared ones of its {@link #redis} limiter). */
        public RateLimitFilter build() {
            if (redis != null) {
                return buildShared(redis);
            }
            if (period == null && maxInFlight == 0) {
                throw new IllegalStateException("limit: missing (expected: a limit and period, max-in-flight, or both)");
            }
            if (burst > 0 && period == null) {
                throw new IllegalStateException("burst: " + burst + " without a limit (expected: a limit and period, "
                        + "whose rate refills the bucket)");
            }
            Rate window = null;
            TokenBucket bucket = null;
            if (period != null && burst == 0) {
                window = Rate.builder(period).hashes(4).slots(16384).clock(clock).build();
            } else if (period != null) {
                bucket = TokenBucket.builder(limit, period).burst(burst).hashes(4).slots(16384).clock(clock).build();
            }
            return new RateLimitFilter(key, new LocalLimitStore(window, limit, bucket, inFlight(), maxInFlight), headers,
                    period == null ? null : policyField(limit, period));
        }

        private RateLimitFilter buildShared(RedisRateLimiter limiter) {
            if (burst > 0) {
                throw new IllegalStateException("burst: " + burst + " with a shared limit on Redis (expected: no burst; "
                        + "the shared limit is a sliding window)");
            }
            if (period != null && (limit != limiter.limit() || !period.equals(limiter.period()))) {
                throw new IllegalStateException("limit: " + limit + " per " + period + " and a Redis limiter of "
                        + limiter.limit() + " per " + limiter.period() + " (expected: the same rate, or no limit())");
            }
            Inflight inflight = inFlight();
            LocalLimitStore local = inflight == null ? null : new LocalLimitStore(null, 0, null, inflight, maxInFlight);
            return new RateLimitFilter(key, new RedisLimitStore(limiter, local, onRelease), headers,
                    policyField(limiter.limit(), limiter.period()));
        }

        private @Nullable Inflight inFlight() {
            return maxInFlight > 0 ? Inflight.create() : null;
        }
    }
}
