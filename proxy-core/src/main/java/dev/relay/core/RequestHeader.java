package dev.relay.core;

/**
 * The start line and header fields of an HTTP request. The downstream request a filter sees in
 * {@link Session#requestHeader()} is mutable, and so is the copy that will be sent upstream,
 * handed to {@link ProxyHttp#upstreamRequestFilter}.
 */
public interface RequestHeader {

    /** Creates a request header with the plain implementation, for tests and non-Netty use. */
    static RequestHeader of(String method, String uri) {
        return new dev.relay.core.internal.SimpleRequestHeader(method, uri, "HTTP/1.1");
    }

    /** The method token, for example {@code GET}. */
    String method();

    /** Replaces the method. */
    void setMethod(String method);

    /** The request target as sent by the client (origin form {@code /path?query} for a reverse proxy). */
    String uri();

    /** Replaces the request target. */
    void setUri(String uri);

    /** The path of {@link #uri()}, without the query. */
    default String path() {
        String uri = uri();
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    /** The protocol version as text, {@code HTTP/1.1}, {@code HTTP/1.0} or {@code HTTP/2}. */
    String version();

    /** The header fields, mutable. */
    HttpHeaders headers();

    /** Pingora's {@code insert_header}: replaces every field named {@code name} with one value. */
    default RequestHeader insertHeader(CharSequence name, CharSequence value) {
        headers().set(name, value);
        return this;
    }

    /** Appends a field, keeping those of the same name. */
    default RequestHeader appendHeader(CharSequence name, CharSequence value) {
        headers().add(name, value);
        return this;
    }

    /** Removes every field named {@code name}. */
    default RequestHeader removeHeader(CharSequence name) {
        headers().remove(name);
        return this;
    }
}
