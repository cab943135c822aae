package dev.relay.transport.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;

/**
 * Which requests ask for a tunnel, and where a {@code CONNECT} goes: the HTTP/1.1 rules shared by
 * the downstream stream (which holds the client connection for such a request) and the upstream
 * stream (which passes {@code Upgrade} on only for it).
 */
final class TunnelRequests {
    /** What kind of tunnel a request asks for. */
    enum Kind {
        /** An ordinary request. */
        NONE,
        /** An HTTP/1.1 request with {@code Upgrade} and {@code Connection: upgrade} (WebSocket, for example). */
        UPGRADE,
        /** A {@code CONNECT host:port} request (forward proxying). */
        CONNECT
    }

    private TunnelRequests() {}

    /**
     * The tunnel {@code request} asks for. An upgrade must come on HTTP/1.1 and without a body
     * (a WebSocket handshake never has one); any other request with {@code Upgrade} is an ordinary
     * one, and the field is removed on the way up, as every hop-by-hop field is. An upgrade to
     * {@code h2c} is never a tunnel: HTTP/2 is the proxy's own protocol to speak with each side (a
     * client wanting it uses prior knowledge), and relaying it as opaque bytes would let a client
     * talk HTTP/2 to the origin past every phase and filter (h2c smuggling).
     */
    static Kind kind(HttpRequest request) {
        if (HttpMethod.CONNECT.equals(request.method())) {
            return Kind.CONNECT;
        }
        // Runs on every request: the test that rules out almost all of them (no Upgrade field) comes first.
        if (!asksForUpgrade(request.headers()) || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())) {
            return Kind.NONE;
        }
        boolean hasBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        return hasBody || upgradesToH2c(request.headers()) ? Kind.NONE : Kind.UPGRADE;
    }

    /** Whether {@code Upgrade} names {@code h2c} among its protocols. */
    static boolean upgradesToH2c(HttpHeaders headers) {
        for (String value : headers.getAll(HttpHeaderNames.UPGRADE)) {
            for (String token : value.split(",")) {
                if (token.trim().equalsIgnoreCase("h2c")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code headers} carry an {@code Upgrade} field and {@code upgrade} among the {@code Connection} tokens. */
    static boolean asksForUpgrade(HttpHeaders headers) {
        return headers.contains(HttpHeaderNames.UPGRADE)
                && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** Puts back the fields hop-by-hop stripping removed from a message that switches protocols. */
    static void restoreUpgrade(HttpHeaders headers, String upgrade) {
        headers.set(HttpHeaderNames.UPGRADE, upgrade);
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }

    /**
     * The destination of a {@code CONNECT} request target in authority form ({@code host:port},
     * {@code [v6]:port}), unresolved; null when the target is not of that form.
     */
    static @Nullable InetSocketAddress connectTarget(String target) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1) {
            return null;
        }
        String host = target.substring(0, colon);
        if (host.startsWith("[")) {
            if (!host.endsWith("]") || host.length() < 3) {
                return null;
            }
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            return null;
        }
        int port;
        try {
            port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        if (port < 1 || port > 65535 || host.isEmpty() || host.chars().anyMatch(c -> c <= ' ' || c == '/' || c == '@')) {
            return null;
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
