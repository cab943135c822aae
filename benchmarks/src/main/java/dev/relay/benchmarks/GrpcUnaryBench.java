package dev.relay.benchmarks;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.testing.grpc.GrpcTestClient;
import dev.relay.testing.grpc.GrpcTestServer;
import dev.relay.testing.grpc.GrpcTestService;
import dev.relay.transport.HttpProxyServer;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * gRPC unary calls per second through the proxy against straight to the origin, in one run: a
 * grpc-java origin (h2c), Relay in process with an {@code alpn = H2} peer for it, and a grpc-java
 * client keeping {@code CONCURRENCY} calls in flight on one channel (one HTTP/2 connection) for
 * {@code DURATION} seconds per round, the two targets alternating, medians reported with their ratio.
 * Everything shares the machine: compare the ratio, not the absolute rates.
 *
 * <p>Run with {@code bench/grpc-bench.sh}; settings are system properties ({@code -Dduration=10}):
 * {@code duration} (s, 10), {@code warmup} (s, 5), {@code rounds} (3), {@code concurrency} (50),
 * {@code payload} (bytes per request and response, 100), {@code proxyThreads} (event loops, 1).
 */
public final class GrpcUnaryBench {
    private GrpcUnaryBench() {}

    public static void main(String[] args) throws Exception {
        int duration = Integer.getInteger("duration", 10);
        int warmup = Integer.getInteger("warmup", 5);
        int rounds = Integer.getInteger("rounds", 3);
        int concurrency = Integer.getInteger("concurrency", 50);
        byte[] payload = new byte[Integer.getInteger("payload", 100)];
        int proxyThreads = Integer.getInteger("proxyThreads", 1);

        TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.AUTO, proxyThreads);
        try (GrpcTestServer origin = GrpcTestServer.plaintext().start()) {
            HttpPeer peer = HttpPeer.plain(origin.address()).withOptions(PeerOptions.builder().alpn(Alpn.H2).build());
            HttpProxyServer proxy = HttpProxyServer.create(new ToOrigin(peer), ProxyOptions.defaults(), runtime);
            InetSocketAddress proxyAddress = proxy.bind("127.0.0.1:0");
            try (GrpcTestClient direct = GrpcTestClient.plaintext(origin.address());
                 GrpcTestClient through = GrpcTestClient.plaintext(proxyAddress)) {
                System.out.printf(Locale.ROOT, "gRPC unary, %d calls in flight, %d-byte messages, %d s x %d rounds (warm-up %d s)%n",
                        concurrency, payload.length, duration, rounds, warmup);
                run(direct, concurrency, payload, warmup);
                run(through, concurrency, payload, warmup);
                double[] directRates = new double[rounds];
                double[] proxyRates = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    // Rotated so neither target always runs on a machine the other just warmed or heated.
                    boolean proxyFirst = round % 2 == 1;
                    if (proxyFirst) {
                        proxyRates[round] = run(through, concurrency, payload, duration);
                    }
                    directRates[round] = run(direct, concurrency, payload, duration);
                    if (!proxyFirst) {
                        proxyRates[round] = run(through, concurrency, payload, duration);
                    }
                    System.out.printf(Locale.ROOT, "round %d: direct %.0f calls/s, through relay %.0f calls/s%n",
                            round + 1, directRates[round], proxyRates[round]);
                }
                double d = median(directRates);
                double p = median(proxyRates);
                System.out.printf(Locale.ROOT, "median: direct %.0f calls/s (%.2f ms mean latency), through relay %.0f calls/s "
                        + "(%.2f ms); relay/direct = %.2f%n", d, concurrency * 1000.0 / d, p, concurrency * 1000.0 / p, p / d);
            } finally {
                proxy.close();
            }
        } finally {
            runtime.close();
        }
    }

    /** Keeps {@code concurrency} calls in flight for {@code seconds}; the completed calls per second. */
    private static double run(GrpcTestClient client, int concurrency, byte[] payload, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong completed = new AtomicLong();
        List<Throwable> failures = new ArrayList<>();
        CountDownLatch slotsDone = new CountDownLatch(concurrency);
        long start = System.nanoTime();
        for (int i = 0; i < concurrency; i++) {
            new Slot(client, payload, end, completed, failures, slotsDone).next();
        }
        if (!slotsDone.await(seconds + 30L, TimeUnit.SECONDS)) {
            throw new IllegalStateException("calls still in flight 30 s after the end of the round");
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        synchronized (failures) {
            if (!failures.isEmpty()) {
                throw new IllegalStateException(failures.size() + " calls failed, the first: " + failures.get(0), failures.get(0));
            }
        }
        return completed.get() / elapsed;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** One call in flight at a time, the next started when the previous completes, until the end. */
    private static final class Slot implements StreamObserver<byte[]> {
        private final GrpcTestClient client;
        private final byte[] payload;
        private final long end;
        private final AtomicLong completed;
        private final List<Throwable> failures;
        private final CountDownLatch done;

        Slot(GrpcTestClient client, byte[] payload, long end, AtomicLong completed, List<Throwable> failures,
             CountDownLatch done) {
            this.client = client;
            this.payload = payload;
            this.end = end;
            this.completed = completed;
            this.failures = failures;
            this.done = done;
        }

        void next() {
            if (System.nanoTime() - end >= 0) {
                done.countDown();
                return;
            }
            ClientCalls.asyncUnaryCall(client.channel().newCall(GrpcTestService.ECHO, client.callOptions()), payload, this);
        }

        @Override
        public void onNext(byte[] value) {
            // The echo; its arrival is counted at completion.
        }

        @Override
        public void onError(Throwable t) {
            synchronized (failures) {
                failures.add(t);
            }
            done.countDown();
        }

        @Override
        public void onCompleted() {
            completed.incrementAndGet();
            next();
        }
    }

    /** Every request to the one origin peer. */
    private record ToOrigin(HttpPeer peer) implements ProxyHttp<Object> {
        @Override
        public Object newCtx() {
            return this;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            return CompletableFuture.completedFuture(peer);
        }
    }
}
