package dev.relay.core;

/**
 * The status line and header fields of an HTTP response, mutable. Filters see the upstream's
 * response in {@link ProxyHttp#upstreamResponseFilter} and {@link ProxyHttp#responseFilter};
 * a filter that answers by itself builds one with {@link #of(int)}.
 */
public interface ResponseHeader {

    /** Creates a response header with the plain implementation and the standard reason phrase. */
    static ResponseHeader of(int status) {
        return new dev.relay.core.internal.SimpleResponseHeader(status);
    }

    /** The status code. */
    int status();

    /** Replaces the status code (the reason phrase follows it). */
    void setStatus(int status);

    /** The header fields, mutable. */
    HttpHeaders headers();

    /** Replaces every field named {@code name} with one value. */
    default ResponseHeader insertHeader(CharSequence name, CharSequence value) {
        headers().set(name, value);
        return this;
    }

    /** Appends a field, keeping those of the same name. */
    default ResponseHeader appendHeader(CharSequence name, CharSequence value) {
        headers().add(name, value);
        return this;
    }

    /** Removes every field named {@code name}. */
    default ResponseHeader removeHeader(CharSequence name) {
        headers().remove(name);
        return this;
    }
}
