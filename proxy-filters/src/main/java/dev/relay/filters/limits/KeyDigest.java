package dev.relay.filters.limits;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Bounds the size of a request's key before a store sees it. A key comes from the client ({@code header:},
 * {@code cookie:}) and may be as long as the header size limit allows: as it is, it would be a cache key of
 * the Redis store's local estimates (capped by count, not size: 100,000 keys of 8 KiB is 800 MB) and part of
 * a Redis key name. A key longer than {@link #MAX_PLAIN_LENGTH} characters is replaced by {@code ~} and the
 * first 16 bytes of its SHA-256 in base64url (23 characters): stable across processes and restarts, so every
 * proxy sharing a limit on Redis names the key alike, and 128 bits, so two clients' keys collide only by
 * choice of a second preimage. Shorter keys (addresses, host names, API keys) stay readable in Redis.
 */
final class KeyDigest {
    /** The longest key kept as it is. */
    static final int MAX_PLAIN_LENGTH = 64;

    private KeyDigest() {}

    /** {@code key} itself when at most {@link #MAX_PLAIN_LENGTH} characters, else {@code ~} and its digest. */
    static String bounded(String key) {
        if (key.length() <= MAX_PLAIN_LENGTH) {
            return key;
        }
        byte[] sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        return "~" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(sha256, 16));
    }
}
