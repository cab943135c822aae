package dev.relay.transport;

import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static dev.relay.transport.TransportRuntime.Kind.EPOLL;
import static dev.relay.transport.TransportRuntime.Kind.IO_URING;
import static dev.relay.transport.TransportRuntime.Kind.NIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Listening sockets handed over as a zero-downtime upgrade hands them to the next process: the
 * descriptor is passed over a Unix socket (SCM_RIGHTS, {@link DescriptorPassing}), the receiver adopts
 * it and accepts on its own transport, io_uring included, and either side's copy closes without
 * disturbing the other's.
 */
@Timeout(60)
class ListenerHandOverTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeResources() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    static Stream<Arguments> transportPairs() {
        return Stream.of(arguments(IO_URING, IO_URING), arguments(EPOLL, IO_URING), arguments(IO_URING, EPOLL),
                arguments(EPOLL, EPOLL));
    }

    @ParameterizedTest(name = "{0} hands over to {1}")
    @MethodSource("transportPairs")
    void theReceiverAcceptsOnItsOwnTransportOnceTheSenderClosesItsCopy(TransportRuntime.Kind from,
                                                                       TransportRuntime.Kind to) throws Exception {
        TransportRuntime sender = runtime(from);
        TransportRuntime receiver = runtime(to);
        Greeter old = new Greeter("old");
        Greeter next = new Greeter("new");
        ListeningSockets oldListeners = listeners(sender);
        InetSocketAddress address = oldListeners.bind("127.0.0.1:0", null, List.of(), tls -> old.bootstrap(sender));
        assertEquals("old", greeting(address));

        ListeningSockets newListeners = listeners(receiver);
        int fd = DescriptorPassing.pass(oldListeners.fileDescriptors().get(address), dir);
        assertEquals(address, newListeners.adopt(fd, null, List.of(), tls -> next.bootstrap(receiver)));
        oldListeners.closeAll();

        for (int i = 0; i < 3; i++) {
            try (Socket client = connect(address)) {
                assertEquals("new", readLine(client));
                Channel accepted = next.accepted.poll(5, TimeUnit.SECONDS);
                assertNotNull(accepted, "the receiver accepted the connection");
                assertEquals(to == IO_URING ? IoUringSocketChannel.class : EpollSocketChannel.class, accepted.getClass());
                assertEquals(client.getLocalSocketAddress(), accepted.remoteAddress());
            }
        }
        assertEquals(Set.of(address), newListeners.fileDescriptors().keySet(), "handed on at the next upgrade");
    }

    @Test
    void anAdoptedIoUringListenerReportsIpv6ClientAddresses() throws Exception {
        assumeTrue(IoUring.isAvailable(), "io_uring: " + IoUring.unavailabilityCause());
        InetAddress loopback6;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            loopback6 = probe.getInetAddress();
        } catch (IOException e) {
            assumeTrue(false, "no IPv6 loopback here: " + e);
            return;
        }
        TransportRuntime runtime = runtime(IO_URING);
        Greeter old = new Greeter("old");
        Greeter next = new Greeter("new");
        ListeningSockets oldListeners = listeners(runtime);
        InetSocketAddress address = oldListeners.bind("[::1]:0", null, List.of(), tls -> old.bootstrap(runtime));
        ListeningSockets newListeners = listeners(runtime);
        newListeners.adopt(DescriptorPassing.pass(oldListeners.fileDescriptors().get(address), dir), null, List.of(),
                tls -> next.bootstrap(runtime));
        oldListeners.closeAll();

        try (Socket client = connect(address)) {
            assertEquals("new", readLine(client));
            Channel accepted = next.accepted.poll(5, TimeUnit.SECONDS);
            assertNotNull(accepted);
            assertEquals(loopback6, ((InetSocketAddress) accepted.remoteAddress()).getAddress());
            assertEquals(client.getLocalSocketAddress(), accepted.remoteAddress());
        }
    }

    @Test
    void closingAnAdoptedIoUringListenerLeavesTheSendersCopyAccepting() throws Exception {
        // A new process that fails after taking the sockets over closes them; the old one serves on.
        TransportRuntime runtime = runtime(IO_URING);
        Greeter old = new Greeter("old");
        ListeningSockets oldListeners = listeners(runtime);
        InetSocketAddress address = oldListeners.bind("127.0.0.1:0", null, List.of(), tls -> old.bootstrap(runtime));
        ListeningSockets newListeners = listeners(runtime);
        Greeter next = new Greeter("new");
        newListeners.adopt(DescriptorPassing.pass(oldListeners.fileDescriptors().get(address), dir), null, List.of(),
                tls -> next.bootstrap(runtime));
        newListeners.closeAll();

        for (int i = 0; i < 3; i++) {
            assertEquals("old", greeting(address));
        }
        assertTrue(next.accepted.isEmpty(), "the closed adopted listener accepted nothing");
    }

    @Test
    void theNativeTransportsAdoptListenersAndNioRefuses() throws Exception {
        assertTrue(runtime(IO_URING).canAdoptListeners(), "io_uring");
        TransportRuntime epoll = runtime(EPOLL);
        assertTrue(epoll.canAdoptListeners(), "epoll");
        TransportRuntime nio = runtime(NIO);
        assertFalse(nio.canAdoptListeners(), "nio");

        ListeningSockets epollListeners = listeners(epoll);
        InetSocketAddress address = epollListeners.bind("127.0.0.1:0", null, List.of(),
                tls -> new Greeter("old").bootstrap(epoll));
        int fd = DescriptorPassing.pass(epollListeners.fileDescriptors().get(address), dir);
        ListeningSockets nioListeners = listeners(nio);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> nioListeners.adopt(fd, null, List.of(), tls -> new Greeter("new").bootstrap(nio)));
        assertEquals("adoptListener: the TransportRuntime{nio} cannot adopt a listening socket "
                + "(expected: io_uring or epoll)", refused.getMessage());
        assertTrue(nioListeners.fileDescriptors().isEmpty());
        HttpProxyServer.closeInheritedDescriptor(fd);
    }

    @Test
    void anUpgradeOnIoUringServesEveryRequestOfAConcurrentClient() throws Exception {
        TransportRuntime oldRuntime = runtime(IO_URING);
        TransportRuntime newRuntime = runtime(IO_URING);
        TestOrigin origin = TestOrigin.builder().name("origin").build().start();
        resources.add(origin);
        HttpProxyServer oldServer = HttpProxyServer.create(new ProxyFixture.SimpleProxy(origin.address()),
                ProxyOptions.defaults(), oldRuntime);
        resources.add(oldServer);
        InetSocketAddress address = oldServer.bind("127.0.0.1:0");
        try (KeepAliveClients clients = new KeepAliveClients(address, 4)) {
            clients.awaitOk(300);

            // The upgrade's steps, in its order: the new server accepts on the shared socket, then the
            // old one stops accepting and drains, answering one more request per idle connection.
            HttpProxyServer newServer = HttpProxyServer.create(new ProxyFixture.SimpleProxy(origin.address()),
                    ProxyOptions.defaults(), newRuntime);
            resources.add(newServer);
            int fd = DescriptorPassing.pass(oldServer.listenerFileDescriptors().get(address), dir);
            assertEquals(address, newServer.adoptListener(fd));
            clients.awaitOk(clients.ok() + 300);
            oldServer.closeListener(address);
            oldServer.stopForUpgrade(Duration.ofSeconds(10)).toCompletableFuture().get(20, TimeUnit.SECONDS);
            long servedByOld = oldServer.requestsServed();
            long servedByNewBefore = newServer.requestsServed();
            clients.awaitOk(clients.ok() + 300);

            clients.close();
            assertEquals(List.of(), clients.errors, "every request was answered");
            assertEquals(servedByOld, oldServer.requestsServed(), "the old server took nothing after its drain");
            assertTrue(newServer.requestsServed() >= servedByNewBefore + 300,
                    "the new server served the rest: " + newServer.requestsServed());
            // Netty registers only io_uring channels on io_uring event loops: what the new server
            // accepted ran on io_uring (theReceiverAcceptsOnItsOwnTransport... checks the classes).
            assertEquals(IO_URING, newRuntime.kind());
        }
    }

    private TransportRuntime runtime(TransportRuntime.Kind kind) {
        if (kind == IO_URING) {
            assumeTrue(IoUring.isAvailable(), "io_uring: " + IoUring.unavailabilityCause());
        } else if (kind == EPOLL) {
            assumeTrue(Epoll.isAvailable(), "epoll: " + Epoll.unavailabilityCause());
        }
        TransportRuntime runtime = TransportRuntime.create(kind, 1);
        resources.add(runtime);
        return runtime;
    }

    private ListeningSockets listeners(TransportRuntime runtime) {
        ListeningSockets listeners = new ListeningSockets(runtime);
        resources.add(listeners);
        return listeners;
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        socket.connect(address, 5_000);
        socket.setSoTimeout(5_000);
        return socket;
    }

    /** The line a {@link Greeter} writes on a new connection to {@code address}. */
    private static String greeting(InetSocketAddress address) throws IOException {
        try (Socket socket = connect(address)) {
            return readLine(socket);
        }
    }

    private static String readLine(Socket socket) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = socket.getInputStream().read()) != -1 && c != '\n') {
            line.append((char) c);
        }
        return line.toString();
    }

    /** A listener's connections: each is recorded, greeted with a name and a newline, and closed. */
    private static final class Greeter {
        final String name;
        final BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();

        Greeter(String name) {
            this.name = name;
        }

        ServerBootstrap bootstrap(TransportRuntime runtime) {
            return new ServerBootstrap().group(runtime.acceptors(), runtime.workers())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    accepted.add(ctx.channel());
                                    ctx.writeAndFlush(Unpooled.copiedBuffer(name + "\n", StandardCharsets.US_ASCII))
                                            .addListener(ChannelFutureListener.CLOSE);
                                }
                            });
                        }
                    });
        }
    }

    /**
     * HTTP/1.1 clients that never retry, each on keep-alive connections of 20 requests (the last one
     * says {@code Connection: close}), so that new connections keep arriving throughout; any request
     * without a 200 is an error.
     */
    private static final class KeepAliveClients implements AutoCloseable {
        final List<String> errors = new CopyOnWriteArrayList<>();
        private final AtomicLong ok = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final InetSocketAddress address;

        KeepAliveClients(InetSocketAddress address, int count) {
            this.address = address;
            for (int i = 0; i < count; i++) {
                Thread t = new Thread(this::run, "keep-alive-client-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void run() {
            while (running.get()) {
                try (RawHttpConnection connection = new RawHttpConnection(address)) {
                    for (int i = 1; i <= 20 && running.get(); i++) {
                        connection.send("GET /" + i + " HTTP/1.1\r\nHost: upgrade.test\r\n"
                                + (i == 20 ? "Connection: close\r\n" : "") + "\r\n");
                        RawHttpConnection.Response response = connection.readResponse();
                        if (response.status() != 200 || !response.complete()) {
                            errors.add(response.statusLine() + (response.complete() ? "" : " (incomplete)"));
                        } else {
                            ok.incrementAndGet();
                        }
                        if ("close".equalsIgnoreCase(response.header("Connection"))) {
                            break;
                        }
                    }
                } catch (IOException e) {
                    errors.add(e.toString());
                }
            }
        }

        long ok() {
            return ok.get();
        }

        void awaitOk(long count) {
            Await.until(() -> ok.get() >= count || !errors.isEmpty(), Duration.ofSeconds(20),
                    () -> "answered " + ok.get() + " (expected: " + count + ")");
            assertTrue(ok.get() >= count, "answered " + ok.get() + " (expected: " + count + "); errors " + errors);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }
}
