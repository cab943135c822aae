package dev.relay.server.internal.metrics;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.TlsInfo;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * The access log: one line per request, formatted and written by a background thread
 * ({@code relay-access-log}) through SLF4J to the logger {@code dev.relay.access}, so neither the
 * formatting nor the I/O ever runs on an event loop.
 *
 * <p>The event loop only copies the request's fields into a preallocated slot of a bounded ring
 * (a multi-producer, single-consumer queue after Dmitry Vyukov's bounded queue: one CAS to claim a
 * slot, one ordered write to publish it) and, when the writer sleeps, wakes it. When the ring is
 * full the line is dropped and counted ({@code relay_access_log_dropped_lines_total}), never waited
 * for. Formats: {@link AccessLogFormat#COMBINED} (Apache/nginx combined, then Relay's fields) and
 * {@link AccessLogFormat#JSON}.
 */
public final class AccessLog implements AutoCloseable {
    /** The logger every line goes to. */
    public static final String LOGGER = "dev.relay.access";
    private static final Logger ACCESS = LoggerFactory.getLogger(LOGGER);
    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    private static final DateTimeFormatter COMBINED_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final DateTimeFormatter ISO_TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(ZoneId.systemDefault());

    private final Entry[] ring;
    private final int mask;
    private final AtomicLong tail = new AtomicLong();
    private long head;
    private final LongAdder dropped = new LongAdder();
    private final RelayMetrics metrics;
    private final Thread writer;
    private volatile boolean sleeping;
    private volatile boolean closed;
    private volatile AccessLogFormat format;

    /** An access log with a ring of {@code capacity} lines (rounded up to a power of two). */
    public AccessLog(AccessLogFormat format, int capacity, RelayMetrics metrics) {
        this.format = requireNonNull(format, "format");
        this.metrics = metrics;
        int size = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
        ring = new Entry[size];
        for (int i = 0; i < size; i++) {
            ring[i] = new Entry(i);
        }
        mask = size - 1;
        writer = new Thread(this::drainLoop, "relay-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** Changes the line format (a reload); lines already queued take the new one. */
    public void format(AccessLogFormat format) {
        this.format = requireNonNull(format, "format");
    }

    /** Lines dropped because the ring was full. */
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Claims a slot for one line; fill it and {@link Entry#publish()} it. Null when the ring is full
     * (the line is counted as dropped). Never blocks; allocates nothing.
     */
    public Entry claim() {
        if (closed) {
            return null;
        }
        long pos = tail.get();
        while (true) {
            Entry e = ring[(int) (pos & mask)];
            long dif = e.sequence - pos;
            if (dif == 0) {
                if (tail.compareAndSet(pos, pos + 1)) {
                    e.claimedAt = pos;
                    return e;
                }
                pos = tail.get();
            } else if (dif < 0) {
                dropped.increment();
                if (metrics != null) {
                    metrics.accessLogDropped(1);
                }
                return null;
            } else {
                pos = tail.get();
            }
        }
    }

    private void drainLoop() {
        StringBuilder line = new StringBuilder(512);
        while (true) {
            Entry e = ring[(int) (head & mask)];
            if (e.sequence == head + 1) {
                line.setLength(0);
                try {
                    if (format == AccessLogFormat.JSON) {
                        e.json(line);
                    } else {
                        e.combined(line);
                    }
                    ACCESS.info(line.toString());
                } catch (RuntimeException ex) {
                    LOG.warn("access-log line failed: {}", ex.toString());
                }
                e.clear();
                e.sequence = head + ring.length;
                head++;
                continue;
            }
            if (closed && head == tail.get()) {
                return;
            }
            sleeping = true;
            // Re-check after announcing the sleep: a producer that published meanwhile saw the flag or
            // its line is seen here.
            if (ring[(int) (head & mask)].sequence != head + 1 && !closed) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
            }
            sleeping = false;
        }
    }

    /** Writes what is queued, then stops the writer (waits up to five seconds). */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One line's fields, filled on the event loop. Strings are references, formatted by the writer. */
    public final class Entry {
        private volatile long sequence;
        private long claimedAt;
        public long epochMillis;
        public SocketAddress client;
        public String method;
        public String uri;
        public String protocol;
        public int status;
        public long requestBytes;
        public long responseBytes;
        public String referer;
        public String userAgent;
        public String host;
        public String route;
        public String upstream;
        public HttpPeer peer;
        public int attempts;
        public boolean upstreamReused;
        public long upstreamConnectNanos;
        public long upstreamNanos;
        public long totalNanos;
        public ErrorType error;
        /** The stream service of a stream connection's line; null for an HTTP request's. */
        public String stream;
        /** How a stream connection ended ({@code completed}, {@code idle_timeout} ...); streams only. */
        public String end;
        /** What a stream connection's TLS handshake settled; null on a plain listener. Streams only. */
        public TlsInfo tls;

        Entry(long sequence) {
            this.sequence = sequence;
        }

        /** Makes the line visible to the writer; the entry must not be touched afterwards. */
        public void publish() {
            sequence = claimedAt + 1;
            if (sleeping) {
                LockSupport.unpark(writer);
            }
        }

        void clear() {
            client = null;
            method = uri = protocol = referer = userAgent = host = route = upstream = null;
            peer = null;
            error = null;
            stream = end = null;
            tls = null;
        }

        void combined(StringBuilder sb) {
            if (stream != null) {
                streamCombined(sb);
                return;
            }
            sb.append(clientAddress()).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(epochMillis)))
                    .append("] \"").append(method).append(' ').append(uri).append(' ').append(protocol).append("\" ")
                    .append(status).append(' ').append(responseBytes).append(" \"").append(orDash(referer))
                    .append("\" \"").append(orDash(userAgent)).append('"')
                    .append(" host=").append(orDash(host))
                    .append(" route=").append(orDash(route))
                    .append(" upstream=").append(orDash(upstream))
                    .append(" peer=").append(peer == null ? "-" : peer.hostAndPort())
                    .append(" attempts=").append(attempts)
                    .append(" reused=").append(attempts == 0 ? "-" : upstreamReused ? "1" : "0")
                    .append(" connect_time=");
            seconds(sb, upstreamConnectNanos);
            sb.append(" upstream_time=");
            if (attempts == 0) {
                sb.append('-');
            } else {
                seconds(sb, upstreamNanos);
            }
            sb.append(" request_bytes=").append(requestBytes).append(" time=");
            seconds(sb, totalNanos);
            if (error != null) {
                sb.append(" error=").append(error.name());
            }
        }

        /**
         * A stream connection's line: who, where to, bytes each way (in: from the client), how long,
         * how it ended. Not Apache's format (there is no request), but the same field names.
         */
        private void streamCombined(StringBuilder sb) {
            sb.append(clientAddress()).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(epochMillis)))
                    .append("] stream=").append(stream)
                    .append(" upstream=").append(orDash(upstream))
                    .append(" peer=").append(peer == null ? "-" : peer.hostAndPort())
                    .append(" attempts=").append(attempts)
                    .append(" request_bytes=").append(requestBytes)
                    .append(" response_bytes=").append(responseBytes)
                    .append(" time=");
            seconds(sb, totalNanos);
            sb.append(" end=").append(end);
            if (error != null) {
                sb.append(" error=").append(error.name());
            }
            // nginx's $ssl_protocol, $ssl_server_name and $ssl_client_verify.
            sb.append(" tls=").append(tls == null ? "-" : tls.protocol())
                    .append(" sni=").append(tls == null ? "-" : orDash(tls.serverName()))
                    .append(" client_verify=").append(tls == null ? "NONE" : tls.clientVerify());
        }

        private void streamJson(StringBuilder sb) {
            sb.append("{\"time\":\"").append(ISO_TIME.format(Instant.ofEpochMilli(epochMillis))).append('"');
            string(sb.append(",\"stream\":"), stream);
            string(sb.append(",\"client\":"), clientAddress());
            string(sb.append(",\"upstream\":"), upstream);
            string(sb.append(",\"peer\":"), peer == null ? null : peer.hostAndPort());
            sb.append(",\"attempts\":").append(attempts);
            sb.append(",\"request_bytes\":").append(requestBytes);
            sb.append(",\"response_bytes\":").append(responseBytes);
            sb.append(",\"time_total\":");
            seconds(sb, totalNanos);
            string(sb.append(",\"end\":"), end);
            string(sb.append(",\"error\":"), error == null ? null : error.name());
            string(sb.append(",\"tls\":"), tls == null ? null : tls.protocol());
            string(sb.append(",\"sni\":"), tls == null ? null : tls.serverName());
            string(sb.append(",\"client_verify\":"), tls == null ? "NONE" : tls.clientVerify());
            string(sb.append(",\"client_subject\":"), tls == null || tls.clientCertificate() == null
                    ? null : tls.clientCertificate().subject());
            sb.append('}');
        }

        void json(StringBuilder sb) {
            if (stream != null) {
                streamJson(sb);
                return;
            }
            sb.append("{\"time\":\"").append(ISO_TIME.format(Instant.ofEpochMilli(epochMillis))).append('"');
            string(sb.append(",\"client\":"), clientAddress());
            string(sb.append(",\"method\":"), method);
            string(sb.append(",\"uri\":"), uri);
            string(sb.append(",\"protocol\":"), protocol);
            sb.append(",\"status\":").append(status);
            sb.append(",\"request_bytes\":").append(requestBytes);
            sb.append(",\"response_bytes\":").append(responseBytes);
            string(sb.append(",\"referer\":"), referer);
            string(sb.append(",\"user_agent\":"), userAgent);
            string(sb.append(",\"host\":"), host);
            string(sb.append(",\"route\":"), route);
            string(sb.append(",\"upstream\":"), upstream);
            string(sb.append(",\"peer\":"), peer == null ? null : peer.hostAndPort());
            sb.append(",\"attempts\":").append(attempts);
            sb.append(",\"upstream_reused\":").append(attempts > 0 && upstreamReused);
            sb.append(",\"upstream_connect_time\":");
            seconds(sb, upstreamConnectNanos);
            sb.append(",\"upstream_time\":");
            if (attempts == 0) {
                sb.append("null");
            } else {
                seconds(sb, upstreamNanos);
            }
            sb.append(",\"time_total\":");
            seconds(sb, totalNanos);
            string(sb.append(",\"error\":"), error == null ? null : error.name());
            sb.append('}');
        }

        private String clientAddress() {
            if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
                return inet.getAddress().getHostAddress();
            }
            if (client instanceof UnixDomainSocketAddress) {
                // A client of a unix listener: its own socket is unnamed, so the kind is all there is to say.
                return "unix";
            }
            return client == null ? "-" : client.toString();
        }
    }

    private static String orDash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    /** Seconds with millisecond precision, as nginx's {@code $request_time}: {@code 0.004}. */
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

    private static void string(StringBuilder sb, String s) {
        dev.relay.server.internal.JsonText.string(sb, s);
    }
}
