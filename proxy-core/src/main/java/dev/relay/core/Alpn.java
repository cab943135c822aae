package dev.relay.core;

/** Which HTTP versions to offer an upstream during the TLS handshake (ALPN). */
public enum Alpn {
    /** HTTP/1.1 only (Pingora's default). */
    H1,
    /** HTTP/2 only. */
    H2,
    /** HTTP/2 preferred, HTTP/1.1 accepted. */
    H2_OR_H1
}
