package dev.relay.filters.redis.internal;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connect to a loopback port nothing listens on can "succeed" by being given that port as its source
 * (TCP simultaneous open): the socket is connected to itself and echoes what is written. The client must
 * not take that for a Redis server.
 */
class RedisIoLoopSelfConnectTest {

    @Test
    void aSocketConnectedToItselfIsRecognised() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (SocketChannel socket = SocketChannel.open()) {
            socket.bind(new InetSocketAddress(loopback, 0));
            // Nothing listens on the socket's own port: connecting to it is the self-connect the kernel allows.
            socket.connect(socket.getLocalAddress());
            assertTrue(RedisIoLoop.connectedToItself(socket), socket.toString());
        }
    }

    @Test
    void aSocketConnectedToAServerIsNot() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             SocketChannel socket = SocketChannel.open(server.getLocalSocketAddress())) {
            assertFalse(RedisIoLoop.connectedToItself(socket));
        }
    }
}
