package dev.relay.server.internal.metrics;

import dev.relay.core.TlsInfo;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import dev.relay.server.internal.proxy.ConfiguredCache;
import org.jspecify.annotations.Nullable;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;

import static java.util.Objects.requireNonNull;

/**
 * Formats an {@link AccessLog.Entry} as one line, newline included, into a {@link LogLineBuffer}:
 * combined (Apache/nginx "combined", then Relay's fields) or JSON, and a stream connection's own
 * shape of each. A request that enabled a cache has one field more, what the cache did
 * ({@code cache=hit}, {@code "cache":"hit"}), before the error; so does a request of a configuration
 * with a request-id filter, its id ({@code request_id=...}, {@code "request_id":"..."}, nginx's
 * {@code $request_id}; {@code -} and {@code null} when it has none, as when an earlier filter answered
 * before the request-id filter ran; escaped as nginx escapes, {@code \xHH}, in combined), before the
 * cache's; other lines are
 * unchanged. Runs on the writer thread; the lines are byte for byte those the logging framework
 * printed before (with UTF-8 as its charset).
 */
final class AccessLogFormatter {
    /**
     * Whether an {@link Inet4Address}'s {@code hashCode} is its address, as OpenJDK has always had
     * it: an access-log slot then keeps an IPv4 client as that number rather than a reference
     * ({@link AccessLog.Entry}), printed without the {@code String} that {@code getHostAddress()}
     * builds. Checked, not assumed; otherwise the client is kept and printed the slow way.
     */
    static final boolean INET4_HASH_IS_ADDRESS = inet4HashIsAddress();

    private final LogTimestamps time;
    /** The views the texts of the line being formatted are read through (the writer's own). */
    private final FieldValueText uri = new FieldValueText(new byte[0], 0, 0);
    private final FieldValueText referer = new FieldValueText(new byte[0], 0, 0);
    private final FieldValueText userAgent = new FieldValueText(new byte[0], 0, 0);
    private final FieldValueText host = new FieldValueText(new byte[0], 0, 0);

    AccessLogFormatter(LogTimestamps time) {
        this.time = requireNonNull(time, "time");
    }

    /** Appends {@code e}'s line in {@code format}, with its newline. */
    void format(AccessLog.Entry e, AccessLogFormat format, LogLineBuffer out) {
        if (format == AccessLogFormat.JSON) {
            if (e.stream != null) {
                streamJson(e, out);
            } else {
                json(e, out);
            }
        } else if (e.stream != null) {
            streamCombined(e, out);
        } else {
            combined(e, out);
        }
        out.ascii('\n');
    }

    private void combined(AccessLog.Entry e, LogLineBuffer out) {
        clientAndTime(e, out);
        // The quoted fields come from the client: escaped, so that none can end its field or the line.
        out.ascii("] \"").quotedField(String.valueOf(e.method)).ascii(' ')
                .quotedField(orNull(e.text(AccessLog.Entry.URI, uri))).ascii(' ')
                .quotedField(String.valueOf(e.protocol)).ascii("\" ").decimal(e.status).ascii(' ').decimal(e.responseBytes)
                .ascii(" \"");
        quotedOrDash(e.text(AccessLog.Entry.REFERER, referer), out).ascii("\" \"");
        quotedOrDash(e.text(AccessLog.Entry.USER_AGENT, userAgent), out).ascii('"').ascii(" host=");
        orDash(e.text(AccessLog.Entry.HOST, host), out).ascii(" route=");
        orDash(e.route, out).ascii(" upstream=");
        orDash(e.upstream, out).ascii(" peer=");
        orDash(e.peer == null ? null : e.peer.hostAndPort(), out).ascii(" attempts=").decimal(e.attempts)
                .ascii(" reused=").ascii(e.attempts == 0 ? "-" : e.upstreamReused ? "1" : "0")
                .ascii(" connect_time=");
        seconds(e.upstreamConnectNanos, out);
        out.ascii(" upstream_time=");
        if (e.attempts == 0) {
            out.ascii('-');
        } else {
            seconds(e.upstreamNanos, out);
        }
        out.ascii(" request_bytes=").decimal(e.requestBytes).ascii(" time=");
        seconds(e.totalNanos, out);
        if (e.requestIdField) {
            // Unquoted, so escaped: the request-id filter's ids (letters, digits and -_.:+/=@) are written
            // as they are, but another module's id must not end the field and write fields of its own.
            out.ascii(" request_id=");
            if (e.requestId == null || e.requestId.isEmpty()) {
                out.ascii('-');
            } else {
                out.escapedField(e.requestId);
            }
        }
        if (e.cache != null) {
            out.ascii(" cache=").ascii(ConfiguredCache.resultName(e.cache));
        }
        error(e, out);
    }

