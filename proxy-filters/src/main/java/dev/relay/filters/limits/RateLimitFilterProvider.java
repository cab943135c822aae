package dev.relay.filters.limits;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.filters.redis.RedisRateLimiter;
import dev.relay.filters.redis.RedisRateLimiter.WhenUnavailable;
import dev.relay.filters.redis.RedisUri;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static dev.relay.filters.internal.SettingErrors.apply;
import static java.util.Objects.requireNonNull;

/**
 * The {@code rate-limit} filter's provider: a {@link RateLimitFilter} from a configuration block.
 *
 * <pre>{@code
 * filters = [{
 *   name = rate-limit
 *   key = client-ip          # client-ip, header:NAME, host, cookie:NAME or route
 *   ipv6-prefix = 64         # with client-ip: IPv6 clients counted by network (1 to 128; default 64)
 *   ipv4-prefix = 32         # with client-ip: IPv4 clients likewise (1 to 32; default 32)
 *   limit = 10               # requests per period (a sliding window) ...
 *   period = 1s              # ... at least 1ms
 *   burst = 20               # optional: a token bucket of 20, refilled at limit per period
 *   max-in-flight = 4        # optional: requests of one key at a time (503 beyond)
 *   headers = true           # RateLimit / RateLimit-Policy on admitted responses (a 429 always has them)
 *   store = local            # local (this process) or redis (shared by every proxy on the same Redis)
 *   # With store = redis:
 *   redis = "redis://127.0.0.1:6379"   # required: redis://[[user]:password@]host[:port][/db]
 *   on-redis-error = allow   # allow (fail open, the default) or deny (503 with Retry-After: 1)
 *   redis-timeout = 250ms    # how long a call to Redis may take before on-redis-error decides
 *   sync-every = 10          # requests per key decided locally between reports; 0: every one in Redis
 *   redis-key-prefix = "..." # optional: the counters' identity instead of the filter's place and key
 * }]
 * }</pre>
 *
 * <p>{@code key} is required, and {@code limit} with {@code period}, or {@code max-in-flight}, or both.
 * {@link #create} rejects an unknown key of the block, a key kind it does not know, a limit below 1, a
 * period under 1 ms, a burst without a limit, with an {@link InvalidSettingException} naming the setting.
 * With {@code store = redis} it also rejects a missing or malformed {@code redis}, a {@code burst} (the
 * shared limit is a sliding window), a period that is not whole milliseconds, no {@code limit}; the redis
 * settings without {@code store = redis} are rejected too, since they would do nothing.
 *
 * <p><b>Shared state.</b> The provider keeps one {@link dev.relay.filters.redis.RedisClient} per server
 * (and timeout) for all the filters that name it, so a reload keeps the client; the last filter released
 * closes it. The Redis keys start with {@code relay:rl:}, the filter's place ({@code global} or
 * {@code route:NAME}) and key kind, or with {@code redis-key-prefix}, then the limit and period: two
 * filters configured differently never share counters, and the same filter on every proxy does.
 */
public final class RateLimitFilterProvider implements FilterProvider {
    static final String KEY = "key";
    static final String IPV4_PREFIX = "ipv4-prefix";
    static final String IPV6_PREFIX = "ipv6-prefix";
    static final String LIMIT = "limit";
    static final String PERIOD = "period";
    static final String BURST = "burst";
    static final String MAX_IN_FLIGHT = "max-in-flight";
    static final String HEADERS = "headers";
    static final String STORE = "store";
    static final String REDIS = "redis";
    static final String ON_REDIS_ERROR = "on-redis-error";
    static final String REDIS_TIMEOUT = "redis-timeout";
    static final String SYNC_EVERY = "sync-every";
    static final String REDIS_KEY_PREFIX = "redis-key-prefix";

    /** The accepted settings, in documentation order. */
    static final List<String> SETTINGS = List.of(KEY, LIMIT, PERIOD, BURST, MAX_IN_FLIGHT, HEADERS, IPV6_PREFIX,
            IPV4_PREFIX, STORE, REDIS, ON_REDIS_ERROR, REDIS_TIMEOUT, SYNC_EVERY, REDIS_KEY_PREFIX);

