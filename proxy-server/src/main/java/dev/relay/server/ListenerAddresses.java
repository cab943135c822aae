package dev.relay.server;

import dev.relay.core.Addresses;
import dev.relay.transport.HttpProxyServer;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Iterator;
import java.util.Map;

/**
 * Matching configured listener addresses ({@code *:80}, {@code 127.0.0.1:0}) with bound sockets, and
 * the sockets inherited from a previous process that the listeners take or leave.
 */
final class ListenerAddresses {
    private ListenerAddresses() {}

    /**
     * Whether a socket bound to {@code bound} serves the listener configured as {@code configured}:
     * same port (any, when configured as 0) and same address ({@code *}, {@code 0.0.0.0} and
     * {@code [::]} all mean "any").
     */
    static boolean matches(String configured, InetSocketAddress bound) {
        InetSocketAddress wanted;
        try {
            wanted = Addresses.parseHostPort(configured);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (wanted.getPort() != 0 && wanted.getPort() != bound.getPort()) {
            return false;
        }
        InetAddress actual = bound.getAddress();
        InetAddress address = wanted.getAddress();
        if (address == null) {
            try {
                address = InetAddress.getByName(wanted.getHostString());
            } catch (UnknownHostException e) {
                return false;
            }
        }
        if (address.isAnyLocalAddress()) {
            return actual == null || actual.isAnyLocalAddress();
        }
        return address.equals(actual);
    }

    /**
     * Removes from {@code inherited} (listening sockets handed over by the previous process, by bound
     * address) the descriptor of the socket that serves the listener configured as {@code configured},
     * and returns it; null when none does.
     */
    static @Nullable Integer take(Map<InetSocketAddress, Integer> inherited, String configured) {
        for (Iterator<Map.Entry<InetSocketAddress, Integer>> it = inherited.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<InetSocketAddress, Integer> e = it.next();
            if (matches(configured, e.getKey())) {
                it.remove();
                return e.getValue();
            }
        }
        return null;
    }

    /** Closes the inherited sockets left in {@code inherited} (no listener wants them) and empties it. */
    static void closeAll(Map<InetSocketAddress, Integer> inherited) {
        for (int fd : inherited.values()) {
            try {
                HttpProxyServer.closeInheritedDescriptor(fd);
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ListenerAddresses.class).debug("closing inherited fd {} failed: {}", fd, e.toString());
            }
        }
        inherited.clear();
    }
}
