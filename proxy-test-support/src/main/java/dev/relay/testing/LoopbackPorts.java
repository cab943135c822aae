package dev.relay.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Ports for the external servers a test starts (nginx, redis-server), which cannot bind port 0 and report
 * the port they got: one found free a moment ago, and a probe that tells when the server listens.
 */
final class LoopbackPorts {
    private LoopbackPorts() {}

    /** A port that was free on loopback when this returned (another process may take it in between). */
    static int free() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Whether something accepts TCP connections on {@code 127.0.0.1:port}. */
    static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
