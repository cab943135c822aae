package dev.relay.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A well-behaved HTTP/1.1 client that keeps sending {@code GET}s to one URI, one after another on a
 * keep-alive connection, from its own thread, and records how long each took and which failed: run it
 * while a test attacks the server, then check that the bystander was served (no errors, a bounded p99).
 *
 * <pre>{@code
 * LatencyProbe.Result bystander;
 * try (LatencyProbe probe = LatencyProbe.start(proxy.uri("/small"))) {
 *     probe.awaitRequests(5, Duration.ofSeconds(10));
 *     attack();
 *     bystander = probe.stop();
 * }
 * assertEquals(List.of(), bystander.errors());
 * assertTrue(bystander.p99().compareTo(Duration.ofSeconds(1)) < 0, bystander.toString());
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class LatencyProbe implements AutoCloseable {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final URI uri;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(REQUEST_TIMEOUT)
            .build();
    private final Thread thread;
    /** Guarded by this. */
    private final List<Long> nanos = new ArrayList<>();
    /** Guarded by this. */
    private final List<String> errors = new ArrayList<>();
    private volatile boolean stopped;

    private LatencyProbe(URI uri) {
        this.uri = uri;
        this.thread = new Thread(this::run, "latency-probe");
        thread.setDaemon(true);
    }

    /** Starts sending requests to {@code uri} (a 200 is a success; anything else, or a failure, an error). */
    public static LatencyProbe start(URI uri) {
        LatencyProbe probe = new LatencyProbe(uri);
        probe.thread.start();
        return probe;
    }

    private void run() {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).build();
        while (!stopped) {
            long start = System.nanoTime();
            String error = null;
            try {
                HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                if (response.statusCode() != 200) {
                    error = "status " + response.statusCode();
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                error = e.toString();
            }
            long took = System.nanoTime() - start;
            synchronized (this) {
                nanos.add(took);
                if (error != null) {
                    errors.add(error);
                }
                notifyAll();
            }
        }
    }

    /** Waits until at least {@code n} requests have finished, so the probe is known to run before an attack. */
    public synchronized void awaitRequests(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (nanos.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the probe finished " + nanos.size() + " requests within " + timeout
                        + " (expected: " + n + "); errors: " + errors);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Requests finished so far. */
    public synchronized int requests() {
        return nanos.size();
    }

    /** Stops sending (the request in flight finishes first) and returns what was recorded. */
    public Result stop() throws InterruptedException {
        stopped = true;
        thread.join(REQUEST_TIMEOUT.toMillis() + 1_000);
        synchronized (this) {
            List<Long> sorted = new ArrayList<>(nanos);
            Collections.sort(sorted);
            long p99 = sorted.isEmpty() ? 0 : sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
            long max = sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1);
            return new Result(sorted.size(), List.copyOf(errors), Duration.ofNanos(p99), Duration.ofNanos(max));
        }
    }

    /** Stops the probe, like {@link #stop()} without the result. */
    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the probe saw: requests finished, the errors among them, and the 99th percentile and worst time. */
    public record Result(int requests, List<String> errors, Duration p99, Duration max) {}
}
