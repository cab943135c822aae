package dev.relay.server.internal.config;

import dev.relay.lb.HealthCheck;
import dev.relay.lb.HttpHealthCheck;
import dev.relay.lb.TcpHealthCheck;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The active health check of an upstream group ({@code health-check { ... }}). A value, so that a
 * reload can tell an unchanged group from a changed one; {@link #create()} makes the check.
 *
 * @param type               {@code tcp} (connect, and TLS handshake) or {@code http} (a request)
 * @param interval           time between the end of a round and the start of the next
 * @param parallel           whether the backends of a round are checked in parallel
 * @param consecutiveSuccess successes in a row that make an unhealthy backend healthy
 * @param consecutiveFailure failures in a row that make a healthy backend unhealthy
 * @param connectTimeout     the connect (and TLS handshake) timeout
 * @param readTimeout        the time allowed for the exchange after connecting (http)
 * @param tls                whether to check over TLS
 * @param sni                the server name to present; null: none
 * @param verifyChain        whether the certificate chain is verified (the group's {@code verify})
 * @param verifyHostname     whether the certificate must match {@code sni}
 * @param port               the port to probe; 0: each backend's
 * @param host               the {@code Host} header sent (http)
 * @param method             the request method (http)
 * @param path               the request target (http)
 * @param headers            extra request header fields (http)
 * @param expectedStatuses   the statuses that mean healthy, ascending (http)
 * @param reuseConnection    whether one connection per backend is kept between checks (http)
 */
public record HealthCheckConfig(Type type, Duration interval, boolean parallel, int consecutiveSuccess,
                                int consecutiveFailure, Duration connectTimeout, Duration readTimeout, boolean tls,
                                String sni, boolean verifyChain, boolean verifyHostname, int port, String host,
                                String method, String path, Map<String, String> headers,
                                List<Integer> expectedStatuses, boolean reuseConnection) {

    /** The kinds of check. */
    public enum Type {
        /** A TCP connect (and TLS handshake with {@code tls = true}). */
        TCP,
        /** An HTTP/1.1 request whose status must be one of the expected ones. */
        HTTP;

        /** {@code tcp}, {@code http}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public HealthCheckConfig {
        requireNonNull(type, "type");
        requireNonNull(interval, "interval");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(readTimeout, "readTimeout");
        requireNonNull(host, "host");
        requireNonNull(method, "method");
        requireNonNull(path, "path");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        expectedStatuses = List.copyOf(expectedStatuses);
    }

    /**
     * A new check of these settings.
     *
     * @throws IllegalArgumentException or IllegalStateException naming the setting the check rejects
     */
    public HealthCheck create() {
        if (type == Type.TCP) {
            TcpHealthCheck.Builder b = TcpHealthCheck.builder()
                    .connectTimeout(connectTimeout)
                    .tls(tls)
                    .verifyHostname(verifyHostname)
                    .consecutiveSuccesses(consecutiveSuccess)
                    .consecutiveFailures(consecutiveFailure);
            if (sni != null) {
                b.sni(sni);
            }
            if (port != 0) {
                b.portOverride(port);
            }
            if (tls && !verifyChain) {
                b.sslContext(TrustEverything.CONTEXT);
            }
            return b.build();
        }
        HttpHealthCheck.Builder b = HttpHealthCheck.builder(host)
                .method(method)
                .path(path)
                .connectTimeout(connectTimeout)
                .readTimeout(readTimeout)
                .reuseConnection(reuseConnection)
                .tls(tls)
                .verifyHostname(verifyHostname)
                .consecutiveSuccesses(consecutiveSuccess)
                .consecutiveFailures(consecutiveFailure)
                .expectStatuses(expectedStatuses.stream().mapToInt(Integer::intValue).toArray());
        headers.forEach(b::header);
        if (sni != null) {
            b.sni(sni);
        }
        if (port != 0) {
            b.portOverride(port);
        }
        if (tls && !verifyChain) {
            b.sslContext(TrustEverything.CONTEXT);
        }
        return b.build();
    }

    /** What {@code /upstreams} shows: {@code http GET /healthz every 5s}. */
    public String describe() {
        return type == Type.HTTP
                ? "http " + method + " " + path + " every " + ConfigText.duration(interval)
                : "tcp every " + ConfigText.duration(interval);
    }

    /**
     * A TLS context that accepts any certificate: for the checks of a group with {@code verify = false},
     * which must not judge a backend by a certificate the proxy itself does not verify.
     */
    private static final class TrustEverything implements X509TrustManager {
        static final SSLContext CONTEXT = context();

        private static SSLContext context() {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, new TrustManager[] {new TrustEverything()}, null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("tls: cannot create a TLS context (" + e.getMessage() + ")", e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // never a client: nothing to check
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            // verify = false: the chain is deliberately not checked
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
