package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/** The core request view over a Netty {@link HttpRequest}, without copying. */
final class NettyRequestHeader implements RequestHeader {
    private final HttpRequest request;
    private final NettyHttpHeaders headers;

    NettyRequestHeader(HttpRequest request) {
        this.request = request;
        this.headers = new NettyHttpHeaders(request.headers());
    }

    HttpRequest unwrap() {
        return request;
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public void setMethod(String method) {
        request.setMethod(HttpMethod.valueOf(method));
    }

    @Override
    public String uri() {
        return request.uri();
    }

    @Override
    public void setUri(String uri) {
        request.setUri(uri);
    }

    @Override
    public String version() {
        return request.protocolVersion().text();
    }

    @Override
    public HttpHeaders headers() {
        return headers;
    }

    @Override
    public String toString() {
        return method() + ' ' + uri() + ' ' + version();
    }
}