    /**
     * A stream connection's line: who, where to, bytes each way (in: from the client), how long,
     * how it ended. Not Apache's format (there is no request), but the same field names.
     */
    private void streamCombined(AccessLog.Entry e, LogLineBuffer out) {
        clientAndTime(e, out);
        out.ascii("] stream=").utf8(e.stream).ascii(" upstream=");
        orDash(e.upstream, out).ascii(" peer=");
        orDash(e.peer == null ? null : e.peer.hostAndPort(), out).ascii(" attempts=").decimal(e.attempts)
                .ascii(" request_bytes=").decimal(e.requestBytes)
                .ascii(" response_bytes=").decimal(e.responseBytes)
                .ascii(" time=");
        seconds(e.totalNanos, out);
        out.ascii(" end=").utf8(String.valueOf(e.end));
        error(e, out);
        // nginx's $ssl_protocol, $ssl_server_name and $ssl_client_verify.
        TlsInfo tls = e.tls;
        out.ascii(" tls=").utf8(tls == null ? "-" : tls.protocol()).ascii(" sni=");
        if (tls == null) {
            out.ascii('-');
        } else {
            orDash(tls.serverName(), out);
        }
        out.ascii(" client_verify=").utf8(tls == null ? "NONE" : tls.clientVerify());
    }

    /** {@code 127.0.0.1 - - [25/Nov/2026:15:07:05 +0000}: who, no identity, no user, when. */
    private void clientAndTime(AccessLog.Entry e, LogLineBuffer out) {
        client(e, out);
        out.ascii(" - - [");
        time.combined(e.epochMillis, out);
    }

    private static void error(AccessLog.Entry e, LogLineBuffer out) {
        if (e.error != null) {
            out.ascii(" error=").utf8(e.error.name());
        }
    }

    private void json(AccessLog.Entry e, LogLineBuffer out) {
        out.ascii("{\"time\":\"");
        time.iso(e.epochMillis, out);
        out.ascii("\",\"client\":");
        jsonClient(e, out);
        out.ascii(",\"method\":").json(e.method)
                .ascii(",\"uri\":").json(e.text(AccessLog.Entry.URI, uri))
                .ascii(",\"protocol\":").json(e.protocol)
                .ascii(",\"status\":").decimal(e.status)
                .ascii(",\"request_bytes\":").decimal(e.requestBytes)
                .ascii(",\"response_bytes\":").decimal(e.responseBytes)
                .ascii(",\"referer\":").json(e.text(AccessLog.Entry.REFERER, referer))
                .ascii(",\"user_agent\":").json(e.text(AccessLog.Entry.USER_AGENT, userAgent))
                .ascii(",\"host\":").json(e.text(AccessLog.Entry.HOST, host))
                .ascii(",\"route\":").json(e.route)
                .ascii(",\"upstream\":").json(e.upstream)
                .ascii(",\"peer\":").json(e.peer == null ? null : e.peer.hostAndPort())
                .ascii(",\"attempts\":").decimal(e.attempts)
                .ascii(",\"upstream_reused\":").ascii(e.attempts > 0 && e.upstreamReused ? "true" : "false")
                .ascii(",\"upstream_connect_time\":");
        seconds(e.upstreamConnectNanos, out);
        out.ascii(",\"upstream_time\":");
        if (e.attempts == 0) {
            out.ascii("null");
        } else {
            seconds(e.upstreamNanos, out);
        }
        out.ascii(",\"time_total\":");
        seconds(e.totalNanos, out);
        if (e.requestIdField) {
            out.ascii(",\"request_id\":").json(e.requestId);
        }
        if (e.cache != null) {
            out.ascii(",\"cache\":\"").ascii(ConfiguredCache.resultName(e.cache)).ascii('"');
        }
        out.ascii(",\"error\":").json(e.error == null ? null : e.error.name()).ascii('}');
    }

