package dev.relay.core;

/**
 * Which version of HAProxy's PROXY protocol a proxy writes as the first bytes of an upstream
 * connection, to tell the origin the real client address ({@link PeerOptions#sendProxyProtocol()}).
 * See <a href="https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt">the specification</a>.
 */
public enum ProxyProtocol {
    /** No PROXY header: the origin sees the proxy as its client. */
    NONE,
    /** Version 1, one human-readable line: {@code PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n}. */
    V1,
    /** Version 2, binary: shorter to parse, and IPv4/IPv6/unknown alike. */
    V2
}
