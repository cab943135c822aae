package dev.relay.server;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.server.testing.Origins;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.TransportRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The server lifecycle, in process: start, graceful and immediate stops, service order. */
@Timeout(60)
class ServerTest {
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /** Sends everything to one origin. */
    private static ProxyHttp<Void> toOrigin(TestOrigin origin) {
        HttpPeer peer = HttpPeer.plain(origin.address());
        return new ProxyHttp<>() {
            @Override
            public Void newCtx() {
                return null;
            }

            @Override
            public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
                return CompletableFuture.completedFuture(peer);
            }
        };
    }

    private Server newServer() {
        Server server = new Server(ServerOptions.builder().threads(2).build());
        cleanup.add(server::close);
        return server;
    }

    private TestOrigin origin() throws IOException {
        TestOrigin origin = Origins.start("origin");
        cleanup.add(origin);
        return origin;
    }

    /** Tries to connect until the listener refuses, for at most {@code seconds}; no sleeping. */
    private static void awaitRefused(InetSocketAddress address, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(address, 1_000);
            } catch (ConnectException refused) {
                return;
            } catch (IOException other) {
                // A reset or timeout while the listener closes: try again.
            }
            Thread.onSpinWait();
        }
        fail("still accepting connections on " + address);
    }

    @Test
    void aSecondEphemeralListenerOnTheSameAddressKeepsItsOwnOptionsAndIsKnownByItsPort() throws Exception {
        // Listeners are known by their address text: a second "127.0.0.1:0" once shared (and replaced) the
        // first one's entry, a plain listener silently doing the second's TLS. Now each keeps its own.
        TestOrigin origin = origin();
        Server server = newServer();
        // A second listener on a fixed port or Unix path could never bind: refused when added.
        HttpProxyService refusing = Services.httpProxy(toOrigin(origin));
        refusing.addTcp("127.0.0.1:8080").addUnix("/tmp/relay-dup-test.sock", ListenerOptions.inherit());
        assertThrows(IllegalArgumentException.class, () -> refusing.addTcp("127.0.0.1:8080"));
        assertThrows(IllegalArgumentException.class, () -> refusing.addUnix("/tmp/relay-dup-test.sock", ListenerOptions.inherit()));
        HttpProxyService two = server.addService(Services.httpProxy(toOrigin(origin)));
        two.addTcp("127.0.0.1:0");
        // The twin expects a PROXY protocol header: were the options shared, both listeners would.
        two.addTcp("127.0.0.1:0", ListenerOptions.builder().proxyProtocol(true).build());
        server.start();
        java.util.Map<String, java.net.SocketAddress> listeners = two.listeners();
        assertEquals(2, listeners.size(), listeners.toString());
        InetSocketAddress first = (InetSocketAddress) listeners.get("127.0.0.1:0");
        InetSocketAddress second = (InetSocketAddress) listeners.entrySet().stream()
                .filter(e -> !e.getKey().equals("127.0.0.1:0")).findFirst().orElseThrow().getValue();
        assertTrue(listeners.containsKey("127.0.0.1:" + second.getPort()), listeners.toString());
        assertEquals(200, RawHttpConnection.get(first, "site.test", "/plain").status());
        assertThrows(Exception.class, () -> RawHttpConnection.get(second, "site.test", "/needs-a-proxy-header"));
        assertTrue(two.removeListener("127.0.0.1:" + second.getPort()));
        assertEquals(1, two.boundAddresses().size());
    }

    @Test
    void aStreamServiceRefusesASecondListenerOnTheSameFixedPortButKeepsTwoEphemeralOnes() {
        StreamProxyService stream = StreamProxyService.create("db", new dev.relay.core.StreamProxy<Void>() {
            @Override
            public Void newCtx() {
                return null;
            }

            @Override
            public CompletionStage<HttpPeer> upstreamPeer(dev.relay.core.StreamSession session, Void ctx) {
                return CompletableFuture.completedFuture(HttpPeer.plain("127.0.0.1:1"));
            }
        }, dev.relay.transport.StreamOptions.defaults());
        stream.addTcp("127.0.0.1:4242");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> stream.addTcp("127.0.0.1:4242"));
        assertTrue(refused.getMessage().contains("already has a listener on '127.0.0.1:4242'"), refused.getMessage());
        stream.addTcp("127.0.0.1:0").addTcp("127.0.0.1:0");
        assertEquals("StreamProxyService{db, [127.0.0.1:4242, 127.0.0.1:0, 127.0.0.1:0]}", stream.toString());
    }

    @Test
    void shutdownDelayKeepsAcceptingWhileNotReady() throws Exception {
        TestOrigin origin = origin();
        Server server = new Server(ServerOptions.builder().threads(2).shutdownDelay(Duration.ofMillis(700)).build());
        cleanup.add(server::close);
        HttpProxyService service = server.addService(Services.httpProxy(toOrigin(origin)));
        service.addTcp("127.0.0.1:0");
        server.start();
        InetSocketAddress address = service.boundAddresses().get(0);

        CompletionStage<Void> terminated = server.stop(Duration.ofSeconds(5));
        assertFalse(server.isRunning(), "not ready as soon as the stop begins");
        // During the delay a load balancer that has not noticed yet still gets answers.
        Response during = RawHttpConnection.get(address, "site.test", "/during-delay");
        assertEquals(200, during.status());
        assertFalse(terminated.toCompletableFuture().isDone());
        awaitRefused(address, 10);
        terminated.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void gracefulShutdownLetsARequestInFlightFinishAndRefusesNewConnections() throws Exception {
        TestOrigin origin = origin();
        Server server = newServer();
        HttpProxyService service = server.addService(Services.httpProxy(toOrigin(origin)));
        service.addTcp("127.0.0.1:0");
        server.start();
        InetSocketAddress address = service.boundAddresses().get(0);

        origin.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(address, "site.test", "/slow");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        origin.awaitHeldResponses(1, Duration.ofSeconds(10));

        CompletionStage<Void> terminated = server.stop(Duration.ofSeconds(20));
        awaitRefused(address, 10);
        assertFalse(inFlight.isDone(), "the request in flight is still running");

        origin.releaseResponses();
        Response response = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, response.status());
        assertEquals("origin /slow", response.bodyText());
        terminated.toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertSame(terminated, server.stop(Duration.ZERO), "a second stop returns the same stage");
    }

    @Test
    void theGracePeriodEndsRequestsThatTakeLonger() throws Exception {
        TestOrigin origin = origin();
        Server server = newServer();
        HttpProxyService service = server.addService(Services.httpProxy(toOrigin(origin)));
        service.addTcp("127.0.0.1:0");
        server.start();
        InetSocketAddress address = service.boundAddresses().get(0);

        origin.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(address, "site.test", "/stuck");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        origin.awaitHeldResponses(1, Duration.ofSeconds(10));

        server.stop(Duration.ofMillis(200)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        // The client connection was closed at the end of the grace period, without a response.
        ExecutionException e = assertThrows(ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getCause() instanceof IOException, e.toString());
    }

    @Test
    void closeStopsEverythingAtOnce() throws Exception {
        TestOrigin origin = origin();
        Server server = newServer();
        HttpProxyService service = server.addService(Services.httpProxy(toOrigin(origin)));
        service.addTcp("127.0.0.1:0");
        server.start();
        InetSocketAddress address = service.boundAddresses().get(0);
        origin.holdResponses();
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(address, "site.test", "/stuck");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        origin.awaitHeldResponses(1, Duration.ofSeconds(10));

        server.close();

        assertTrue(server.terminationFuture().toCompletableFuture().isDone());
        assertThrows(ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
        assertThrows(ConnectException.class, () -> new Socket(address.getAddress(), address.getPort()).close());
    }

    @Test
    void servicesStartInOrderAndStopInReverseOrder() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Server server = newServer();
        server.addService(new RecordingService("first", events));
        server.addService(new RecordingService("second", events));

        server.start();
        server.stop(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(List.of("start first", "start second", "stop second", "stop first"), events);
    }

    @Test
    void aServiceThatCannotStartStopsThoseStartedAndFailsTheStart() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Server server = newServer();
        server.addService(new RecordingService("first", events));
        HttpProxyService proxy = server.addService(Services.httpProxy(toOrigin(origin())));
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            proxy.addTcp("127.0.0.1:" + taken.getLocalPort());

            IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
        assertEquals(List.of("start first", "close first"), events);
        assertTrue(server.terminationFuture().toCompletableFuture().isDone());
    }

    @Test
    void servicesCannotBeAddedOnceStarted() {
        Server server = newServer();
        server.start();

        assertThrows(IllegalStateException.class, () -> server.addService(new RecordingService("late", new ArrayList<>())));
        assertThrows(IllegalStateException.class, server::start);
    }

    @Test
    void bootstrapCreatesTheRuntimeFromTheOptions() {
        Server server = new Server(ServerOptions.builder().threads(1).transport(TransportRuntime.Kind.NIO).build());
        cleanup.add(server::close);

        assertThrows(IllegalStateException.class, server::runtime);
        server.bootstrap();
        assertEquals(TransportRuntime.Kind.NIO, server.runtime().kind());
    }

    @Test
    void optionsRejectBadValues() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> ServerOptions.builder().threads(-1));
        assertThrows(IllegalArgumentException.class, () -> ServerOptions.builder().gracePeriod(Duration.ofSeconds(-1)));
        assertEquals(Duration.ofSeconds(30), ServerOptions.defaults().gracePeriod());
        HttpProxyService service = Services.httpProxy(toOrigin(origin()));
        assertThrows(IllegalArgumentException.class, () -> service.addTcp("no-port"));
    }

    /** Records its lifecycle calls. */
    private static final class RecordingService implements Service {
        private final String name;
        private final List<String> events;

        RecordingService(String name, List<String> events) {
            this.name = name;
            this.events = events;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void start(TransportRuntime runtime) {
            events.add("start " + name);
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            events.add("stop " + name);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            events.add("close " + name);
        }
    }
}
