package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.lb.internal.HttpProbe;
import dev.relay.lb.internal.ProbeConnector;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.net.ssl.SSLContext;

import static java.util.Objects.requireNonNull;

/**
 * An HTTP/1.1 health check: sends a request (by default {@code GET /} with the configured
 * {@code Host}) and judges the response by its status (by default 200 only) or by a
 * {@link ResponseValidator}. The body is read (its first {@link Builder#maxBodyBytes} bytes are
 * given to the validator) so a reused connection stays in sync.
 *
 * <p>By default each check opens a fresh TCP (and TLS) connection, to catch problems a pooled
 * connection would hide (Pingora's default); {@link Builder#reuseConnection(boolean)} keeps one
 * idle connection per backend between rounds instead. A reused connection that fails is retried
 * once on a fresh one, so a server closing idle connections does not count as a failure.
 *
 * <pre>{@code
 * HealthCheck check = HttpHealthCheck.builder("api.example")
 *         .path("/healthz")
 *         .expectStatuses(200, 204)
 *         .consecutiveSuccesses(2)
 *         .consecutiveFailures(3)
 *         .build();
 * HealthCheck bodyCheck = HttpHealthCheck.builder("api.example")
 *         .validator((header, body) -> {
 *             if (!new String(body, StandardCharsets.UTF_8).contains("\"status\":\"up\"")) throw new IOException("not up");
 *         })
 *         .build();
 * }</pre>
 */
public final class HttpHealthCheck implements HealthCheck {
    /** The default body bytes kept for a validator. */
    public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;

    private final ProbeConnector connector;
    private final byte[] request;
    private final boolean head;
    private final Set<Integer> expectedStatuses;
    private final @Nullable ResponseValidator validator;
    private final long readTimeoutNanos;
    private final boolean reuseConnection;
    private final int maxBodyBytes;
    private final int consecutiveSuccesses;
    private final int consecutiveFailures;
    private final String description;
    private final ConcurrentMap<Backend, Socket> idle = new ConcurrentHashMap<>();

    private HttpHealthCheck(Builder b) {
        this.connector = b.settings.connector();
        this.head = b.method.equals("HEAD");
        List<String[]> headers = new ArrayList<>();
        headers.add(new String[] {"Host", b.host});
        headers.add(new String[] {"User-Agent", "relay-health-check"});
        headers.addAll(b.headers);
        if (!b.reuseConnection) {
            headers.add(new String[] {"Connection", "close"});
        }
        this.request = HttpProbe.encodeRequest(b.method, b.path, headers);
        this.expectedStatuses = b.validator != null ? Set.of() : Set.copyOf(b.expectedStatuses.isEmpty() ? Set.of(200) : b.expectedStatuses);
        this.validator = b.validator;
        this.readTimeoutNanos = b.readTimeout.toNanos();
        this.reuseConnection = b.reuseConnection;
        this.maxBodyBytes = b.maxBodyBytes;
        this.consecutiveSuccesses = b.settings.consecutiveSuccesses;
        this.consecutiveFailures = b.settings.consecutiveFailures;
        this.description = "HttpHealthCheck(" + b.method + " " + b.path + " Host: " + b.host
                + (validator != null ? ", validator" : ", expect " + new TreeSet<>(expectedStatuses))
                + ", readTimeout=" + b.readTimeout + (reuseConnection ? ", reuse" : "") + ", " + b.settings.describe() + ")";
    }

    /** A builder for requests with {@code Host: host}: {@code GET /}, 200 expected, fresh connections, 1 s timeouts. */
    public static Builder builder(String host) {
        return new Builder(host);
    }

    @Override
    public void check(Backend backend) throws Exception {
        requireNonNull(backend, "backend");
        HttpProbe.Response response = null;
        Socket socket = reuseConnection ? idle.remove(backend) : null;
        if (socket != null) {
            try {
                response = HttpProbe.exchange(socket, request, head, maxBodyBytes, System.nanoTime() + readTimeoutNanos);
            } catch (IOException staleConnection) {
                ProbeConnector.closeQuietly(socket);
                socket = null;
            }
        }
        if (response == null) {
            socket = connector.connect(backend);
            try {
                response = HttpProbe.exchange(socket, request, head, maxBodyBytes, System.nanoTime() + readTimeoutNanos);
            } catch (IOException | RuntimeException e) {
                ProbeConnector.closeQuietly(socket);
                throw e;
            }
        }
        if (reuseConnection && response.reusable()) {
            Socket previous = idle.put(backend, socket);
            ProbeConnector.closeQuietly(previous);
        } else {
            ProbeConnector.closeQuietly(socket);
        }
        if (validator != null) {
            validator.validate(response.header(), response.body());
        } else if (!expectedStatuses.contains(response.header().status())) {
            throw new IOException("status " + response.header().status() + " (expected: one of " + new TreeSet<>(expectedStatuses) + ")");
        }
    }

    @Override
    public int consecutiveSuccesses() {
        return consecutiveSuccesses;
    }

    @Override
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Closes the idle reused connections. */
    @Override
    public void close() {
        for (Backend b : idle.keySet()) {
            ProbeConnector.closeQuietly(idle.remove(b));
        }
    }

    @Override
    public String toString() {
        return description;
    }

    /** Judges a health-check response; throwing marks the check failed, with the exception as the reason. */
    @FunctionalInterface
    public interface ResponseValidator {
        /** Accepts the response by returning, rejects it by throwing; {@code body} holds at most the configured bytes. */
        void validate(ResponseHeader header, byte[] body) throws Exception;
    }

