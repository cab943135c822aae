package dev.relay.transport.internal;

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
 * ({@code optional}), it lets the handshake complete and leaves the reason in the handshake's
 * session under {@link #FAILURE_KEY}, where {@link TlsHandshakeHandler} finds it afterwards.
 */
final class ClientCertificateVerifier extends PkixTrustManager {
    /** The session value holding why the client certificate did not verify (a String). */
    static final String FAILURE_KEY = "dev.relay.client-certificate-failure";

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
        try {
            pkix.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            if (!lenient) {
                throw e;
            }
            SSLSession handshake = engine.getHandshakeSession();
            if (handshake != null) {
                handshake.putValue(FAILURE_KEY, reason(e));
            }
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
