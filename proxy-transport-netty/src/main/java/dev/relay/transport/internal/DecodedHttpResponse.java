package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/** A response from {@link Http1ResponseDecoder}, with the framing it found while reading the header block. */
final class DecodedHttpResponse extends DefaultHttpResponse {
    private final Http1Framing framing;

    DecodedHttpResponse(HttpVersion version, HttpResponseStatus status, HttpHeaders headers, Http1Framing framing) {
        super(version, status, headers);
        this.framing = framing;
    }

    Http1Framing framing() {
        return framing;
    }
}
