package dev.relay.transport.internal;

import io.netty.util.AsciiString;

/**
 * The field names the HTTP/1.1 decoders recognise: the few that decide framing (looked up whatever
 * their case, so that {@code CONTENT-length} frames a message as {@code Content-Length} does), and
 * the common ones, whose bytes need no check one by one once they are found (a known name is a token).
 *
 * <p>A name is looked up by its length and its first and last bytes (lower case), in an
 * open-addressed table built once: no per-byte hashing.
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

    /** Per id: the name in lower case. */
    private static final AsciiString[] LOWER = new AsciiString[CANONICAL_NAMES.length];
    /** Open-addressed by hash: id + 1, or 0 for an empty slot. */
    private static final byte[] SLOTS = new byte[256];

    static {
        for (int id = 0; id < CANONICAL_NAMES.length; id++) {
            String canonical = CANONICAL_NAMES[id];
            String lower = canonical.toLowerCase(java.util.Locale.ROOT);
            LOWER[id] = AsciiString.cached(lower);
            int slot = slot(lower.length(), lower.charAt(0), lower.charAt(lower.length() - 1));
            while (SLOTS[slot] != 0) {
                slot = (slot + 1) & (SLOTS.length - 1);
            }
            SLOTS[slot] = (byte) (id + 1);
        }
    }

    private Http1FieldNames() {}

    private static int slot(int length, int firstLower, int lastLower) {
        return (length * 29 + firstLower * 7 + lastLower) & (SLOTS.length - 1);
    }

    /**
     * The id of the name {@code a[start, start + length)} (in any case), or {@link #OTHER}.
     *
     * @param firstLower the first byte in lower case
     * @param lastLower  the last byte in lower case
     */
    static int find(byte[] a, int start, int length, int firstLower, int lastLower) {
        int slot = slot(length, firstLower, lastLower);
        int entry;
        while ((entry = SLOTS[slot]) != 0) {
            int id = entry - 1;
            AsciiString lower = LOWER[id];
            if (lower.length() == length && equalsIgnoreCase(a, start, lower.array(), lower.arrayOffset(), length)) {
                return id;
            }
            slot = (slot + 1) & (SLOTS.length - 1);
        }
        return OTHER;
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
