package dev.relay.core.cache;

/**
 * One satisfiable byte range of a stored body (RFC 9110 §14), inclusive at both ends.
 *
 * @param first the first byte's offset
 * @param last  the last byte's offset ({@code >= first}, {@code < length})
 */
public record ByteRange(long first, long last) {
    /** A request's {@code Range} that no byte of the representation satisfies: the answer is 416. */
    public static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

    public long length() {
        return last - first + 1;
    }

    /** The {@code Content-Range} value of this range of a body of {@code total} bytes. */
    public String contentRange(long total) {
        return this == UNSATISFIABLE ? "bytes */" + total : "bytes " + first + "-" + last + "/" + total;
    }
}
