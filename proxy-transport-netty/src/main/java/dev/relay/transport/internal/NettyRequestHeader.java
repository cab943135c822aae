package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.RequestHeader;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import org.jspecify.annotations.Nullable;

/** The core request view over a Netty {@link HttpRequest}, without copying. */
final class NettyRequestHeader implements RequestHeader {
    private final HttpRequest request;
    /** Made on the first {@link #headers()}: a request whose fields no filter reads makes none (16 B). */
    private @Nullable NettyHttpHeaders headers;

    NettyRequestHeader(HttpRequest request) {
        this.request = request;
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
        NettyHttpHeaders h = headers;
        if (h == null) {
            headers = h = new NettyHttpHeaders(request.headers());
        }
        return h;
    }

    @Override
    public String toString() {
        return method() + ' ' + uri() + ' ' + version();
    }
}
