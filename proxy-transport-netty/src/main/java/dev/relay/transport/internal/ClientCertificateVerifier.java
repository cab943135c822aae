package dev.relay.transport.internal;

import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Verifies client certificates against a listener's client CA with the JDK's PKIX trust manager.
 * Strict, it fails the handshake on a bad certificate ({@code client-auth = require}); lenient
 * ({@code optional}), it lets the handshake complete. Either way it leaves its verdict in the
 * handshake's session under {@link #VERDICT_KEY}, where {@link #failure} finds it afterwards.
 *
 * <p>A resumed session checks no certificate: the handshake restores the peer's chain without
 * asking this trust manager, and the session values of the first handshake do not travel in a
 * session ticket. {@link #failure} then checks the restored chain again, so that a certificate that
 * failed once does not pass as verified when its session is resumed.
 */
final class ClientCertificateVerifier extends PkixTrustManager {
    /** The session value holding this handshake's verdict (a {@link Verdict}). */
    static final String VERDICT_KEY = "dev.relay.client-certificate-verdict";

    /** The outcome of the chain check: null {@code failure} when the certificate verified. */
    private record Verdict(@Nullable String failure) {}

    private static final Verdict VERIFIED = new Verdict(null);

    private final boolean lenient;

    private ClientCertificateVerifier(X509ExtendedTrustManager pkix, boolean lenient) {
        super(pkix, "a listener's client-CA trust manager");
        this.lenient = lenient;
    }

    /** A verifier trusting {@code ca}. */
    static ClientCertificateVerifier create(List<X509Certificate> ca, boolean lenient) {
        return new ClientCertificateVerifier(pkix(ca, "the client CA"), lenient);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        SSLSession handshake = engine.getHandshakeSession();
        try {
            pkix.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            if (!lenient) {
                throw e;
            }
            if (handshake != null) {
                handshake.putValue(VERDICT_KEY, new Verdict(reason(e)));
            }
            return;
        }
        if (handshake != null) {
            handshake.putValue(VERDICT_KEY, VERIFIED);
        }
    }

    /**
     * Why the client certificate {@code chain} of the finished handshake's {@code session} did not
     * verify, or null when it did: the verdict of the handshake's own check, or, when the handshake
     * resumed a session and checked nothing, the verdict of checking {@code chain} now.
     */
    @Nullable String failure(SSLSession session, X509Certificate[] chain) {
        if (session.getValue(VERDICT_KEY) instanceof Verdict verdict) {
            return verdict.failure();
        }
        try {
            // The key-exchange type matters only to server checks; a client check wants a non-empty one.
            pkix.checkClientTrusted(chain, "UNKNOWN");
            return null;
        } catch (CertificateException e) {
            return reason(e);
        } catch (RuntimeException e) {
            return "certificate check failed: " + e.getClass().getSimpleName();
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        // Netty hands engines, never sockets; a socket-based caller gets the strict check.
        pkix.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
    }

    /**
     * A short reason, in the words of OpenSSL's verify errors where one applies (what nginx shows in
     * {@code $ssl_client_verify}), rather than the JDK's nested exception text.
     */
    static String reason(CertificateException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return "certificate has expired";
            }
            if (t instanceof CertificateNotYetValidException) {
                return "certificate is not yet valid";
            }
            if (t instanceof CertPathValidatorException v) {
                if (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
                    return "certificate has expired";
                }
                if (v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
                    return "certificate is not yet valid";
                }
                if (v.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                    return "certificate revoked";
                }
                if (v.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE) {
                    return "certificate signature failure";
                }
            }
            if (t instanceof java.security.cert.CertPathBuilderException) {
                return "unable to get local issuer certificate";
            }
        }
        String message = String.valueOf(e.getMessage());
        if (message.startsWith("PKIX path building failed")) {
            return "unable to get local issuer certificate";
        }
        // One line, printable, bounded: it travels in a header and a log line.
        message = message.replaceAll("[^\\x20-\\x7e]", " ");
        return message.length() > 200 ? message.substring(0, 200) : message;
    }
}
