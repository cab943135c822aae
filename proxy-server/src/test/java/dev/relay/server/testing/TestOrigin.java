package dev.relay.server.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP origin on a loopback ephemeral port (the JDK's server): answers {@code 200 "NAME PATH"}
 * with the header {@code X-Origin: NAME}, records each request's {@code Host}, and can hold its
 * answers until the test releases them (for requests in flight during a shutdown).
 */
public final class TestOrigin implements AutoCloseable {
    private final String name;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-origin");
        t.setDaemon(true);
        return t;
    });
    private final List<String> hosts = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch arrived = new CountDownLatch(0);
    private volatile CountDownLatch release = new CountDownLatch(0);

    private TestOrigin(String name) throws IOException {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", this::answer);
        server.setExecutor(executor);
        server.start();
    }

    /** Starts an origin called {@code name}. */
    public static TestOrigin start(String name) throws IOException {
        return new TestOrigin(name);
    }

    /** {@code 127.0.0.1:port}. */
    public String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** The port. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The name. */
    public String name() {
        return name;
    }

    /** The Host header of every request received, in order. */
    public List<String> hosts() {
        return List.copyOf(hosts);
    }

    /** From now on, requests wait for {@link #releaseResponses()} before they are answered. */
    public void holdResponses() {
        arrived = new CountDownLatch(1);
        release = new CountDownLatch(1);
    }

    /** Waits until a held request has arrived. */
    public boolean awaitHeldRequest(long seconds) throws InterruptedException {
        return arrived.await(seconds, TimeUnit.SECONDS);
    }

    /** Lets the held requests be answered. */
    public void releaseResponses() {
        release.countDown();
    }

    private void answer(HttpExchange exchange) throws IOException {
        try (exchange) {
            try (InputStream in = exchange.getRequestBody()) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            hosts.add(String.valueOf(exchange.getRequestHeaders().getFirst("Host")));
            arrived.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    exchange.sendResponseHeaders(500, -1);
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            byte[] body = (name + " " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("X-Origin", name);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