    /** The settings that only mean something with {@code store = redis}. */
    private static final List<String> REDIS_SETTINGS = List.of(REDIS, ON_REDIS_ERROR, REDIS_TIMEOUT, SYNC_EVERY,
            REDIS_KEY_PREFIX);

    /**
     * How long a decision waits for Redis by default: a request pays it only when Redis is slow (a disconnected
     * client fails at once), and a quarter of a second bounds what a stalled Redis adds to each round trip.
     */
    static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofMillis(250);

    private final SharedRedisClients redisClients = new SharedRedisClients();

    /** Used by {@link java.util.ServiceLoader}. */
    public RateLimitFilterProvider() {}

    @Override
    public String name() {
        return RateLimitFilter.NAME;
    }

    @Override
    public RateLimitFilter create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, RateLimitFilter.NAME, SETTINGS);
        RateLimitFilter.Builder builder = RateLimitFilter.builder(key(settings));
        Optional<Long> limit = settings.getLong(LIMIT);
        Optional<Duration> period = settings.getDuration(PERIOD);
        if (limit.isPresent() != period.isPresent()) {
            String missing = limit.isPresent() ? PERIOD : LIMIT;
            throw new InvalidSettingException(missing, "missing (expected: " + LIMIT + " and " + PERIOD
                    + " together, such as limit = 10, period = 1s)");
        }
        if (limit.isPresent()) {
            if (limit.get() < 1) {
                throw new InvalidSettingException(LIMIT, limit.get() + " (expected: at least 1)");
            }
            if (period.get().compareTo(Duration.ofMillis(1)) < 0) {
                throw new InvalidSettingException(PERIOD, period.get() + " (expected: at least 1ms)");
            }
            apply(LIMIT, () -> builder.limit(limit.get(), period.get()));
        }
        settings.getLong(BURST).ifPresent(burst -> {
            if (limit.isEmpty()) {
                throw new InvalidSettingException(BURST, burst + " without a limit (expected: limit and period too, "
                        + "the rate that refills the bucket)");
            }
            apply(BURST, () -> builder.burst(burst));
        });
        settings.getLong(MAX_IN_FLIGHT).ifPresent(max -> apply(MAX_IN_FLIGHT, () -> builder.maxInFlight(max)));
        if (limit.isEmpty() && settings.getLong(MAX_IN_FLIGHT).isEmpty()) {
            throw new InvalidSettingException(LIMIT, "missing (expected: limit and period, max-in-flight, or both)");
        }
        settings.getBoolean(HEADERS).ifPresent(builder::headers);
        if (!isShared(settings)) {
            return builder.build();
        }
        if (limit.isEmpty()) {
            throw new InvalidSettingException(STORE, "redis without limit and period (expected: a rate to share; "
                    + MAX_IN_FLIGHT + " alone is per instance, use store = local)");
        }
        return shared(settings, builder, limit.get(), period.get());
    }

    /** Whether {@code store = redis}; the redis settings are refused without it. */
    private static boolean isShared(FilterSettings settings) {
        String store = settings.getString(STORE).orElse("local").trim().toLowerCase(Locale.ROOT);
        switch (store) {
            case "redis":
                return true;
            case "local":
                for (String name : REDIS_SETTINGS) {
                    if (settings.keys().contains(name)) {
                        throw new InvalidSettingException(name, "only with " + STORE + " = redis (the store is local)");
                    }
                }
                return false;
            default:
                throw new InvalidSettingException(STORE, "'" + store + "' (expected: local or redis)");
        }
    }

    /** The filter over a limiter on the shared client of its {@code redis} URI. */
    private RateLimitFilter shared(FilterSettings settings, RateLimitFilter.Builder builder, long limit, Duration period) {
        if (settings.getLong(BURST).isPresent()) {
            throw new InvalidSettingException(BURST, "not with " + STORE + " = redis (expected: no burst; the shared "
                    + "limit is a sliding window, use store = local for a token bucket)");
        }
        if (!period.equals(Duration.ofMillis(period.toMillis()))) {
            throw new InvalidSettingException(PERIOD, period + " (expected: whole milliseconds with " + STORE + " = redis)");
        }
        RedisUri uri = redisUri(settings);
        WhenUnavailable whenUnavailable = whenUnavailable(settings);
        Duration timeout = settings.getDuration(REDIS_TIMEOUT).orElse(DEFAULT_REDIS_TIMEOUT);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidSettingException(REDIS_TIMEOUT, timeout + " (expected: more than 0, such as 250ms)");
        }
        long syncEvery = settings.getLong(SYNC_EVERY).orElse(10L);
        if (syncEvery < 0 || syncEvery > 1_000_000) {
            throw new InvalidSettingException(SYNC_EVERY, syncEvery + " (expected: 0 to 1000000)");
        }
        String prefix = keyPrefix(settings) + limit + "/" + period.toMillis() + "ms:";
        SharedRedisClients.Hold hold = redisClients.acquire(uri, timeout);
        try {
            RedisRateLimiter limiter = RedisRateLimiter.builder(hold.client(), limit, period).keyPrefix(prefix)
                    .syncEvery((int) syncEvery).whenUnavailable(whenUnavailable).build();
            return builder.redis(limiter).releasing(hold::release).build();
        } catch (RuntimeException e) {
            hold.release();
            throw e;
        }
    }

    private static RedisUri redisUri(FilterSettings settings) {
        String uri = settings.getString(REDIS).orElseThrow(() -> new InvalidSettingException(REDIS,
                "missing (expected with " + STORE + " = redis: redis://[[user]:password@]host[:port][/db])"));
        try {
            return RedisUri.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(REDIS, e.getMessage());
        }
    }

    private static WhenUnavailable whenUnavailable(FilterSettings settings) {
        String policy = settings.getString(ON_REDIS_ERROR).orElse("allow").trim().toLowerCase(Locale.ROOT);
        return switch (policy) {
            case "allow" -> WhenUnavailable.ALLOW;
            case "deny" -> WhenUnavailable.DENY;
            default -> throw new InvalidSettingException(ON_REDIS_ERROR, "'" + policy
                    + "' (expected: allow, to admit requests while Redis is down, or deny, to answer 503)");
        };
    }

    /**
     * The counters' identity: {@code redis-key-prefix}, or the filter's place and key kind (a header's name in
     * lower case, as header names are case-insensitive), so the same block on every proxy shares counters
     * and two blocks do not.
     */
    private static String keyPrefix(FilterSettings settings) {
        Optional<String> explicit = settings.getString(REDIS_KEY_PREFIX);
        if (explicit.isPresent()) {
            if (explicit.get().isBlank()) {
                throw new InvalidSettingException(REDIS_KEY_PREFIX, "empty (expected: text such as \"relay:rl:api:\")");
            }
            return explicit.get();
        }
        String spec = settings.getString(KEY).orElseThrow().trim();
        String kind = spec.startsWith("header:") ? spec.toLowerCase(Locale.ROOT) : spec;
        return "relay:rl:" + settings.place() + ":" + kind + ":";
    }

    /** How many Redis clients this provider has open (tests). */
    int openRedisClients() {
        return redisClients.openClients();
    }

    private static RateLimitKey key(FilterSettings settings) {
        String spec = settings.getString(KEY).orElseThrow(() -> new InvalidSettingException(KEY,
                "missing (expected: client-ip, header:NAME, host, cookie:NAME or route)"));
        RateLimitKey key;
        try {
            key = RateLimitKey.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(KEY, e.getMessage());
        }
        Optional<Long> ipv4 = settings.getLong(IPV4_PREFIX);
        Optional<Long> ipv6 = settings.getLong(IPV6_PREFIX);
        if (ipv4.isEmpty() && ipv6.isEmpty()) {
            return key;
        }
        if (!key.equals(RateLimitKey.clientIp())) {
            throw new InvalidSettingException(ipv4.isPresent() ? IPV4_PREFIX : IPV6_PREFIX,
                    "only with " + KEY + " = client-ip (the key is " + spec.trim() + ")");
        }
        int ipv4Bits = prefixBits(IPV4_PREFIX, ipv4.orElse(32L), 32);
        int ipv6Bits = prefixBits(IPV6_PREFIX, ipv6.orElse(64L), 128);
        return RateLimitKey.clientIp(ipv4Bits, ipv6Bits);
    }

    private static int prefixBits(String setting, long bits, int max) {
        if (bits < 1 || bits > max) {
            throw new InvalidSettingException(setting, bits + " (expected: 1 to " + max + ")");
        }
        return (int) bits;
    }
}