    /** Settings of an {@link HttpHealthCheck}. */
    public static final class Builder {
        private final ProbeSettings settings = new ProbeSettings();
        private String host;
        private String method = "GET";
        private String path = "/";
        private final List<String[]> headers = new ArrayList<>();
        private final Set<Integer> expectedStatuses = new TreeSet<>();
        private @Nullable ResponseValidator validator;
        private Duration readTimeout = Duration.ofSeconds(1);
        private boolean reuseConnection;
        private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;

        private Builder(String host) {
            requireNonNull(host, "host");
            if (host.isEmpty() || !visibleAscii(host)) {
                throw new IllegalArgumentException("host: \"" + host + "\" (expected: a Host header value)");
            }
            this.host = host;
        }

        /** The request method (default GET). */
        public Builder method(String method) {
            requireNonNull(method, "method");
            if (method.isEmpty() || !method.chars().allMatch(c -> c >= 'A' && c <= 'Z' || c == '-' || c == '_')) {
                throw new IllegalArgumentException("method: " + method + " (expected: an upper-case token such as GET)");
            }
            this.method = method;
            return this;
        }

        /** The request target (default {@code /}), with any query string. */
        public Builder path(String path) {
            requireNonNull(path, "path");
            if (!path.startsWith("/") || !visibleAscii(path)) {
                throw new IllegalArgumentException("path: " + path + " (expected: starts with /, visible ASCII)");
            }
            this.path = path;
            return this;
        }

        /** Adds a request header (Host and Connection are managed by the check). */
        public Builder header(String name, String value) {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("host") || lower.equals("connection") || lower.equals("content-length") || lower.equals("transfer-encoding")) {
                throw new IllegalArgumentException("header: " + name + " (expected: not Host, Connection, Content-Length or Transfer-Encoding)");
            }
            if (name.isEmpty() || !visibleAscii(name) || name.indexOf(':') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("header: " + name + " (expected: a token name and a single-line value)");
            }
            headers.add(new String[] {name, value});
            return this;
        }

        /**
         * Takes method, target and headers from {@code template} (Pingora's {@code req}); its Host
         * header, if any, replaces the builder's host.
         */
        public Builder request(RequestHeader template) {
            requireNonNull(template, "template");
            method(template.method());
            path(template.uri());
            template.headers().forEach((name, value) -> {
                if (name.equalsIgnoreCase("host")) {
                    host = value;
                } else if (!name.equalsIgnoreCase("connection")) {
                    header(name, value);
                }
            });
            return this;
        }

        /** The statuses that mean healthy (default 200 only); not with a {@link #validator}. */
        public Builder expectStatuses(int... statuses) {
            for (int s : statuses) {
                if (s < 100 || s > 599) {
                    throw new IllegalArgumentException("expectStatuses: " + s + " (expected: 100..599)");
                }
                expectedStatuses.add(s);
            }
            return this;
        }

        /** Every status from {@code from} to {@code to} inclusive means healthy, for example 200..399. */
        public Builder expectStatusRange(int from, int to) {
            if (from < 100 || to > 599 || from > to) {
                throw new IllegalArgumentException("expectStatusRange: " + from + ".." + to + " (expected: 100 <= from <= to <= 599)");
            }
            for (int s = from; s <= to; s++) {
                expectedStatuses.add(s);
            }
            return this;
        }

        /** Judges the response instead of the status list (Pingora's {@code validator}). */
        public Builder validator(ResponseValidator validator) {
            this.validator = requireNonNull(validator, "validator");
            return this;
        }

        /** Time allowed for the whole exchange after connecting (default 1 s). */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = ProbeSettings.timeout(timeout, "readTimeout");
            return this;
        }

        /** The connect (and TLS handshake) timeout, default 1 s. */
        public Builder connectTimeout(Duration timeout) {
            settings.connectTimeout(timeout);
            return this;
        }

        /** Keep one idle connection per backend between checks (default false: a fresh connection per check). */
        public Builder reuseConnection(boolean reuse) {
            this.reuseConnection = reuse;
            return this;
        }

        /** Body bytes kept for the validator (default 64 KiB; the rest is read and dropped). */
        public Builder maxBodyBytes(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxBodyBytes: " + max + " (expected: >= 0)");
            }
            this.maxBodyBytes = max;
            return this;
        }

        /** Whether to use HTTPS (default false). */
        public Builder tls(boolean tls) {
            settings.tls = tls;
            return this;
        }

        /** The TLS server name to send; with {@link #verifyHostname} the certificate must match it. */
        public Builder sni(String sni) {
            settings.sni(sni);
            return this;
        }

        /** Whether the certificate must match the {@link #sni} (default true). */
        public Builder verifyHostname(boolean verify) {
            settings.verifyHostname = verify;
            return this;
        }

        /** The TLS context, default {@link SSLContext#getDefault()}. */
        public Builder sslContext(SSLContext sslContext) {
            settings.sslContext(sslContext);
            return this;
        }

        /** Probe this port instead of the backend's. */
        public Builder portOverride(int port) {
            settings.portOverride(port);
            return this;
        }

        /** Consecutive successes that make an unhealthy backend healthy (default 1). */
        public Builder consecutiveSuccesses(int n) {
            settings.consecutiveSuccesses(n);
            return this;
        }

        /** Consecutive failures that make a healthy backend unhealthy (default 1). */
        public Builder consecutiveFailures(int n) {
            settings.consecutiveFailures(n);
            return this;
        }

        /**
         * The check.
         *
         * @throws IllegalStateException naming the settings when both a validator and expected
         *     statuses are set, or sni/sslContext without tls
         */
        public HttpHealthCheck build() {
            if (validator != null && !expectedStatuses.isEmpty()) {
                throw new IllegalStateException("validator: set together with expectStatuses " + expectedStatuses
                        + " (expected: one of them; a validator sees the status too)");
            }
            return new HttpHealthCheck(this);
        }

        private static boolean visibleAscii(String s) {
            return s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
        }
    }
}
