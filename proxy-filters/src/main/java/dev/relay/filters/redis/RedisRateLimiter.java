package dev.relay.filters.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.relay.core.Stages;
import dev.relay.filters.redis.RateLimitDecision.Basis;
import dev.relay.filters.redis.internal.SharedWindowKey;
import dev.relay.filters.redis.internal.SharedWindowKey.Call;
import dev.relay.filters.redis.internal.SharedWindowKey.Counts;
import dev.relay.filters.redis.internal.SharedWindowKey.Settled;
import dev.relay.filters.redis.internal.SharedWindowKey.Waiter;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * A rate limit that several proxy instances share through one Redis: at most {@code limit} requests per key in
 * any {@code period}, as a sliding window over two fixed windows (the previous one weighted by the part of it
 * the window still covers), counted in Redis under keys that expire after two periods.
 *
 * <p><b>One script per round trip.</b> A decision that needs Redis runs one Lua script that adds this
 * instance's unreported requests, reads both windows on Redis' clock (so all instances agree on where windows
 * start), and counts the requests it decides as far as they fit: check and count are one atomic step, whatever
 * the number of instances.
 *
 * <p><b>Most decisions need no round trip.</b> Each instance keeps, per key, the count Redis last reported
 * and the requests it allowed since. While those stay within a local allowance, {@code min(syncEvery,
 * (limit - count) / 2)}, it decides alone, at once, and reports its count in the background every
 * {@code syncEvery / 2} requests or {@code syncInterval}. When the allowance is used up while a call for the
 * key is in flight, a request waits for that call's answer instead of sending its own (a few hundred may wait
 * per key): the answer decides the waiters locally as far as the new allowance goes, and the rest in one call
 * that asks Redis for all of them. So a busy key costs about one round trip per allowance, not per request,
 * and a waiting request waits at most for two answers. A key near its limit is decided in Redis, in batches;
 * a key Redis denied stays denied locally until its retry-after (no round trip for a client that hammers).
 *
 * <p><b>A flood of new keys costs no round trips.</b> A key this instance has not seen is decided by the same
 * rule on a count of zero: its first {@code min(syncEvery, limit / 2)} requests are allowed at once and
 * reported in the background, so a client sending a new key per request makes no synchronous script at all
 * (a limit whose allowance is 0, {@code syncEvery = 0} or {@code limit = 1}, still asks Redis for every new
 * key). And reports give way: while the Redis client has half its {@link RedisClient#maxPendingCommands()}
 * commands waiting, no report is sent (the key keeps its count and reports with a later request, or carries
 * it in the call its allowance then needs), so the decisions that must wait for Redis keep the other half and
 * do not meet the client's {@code QUEUE_FULL}.
 *
 * <p><b>Accuracy.</b> With one instance, or with {@code syncEvery = 0} (every decision a round trip), the
 * limit is exact (to the sliding-window approximation). With N instances deciding locally, each holds at most
 * {@code min(syncEvery, limit / 2)} requests of a key that Redis has not seen, so the key can go over its limit by up
 * to about {@code N * min(syncEvery, limit / 2)} requests, whether the instance knew the key or met it for the
 * first time; and since an instance never takes more than half of what Redis last said was
 * left, keys near their limit are decided in Redis. An old count never lets more through: without new requests
 * the estimate only falls with time, so an old one is conservative. Requests an instance allowed but had not
 * reported when Redis became unreachable are not counted, and neither is anything before a Redis restart (it
 * needs no persistence: a restart forgets at most one window).
 *
 * <p><b>When Redis is down or slow</b> (the client is disconnected, a call times out, its queue is full), the
 * policy decides: {@link WhenUnavailable#ALLOW} lets the request through (fail open), {@link WhenUnavailable#DENY}
 * refuses it (fail closed); the decision's basis is {@link Basis#REDIS_UNAVAILABLE}. While the client is
 * disconnected that costs no wait: its commands fail at once. A failed call answers by the policy every
 * decision that waited for it. The instance forgets a key's local count on a failure, and all keys after a
 * reconnect, so no decision rests on a count from before the outage.
 *
 * <pre>{@code
 * RedisRateLimiter limiter = RedisRateLimiter.builder(redis, 100, Duration.ofSeconds(1))
 *         .keyPrefix("relay:rl:api:").whenUnavailable(WhenUnavailable.ALLOW).build();
 * limiter.decide(clientIp).thenAccept(decision -> ...);
 * }</pre>
 *
 * <p>Thread-safe. Stages complete at once for local decisions, else on the Redis client's I/O thread.
 */
public final class RedisRateLimiter {
    /** What a decision is when Redis cannot be asked. */
    public enum WhenUnavailable {
        /** Fail open: allow the request. */
        ALLOW,
        /** Fail closed: deny the request. */
        DENY
    }

    /**
     * Receives one decision's numbers ({@link #decideInto}): the fields of a {@link RateLimitDecision}, without
     * the object. An implementation stores them and returns; it may be called under a lock, on any thread.
     */
    @FunctionalInterface
    public interface DecisionSink {
        /**
         * One decision.
         *
         * @param allowed whether the request may go on
         * @param remaining requests the key may still make ({@link RateLimitDecision#remaining()})
         * @param resetAfterNanos until the current fixed window ends
         * @param retryAfterNanos when denied, until a request would be allowed; 0 when allowed
         * @param basis what the decision rests on
         */
        void decided(boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos, Basis basis);
    }

    private static final System.Logger LOG = System.getLogger(RedisRateLimiter.class.getName());
    private static final long REFUSAL_LOG_INTERVAL_NANOS = 10_000_000_000L;

    /**
     * The share of the client's command queue ({@link RedisClient#maxPendingCommands()}) that background reports
     * may fill: past it they are shed, and the rest stays for decisions that wait for Redis.
     */
    private static final int REPORT_QUEUE_SHARE_DIVISOR = 2;

    /** How long a client denied for lack of Redis is told to wait: about what a reconnect takes. */
    private static final Duration UNAVAILABLE_RETRY_AFTER = Duration.ofSeconds(1);

    /**
     * KEYS[1]: the key's prefix; ARGV: unreported delta, requests to decide now ({@code want}: 0 for a report,
     * 1 or more for waiting decisions), limit, period ms. Counts as many of the wanted requests as fit, the first
     * ones first, and returns {allowed (how many it counted), current, previous, elapsed ms}. Windows are numbered on Redis' clock; TIME before a write
     * needs effects replication, the default since Redis 5 (asked for explicitly where the call exists).
     */
    static final RedisScript SLIDING_WINDOW = RedisScript.of("""
            if redis.replicate_commands then pcall(redis.replicate_commands) end
            local delta = tonumber(ARGV[1])
            local want = tonumber(ARGV[2])
            local limit = tonumber(ARGV[3])
            local period = tonumber(ARGV[4])
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            local window = math.floor(now / period)
            local elapsed = now - window * period
            local current_key = KEYS[1] .. ':' .. window
            local current = tonumber(redis.call('GET', current_key) or '0') + delta
            local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (window - 1)) or '0')
            local allowed = 0
            if want > 0 then
              local room = math.floor(limit - previous * (period - elapsed) / period - current)
              if room > 0 then
                allowed = math.min(want, room)
                current = current + allowed
              end
            end
            if delta > 0 or allowed > 0 then
              redis.call('SET', current_key, current, 'PX', period * 2)
            end
            return {allowed, current, previous, elapsed}
            """);

    private final RedisClient redis;
    private final long limit;
    private final long periodMillis;
    private final String keyPrefix;
    private final int syncEvery;
    private final long syncIntervalNanos;
    private final WhenUnavailable whenUnavailable;
    private final LongSupplier nanoClock;
    private final Cache<String, SharedWindowKey> keys;
    private final String limitArg;
    private final String periodArg;
    private final Function<String, SharedWindowKey> newKeyState;
    /** From this many commands waiting in the client on, background reports are shed. */
    private final int reportShedThreshold;
    /** When the last "Redis refused the script" line was logged (nanos): at most one every 10 s. */
    private final AtomicLong lastRefusalLog = new AtomicLong(Long.MIN_VALUE);
    /** The client's connection count when the local counts were last valid: a reconnect makes them void. */
    private final AtomicLong connection = new AtomicLong();

    private RedisRateLimiter(Builder b) {
        this.redis = b.redis;
        this.limit = b.limit;
        this.periodMillis = b.period.toMillis();
        this.keyPrefix = b.keyPrefix;
        this.syncEvery = b.syncEvery;
        this.syncIntervalNanos = b.syncInterval.toNanos();
        this.whenUnavailable = b.whenUnavailable;
        this.nanoClock = b.nanoClock;
        this.limitArg = Long.toString(limit);
        this.periodArg = Long.toString(periodMillis);
        this.newKeyState = key -> new SharedWindowKey(limit, periodMillis, syncEvery, syncIntervalNanos);
        this.reportShedThreshold = redis.maxPendingCommands() / REPORT_QUEUE_SHARE_DIVISOR;
        // A key idle for two periods has nothing left in Redis either, and nothing it did not report still counts
        // in a sliding window: dropping its state loses nothing. The size bound caps memory under a flood of
        // distinct keys; Caffeine's admission keeps frequent keys over one-request ones, and an evicted key starts
        // again with a fresh allowance (its unreported requests and a local denial are forgotten).
        this.keys = Caffeine.newBuilder().maximumSize(b.maxLocalKeys)
                .expireAfterAccess(b.period.multipliedBy(2).plus(b.syncInterval))
                .ticker(nanoClock::getAsLong).build();
    }

    /**
     * A builder of a limit of {@code limit} requests per {@code period} (at least 1 ms, whole milliseconds) on
     * the server of {@code redis}.
     */
    public static Builder builder(RedisClient redis, long limit, Duration period) {
        return new Builder(redis, limit, period);
    }

    /**
     * Decides one request of {@code key}: at once from the local estimate when it can, else with one round trip.
     * Never fails: when Redis cannot be asked the {@link WhenUnavailable} policy answers.
     */
    public CompletionStage<RateLimitDecision> decide(String key) {
        RateLimitDecision[] out = new RateLimitDecision[1];
        return decideInto(key, (allowed, remaining, resetAfterNanos, retryAfterNanos, basis) ->
                out[0] = new RateLimitDecision(allowed, limit, remaining, Duration.ofNanos(resetAfterNanos),
                        Duration.ofNanos(retryAfterNanos), basis))
                .thenApply(done -> out[0]);
    }

    /**
     * Decides one request of {@code key} like {@link #decide}, handing the numbers to {@code sink} instead of
     * making a {@link RateLimitDecision}: the form for a caller that decides every request and keeps its own
     * per-request object. When the local estimate (or the failure policy, while Redis is down) decides,
     * {@code sink} is called before this returns and the stage is the shared completed {@link Stages#done()}:
     * nothing is allocated. Otherwise {@code sink} is called on the Redis client's I/O thread, before the
     * returned stage completes (whose completion publishes what {@code sink} stored). The sink may be called
     * under a lock: it must only store the numbers.
     *
     * @return a stage completed once {@code sink} was called; never failed
     */
    public CompletionStage<Void> decideInto(String key, DecisionSink sink) {
        requireNonNull(key, "key");
        requireNonNull(sink, "sink");
        long now = nanoClock.getAsLong();
        long current = redis.connections();
        if (current > 0 && !redis.isConnected()) {
            // Down after it was up: the policy at once, without a failed future. Before the first connection
            // the script goes out and waits for it (the client holds commands during its first connect), so a
            // proxy that just started does not answer its first requests by the policy.
            unavailable(sink);
            return Stages.done();
        }
        long seen = connection.get();
        if (current != seen && connection.compareAndSet(seen, current) && seen != 0) {
            // The connection was lost since: Redis may have restarted empty, and the other instances start
            // from its count. Local counts and denials from before would disagree with theirs. One thread
            // clears them, once per new connection: racing threads that all saw the old count each cleared
            // them, one of them late enough to wipe the counts the others had made since. The first
            // connection voids nothing (what was decided before it waited for it).
            keys.invalidateAll();
        }
        SharedWindowKey state = keys.get(key, newKeyState);
        if (state.tryLocally(now, sink)) {
            // After a local denial nothing is unsynced (the round trip that denied took it all), so this only
            // ever reports requests allowed locally.
            Call report = mayReport() ? state.startReport(now) : null;
            if (report != null) {
                send(key, state, report);
            }
            return Stages.done();
        }
        // Redis must decide: behind the key's call in flight if there is one (its answer may well decide this
        // request locally), else in a call of its own.
        Waiter waiter = new Waiter(sink, new CompletableFuture<>());
        Call call = state.queueOrCall(waiter);
        if (call != null) {
            send(key, state, call);
        }
        return waiter.decided();
    }

    /**
     * Runs {@code call}'s script; its answer decides the call's deciders and the key's waiters, and may need
     * one more call (waiters the new allowance could not take, or a report), sent from here on the I/O thread.
     */
    private void send(String key, SharedWindowKey state, Call call) {
        runScript(key, call.delta(), call.want()).whenComplete((counts, error) -> {
            if (error != null) {
                logRefusal(error);
                List<Waiter> unanswered = state.failed(call);
                for (Waiter waiter : unanswered) {
                    unavailable(waiter.sink());
                    waiter.decided().complete(null);
                }
                return;
            }
            Settled settled = state.replied(call, counts, nanoClock.getAsLong(), mayReport());
            for (Waiter waiter : settled.decided()) {
                waiter.decided().complete(null);
            }
            Call next = settled.next();
            if (next != null) {
                send(key, state, next);
            }
        });
    }

    /**
     * Whether a background report may go out now: not while the client's queue is filled past the reports'
     * share. A shed report costs no accuracy (the key keeps its unsynced count, within its allowance, for a later
     * report or the call its allowance needs), and decisions that must wait for Redis keep their room.
     */
    private boolean mayReport() {
        return redis.pendingCommands() < reportShedThreshold;
    }

    private CompletionStage<Counts> runScript(String key, long delta, int want) {
        return redis.eval(SLIDING_WINDOW, List.of(keyPrefix + key),
                        List.of(Long.toString(delta), Integer.toString(want), limitArg, periodArg))
                .thenApply(RedisRateLimiter::counts);
    }

    private static Counts counts(RedisReply reply) {
        List<RedisReply> values = reply.elements();
        return new Counts(values.get(0).asLong(), values.get(1).asLong(), values.get(2).asLong(),
                values.get(3).asLong());
    }

    /**
     * Redis being down is the client's to log (once, when the connection goes). Redis answering the script with
     * an error (out of memory, a read-only replica, a script error) is for an operator to fix: logged, at most
     * every 10 s, since it repeats on every round trip.
     */
    private void logRefusal(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof RedisException redisError) || redisError.kind() != RedisException.Kind.ERROR_REPLY) {
            return;
        }
        long now = System.nanoTime();
        long last = lastRefusalLog.get();
        if ((last == Long.MIN_VALUE || now - last >= REFUSAL_LOG_INTERVAL_NANOS) && lastRefusalLog.compareAndSet(last, now)) {
            LOG.log(System.Logger.Level.WARNING, "rate limit {0}: Redis refused the script ({1}); deciding by the {2} policy",
                    keyPrefix, cause.getMessage(), whenUnavailable);
        }
    }

    private void unavailable(DecisionSink sink) {
        boolean allow = whenUnavailable == WhenUnavailable.ALLOW;
        sink.decided(allow, allow ? limit : 0, periodMillis * 1_000_000, allow ? 0 : UNAVAILABLE_RETRY_AFTER.toNanos(),
                Basis.REDIS_UNAVAILABLE);
    }

    /** The number of requests allowed per period. */
    public long limit() {
        return limit;
    }

    /** The period. */
    public Duration period() {
        return Duration.ofMillis(periodMillis);
    }

    /** The policy when Redis cannot be asked. */
    public WhenUnavailable whenUnavailable() {
        return whenUnavailable;
    }

    @Override
    public String toString() {
        return "RedisRateLimiter(" + limit + " per " + periodMillis + " ms, " + keyPrefix + "*, sync every " + syncEvery
                + " or " + syncIntervalNanos / 1_000_000 + " ms, when unavailable " + whenUnavailable + ", " + redis.uri() + ")";
    }

    /** Settings of a {@link RedisRateLimiter}. */
    public static final class Builder {
        private final RedisClient redis;
        private final long limit;
        private final Duration period;
        private String keyPrefix = "relay:rl:";
        private int syncEvery = 10;
        private Duration syncInterval;
        private WhenUnavailable whenUnavailable = WhenUnavailable.ALLOW;
        private long maxLocalKeys = 100_000;
        private LongSupplier nanoClock = System::nanoTime;

        private Builder(RedisClient redis, long limit, Duration period) {
            this.redis = requireNonNull(redis, "redis");
            requireNonNull(period, "period");
            if (limit < 1) {
                throw new IllegalArgumentException("limit: " + limit + " (expected: >= 1)");
            }
            if (period.toMillis() < 1 || !period.equals(Duration.ofMillis(period.toMillis()))) {
                throw new IllegalArgumentException("period: " + period + " (expected: whole milliseconds, >= 1 ms)");
            }
            this.limit = limit;
            this.period = period;
            Duration tenth = period.dividedBy(10);
            this.syncInterval = tenth.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : tenth;
        }

        /**
         * What the Redis keys start with (default {@code relay:rl:}); the request's key and the window number
         * follow. Instances share a limit exactly when they use the same prefix, limit and period; two limits
         * must not share a prefix.
         */
        public Builder keyPrefix(String prefix) {
            this.keyPrefix = requireNonNull(prefix, "keyPrefix");
            return this;
        }

        /**
         * At most how many requests per key this instance decides without Redis between two reports (default
         * 10); 0 makes every decision a round trip (exact, and one round trip per request).
         */
        public Builder syncEvery(int requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("syncEvery: " + requests + " (expected: >= 0)");
            }
            this.syncEvery = requests;
            return this;
        }

        /** The longest a key's local count goes unreported while requests come (default a tenth of the period, >= 1 ms). */
        public Builder syncInterval(Duration interval) {
            requireNonNull(interval, "syncInterval");
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("syncInterval: " + interval + " (expected: > 0)");
            }
            this.syncInterval = interval;
            return this;
        }

        /** Fail open ({@link WhenUnavailable#ALLOW}, the default) or closed when Redis cannot be asked. */
        public Builder whenUnavailable(WhenUnavailable policy) {
            this.whenUnavailable = requireNonNull(policy, "whenUnavailable");
            return this;
        }

        /** How many keys this instance keeps a local count for (default 100,000; the least used go first). */
        public Builder maxLocalKeys(long max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxLocalKeys: " + max + " (expected: >= 1)");
            }
            this.maxLocalKeys = max;
            return this;
        }

        /** The clock of the local estimate (default {@link System#nanoTime}): tests pass a manual one. */
        public Builder nanoClock(LongSupplier clock) {
            this.nanoClock = requireNonNull(clock, "nanoClock");
            return this;
        }

        /** The limiter; it holds no thread and no connection of its own (the client has them). */
        public RedisRateLimiter build() {
            return new RedisRateLimiter(this);
        }
    }
}
