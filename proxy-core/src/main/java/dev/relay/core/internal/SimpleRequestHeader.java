package dev.relay.core.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;

import static java.util.Objects.requireNonNull;

/** A plain {@link RequestHeader}. */
public final class SimpleRequestHeader implements RequestHeader {
    private final HttpHeaders headers = new SimpleHttpHeaders();
    private final String version;
    private String method;
    private String uri;

    public SimpleRequestHeader(String method, String uri, String version) {
        this.method = requireNonNull(method, "method");
        this.uri = requireNonNull(uri, "uri");
        this.version = requireNonNull(version, "version");
    }

    @Override public String method() { return method; }
    @Override public void setMethod(String method) { this.method = requireNonNull(method, "method"); }
    @Override public String uri() { return uri; }
    @Override public void setUri(String uri) { this.uri = requireNonNull(uri, "uri"); }
    @Override public String version() { return version; }
    @Override public HttpHeaders headers() { return headers; }

    @Override
    public String toString() {
        return method + ' ' + uri + ' ' + version + ' ' + headers;
    }
}
