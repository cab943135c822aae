package dev.relay.filters.limits;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Per-key token buckets in fixed memory: each key's bucket refills at {@code tokens} per {@code period}
 * and holds at most {@code burst} tokens; a request takes {@code n} of them or is refused.
 *
 * <pre>{@code
 * TokenBucket buckets = TokenBucket.builder(10, Duration.ofSeconds(1)).burst(20).build();
 * if (!buckets.tryAcquire(clientIp, 1)) {
 *     long retryAfterNanos = buckets.waitNanos(clientIp, 1);
 * }
 * }</pre>
 *
 * <p><b>How.</b> A bucket is kept as one number, its "theoretical arrival time" (the generic cell rate
 * algorithm of ATM networks, which is a token bucket): the instant at which it will be full again. Taking
 * {@code n} tokens moves it {@code n x period / tokens} later; a request is refused when that would put
 * it more than {@code burst} tokens' worth past now. These instants live in a count-min shaped sketch
 * ({@code hashes} rows of {@code slots} cells, one {@link AtomicLongArray}): a key reads its cell in
 * every row and uses the earliest; taking tokens pushes the key's other cells at least as late, then moves
 * the earliest with a compare-and-set (so two threads cannot spend the same token). A cell shared with
 * other keys is therefore never earlier than any of their buckets: collisions can only make a key's
 * bucket look emptier, never fuller, and a key is never allowed more than its rate.
 *
 * <p><b>Why a sketch and not a map of buckets</b> (a bounded Caffeine cache, say): memory is fixed
 * whatever the number of keys ({@code 8 x hashes x slots} bytes; 128 KiB by default), nothing is
 * allocated per request or per new key, and there is no eviction to exploit: with a bounded map, a
 * client rotating through many keys evicts other keys' buckets, which come back full (under-limiting).
 * The price is the sketch's: a key that collides in every row with busier keys is limited early, which
 * more slots make rare. Exact per-key state is what a shared store ({@code redis}) gives.
 *
 * <p>Time comes from the injected clock (nanoseconds, {@link System#nanoTime()} by default). Nothing
 * is allocated and nothing blocks; contended keys retry their compare-and-set.
 */
public final class TokenBucket {
    private final KeyHash hash = new KeyHash();
    private final int hashes;
    private final int mask;
    /** Per cell: when its bucket is full again, nanoseconds after {@link #origin}; 0 (the past) is full. */
    private final AtomicLongArray fullAt;
    private final long tokenNanos;
    private final long burst;
    private final long capacityNanos;
    private final LongSupplier clock;
    private final long origin;

    private TokenBucket(Builder builder) {
        this.hashes = builder.hashes;
        this.mask = KeyHash.slotMask(builder.hashes, builder.slots);
        this.fullAt = new AtomicLongArray(hashes * (mask + 1));
        this.tokenNanos = builder.period.toNanos() / builder.tokens;
        this.burst = builder.burst;
        this.capacityNanos = Math.multiplyExact(burst, tokenNanos);
        this.clock = builder.clock;
        this.origin = clock.getAsLong();
    }

    /**
     * A builder of buckets refilled with {@code tokens} per {@code period} (both positive; at least one
     * nanosecond per token), holding {@code tokens} unless {@link Builder#burst} says otherwise.
     */
    public static Builder builder(long tokens, Duration period) {
        return new Builder(tokens, period);
    }

    /** Takes {@code n} tokens (1 to burst) from {@code key}'s bucket when it holds them; false, taking none, when not. */
    public boolean tryAcquire(long key, long n) {
        return acquireHashed(hash.hash(key), checkTokens(n), now()) > 0;
    }

    /** Takes {@code n} tokens (1 to burst) from {@code key}'s bucket when it holds them; false, taking none, when not. */
    public boolean tryAcquire(CharSequence key, long n) {
        return acquireHashed(hash.hash(key), checkTokens(n), now()) > 0;
    }

    /** Takes {@code n} tokens (1 to burst) from {@code key}'s bucket when it holds them; false, taking none, when not. */
    public boolean tryAcquire(byte[] key, long n) {
        return acquireHashed(hash.hash(key), checkTokens(n), now()) > 0;
    }

    /** Nanoseconds until {@code key}'s bucket holds {@code n} tokens (1 to burst); 0 when it does now. */
    public long waitNanos(long key, long n) {
        return waitHashed(hash.hash(key), checkTokens(n), now());
    }

    /** Nanoseconds until {@code key}'s bucket holds {@code n} tokens (1 to burst); 0 when it does now. */
    public long waitNanos(CharSequence key, long n) {
        return waitHashed(hash.hash(key), checkTokens(n), now());
    }

    /** Nanoseconds until {@code key}'s bucket holds {@code n} tokens (1 to burst); 0 when it does now. */
    public long waitNanos(byte[] key, long n) {
        return waitHashed(hash.hash(key), checkTokens(n), now());
    }

    /** The whole tokens in {@code key}'s bucket now (0 to burst). */
    public long available(CharSequence key) {
        long now = now();
        return tokensAt(earliestFullAt(hash.hash(key)), now);
    }

    /** The most tokens a bucket holds. */
    public long burst() {
        return burst;
    }

    /** Nanoseconds to refill one token. */
    public long tokenNanos() {
        return tokenNanos;
    }

    private long checkTokens(long n) {
        if (n < 1 || n > burst) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 to the burst, " + burst + ")");
        }
        return n;
    }

    /** Now, in nanoseconds after the buckets were made: never negative, so that a cell of 0 is a full bucket. */
    long now() {
        return Math.max(0, clock.getAsLong() - origin);
    }

    /**
     * Takes {@code n} tokens from the bucket of {@code keyHash} at time {@code now}.
     *
     * @return when admitted, the instant (after {@link #now()}'s origin, positive) at which the bucket will
     *         be full again; when refused, minus the nanoseconds until it would hold {@code n} tokens
     */
    long acquireHashed(long keyHash, long n, long now) {
        while (true) {
            int earliestCell = -1;
            long earliest = Long.MAX_VALUE;
            for (int row = 0; row < hashes; row++) {
                int cell = KeyHash.cell(keyHash, row, mask);
                long value = fullAt.get(cell);
                if (value < earliest) {
                    earliest = value;
                    earliestCell = cell;
                }
            }
            long next = Math.max(earliest, now) + n * tokenNanos;
            long over = next - now - capacityNanos;
            if (over > 0) {
                return -over;
            }
            // The key's other cells are pushed first, then the earliest one is moved by compare-and-set,
            // which commits. A thread that read any cell before this commit either finds its own
            // compare-and-set failing (the cell moved) or already counted what was pushed: no token is
            // spent twice. A commit that fails leaves the pushed cells where they are, which can only make
            // the key look emptier than it is, by at most this request's tokens.
            for (int row = 0; row < hashes; row++) {
                int cell = KeyHash.cell(keyHash, row, mask);
                if (cell != earliestCell) {
                    fullAt.accumulateAndGet(cell, next, Math::max);
                }
            }
            if (fullAt.compareAndSet(earliestCell, earliest, next)) {
                return next;
            }
        }
    }

    private long waitHashed(long keyHash, long n, long now) {
        return Math.max(0, Math.max(earliestFullAt(keyHash), now) + n * tokenNanos - now - capacityNanos);
    }

    private long earliestFullAt(long keyHash) {
        long earliest = Long.MAX_VALUE;
        for (int row = 0; row < hashes; row++) {
            earliest = Math.min(earliest, fullAt.get(KeyHash.cell(keyHash, row, mask)));
        }
        return earliest;
    }

    /** The whole tokens of a bucket that is full again at {@code fullAt}, at time {@code now}. */
    long tokensAt(long fullAt, long now) {
        return Math.max(0, now + capacityNanos - Math.max(fullAt, now)) / tokenNanos;
    }

    KeyHash keyHash() {
        return hash;
    }

    @Override
    public String toString() {
        return "TokenBucket(" + burst + " tokens, one per " + tokenNanos + " ns, " + hashes + " x " + (mask + 1) + ")";
    }

    /** Builds a {@link TokenBucket}; final, one use. */
    public static final class Builder {
        private final long tokens;
        private final Duration period;
        private long burst;
        private int hashes = 4;
        private int slots = 4096;
        private LongSupplier clock = System::nanoTime;

        private Builder(long tokens, Duration period) {
            requireNonNull(period, "period");
            if (tokens < 1) {
                throw new IllegalArgumentException("tokens: " + tokens + " (expected: at least 1)");
            }
            if (period.isNegative() || period.isZero() || period.toNanos() / tokens < 1) {
                throw new IllegalArgumentException("period: " + period + " for " + tokens
                        + " tokens (expected: at least one nanosecond per token)");
            }
            this.tokens = tokens;
            this.period = period;
            this.burst = tokens;
        }

        /** The most tokens a bucket holds, which is also how many a full bucket serves at once (default: tokens). */
        public Builder burst(long burst) {
            if (burst < 1) {
                throw new IllegalArgumentException("burst: " + burst + " (expected: at least 1)");
            }
            this.burst = burst;
            return this;
        }

        /** Rows of the sketch (1 to 8; default 4). */
        public Builder hashes(int hashes) {
            KeyHash.slotMask(hashes, 1);
            this.hashes = hashes;
            return this;
        }

        /** Cells per row (rounded up to a power of two; default 4096). */
        public Builder slots(int slots) {
            KeyHash.slotMask(1, slots);
            this.slots = slots;
            return this;
        }

        /** The time source in nanoseconds ({@link System#nanoTime()} by default); tests pass a manual clock. */
        public Builder clock(LongSupplier nanos) {
            this.clock = requireNonNull(nanos, "nanos");
            return this;
        }

        /** The buckets, all full. */
        public TokenBucket build() {
            if (Long.MAX_VALUE / burst < period.toNanos() / tokens) {
                throw new IllegalArgumentException("burst: " + burst + " (expected: a bucket that refills in under 292 years)");
            }
            return new TokenBucket(this);
        }
    }
}
