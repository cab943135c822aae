package dev.relay.transport;

import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;
import dev.relay.transport.internal.ClientEngine;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;

import static java.util.Objects.requireNonNull;

/**
 * A whole response that an {@link UpstreamClient} received: the header (without connection-specific
 * fields), the body bytes and the trailers. Immutable: the accessors hand out copies.
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

    /** What the client's engine received; the body array is given up with it. */
    UpstreamResponse(ClientEngine.Response received) {
        this.header = requireNonNull(received.header(), "header");
        this.body = requireNonNull(received.body(), "body");
        this.trailers = received.trailers();
        this.connectionReused = received.connectionReused();
    }

    /** A copy of the response header: the response stays as it was received whatever the caller does with it. */
    public ResponseHeader header() {
        ResponseHeader copy = ResponseHeader.of(header.status());
        header.headers().forEach(copy.headers()::add);
        return copy;
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

    /** A copy of the trailer fields, or null when the response had none. */
    public @Nullable HttpHeaders trailers() {
        if (trailers == null) {
            return null;
        }
        HttpHeaders copy = HttpHeaders.create();
        trailers.forEach(copy::add);
        return copy;
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
