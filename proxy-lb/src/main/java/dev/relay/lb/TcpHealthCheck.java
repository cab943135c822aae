package dev.relay.lb;

import dev.relay.core.Backend;
import dev.relay.lb.internal.ProbeConnector;

import java.net.Socket;
import java.time.Duration;
import javax.net.ssl.SSLContext;

import static java.util.Objects.requireNonNull;

/**
 * A TCP health check: the backend is healthy when a connection (and, with TLS, a handshake)
 * succeeds within the connect timeout. The connection is closed at once.
 *
 * <pre>{@code
 * HealthCheck check = TcpHealthCheck.builder().connectTimeout(Duration.ofMillis(500)).consecutiveFailures(2).build();
 * HealthCheck tls = TcpHealthCheck.builder().tls(true).sni("api.example").build();
 * }</pre>
 */
public final class TcpHealthCheck implements HealthCheck {
    private final ProbeConnector connector;
    private final int consecutiveSuccesses;
    private final int consecutiveFailures;
    private final String description;

    private TcpHealthCheck(ProbeSettings settings) {
        this.connector = settings.connector();
        this.consecutiveSuccesses = settings.consecutiveSuccesses;
        this.consecutiveFailures = settings.consecutiveFailures;
        this.description = "TcpHealthCheck(" + settings.describe() + ")";
    }

    /** A builder: 1 s connect timeout, plain TCP, thresholds 1 and 1. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void check(Backend backend) throws Exception {
        requireNonNull(backend, "backend");
        Socket socket = connector.connect(backend);
        ProbeConnector.closeQuietly(socket);
    }

    @Override
    public int consecutiveSuccesses() {
        return consecutiveSuccesses;
    }

    @Override
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    @Override
    public String toString() {
        return description;
    }

    /** Settings of a {@link TcpHealthCheck}. */
    public static final class Builder {
        private final ProbeSettings settings = new ProbeSettings();

        private Builder() {}

        /** The connect (and TLS handshake) timeout, default 1 s. */
        public Builder connectTimeout(Duration timeout) {
            settings.connectTimeout(timeout);
            return this;
        }

        /** Whether to complete a TLS handshake after connecting (default false). */
        public Builder tls(boolean tls) {
            settings.tls = tls;
            return this;
        }

        /** The TLS server name to send; with {@link #verifyHostname} the certificate must match it. */
        public Builder sni(String sni) {
            settings.sni(sni);
            return this;
        }

        /** Whether the certificate must match the {@link #sni} (default true; without an SNI only the chain is verified). */
        public Builder verifyHostname(boolean verify) {
            settings.verifyHostname = verify;
            return this;
        }

        /** The TLS context (trust store, client certificate), default {@link SSLContext#getDefault()}. */
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
         * @throws IllegalStateException when sni or sslContext is set without tls
         */
        public TcpHealthCheck build() {
            return new TcpHealthCheck(settings);
        }
    }
}
