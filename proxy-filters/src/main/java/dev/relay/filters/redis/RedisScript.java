package dev.relay.filters.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * A Lua script and its SHA-1, which is how Redis names a loaded script. {@link RedisClient#eval} sends
 * {@code EVALSHA sha1}; only when the server does not know the script ({@code NOSCRIPT}, after a restart or
 * a {@code SCRIPT FLUSH}) does it send the source, with {@code SCRIPT LOAD} and {@code EVAL}.
 *
 * <pre>{@code
 * static final RedisScript INCR_WITH_TTL = RedisScript.of(
 *         "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n");
 * }</pre>
 *
 * <p>Immutable; build it once and share it.
 */
public final class RedisScript {
    private final String source;
    private final String sha1;

    private RedisScript(String source, String sha1) {
        this.source = source;
        this.sha1 = sha1;
    }

    /** The script with {@code source}; computes its SHA-1. */
    public static RedisScript of(String source) {
        requireNonNull(source, "source");
        if (source.isBlank()) {
            throw new IllegalArgumentException("script source: empty (expected a Lua script)");
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
            return new RedisScript(source, HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JDK, which every JDK must have", e);
        }
    }

    /** The Lua source. */
    public String source() {
        return source;
    }

    /** The lower-case hex SHA-1 of the source, as {@code SCRIPT LOAD} returns it. */
    public String sha1() {
        return sha1;
    }

    @Override
    public String toString() {
        return "RedisScript(" + sha1 + ")";
    }
}
