package dev.relay.transport;

import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;

import static java.util.Objects.requireNonNull;

/**
 * A whole response that an {@link UpstreamClient} received: the header (without connection-specific
 * fields), the body bytes and the trailers.
 *
 * <pre>{@code
 * UpstreamResponse response = client.send(peer, RequestHeader.of("GET", "/"), new byte[0])
 *         .toCompletableFuture().join();
 * System.out.println(response.status() + " " + response.bodyText());
 * }</pre>
 */
public final class UpstreamResponse {
    private final ResponseHeader header;
    private final byte[] body;
    private final @Nullable HttpHeaders trailers;
    private final boolean connectionReused;

    private UpstreamResponse(ResponseHeader header, byte[] body, @Nullable HttpHeaders trailers,
                             boolean connectionReused) {
        this.header = requireNonNull(header, "header");
        this.body = requireNonNull(body, "body");
        this.trailers = trailers;
        this.connectionReused = connectionReused;
    }

    /**
     * A response of {@code header}, {@code body} (kept as it is: the caller gives it up) and
     * {@code trailers}; {@code connectionReused}: the request went on a pooled connection.
     */
    public static UpstreamResponse of(ResponseHeader header, byte[] body, @Nullable HttpHeaders trailers,
                                      boolean connectionReused) {
        return new UpstreamResponse(header, body, trailers, connectionReused);
    }

    /** The response header; it belongs to the caller, who may change it. */
    public ResponseHeader header() {
        return header;
    }

    /** The status code. */
    public int status() {
        return header.status();
    }

    /** A copy of the body bytes (empty when there was none, or when the client was told to drop it). */
    public byte[] body() {
        return body.clone();
    }

    /** The body's length in bytes. */
    public int bodyLength() {
        return body.length;
    }

    /** The body decoded as UTF-8. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The trailer fields, or null when the response had none. */
    public @Nullable HttpHeaders trailers() {
        return trailers;
    }

    /**
     * Whether the request went on a connection that was already open (an idle HTTP/1.1 connection
     * from the pool, or an HTTP/2 connection carrying other streams).
     */
    public boolean connectionReused() {
        return connectionReused;
    }

    @Override
    public String toString() {
        return "UpstreamResponse{" + header.status() + ", " + body.length + " body bytes"
                + (connectionReused ? ", reused connection" : "") + '}';
    }
}
