package dev.relay.transport;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** A proxy on an ephemeral loopback port, a real HTTP client, and helpers for raw-socket requests. */
final class ProxyFixture implements AutoCloseable {
    static final TransportRuntime RUNTIME = TransportRuntime.create(TransportRuntime.Kind.AUTO, 2);

    final HttpProxyServer server;
    final InetSocketAddress address;
    final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    ProxyFixture(ProxyHttp<?> proxy) {
        this(proxy, ProxyOptions.defaults());
    }

    ProxyFixture(ProxyHttp<?> proxy, ProxyOptions options) {
        this.server = HttpProxyServer.create(proxy, options, RUNTIME);
        this.address = server.bind("127.0.0.1:0");
    }

    /** A proxy on the event loops of {@code runtime} (one loop: one partition of the upstream pools). */
    ProxyFixture(ProxyHttp<?> proxy, ProxyOptions options, TransportRuntime runtime) {
        this.server = HttpProxyServer.create(proxy, options, runtime);
        this.address = server.bind("127.0.0.1:0");
    }

    /** A proxy whose timeouts run on {@code clock} (a {@link ManualEngineClock} in timeout tests). */
    ProxyFixture(ProxyHttp<?> proxy, ProxyOptions options, dev.relay.transport.internal.EngineClock clock) {
        this.server = HttpProxyServer.create(proxy, options, RUNTIME, clock);
        this.address = server.bind("127.0.0.1:0");
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + address.getPort() + path);
    }

    /** Sends raw bytes on a new connection and returns everything read until the server closes (or 5 s). */
    String raw(String request) throws IOException {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Override
    public void close() {
        server.close();
    }

    /** A proxy that sends everything to one upstream and records what the phases saw. */
    static class SimpleProxy implements ProxyHttp<Object> {
        final Function<Session, HttpPeer> peers;
        final java.util.concurrent.BlockingQueue<Logged> logged = new java.util.concurrent.LinkedBlockingQueue<>();

        SimpleProxy(Function<Session, HttpPeer> peers) {
            this.peers = peers;
        }

        SimpleProxy(String upstreamAddress) {
            this(session -> HttpPeer.plain(upstreamAddress));
        }

        @Override
        public Object newCtx() {
            return new Object();
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            return CompletableFuture.completedFuture(peers.apply(session));
        }

        @Override
        public CompletionStage<Void> logging(Session session, ProxyError error, Object ctx) {
            logged.add(new Logged(session.responseStatus(), error, session.requestHeader().uri()));
            return Stages.done();
        }

        /** The next {@code logging} call, waiting up to five seconds for it. */
        Logged nextLogged() throws InterruptedException {
            Logged next = logged.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            if (next == null) {
                throw new AssertionError("logging was not called within 5 s");
            }
            return next;
        }

        /**
         * The next {@code logging} call for a request to {@code uri}, skipping others: with a proxy
         * shared by several tests, the previous test's request may be logged after this one began
         * (logging runs after the response was written, so after its client moved on).
         */
        Logged nextLogged(String uri) throws InterruptedException {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (true) {
                Logged next = logged.poll(Math.max(0, deadline - System.nanoTime()),
                        java.util.concurrent.TimeUnit.NANOSECONDS);
                if (next == null) {
                    throw new AssertionError("logging was not called for " + uri + " within 5 s");
                }
                if (next.uri().equals(uri)) {
                    return next;
                }
            }
        }
    }

    /** What one {@code logging} call saw; {@code error} is null on success. */
    record Logged(int status, ProxyError error, String uri) {}
}
