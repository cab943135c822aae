package dev.relay.lb;

import dev.relay.lb.internal.ProbeConnector;
import org.jspecify.annotations.Nullable;

import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import javax.net.ssl.SSLContext;

import static java.util.Objects.requireNonNull;

/** The connection and threshold settings that TCP and HTTP health checks share, and their validation. */
final class ProbeSettings {
    Duration connectTimeout = Duration.ofSeconds(1);
    boolean tls;
    @Nullable String sni;
    boolean verifyHostname = true;
    @Nullable SSLContext sslContext;
    int portOverride;
    int consecutiveSuccesses = 1;
    int consecutiveFailures = 1;

    void connectTimeout(Duration timeout) {
        this.connectTimeout = timeout(timeout, "connectTimeout");
    }

    void sslContext(SSLContext sslContext) {
        this.sslContext = requireNonNull(sslContext, "sslContext");
    }

    void sni(String sni) {
        requireNonNull(sni, "sni");
        if (sni.isEmpty()) {
            throw new IllegalArgumentException("sni: \"\" (expected: a host name)");
        }
        this.sni = sni;
    }

    void portOverride(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("portOverride: " + port + " (expected: 1..65535)");
        }
        this.portOverride = port;
    }

    void consecutiveSuccesses(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("consecutiveSuccesses: " + n + " (expected: >= 1)");
        }
        this.consecutiveSuccesses = n;
    }

    void consecutiveFailures(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("consecutiveFailures: " + n + " (expected: >= 1)");
        }
        this.consecutiveFailures = n;
    }

    /** Rejects conflicting settings; the connector to use. */
    ProbeConnector connector() {
        if (!tls && (sni != null || sslContext != null)) {
            throw new IllegalStateException("tls: false (expected: true when sni or sslContext is set)");
        }
        SSLContext context = null;
        if (tls) {
            try {
                context = sslContext != null ? sslContext : SSLContext.getDefault();
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("tls: no default SSLContext (" + e.getMessage() + ")", e);
            }
        }
        return new ProbeConnector(connectTimeout.toNanos(), context, sni, verifyHostname, portOverride);
    }

    static Duration timeout(Duration d, String name) {
        requireNonNull(d, name);
        if (d.isZero() || d.isNegative() || d.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0 and <= 10 minutes)");
        }
        return d;
    }

    String describe() {
        return "connectTimeout=" + connectTimeout + (tls ? ", tls" + (sni != null ? " sni=" + sni : "") : "")
                + (portOverride != 0 ? ", port=" + portOverride : "")
                + ", thresholds=" + consecutiveSuccesses + "/" + consecutiveFailures;
    }
}
