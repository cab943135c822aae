package dev.relay.core.cache;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte format of {@link CacheMeta#encode()}: a version, then every field.
 *
 * <pre>
 * int   magic "RCM1"        byte version (1)
 * int   status
 * int   field count (pairs) then, per field, string name, string value
 * long  requestTimeMillis   long responseTimeMillis
 * long  correctedInitialAgeSeconds   long freshnessLifetimeSeconds
 * long  staleWhileRevalidateSeconds  long staleIfErrorSeconds
 * byte  mustRevalidate (0 or 1)
 * int   vary count, then each name as a string
 * string = int byte length, then that many bytes of UTF-8 (not DataOutput's modified UTF-8, which
 *          stops at 64 KiB)
 * </pre>
 *
 * Decoding is strict: a disk tier may find a truncated or foreign file, and must learn that from an
 * {@link IllegalArgumentException} rather than from metadata that is silently wrong.
 */
final class CacheMetaCodec {
    /** "RCM1": Relay Cache Meta. */
    private static final int MAGIC = 0x52434D31;
    private static final byte VERSION = 1;
    /** The bytes a string takes at least (its length); bounds a count by what the input can hold. */
    private static final int MIN_STRING_BYTES = Integer.BYTES;

    private CacheMetaCodec() {}

    static byte[] encode(CacheMeta meta) {
        String[] fields = meta.fieldsUnsafe();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeByte(VERSION);
            out.writeInt(meta.status());
            out.writeInt(fields.length / 2);
            for (String s : fields) {
                writeString(out, s);
            }
            out.writeLong(meta.requestTimeMillis());
            out.writeLong(meta.responseTimeMillis());
            out.writeLong(meta.correctedInitialAgeSeconds());
            out.writeLong(meta.freshnessLifetimeSeconds());
            out.writeLong(meta.staleWhileRevalidateSeconds());
            out.writeLong(meta.staleIfErrorSeconds());
            out.writeBoolean(meta.mustRevalidate());
            out.writeInt(meta.vary().size());
            for (String name : meta.vary()) {
                writeString(out, name);
            }
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail.
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static CacheMeta decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            if (in.remaining() < Integer.BYTES + 1 || in.getInt() != MAGIC) {
                throw malformed("not cache metadata (no magic number)");
            }
            byte version = in.get();
            if (version != VERSION) {
                throw malformed("version " + version + " (expected: " + VERSION + ")");
            }
            int status = in.getInt();
            int pairs = count(in, 2 * MIN_STRING_BYTES);
            String[] fields = new String[pairs * 2];
            for (int i = 0; i < fields.length; i++) {
                fields[i] = readString(in);
            }
            long requestTime = in.getLong();
            long responseTime = in.getLong();
            long initialAge = nonNegative(in.getLong(), "correctedInitialAgeSeconds");
            long lifetime = nonNegative(in.getLong(), "freshnessLifetimeSeconds");
            long staleWhileRevalidate = nonNegative(in.getLong(), "staleWhileRevalidateSeconds");
            long staleIfError = nonNegative(in.getLong(), "staleIfErrorSeconds");
            byte mustRevalidate = in.get();
            if (mustRevalidate != 0 && mustRevalidate != 1) {
                throw malformed("mustRevalidate: " + mustRevalidate + " (expected: 0 or 1)");
            }
            int varyCount = count(in, MIN_STRING_BYTES);
            List<String> vary = new ArrayList<>(varyCount);
            for (int i = 0; i < varyCount; i++) {
                vary.add(readString(in));
            }
            if (in.hasRemaining()) {
                throw malformed(in.remaining() + " bytes after the metadata");
            }
            return new CacheMeta(status, fields, requestTime, responseTime, initialAge, lifetime,
                    staleWhileRevalidate, staleIfError, mustRevalidate == 1, vary);
        } catch (BufferUnderflowException e) {
            throw malformed("truncated");
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw malformed("string length " + length + " (expected: 0 to " + in.remaining() + ")");
        }
        int start = in.position();
        in.position(start + length);
        byte[] array = in.array();
        int offset = in.arrayOffset() + start;
        if (isAscii(array, offset, length)) {
            // The usual header text: one pass, no decoder (a memory tier decodes on every hit).
            return new String(array, offset, length, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(array, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw malformed("a string that is not UTF-8");
        }
    }

    private static boolean isAscii(byte[] bytes, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            if (bytes[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** A count of elements of at least {@code minBytes} each: never more than the input can hold. */
    private static int count(ByteBuffer in, int minBytes) {
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / minBytes) {
            throw malformed("count " + count + " (expected: 0 to " + in.remaining() / minBytes + ")");
        }
        return count;
    }

    private static long nonNegative(long value, String name) {
        if (value < 0) {
            throw malformed(name + ": " + value + " (expected: >= 0)");
        }
        return value;
    }

    private static IllegalArgumentException malformed(String what) {
        return new IllegalArgumentException("malformed cache metadata: " + what);
    }
}
