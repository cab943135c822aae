package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.jspecify.annotations.Nullable;

/** The core response view over a Netty {@link HttpResponse}, without copying. */
final class NettyResponseHeader implements ResponseHeader {
    private final HttpResponse response;
    /** Made on the first {@link #headers()}: a response whose fields no filter reads makes none (16 B). */
    private @Nullable NettyHttpHeaders headers;

    NettyResponseHeader(HttpResponse response) {
        this.response = response;
    }

    HttpResponse unwrap() {
        return response;
    }

    /** The Netty response behind {@code header}: its own when it wraps one, else an HTTP/1.1 copy. */
    static HttpResponse toNetty(ResponseHeader header) {
        if (header instanceof NettyResponseHeader n) {
            return n.response;
        }
        HttpResponse response = new io.netty.handler.codec.http.DefaultHttpResponse(
                io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(header.status()));
        header.headers().forEach((name, value) -> response.headers().add(name, value));
        return response;
    }

    @Override
    public int status() {
        return response.status().code();
    }

    @Override
    public void setStatus(int status) {
        response.setStatus(HttpResponseStatus.valueOf(status));
    }

    @Override
    public HttpHeaders headers() {
        NettyHttpHeaders h = headers;
        if (h == null) {
            headers = h = new NettyHttpHeaders(response.headers());
        }
        return h;
    }

    @Override
    public String toString() {
        return response.status() + " " + response.headers();
    }
}
