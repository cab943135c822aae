package dev.relay.transport.internal;

import io.netty.util.AsciiString;

/**
 * The field names the HTTP/1.1 decoders recognise: the few that decide framing (looked up whatever
 * their case, so that {@code CONTENT-length} frames a message as {@code Content-Length} does), and
 * the common ones, whose name objects are shared instead of made anew for every message.
 *
 * <p>A name is looked up by the case-insensitive hash the decoder computes while it validates the
 * name's characters ({@link #hashStep}), in an open-addressed table built once. A name sent exactly
 * as the canonical form ({@code Content-Type}) or in lower case ({@code content-type}) reuses that
 * constant, so the case a peer chose is kept on the way through; any other spelling gets its own
 * {@link AsciiString} over the decoder's copy of the header block.
 */
final class Http1FieldNames {
    /** Not one of the names below. */
    static final int OTHER = -1;
    // The names framing depends on come first; their ids are what the decoders switch on.
    static final int CONTENT_LENGTH = 0;
    static final int TRANSFER_ENCODING = 1;
    static final int CONNECTION = 2;
    static final int EXPECT = 3;
    static final int HOST = 4;
    static final int UPGRADE = 5;
    static final int TRAILER = 6;

    private static final String[] CANONICAL_NAMES = {
        "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Host", "Upgrade", "Trailer",
        // requests
        "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset", "Content-Type", "Cookie",
        "Referer", "Origin", "Authorization", "Cache-Control", "Pragma", "If-None-Match", "If-Modified-Since",
        "If-Match", "If-Unmodified-Since", "If-Range", "Range", "Keep-Alive", "TE", "Proxy-Connection",
        "Proxy-Authorization", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
        "X-Real-IP", "X-Request-ID", "Forwarded", "Via", "DNT", "Upgrade-Insecure-Requests",
        "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol",
        "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User",
        // responses
        "Server", "Date", "Last-Modified", "ETag", "Accept-Ranges", "Expires", "Vary", "Set-Cookie", "Location",
        "Content-Encoding", "Content-Language", "Content-Disposition", "Content-Range", "Age", "Alt-Svc", "Link",
        "Retry-After", "WWW-Authenticate", "Strict-Transport-Security", "Access-Control-Allow-Origin",
        "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection", "Sec-WebSocket-Accept",
    };

    /** Per id: the canonical spelling and the lower-case one. */
    private static final AsciiString[] CANONICAL = new AsciiString[CANONICAL_NAMES.length];
    private static final AsciiString[] LOWER = new AsciiString[CANONICAL_NAMES.length];
    /** Open-addressed by hash: id + 1, or 0 for an empty slot. */
    private static final byte[] SLOTS = new byte[256];

    static {
        for (int id = 0; id < CANONICAL_NAMES.length; id++) {
            String canonical = CANONICAL_NAMES[id];
            String lower = canonical.toLowerCase(java.util.Locale.ROOT);
            CANONICAL[id] = AsciiString.cached(canonical);
            LOWER[id] = AsciiString.cached(lower);
            byte[] bytes = lower.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            int hash = 0;
            for (byte b : bytes) {
                hash = hashStep(hash, b);
            }
            int slot = slot(hash, bytes.length);
            while (SLOTS[slot] != 0) {
                slot = (slot + 1) & (SLOTS.length - 1);
            }
            SLOTS[slot] = (byte) (id + 1);
        }
    }

    private Http1FieldNames() {}

    /** One step of the name hash, over the name's bytes in lower case ({@code lowerByte} is already lower case). */
    static int hashStep(int hash, int lowerByte) {
        return 31 * hash + lowerByte;
    }

    private static int slot(int hash, int length) {
        int h = hash ^ (hash >>> 13) ^ (length << 4);
        return (h ^ (h >>> 7)) & (SLOTS.length - 1);
    }

    /**
     * The id of the name {@code a[start, start + length)} (any case; {@code hash} from {@link #hashStep}
     * over its lower-case bytes), or {@link #OTHER}.
     */
    static int find(byte[] a, int start, int length, int hash) {
        int slot = slot(hash, length);
        int entry;
        while ((entry = SLOTS[slot]) != 0) {
            AsciiString lower = LOWER[entry - 1];
            if (lower.length() == length && equalsIgnoreCase(a, start, lower.array(), lower.arrayOffset(), length)) {
                return entry - 1;
            }
            slot = (slot + 1) & (SLOTS.length - 1);
        }
        return OTHER;
    }

    /**
     * The name object for the recognised name {@code id} spelled {@code a[start, start + length)}: a shared
     * constant when spelled canonically or in lower case, otherwise one over {@code a} (which must not change).
     */
    static AsciiString name(int id, byte[] a, int start, int length) {
        AsciiString canonical = CANONICAL[id];
        if (equals(a, start, canonical.array(), canonical.arrayOffset(), length)) {
            return canonical;
        }
        AsciiString lower = LOWER[id];
        if (equals(a, start, lower.array(), lower.arrayOffset(), length)) {
            return lower;
        }
        return new AsciiString(a, start, length, false);
    }

    private static boolean equals(byte[] a, int start, byte[] b, int bStart, int length) {
        for (int i = 0; i < length; i++) {
            if (a[start + i] != b[bStart + i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean equalsIgnoreCase(byte[] a, int start, byte[] lower, int lowerStart, int length) {
        for (int i = 0; i < length; i++) {
            byte c = a[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower[lowerStart + i]) {
                return false;
            }
        }
        return true;
    }
}
