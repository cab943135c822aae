package dev.relay.transport;

import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletionStage;

/**
 * Picks the certificate of one TLS handshake, possibly asynchronously (from a vault, a cache that
 * issues certificates on demand ...): Pingora's {@code TlsAccept}. Called on the connection's event
 * loop with the SNI name once the ClientHello arrived; must not block it. A stage that completes with
 * null leaves the choice to the listener's configured certificates (SNI match, else the first); one
 * that fails closes the connection with an alert.
 *
 * <pre>{@code
 * TlsSettings settings = TlsSettings.builder()
 *         .certificate(Path.of("default.pem"), Path.of("default.key"))
 *         .certificateSelector(sni -> sni != null && sni.endsWith(".tenant.example")
 *                 ? store.certificateFor(sni)                    // a CompletionStage<TlsCertificate>
 *                 : CompletableFuture.completedFuture(null))
 *         .build();
 * }</pre>
 */
@FunctionalInterface
public interface TlsAccept {

    /**
     * The certificate for a handshake whose client asked for {@code serverName} (null: no SNI).
     *
     * @return a stage with the certificate, or with null to use the configured ones
     */
    CompletionStage<@Nullable TlsCertificate> certificate(@Nullable String serverName);
}
