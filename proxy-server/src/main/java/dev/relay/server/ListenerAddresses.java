package dev.relay.server;

import dev.relay.core.Addresses;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Matching configured listener addresses ({@code *:80}, {@code 127.0.0.1:0}) with bound sockets. */
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
}