    private void streamJson(AccessLog.Entry e, LogLineBuffer out) {
        TlsInfo tls = e.tls;
        out.ascii("{\"time\":\"");
        time.iso(e.epochMillis, out);
        out.ascii("\",\"stream\":").json(e.stream).ascii(",\"client\":");
        jsonClient(e, out);
        out.ascii(",\"upstream\":").json(e.upstream)
                .ascii(",\"peer\":").json(e.peer == null ? null : e.peer.hostAndPort())
                .ascii(",\"attempts\":").decimal(e.attempts)
                .ascii(",\"request_bytes\":").decimal(e.requestBytes)
                .ascii(",\"response_bytes\":").decimal(e.responseBytes)
                .ascii(",\"time_total\":");
        seconds(e.totalNanos, out);
        out.ascii(",\"end\":").json(e.end)
                .ascii(",\"error\":").json(e.error == null ? null : e.error.name())
                .ascii(",\"tls\":").json(tls == null ? null : tls.protocol())
                .ascii(",\"sni\":").json(tls == null ? null : tls.serverName())
                .ascii(",\"client_verify\":").json(tls == null ? "NONE" : tls.clientVerify())
                .ascii(",\"client_subject\":").json(tls == null || tls.clientCertificate() == null
                        ? null : tls.clientCertificate().subject())
                .ascii('}');
    }

    /** The client's IP address, {@code unix} for a client of a unix listener, {@code -} when unknown. */
    private static void client(AccessLog.Entry e, LogLineBuffer out) {
        if (e.clientIsIpv4) {
            int a = e.clientIpv4;
            out.decimal(a >>> 24).ascii('.').decimal((a >>> 16) & 0xff).ascii('.')
                    .decimal((a >>> 8) & 0xff).ascii('.').decimal(a & 0xff);
            return;
        }
        SocketAddress client = e.client;
        if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
            out.utf8(inet.getAddress().getHostAddress());
        } else if (client instanceof UnixDomainSocketAddress) {
            // A client of a unix listener: its own socket is unnamed, so the kind is all there is to say.
            out.ascii("unix");
        } else {
            out.utf8(client == null ? "-" : client.toString());
        }
    }

    private static void jsonClient(AccessLog.Entry e, LogLineBuffer out) {
        SocketAddress client = e.client;
        if (e.clientIsIpv4 || client instanceof InetSocketAddress inet && inet.getAddress() != null
                || client instanceof UnixDomainSocketAddress) {
            // An address or "unix": nothing to escape.
            out.ascii('"');
            client(e, out);
            out.ascii('"');
        } else {
            out.json(client == null ? "-" : client.toString());
        }
    }

    /** {@code s}, or {@code "null"} as {@code String.valueOf} writes a missing request-line part. */
    private static CharSequence orNull(@Nullable CharSequence s) {
        return s == null ? "null" : s;
    }

    private static LogLineBuffer quotedOrDash(@Nullable CharSequence s, LogLineBuffer out) {
        return s == null || s.isEmpty() ? out.ascii('-') : out.quotedField(s);
    }

    private static LogLineBuffer orDash(@Nullable CharSequence s, LogLineBuffer out) {
        return s == null || s.isEmpty() ? out.ascii('-') : out.utf8(s);
    }

    /** Seconds with millisecond precision, as nginx's {@code $request_time}: {@code 0.004}. */
    private static void seconds(long nanos, LogLineBuffer out) {
        long millis = Math.max(0, nanos) / 1_000_000;
        out.decimal(millis / 1000).ascii('.').threeDigits((int) (millis % 1000));
    }

    private static boolean inet4HashIsAddress() {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, (byte) 201}).hashCode() == 0xc00002c9;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
