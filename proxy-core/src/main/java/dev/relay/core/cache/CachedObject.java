package dev.relay.core.cache;

import java.util.Objects;

/**
 * A complete stored response: its metadata and its whole body. Immutable by contract: nobody writes
 * to {@link #body()} once it is handed to a storage.
 */
public record CachedObject(CacheMeta meta, byte[] body) {
    public CachedObject {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(body, "body");
    }

    /** The same body under new metadata (after a revalidation). */
    public CachedObject withMeta(CacheMeta newMeta) {
        return new CachedObject(newMeta, body);
    }
}
