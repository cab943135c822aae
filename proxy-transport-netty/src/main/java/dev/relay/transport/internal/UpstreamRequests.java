package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import dev.relay.core.RequestHeader;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/** What the upstream streams of every protocol do alike to the client's request before framing it their way. */
final class UpstreamRequests {
    /** The client's fields were validated by its decoder: copying them need not validate again. */
    private static final DefaultHttpHeadersFactory TRUSTED_HEADERS = DefaultHttpHeadersFactory.headersFactory()
            .withNameValidation(false).withValueValidation(false);

    private UpstreamRequests() {}

    /** A copy of {@code clientRequest} (method, target, every field) that the upstream side may change freely. */
    static HttpRequest copy(RequestHeader clientRequest) {
        if (clientRequest instanceof NettyRequestHeader netty) {
            HttpRequest client = netty.unwrap();
            return new DefaultHttpRequest(HttpVersion.HTTP_1_1, client.method(), client.uri(),
                    CompactHttpHeaders.copyOf(client.headers()));
        }
        HttpHeaders headers = TRUSTED_HEADERS.newHeaders();
        clientRequest.headers().forEach((String name, String value) -> headers.add(name, value));
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(clientRequest.method()),
                clientRequest.uri(), headers);
    }

    /** Gives a request without {@code Host} the peer's authority. */
    static void defaultHost(HttpHeaders headers, HttpPeer peer) {
        if (!headers.contains(HttpHeaderNames.HOST)) {
            // A Unix-socket peer has no authority to name: "localhost", as curl --unix-socket sends.
            headers.set(HttpHeaderNames.HOST, peer.isUnix() ? "localhost" : peer.hostAndPort());
        }
    }
}
