package dev.relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server on loopback that accepts connections and then neither reads nor writes a byte: the peer
 * that never answers a TLS handshake, or never answers at all. Connections stay open until {@link #close()}.
 *
 * <pre>{@code
 * try (SilentServer silent = SilentServer.start()) {
 *     // a TLS peer at silent.address() with a total connection timeout of 300 ms times out the handshake
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class SilentServer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger connectionsAccepted = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean closed;

    private SilentServer(ServerSocket listener) {
        this.listener = listener;
        this.acceptor = new Thread(this::acceptLoop, "silent-server-" + listener.getLocalPort());
        this.acceptor.setDaemon(true);
    }

    /** Binds {@code 127.0.0.1} on an ephemeral port and starts accepting. */
    public static SilentServer start() {
        ServerSocket listener;
        try {
            listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind an ephemeral loopback port", e);
        }
        SilentServer server = new SilentServer(listener);
        server.acceptor.start();
        return server;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = listener.accept();
                connectionsAccepted.incrementAndGet();
                accepted.add(socket);
                if (closed) {
                    socket.close();
                }
            } catch (SocketException e) {
                return; // closed
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** The bound port. */
    public int port() {
        return listener.getLocalPort();
    }

    /** {@code "127.0.0.1:PORT"}. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    /** The bound address. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress("127.0.0.1", port());
    }

    /** Connections accepted so far. */
    public int connectionsAccepted() {
        return connectionsAccepted.get();
    }

    /** Stops listening and closes every accepted connection. */
    @Override
    public void close() {
        closed = true;
        closeAll(listener, accepted);
        accepted.clear();
    }

    /** Closes {@code listener} and then each of {@code accepted}, going on whatever fails (the test servers' close). */
    static void closeAll(ServerSocket listener, Iterable<Socket> accepted) {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket socket : accepted) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public String toString() {
        return "SilentServer{" + address() + '}';
    }
}
