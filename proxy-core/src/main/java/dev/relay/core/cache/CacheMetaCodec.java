package dev.relay.core.cache;

/** The byte format of {@link CacheMeta#encode()}: a version, then every field. */
final class CacheMetaCodec {
    private CacheMetaCodec() {}

    static byte[] encode(CacheMeta meta) {
        throw new UnsupportedOperationException("HELPER");
    }

    static CacheMeta decode(byte[] bytes) {
        throw new UnsupportedOperationException("HELPER");
    }
}
