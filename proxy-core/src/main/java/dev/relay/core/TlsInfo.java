package dev.relay.core;

import org.jspecify.annotations.Nullable;

import static java.util.Objects.requireNonNull;

/**
 * What the TLS handshake of a downstream connection settled, as the phases see it through
 * {@link Session#downstreamTls()}: null there on a plain connection. Immutable; the same instance
 * for every request of a connection.
 *
 * @param protocol          the protocol version, {@code TLSv1.2} or {@code TLSv1.3}
 * @param cipherSuite       the cipher suite, IANA name ({@code TLS_AES_128_GCM_SHA256})
 * @param serverName        the SNI host name the client asked for; null when it sent none
 * @param alpn              the application protocol negotiated with ALPN ({@code http/1.1}); null when
 *                          the client offered none
 * @param clientCertificate the client's certificate (mutual TLS); null when it presented none
 */
public record TlsInfo(String protocol, String cipherSuite, @Nullable String serverName, @Nullable String alpn,
                      @Nullable ClientCertificate clientCertificate) {

    /** Checks the components. */
    public TlsInfo {
        requireNonNull(protocol, "protocol");
        requireNonNull(cipherSuite, "cipherSuite");
    }

    /** The client certificate's verification; {@link ClientCertificate.Verification#NONE} when there is none. */
    public ClientCertificate.Verification clientVerification() {
        return clientCertificate == null ? ClientCertificate.Verification.NONE : clientCertificate.verification();
    }

    /**
     * The verification as nginx's {@code $ssl_client_verify} spells it: {@code SUCCESS},
     * {@code FAILED:<reason>} or {@code NONE}; what {@code X-Client-Cert-Verify} carries to an origin.
     */
    public String clientVerify() {
        return switch (clientVerification()) {
            case VERIFIED -> "SUCCESS";
            case FAILED -> "FAILED:" + clientCertificate.failureReason();
            case NONE -> "NONE";
        };
    }
}
