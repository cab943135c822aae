package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Opens the connection of a health probe with blocking JDK sockets (health checks run on their own
 * threads, never on an event loop): TCP with a connect timeout, then optionally a TLS handshake
 * with SNI and host name verification, all within one deadline.
 */
public final class ProbeConnector {
    private final long connectTimeoutNanos;
    private final SSLContext sslContext;
    private final String sni;
    private final boolean verifyHostname;
    private final int portOverride;

    /**
     * @param sslContext     the TLS context, {@code null} for plain TCP
     * @param sni            the server name to send, {@code null} for none
     * @param verifyHostname whether the certificate must match {@code sni} (ignored without one)
     * @param portOverride   the port to probe instead of the backend's, 0 for the backend's
     */
    public ProbeConnector(long connectTimeoutNanos, SSLContext sslContext, String sni, boolean verifyHostname, int portOverride) {
        this.connectTimeoutNanos = connectTimeoutNanos;
        this.sslContext = sslContext;
        this.sni = sni;
        this.verifyHostname = verifyHostname;
        this.portOverride = portOverride;
    }

    /**
     * The TCP address a probe of {@code backend} connects to.
     *
     * @throws IllegalStateException for a Unix-domain socket backend, which has none
     */
    public InetSocketAddress address(Backend backend) {
        InetSocketAddress a = backend.address();
        if (portOverride == 0) {
            return a;
        }
        return a.isUnresolved() ? InetSocketAddress.createUnresolved(a.getHostString(), portOverride)
                : new InetSocketAddress(a.getAddress(), portOverride);
    }

    /** A connected (and, with TLS, handshaken) socket to {@code backend}, within the connect timeout. */
    public Socket connect(Backend backend) throws IOException {
        long deadline = System.nanoTime() + connectTimeoutNanos;
        if (backend.socketAddress() instanceof UnixDomainSocketAddress unix) {
            // The port override has no meaning for a socket path; TLS, when wanted, runs over it.
            Socket socket = UnixProbeSocket.connect(unix, remainingMillis(deadline));
            return sslContext == null ? socket : handshake(socket, sni != null ? sni : "localhost", 0, deadline);
        }
        InetSocketAddress target = address(backend);
        if (target.isUnresolved()) {
            target = new InetSocketAddress(target.getHostString(), target.getPort());
            if (target.isUnresolved()) {
                throw new IOException("cannot resolve " + target.getHostString());
            }
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(target, remainingMillis(deadline));
            if (sslContext == null) {
                return socket;
            }
            return handshake(socket, sni != null ? sni : target.getHostString(), target.getPort(), deadline);
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    private Socket handshake(Socket socket, String host, int port, long deadline) throws IOException {
        try {
            SSLSocket tls = (SSLSocket) sslContext.getSocketFactory().createSocket(socket, host, port, true);
            SSLParameters parameters = tls.getSSLParameters();
            if (sni != null) {
                parameters.setServerNames(List.of(new SNIHostName(sni)));
                if (verifyHostname) {
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                }
            }
            tls.setSSLParameters(parameters);
            tls.setSoTimeout(remainingMillis(deadline));
            tls.startHandshake();
            return tls;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /** Milliseconds until {@code deadline} (at least 1), or a timeout when it passed. */
    public static int remainingMillis(long deadline) throws SocketTimeoutException {
        long nanos = deadline - System.nanoTime();
        if (nanos <= 0) {
            throw new SocketTimeoutException("health check timed out");
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
    }

    /** Closes {@code socket}, ignoring failures. */
    public static void closeQuietly(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do: the probe's verdict is already made
        }
    }
}
