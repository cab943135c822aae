package dev.relay.transport.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.List;

/**
 * Removes the connection-specific fields of RFC 9110 §7.6.1 before a message crosses the proxy:
 * every field named in {@code Connection}, and {@code Connection}, {@code Proxy-Connection},
 * {@code Keep-Alive}, {@code TE}, {@code Transfer-Encoding}, {@code Upgrade}, and {@code HTTP2-Settings}
 * (RFC 9113 §3.2.1 left it hop-by-hop even where a client forgets to name it in {@code Connection}: it
 * belongs to an {@code h2c} upgrade, which the proxy never passes on) (the proxy re-frames
 * the body itself; an upgrade request the client connection is held for, and its {@code 101}, get
 * {@code Upgrade} and {@code Connection: upgrade} back afterwards: {@link TunnelRequests#restoreUpgrade}).
 */
final class HopByHop {
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString HTTP2_SETTINGS = AsciiString.cached("http2-settings");

    private HopByHop() {}

    static void strip(HttpHeaders headers) {
        if (!hasAny(headers)) {
            // The usual message has none: one pass over its names instead of seven lookups and removals.
            return;
        }
        if (headers instanceof CompactHttpHeaders compact && connectionNamesOnlyFixedFields(compact)) {
            headers.remove(HttpHeaderNames.CONNECTION);
        } else if (headers.contains(HttpHeaderNames.CONNECTION)) {
            // Most HTTP/1.1 messages have no Connection field: only then is it worth a list.
            List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
            for (int i = 0; i < connection.size(); i++) {
                for (String token : connection.get(i).split(",")) {
                    String name = token.trim();
                    if (!name.isEmpty()) {
                        headers.remove(name);
                    }
                }
            }
            headers.remove(HttpHeaderNames.CONNECTION);
        }
        headers.remove(PROXY_CONNECTION);
        headers.remove(KEEP_ALIVE);
        headers.remove(HttpHeaderNames.TE);
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(HttpHeaderNames.UPGRADE);
        headers.remove(HTTP2_SETTINGS);
    }

    /**
     * Whether every token of every {@code Connection} field is one that goes anyway ({@code close} or
     * a name of the fixed list, {@code keep-alive} and {@code upgrade} above all): nearly every message,
     * which then needs no list of tokens and no removal by name. Read in place, without allocating.
     */
    private static boolean connectionNamesOnlyFixedFields(CompactHttpHeaders headers) {
        for (int i = 0, n = headers.size(); i < n; i++) {
            if (headers.nameEquals(i, HttpHeaderNames.CONNECTION) && !headers.everyElementIn(i, GO_ANYWAY)) {
                return false;
            }
        }
        return true;
    }

    private static final AsciiString[] GO_ANYWAY = {HttpHeaderValues.CLOSE, KEEP_ALIVE, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.TE, HttpHeaderNames.TRANSFER_ENCODING, PROXY_CONNECTION, HTTP2_SETTINGS,
            HttpHeaderNames.CONNECTION};

    /** Whether a field of {@code headers} is one of the connection-specific names above. */
    private static boolean hasAny(HttpHeaders headers) {
        if (headers instanceof CompactHttpHeaders compact) {
            // Names compared in the decoder's block: no name object made.
            for (int i = 0, n = compact.size(); i < n; i++) {
                for (AsciiString name : CONNECTION_SPECIFIC) {
                    if (compact.nameEquals(i, name)) {
                        return true;
                    }
                }
            }
            return false;
        }
        java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            if (isConnectionSpecific(it.next().getKey())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isConnectionSpecific(CharSequence name) {
        for (AsciiString specific : CONNECTION_SPECIFIC) {
            if (specific.length() == name.length() && AsciiString.contentEqualsIgnoreCase(specific, name)) {
                return true;
            }
        }
        return false;
    }

    private static final AsciiString[] CONNECTION_SPECIFIC = {HttpHeaderNames.CONNECTION, KEEP_ALIVE,
            HttpHeaderNames.TE, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, PROXY_CONNECTION,
            HTTP2_SETTINGS};
}
