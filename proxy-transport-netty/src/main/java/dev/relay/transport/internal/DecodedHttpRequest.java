package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/** A request from {@link Http1RequestDecoder}, with the framing it found while reading the header block. */
final class DecodedHttpRequest extends DefaultHttpRequest {
    private final Http1Framing framing;

    DecodedHttpRequest(HttpVersion version, HttpMethod method, String uri, HttpHeaders headers, Http1Framing framing) {
        super(version, method, uri, headers);
        this.framing = framing;
    }

    Http1Framing framing() {
        return framing;
    }
}
