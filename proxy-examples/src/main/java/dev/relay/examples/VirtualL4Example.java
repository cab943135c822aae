package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * A proxy whose upstream is not a network server but something inside the process, the nearest
 * Relay has to Pingora's {@code virtual_l4} example. Pingora plugs a custom L4 connector into the
 * peer ({@code PeerOptions.custom_l4}) that returns a virtual socket, a stream object serving one
 * fixed response ({@code Hello, world!}) and discarding what is written to it.
 *
 * <p><b>Relay has no custom L4 connector:</b> its upstream connector opens TCP or Unix-domain sockets
 * only, and a pluggable stream type would reach through the transport's pool, TLS and HTTP codecs
 * (a larger change than an example should make). So the virtual socket here is a
 * {@link StaticVirtualSocket} service listening on a Unix-domain socket of the process, and
 * {@link #upstreamPeer} connects to it with {@link HttpPeer#unix}: the same traffic (every request
 * answered by in-process code with the fixed response, nothing sent over the network), through a
 * real socket pair rather than a Rust object. Unlike Pingora's, which answers once and then reads
 * as end of stream, it answers every request of a connection, so that the proxy's pooled
 * connections stay usable.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.VirtualL4Example
 * curl http://127.0.0.1:6196/
 * </pre>
 */
public final class VirtualL4Example implements ProxyHttp<Void> {
    private final CompletionStage<HttpPeer> virtualPeer;

    /** Sends every request to the virtual socket at {@code socket}. */
    public VirtualL4Example(Path socket) {
        this.virtualPeer = CompletableFuture.completedFuture(HttpPeer.unix(requireNonNull(socket, "socket")));
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        return virtualPeer;
    }

    /**
     * The virtual upstream: a {@link Service} on a Unix-domain socket that answers each request
     * header with {@code HTTP/1.1 200 OK} and {@code Hello, world!}, ignoring the request (blocking
     * JDK channels, one thread per connection, off the event loops).
     */
    public static final class StaticVirtualSocket implements Service {
        private static final Logger LOG = LoggerFactory.getLogger(StaticVirtualSocket.class);
        static final byte[] RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"
                .getBytes(StandardCharsets.US_ASCII);

        private final Path path;
        private volatile @Nullable ServerSocketChannel listener;

        /** A virtual socket at {@code path} (a file already there is replaced). */
        public StaticVirtualSocket(Path path) {
            this.path = requireNonNull(path, "path");
        }

        @Override
        public String name() {
            return "virtual-socket";
        }

        @Override
        public void start(TransportRuntime runtime) {
            try {
                Files.deleteIfExists(path);
                ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                channel.bind(UnixDomainSocketAddress.of(path));
                listener = channel;
                Thread acceptor = new Thread(() -> accept(channel), "virtual-socket");
                acceptor.setDaemon(true);
                acceptor.start();
            } catch (IOException e) {
                throw new UncheckedIOException("virtual socket " + path + ": " + e.getMessage(), e);
            }
        }

        private void accept(ServerSocketChannel channel) {
            while (channel.isOpen()) {
                try {
                    SocketChannel connection = channel.accept();
                    Thread t = new Thread(() -> serve(connection), "virtual-socket-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    LOG.debug("virtual socket closed: {}", e.toString());
                    return;
                }
            }
        }

        /** Answers every request header (up to its blank line) with {@link #RESPONSE}; requests have no body here. */
        private static void serve(SocketChannel connection) {
            ByteBuffer in = ByteBuffer.allocate(8192);
            int matched = 0;
            try (connection) {
                while (connection.read(in.clear()) >= 0) {
                    in.flip();
                    while (in.hasRemaining()) {
                        byte b = in.get();
                        // The end of a header is CR LF CR LF: count how much of it we are into.
                        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
                        if (matched == 4) {
                            matched = 0;
                            ByteBuffer out = ByteBuffer.wrap(RESPONSE);
                            while (out.hasRemaining()) {
                                connection.write(out);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                LOG.debug("virtual socket connection ended: {}", e.toString());
            }
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            close();
            return Stages.done();
        }

        @Override
        public void close() {
            ServerSocketChannel channel = listener;
            if (channel != null) {
                try {
                    channel.close();
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    LOG.debug("closing {} failed: {}", path, e.toString());
                }
            }
        }
    }

    /** Listens on 127.0.0.1:6196 and answers every request from the virtual socket. */
    public static void main(String[] args) throws IOException {
        Path socket = Files.createTempDirectory("relay-virtual-l4-").resolve("virtual.sock");
        Server server = Server.create();
        server.bootstrap();
        // Added first: the proxy depends on it.
        server.addService(new StaticVirtualSocket(socket));
        HttpProxyService proxy = HttpProxyService.create("virtual-proxy", new VirtualL4Example(socket),
                ProxyOptions.defaults());
        proxy.addTcp("127.0.0.1:6196");
        server.addService(proxy);
        System.err.println("Listening on 127.0.0.1:6196, try: curl http://127.0.0.1:6196/");
        server.runForever();
    }
}
