package dev.relay.core;

import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Decides whether a newly accepted client connection is served, before any of its bytes are read
 * as TLS or HTTP (Pingora's {@code ConnectionFilter::should_accept}). A refused connection is closed
 * at once and counted.
 *
 * <pre>{@code
 * ConnectionFilter office = ConnectionFilter.cidrs(
 *         List.of(CidrBlock.parse("10.0.0.0/8")),          // allow
 *         List.of(CidrBlock.parse("10.1.2.3/32")));        // deny, even inside the allowed block
 * server.bind("0.0.0.0:8080", ListenerOptions.builder().connectionFilter(office).build());
 * }</pre>
 *
 * <p>The answer may come later (a lookup in a remote deny list): reading from the connection stays
 * paused until the stage completes. A stage that fails, or a filter that throws, refuses the
 * connection. On a listener that accepts the PROXY protocol the filter sees the client address the
 * PROXY header gave (the real client), after the header was read from a trusted peer.
 */
@FunctionalInterface
public interface ConnectionFilter {

    /**
     * Whether to serve the connection from {@code client}: an {@code InetSocketAddress}, or the
     * address of a unix-domain socket peer. Called on the connection's event loop: must not block;
     * return {@link Stages#of(boolean)} for an answer known at once.
     */
    CompletionStage<Boolean> shouldAccept(SocketAddress client);

    /**
     * A filter on IP blocks: a client in any {@code deny} block is refused; otherwise, when
     * {@code allow} is not empty, only a client in one of its blocks is served; with both empty,
     * everyone is. Deny wins over allow whatever the order, so a single host can be carved out of an
     * allowed network. A client that has no IP address (a unix-domain socket peer) is in no block.
     */
    static ConnectionFilter cidrs(List<CidrBlock> allow, List<CidrBlock> deny) {
        return new CidrConnectionFilter(List.copyOf(requireNonNull(allow, "allow")),
                List.copyOf(requireNonNull(deny, "deny")));
    }
}
