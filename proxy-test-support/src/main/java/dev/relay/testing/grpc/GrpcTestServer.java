package dev.relay.testing.grpc;

import dev.relay.testing.Await;
import dev.relay.testing.TestCertificates;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static java.util.Objects.requireNonNull;

/**
 * A real grpc-java server (Netty transport, shaded) on an ephemeral loopback port, serving
 * {@link GrpcTestService}, plain (HTTP/2 with prior knowledge, h2c) or over TLS (ALPN {@code h2}) with a
 * certificate of the test CA. It counts calls and cancellations per method and keeps the request
 * header of the last call, so a test can see what reached the origin through a proxy.
 *
 * <pre>{@code
 * try (GrpcTestServer origin = GrpcTestServer.plaintext().start();
 *      GrpcTestClient client = GrpcTestClient.plaintext(origin.address())) {
 *     assertEquals("hi", GrpcTestService.text(client.unary(GrpcTestService.ECHO, GrpcTestService.utf8("hi"))));
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} stops the server at once (open calls are cancelled).
 */
public final class GrpcTestServer implements AutoCloseable {
    /**
     * grpc-java's server logs this (once per connection) for a request without {@code te: trailers},
     * and keeps {@code te} out of the call's {@link Metadata}: the warning is how a test sees it.
     */
    private static final String MISSING_TE_WARNING = "Expected header TE: trailers";
    private static final AtomicInteger MISSING_TE_WARNINGS = new AtomicInteger();
    /** Held here: the JDK keeps loggers weakly, and a collected one would take the handler with it. */
    private static final Logger GRPC_SERVER_HANDLER_LOG = Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler");

    static {
        GRPC_SERVER_HANDLER_LOG.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                String message = record.getMessage();
                if (message != null && message.startsWith(MISSING_TE_WARNING)) {
                    MISSING_TE_WARNINGS.incrementAndGet();
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
    }

    private final TestCertificates.Server certificate;
    private int maxInboundMessageSize = 4 * 1024 * 1024;
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> cancellations = new ConcurrentHashMap<>();
    private final AtomicReference<Metadata> lastRequestHeaders = new AtomicReference<>();
    private ScheduledExecutorService timer;
    private Server server;

    private GrpcTestServer(TestCertificates.Server certificate) {
        this.certificate = certificate;
    }

    /** A server speaking HTTP/2 with prior knowledge (h2c), not started. */
    public static GrpcTestServer plaintext() {
        return new GrpcTestServer(null);
    }

    /** A server speaking HTTP/2 over TLS with {@code certificate} (ALPN {@code h2}), not started. */
    public static GrpcTestServer tls(TestCertificates.Server certificate) {
        return new GrpcTestServer(requireNonNull(certificate, "certificate"));
    }

    /** The largest message the server accepts (default 4 MiB, grpc-java's); set before {@link #start()}. */
    public GrpcTestServer maxInboundMessageSize(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes: " + bytes + " (expected: > 0)");
        }
        this.maxInboundMessageSize = bytes;
        return this;
    }

    /** Binds {@code 127.0.0.1} on an ephemeral port and starts serving. */
    public GrpcTestServer start() {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "grpc-test-server-timer");
            t.setDaemon(true);
            return t;
        });
        GrpcTestService.CallRecorder recorder = new GrpcTestService.CallRecorder() {
            @Override
            public void called(MethodDescriptor<?, ?> method) {
                count(calls, method);
            }

            @Override
            public void cancelled(MethodDescriptor<?, ?> method) {
                count(cancellations, method);
            }
        };
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials())
                .maxInboundMessageSize(maxInboundMessageSize)
                .addService(ServerInterceptors.intercept(GrpcTestService.definition(scheduler, recorder),
                        new HeaderRecorder()))
                .build();
        try {
            s.start();
        } catch (IOException e) {
            scheduler.shutdownNow();
            throw new UncheckedIOException("cannot start the gRPC test server", e);
        }
        this.timer = scheduler;
        this.server = s;
        return this;
    }

    private ServerCredentials credentials() {
        TestCertificates.Server cert = certificate;
        if (cert == null) {
            return InsecureServerCredentials.create();
        }
        try {
            return TlsServerCredentials.create(cert.certificateChainPem().toFile(), cert.privateKeyPem().toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the test certificate " + cert, e);
        }
    }

    /** Whether the server speaks TLS. */
    public boolean isTls() {
        return certificate != null;
    }

    /** The bound address ({@code 127.0.0.1} and the port). */
    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port());
    }

    /** The bound port. */
    public int port() {
        return started().getPort();
    }

    /** How many calls of {@code method} the service has started. */
    public int calls(MethodDescriptor<?, ?> method) {
        AtomicInteger n = calls.get(method.getFullMethodName());
        return n == null ? 0 : n.get();
    }

    /** How many calls of {@code method} were cancelled while the service was at them (only SLEEP and HANG tell). */
    public int cancellations(MethodDescriptor<?, ?> method) {
        AtomicInteger n = cancellations.get(method.getFullMethodName());
        return n == null ? 0 : n.get();
    }

    /** Waits until at least {@code count} calls of {@code method} have been cancelled. */
    public void awaitCancellations(MethodDescriptor<?, ?> method, int count, Duration timeout) {
        Await.until(() -> cancellations(method) >= count, timeout,
                () -> "cancellations of " + method.getFullMethodName() + ": " + cancellations(method));
    }

    /**
     * How many connections to any test server in this JVM carried a request without {@code te: trailers}
     * (grpc-java warns once per connection; the field itself never reaches {@link #lastRequestHeaders()}).
     */
    public static int connectionsWithoutTeTrailers() {
        return MISSING_TE_WARNINGS.get();
    }

    /**
     * The request header of the last call, as the service saw it: without pseudo-header fields and
     * without {@code te} (see {@link #connectionsWithoutTeTrailers()}); null before any.
     */
    public Metadata lastRequestHeaders() {
        return lastRequestHeaders.get();
    }

    /** Stops the server and cancels its open calls; waits up to 5 seconds for its threads. */
    @Override
    public void close() {
        Server s = server;
        if (s != null) {
            s.shutdownNow();
            try {
                s.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ScheduledExecutorService t = timer;
        if (t != null) {
            t.shutdownNow();
        }
    }

    private Server started() {
        Server s = server;
        if (s == null) {
            throw new IllegalStateException("not started");
        }
        return s;
    }

    private static void count(Map<String, AtomicInteger> counts, MethodDescriptor<?, ?> method) {
        counts.computeIfAbsent(method.getFullMethodName(), k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public String toString() {
        return "GrpcTestServer{" + (isTls() ? "tls" : "h2c") + (server == null ? "" : ", port=" + port()) + '}';
    }

    private final class HeaderRecorder implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                          ServerCallHandler<Q, R> next) {
            lastRequestHeaders.set(headers);
            return next.startCall(call, headers);
        }
    }
}
