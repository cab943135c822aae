package dev.relay.transport;

import dev.relay.core.PeerOptions;
import dev.relay.transport.internal.UpstreamTlsContexts;

import java.util.concurrent.CompletionStage;

/**
 * The TLS of connections to upstream peers, prepared ahead.
 *
 * <p>The client TLS context of a set-up (the {@link PeerOptions} that shape it: verification, trusted
 * roots, alternative name, client certificate, ALPN) is built once per process, off the event loops,
 * and shared by every server and client of the process. The first one also loads the TLS provider:
 * together 0.6 to 1 s in a fresh JVM, which the first connection to such a peer would otherwise wait
 * for. A server that knows its TLS peers (the configured upstream groups of {@code proxy-server})
 * prepares their set-ups while it starts, so that its first requests, after a start or a zero-downtime
 * upgrade alike, do not wait.
 */
public final class UpstreamTls {
    private UpstreamTls() {}

    /**
     * Starts building the TLS context that connections to peers with {@code options} use, unless it
     * was built; returns at once.
     *
     * @return completes when the context is built, or with the reason it cannot be (the connections of
     *     such a peer then fail with it too)
     */
    public static CompletionStage<Void> prepare(PeerOptions options) {
        return UpstreamTlsContexts.prepare(options);
    }
}
