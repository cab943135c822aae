package dev.relay.server.internal.config;

import dev.relay.core.CidrBlock;
import dev.relay.core.ConnectionFilter;
import dev.relay.transport.ListenerOptions;

import java.util.List;

/**
 * What a listener does with a connection before TLS and HTTP: the PROXY protocol and the CIDR
 * connection filter ({@code proxy-protocol}, {@code proxy-protocol-trusted}, {@code allow},
 * {@code deny}). A value: a reload compares it to tell whether a kept listener's settings changed.
 *
 * @param proxyProtocol whether connections must start with a PROXY header
 * @param trusted       the peers allowed to send one; empty: any
 * @param allow         the client blocks served (empty: all but the denied)
 * @param deny          the client blocks refused, whatever {@code allow} says
 */
public record ConnectionSettings(boolean proxyProtocol, List<CidrBlock> trusted, List<CidrBlock> allow,
                                 List<CidrBlock> deny) {
    /** No PROXY protocol, no filter. */
    public static final ConnectionSettings NONE = new ConnectionSettings(false, List.of(), List.of(), List.of());

    public ConnectionSettings {
        trusted = List.copyOf(trusted);
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /** Applies these settings to a listener's options. */
    ListenerOptions.Builder applyTo(ListenerOptions.Builder options) {
        return options.proxyProtocol(proxyProtocol)
                .proxyProtocolTrusted(trusted)
                .connectionFilter(allow.isEmpty() && deny.isEmpty() ? null : ConnectionFilter.cidrs(allow, deny));
    }
}
