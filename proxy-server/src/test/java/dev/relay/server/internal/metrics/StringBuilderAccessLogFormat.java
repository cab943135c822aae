package dev.relay.server.internal.metrics;

import dev.relay.server.internal.JsonText;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The access-log formats as Relay wrote them before {@link AccessLogFormatter}: a {@code StringBuilder}
 * per line, a {@code DateTimeFormatter} per timestamp, the {@code String} handed to the logging
 * framework (which encoded it in UTF-8). Kept verbatim as the tests' reference: the new lines must
 * be these, byte for byte.
 */
final class StringBuilderAccessLogFormat {
    private static final DateTimeFormatter COMBINED_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final DateTimeFormatter ISO_TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(ZoneId.systemDefault());

    private StringBuilderAccessLogFormat() {}

    static String combined(AccessLog.Entry e) {
        StringBuilder sb = new StringBuilder();
        if (e.stream != null) {
            sb.append(clientAddress(e)).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(e.epochMillis)))
                    .append("] stream=").append(e.stream)
                    .append(" upstream=").append(orDash(e.upstream))
                    .append(" peer=").append(e.peer == null ? "-" : e.peer.hostAndPort())
                    .append(" attempts=").append(e.attempts)
                    .append(" request_bytes=").append(e.requestBytes)
                    .append(" response_bytes=").append(e.responseBytes)
                    .append(" time=");
            seconds(sb, e.totalNanos);
            sb.append(" end=").append(e.end);
            if (e.error != null) {
                sb.append(" error=").append(e.error.name());
            }
            sb.append(" tls=").append(e.tls == null ? "-" : e.tls.protocol())
                    .append(" sni=").append(e.tls == null ? "-" : orDash(e.tls.serverName()))
                    .append(" client_verify=").append(e.tls == null ? "NONE" : e.tls.clientVerify());
            return sb.toString();
        }
        sb.append(clientAddress(e)).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(e.epochMillis)))
                .append("] \"").append(quoted(e.method)).append(' ').append(quoted(String.valueOf(e.text(AccessLog.Entry.URI)))).append(' ')
                .append(quoted(e.protocol)).append("\" ")
                .append(e.status).append(' ').append(e.responseBytes).append(" \"").append(quoted(orDash(e.text(AccessLog.Entry.REFERER))))
                .append("\" \"").append(quoted(orDash(e.text(AccessLog.Entry.USER_AGENT)))).append('"')
                .append(" host=").append(orDash(e.text(AccessLog.Entry.HOST)))
                .append(" route=").append(orDash(e.route))
                .append(" upstream=").append(orDash(e.upstream))
                .append(" peer=").append(e.peer == null ? "-" : e.peer.hostAndPort())
                .append(" attempts=").append(e.attempts)
                .append(" reused=").append(e.attempts == 0 ? "-" : e.upstreamReused ? "1" : "0")
                .append(" connect_time=");
        seconds(sb, e.upstreamConnectNanos);
        sb.append(" upstream_time=");
        if (e.attempts == 0) {
            sb.append('-');
        } else {
            seconds(sb, e.upstreamNanos);
        }
        sb.append(" request_bytes=").append(e.requestBytes).append(" time=");
        seconds(sb, e.totalNanos);
        if (e.error != null) {
            sb.append(" error=").append(e.error.name());
        }
        return sb.toString();
    }

    static String json(AccessLog.Entry e) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"time\":\"").append(ISO_TIME.format(Instant.ofEpochMilli(e.epochMillis))).append('"');
        if (e.stream != null) {
            JsonText.string(sb.append(",\"stream\":"), e.stream);
            JsonText.string(sb.append(",\"client\":"), clientAddress(e));
            JsonText.string(sb.append(",\"upstream\":"), e.upstream);
            JsonText.string(sb.append(",\"peer\":"), e.peer == null ? null : e.peer.hostAndPort());
            sb.append(",\"attempts\":").append(e.attempts);
            sb.append(",\"request_bytes\":").append(e.requestBytes);
            sb.append(",\"response_bytes\":").append(e.responseBytes);
            sb.append(",\"time_total\":");
            seconds(sb, e.totalNanos);
            JsonText.string(sb.append(",\"end\":"), e.end);
            JsonText.string(sb.append(",\"error\":"), e.error == null ? null : e.error.name());
            JsonText.string(sb.append(",\"tls\":"), e.tls == null ? null : e.tls.protocol());
            JsonText.string(sb.append(",\"sni\":"), e.tls == null ? null : e.tls.serverName());
            JsonText.string(sb.append(",\"client_verify\":"), e.tls == null ? "NONE" : e.tls.clientVerify());
            JsonText.string(sb.append(",\"client_subject\":"), e.tls == null || e.tls.clientCertificate() == null
                    ? null : e.tls.clientCertificate().subject());
            return sb.append('}').toString();
        }
        JsonText.string(sb.append(",\"client\":"), clientAddress(e));
        JsonText.string(sb.append(",\"method\":"), e.method);
        JsonText.string(sb.append(",\"uri\":"), e.text(AccessLog.Entry.URI));
        JsonText.string(sb.append(",\"protocol\":"), e.protocol);
        sb.append(",\"status\":").append(e.status);
        sb.append(",\"request_bytes\":").append(e.requestBytes);
        sb.append(",\"response_bytes\":").append(e.responseBytes);
        JsonText.string(sb.append(",\"referer\":"), e.text(AccessLog.Entry.REFERER));
        JsonText.string(sb.append(",\"user_agent\":"), e.text(AccessLog.Entry.USER_AGENT));
        JsonText.string(sb.append(",\"host\":"), e.text(AccessLog.Entry.HOST));
        JsonText.string(sb.append(",\"route\":"), e.route);
        JsonText.string(sb.append(",\"upstream\":"), e.upstream);
        JsonText.string(sb.append(",\"peer\":"), e.peer == null ? null : e.peer.hostAndPort());
        sb.append(",\"attempts\":").append(e.attempts);
        sb.append(",\"upstream_reused\":").append(e.attempts > 0 && e.upstreamReused);
        sb.append(",\"upstream_connect_time\":");
        seconds(sb, e.upstreamConnectNanos);
        sb.append(",\"upstream_time\":");
        if (e.attempts == 0) {
            sb.append("null");
        } else {
            seconds(sb, e.upstreamNanos);
        }
        sb.append(",\"time_total\":");
        seconds(sb, e.totalNanos);
        JsonText.string(sb.append(",\"error\":"), e.error == null ? null : e.error.name());
        return sb.append('}').toString();
    }

    private static String clientAddress(AccessLog.Entry e) {
        if (e.clientAddress() instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        if (e.clientAddress() instanceof UnixDomainSocketAddress) {
            return "unix";
        }
        return e.clientAddress() == null ? "-" : e.clientAddress().toString();
    }

    /** The entry keeps request fields as text over its own bytes: this reference format reads them as Strings. */
    private static String string(CharSequence text) {
        return text == null ? null : text.toString();
    }

    private static String orDash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    private static void seconds(StringBuilder sb, long nanos) {
        long millis = Math.max(0, nanos) / 1_000_000;
        sb.append(millis / 1000).append('.');
        long frac = millis % 1000;
        if (frac < 100) {
            sb.append('0');
        }
        if (frac < 10) {
            sb.append('0');
        }
        sb.append(frac);
    }

    /** nginx's escaping inside a quoted field: a quote, a backslash, control characters as \\xHH. */
    private static String quoted(Object value) {
        String text = String.valueOf(value);
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < ' ' || c == 0x7f || c == '"' || c == '\\') {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
