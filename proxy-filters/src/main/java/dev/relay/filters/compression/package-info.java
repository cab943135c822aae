/**
 * The {@code compression} filter: responses compressed with zstd, br or gzip as the client's
 * {@code Accept-Encoding} negotiates, encoded responses decoded for clients that cannot decode them,
 * and compressed request bodies optionally decoded within a size and ratio cap, all streaming.
 * {@link dev.relay.filters.compression.CompressionFilter} is the module factory for Java code;
 * {@link dev.relay.filters.compression.CompressionFilterProvider} builds it from the server's
 * configuration. The codecs are the reference C libraries: zlib through the JDK, brotli through
 * brotli4j, zstd through zstd-jni.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.filters.compression;

import org.jspecify.annotations.NullMarked;
