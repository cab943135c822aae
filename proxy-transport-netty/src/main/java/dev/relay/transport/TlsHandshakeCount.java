package dev.relay.transport;

/**
 * TLS handshakes run by a listener (or a whole server) since it started: what
 * {@link HttpProxyServer#tlsHandshakes()} and {@link StreamProxyServer#tlsHandshakes()} report, for
 * metrics.
 *
 * @param completed handshakes that completed
 * @param failed    handshakes that failed, timed out, or that the client abandoned
 */
public record TlsHandshakeCount(long completed, long failed) {}
