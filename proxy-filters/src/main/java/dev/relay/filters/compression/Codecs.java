package dev.relay.filters.compression;

import java.io.IOException;

/** Makes the codec of a coding, so the module does not know the libraries. */
final class Codecs {
    private Codecs() {}

    /** A compressor into {@code coding} at {@code level}. */
    static BodyCodec encoder(ContentCoding coding, int level) throws IOException {
        return switch (coding) {
            case GZIP -> new GzipEncoder(level);
            case BR -> new BrotliCodecs.Encoder(level);
            case ZSTD -> new ZstdCodecs.Encoder(level);
            case DEFLATE -> throw new IllegalArgumentException("deflate is only decoded");
        };
    }

    /** A decompressor of {@code coding}. */
    static BodyCodec decoder(ContentCoding coding) throws IOException {
        return switch (coding) {
            case GZIP -> new GzipDecoder();
            case DEFLATE -> new DeflateDecoder();
            case BR -> new BrotliCodecs.Decoder();
            case ZSTD -> new ZstdCodecs.Decoder();
        };
    }
}
