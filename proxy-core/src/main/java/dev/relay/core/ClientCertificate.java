package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.time.Instant;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The certificate a client presented during a TLS handshake (mutual TLS), as the phases see it
 * through {@link TlsInfo#clientCertificate()}, with the outcome of its verification against the
 * listener's client CA. Immutable.
 *
 * <p>Under {@code client-auth = optional} a certificate that fails verification still completes the
 * handshake and arrives here {@link Verification#FAILED} with the reason, so that a phase can decide
 * (nginx's {@code $ssl_client_verify = FAILED:reason}); under {@code require} such a client never
 * gets to send a request.
 *
 * <pre>{@code
 * TlsInfo tls = session.downstreamTls();
 * if (tls == null || tls.clientVerification() != ClientCertificate.Verification.VERIFIED) {
 *     return session.respondError(403).thenApply(v -> true);
 * }
 * String who = tls.clientCertificate().subject();
 * }</pre>
 *
 * @param subject                 the subject distinguished name, RFC 2253 ({@code CN=alice,O=Example})
 * @param issuer                  the issuer distinguished name, RFC 2253
 * @param subjectAlternativeNames the subject alternative names as {@code type:value}
 *                                ({@code DNS:alice.example.com}, {@code email:alice@example.com},
 *                                {@code IP:10.0.0.1}, {@code URI:spiffe://...}), in certificate order
 * @param sha256Fingerprint       SHA-256 of the DER encoding, lower-case hex without separators
 * @param serialNumber            the serial number, upper-case hex (as {@code openssl x509 -serial})
 * @param notBefore               start of validity
 * @param notAfter                end of validity
 * @param verification            {@link Verification#VERIFIED} or {@link Verification#FAILED}
 * @param failureReason           why verification failed; null unless {@link Verification#FAILED}
 */
public record ClientCertificate(String subject, String issuer, List<String> subjectAlternativeNames,
                                String sha256Fingerprint, String serialNumber, Instant notBefore,
                                Instant notAfter, Verification verification, @Nullable String failureReason) {

    /** The outcome of verifying a client certificate (nginx's {@code $ssl_client_verify}). */
    public enum Verification {
        /** The chain leads to the listener's client CA and is valid now. */
        VERIFIED,
        /** A certificate was presented but did not verify; see {@link ClientCertificate#failureReason()}. */
        FAILED,
        /** The client presented no certificate (never the verification of a {@link ClientCertificate}). */
        NONE
    }

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException when {@code verification} is {@code NONE}, or a failure has no
     *                                  reason, or a success has one
     */
    public ClientCertificate {
        requireNonNull(subject, "subject");
        requireNonNull(issuer, "issuer");
        subjectAlternativeNames = List.copyOf(subjectAlternativeNames);
        requireNonNull(sha256Fingerprint, "sha256Fingerprint");
        requireNonNull(serialNumber, "serialNumber");
        requireNonNull(notBefore, "notBefore");
        requireNonNull(notAfter, "notAfter");
        requireNonNull(verification, "verification");
        if (verification == Verification.NONE) {
            throw new IllegalArgumentException("verification: NONE (expected: VERIFIED or FAILED for a presented certificate)");
        }
        if ((verification == Verification.FAILED) != (failureReason != null)) {
            throw new IllegalArgumentException("failureReason: " + failureReason
                    + " (expected: a reason exactly when verification is FAILED)");
        }
    }

    /** Whether the certificate verified against the listener's client CA. */
    public boolean isVerified() {
        return verification == Verification.VERIFIED;
    }
}
