package dev.relay.examples;

import dev.relay.server.Service;
import dev.relay.transport.TlsCertificate;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A TCP echo server (each connection gets back what it sends), on plain and TLS listeners: Pingora's
 * {@code EchoApp} behind its {@code echo_service}, as a custom {@link Service} of a {@link
 * dev.relay.server.Server}. It uses blocking JDK sockets with a thread per connection, off the
 * server's event loops: Relay's own stream services relay to an upstream and have no hook for an
 * application that answers bytes itself. Thread-safe.
 */
public final class EchoService implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(EchoService.class);

    private final String name;
    /** The listeners: configured address and the TLS each terminates (null: plain TCP). */
    private final List<Listener> listeners = new ArrayList<>();
    private final List<ServerSocket> sockets = new CopyOnWriteArrayList<>();
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private volatile @Nullable ExecutorService threads;

    /** An echo service named {@code name} (in logs and thread names), without listeners yet. */
    public EchoService(String name) {
        this.name = requireNonNull(name, "name");
    }

    /** Adds a plain TCP listener on {@code address} ({@code host:port}, port 0 for a free one). */
    public synchronized EchoService addTcp(String address) {
        ServerExample.bindable(address);
        listeners.add(new Listener(address, null));
        return this;
    }

    /** Adds a TLS listener on {@code address} that serves {@code certificate}. */
    public synchronized EchoService addTls(String address, TlsCertificate certificate) {
        ServerExample.bindable(address);
        listeners.add(new Listener(address, sslContext(certificate)));
        return this;
    }

    private record Listener(String address, @Nullable SSLContext tls) {}

    private static SSLContext sslContext(TlsCertificate certificate) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0];
            store.setKeyEntry("echo", certificate.privateKey(), password,
                    certificate.chain().toArray(new X509Certificate[0]));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("certificate: " + certificate + " cannot be used: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized void start(TransportRuntime runtime) {
        if (threads != null) {
            throw new IllegalStateException("start: service '" + name + "' has already started");
        }
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name + "-echo");
            t.setDaemon(true);
            return t;
        });
        threads = pool;
        try {
            for (Listener listener : listeners) {
                SSLContext tls = listener.tls();
                ServerSocket socket = tls == null ? new ServerSocket() : tls.getServerSocketFactory().createServerSocket();
                socket.setReuseAddress(true);
                socket.bind(ServerExample.bindable(listener.address()));
                sockets.add(socket);
                LOG.info("echo service '{}' listening on {}{}", name, socket.getLocalSocketAddress(),
                        tls == null ? "" : " (TLS)");
                pool.execute(() -> accept(socket));
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("echo service '" + name + "': cannot listen: " + e.getMessage(), e);
        }
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                connections.add(connection);
                ExecutorService pool = threads;
                if (pool == null || pool.isShutdown()) {
                    connection.close();
                    return;
                }
                pool.execute(() -> echo(connection));
            } catch (IOException e) {
                // The listener was closed (stop): the loop ends.
                if (!socket.isClosed()) {
                    LOG.debug("echo service '{}': accept failed: {}", name, e.toString());
                }
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return;
            }
        }
    }

    private void echo(Socket connection) {
        byte[] buffer = new byte[1024];
        try (connection; InputStream in = connection.getInputStream(); OutputStream out = connection.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
            LOG.debug("echo session closing");
        } catch (IOException e) {
            LOG.debug("echo session ended: {}", e.toString());
        } finally {
            connections.remove(connection);
        }
    }

    /** The addresses listened on; empty before start and after stop. */
    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (ServerSocket socket : sockets) {
            if (!socket.isClosed()) {
                out.add((InetSocketAddress) socket.getLocalSocketAddress());
            }
        }
        return out;
    }

    /** Connections being echoed now. */
    public int openConnections() {
        return connections.size();
    }

    /**
     * Closes the listeners, lets the open connections end by themselves for up to {@code gracePeriod},
     * then closes what is left.
     */
    @Override
    public CompletionStage<Void> stop(Duration gracePeriod) {
        closeListeners();
        return CompletableFuture.runAsync(() -> {
            long deadline = System.nanoTime() + gracePeriod.toNanos();
            ExecutorService pool = threads;
            if (pool != null) {
                pool.shutdown();
                try {
                    // The connection threads end when their clients hang up.
                    pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            close();
        });
    }

    private void closeListeners() {
        for (ServerSocket socket : sockets) {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing {} failed: {}", socket, e.toString());
            }
        }
    }

    @Override
    public void close() {
        closeListeners();
        for (Socket connection : connections) {
            try {
                connection.close();
            } catch (IOException e) {
                LOG.debug("closing {} failed: {}", connection, e.toString());
            }
        }
        ExecutorService pool = threads;
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
