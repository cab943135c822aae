package dev.relay.testing;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * One request as a {@link TestOrigin} received it: the request line, the header fields exactly as sent
 * (order and case preserved), the size and SHA-256 of the body (computed while streaming, never
 * buffered), and the connection it arrived on. Immutable.
 *
 * <pre>{@code
 * RecordedRequest r = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
 * assertEquals("GET", r.method());
 * assertEquals("origin.example", r.header("Host"));
 * assertEquals(TestOrigin.sha256Hex(new byte[0]), r.bodySha256());
 * }</pre>
 */
public final class RecordedRequest {

    /**
     * One header field as it appeared on the wire: the name keeps its case.
     *
     * @param name  the field name, case preserved
     * @param value the field value
     */
    public record Header(String name, String value) {
        /** Validates the components. */
        public Header {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return name + ": " + value;
        }
    }

    private final String method;
    private final String uri;
    private final String path;
    private final String version;
    private final List<Header> headers;
    private final List<Header> trailers;
    private final long bodyBytes;
    private final String bodySha256;
    private final boolean bodyComplete;
    private final String sniHostName;
    private final boolean tls;
    private final long connectionId;
    private final InetSocketAddress remoteAddress;

    RecordedRequest(String method, String uri, String path, String version, List<Header> headers,
                    List<Header> trailers, long bodyBytes, String bodySha256, boolean bodyComplete,
                    String sniHostName, boolean tls, long connectionId, InetSocketAddress remoteAddress) {
        this.method = requireNonNull(method, "method");
        this.uri = requireNonNull(uri, "uri");
        this.path = requireNonNull(path, "path");
        this.version = requireNonNull(version, "version");
        this.headers = List.copyOf(headers);
        this.trailers = List.copyOf(trailers);
        this.bodyBytes = bodyBytes;
        this.bodySha256 = requireNonNull(bodySha256, "bodySha256");
        this.bodyComplete = bodyComplete;
        this.sniHostName = sniHostName;
        this.tls = tls;
        this.connectionId = connectionId;
        this.remoteAddress = requireNonNull(remoteAddress, "remoteAddress");
    }

    /** The request method, for example {@code "GET"}. */
    public String method() {
        return method;
    }

    /** The request target exactly as sent: {@code "/path?query"}, or absolute-form from a forward proxy. */
    public String uri() {
        return uri;
    }

    /** The path of {@link #uri()} without the query, percent-decoded; {@code "/"} when empty. */
    public String path() {
        return path;
    }

    /** The protocol version of the request line, for example {@code "HTTP/1.1"}. */
    public String version() {
        return version;
    }

    /** All header fields in the order received, names with their original case. */
    public List<Header> headers() {
        return headers;
    }

    /**
     * The value of the first header field named {@code name} (compared ignoring case), or {@code null}
     * when there is none.
     */
    public String header(String name) {
        requireNonNull(name, "name");
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /**
     * The trailer fields that ended the body (a chunked body's trailer section, an HTTP/2 trailing
     * HEADERS frame), as received; empty when there were none.
     */
    public List<Header> trailers() {
        return trailers;
    }

    /** The value of the first trailer field named {@code name} (compared ignoring case), or {@code null}. */
    public String trailer(String name) {
        for (Header h : trailers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /** The values of every header field named {@code name} (compared ignoring case), in order. */
    public List<String> headerValues(String name) {
        requireNonNull(name, "name");
        List<String> values = new ArrayList<>(2);
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                values.add(h.value());
            }
        }
        return List.copyOf(values);
    }

    /** The number of body bytes received (after removing any chunked framing). */
    public long bodyBytes() {
        return bodyBytes;
    }

    /** The lower-case hex SHA-256 of the body bytes received. */
    public String bodySha256() {
        return bodySha256;
    }

    /**
     * Whether the whole body arrived. {@code false} when the connection closed in the middle of the
     * body; {@link #bodyBytes()} and {@link #bodySha256()} then describe what did arrive.
     */
    public boolean bodyComplete() {
        return bodyComplete;
    }

    /** The TLS server name (SNI) the client presented; {@code null} over plain TCP or when it sent none. */
    public String sniHostName() {
        return sniHostName;
    }

    /** Whether the request arrived over TLS. */
    public boolean tls() {
        return tls;
    }

    /**
     * The connection the request arrived on: 1 for the origin's first accepted connection, then 2, ...
     * Two requests with the same id shared a connection.
     */
    public long connectionId() {
        return connectionId;
    }

    /** The client's address (for a proxy under test: its upstream socket). */
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RecordedRequest)) {
            return false;
        }
        RecordedRequest other = (RecordedRequest) o;
        return bodyBytes == other.bodyBytes && bodyComplete == other.bodyComplete && tls == other.tls
                && connectionId == other.connectionId && method.equals(other.method) && uri.equals(other.uri)
                && version.equals(other.version) && headers.equals(other.headers) && trailers.equals(other.trailers)
                && bodySha256.equals(other.bodySha256) && Objects.equals(sniHostName, other.sniHostName)
                && remoteAddress.equals(other.remoteAddress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, uri, version, headers, bodyBytes, bodySha256, connectionId);
    }

    @Override
    public String toString() {
        return method + ' ' + uri + ' ' + version + " (connection " + connectionId
                + (tls ? ", tls sni=" + sniHostName : "") + ", body " + bodyBytes + " bytes"
                + (bodyComplete ? "" : " INCOMPLETE") + ", " + headers.size() + " headers"
                + (trailers.isEmpty() ? "" : ", " + trailers.size() + " trailers") + ")";
    }
}
