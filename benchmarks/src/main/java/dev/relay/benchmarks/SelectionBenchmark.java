package dev.relay.benchmarks;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.core.UpstreamObserver;
import dev.relay.lb.Backends;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.OutlierDetection;
import dev.relay.lb.SelectionAlgorithms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code LoadBalancer.selectOrNull} for every algorithm at 10, 1,000 and 10,000 backends (weights
 * 1 to 3). Single thread with {@code -t 1}, contended (every thread selects from the same load
 * balancer: one round-robin counter, shared load counters) with {@code -t 2} or more. Keys are
 * URI-like strings from a per-thread ring of 1,024, so the hashing algorithms see varied keys.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar SelectionBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s -t 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SelectionBenchmark {

    @Param({"round-robin", "random", "fnv", "ketama", "maglev", "least-connections", "peak-ewma"})
    public String algorithm;

    @Param({"10", "1000", "10000"})
    public int backends;

    LoadBalancer<SelectionAlgorithm> lb;
    HttpPeer[] peers;

    @Setup(Level.Trial)
    public void setUp() {
        List<Backend> list = new ArrayList<>(backends);
        for (int i = 0; i < backends; i++) {
            list.add(Backend.of(new InetSocketAddress("10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff), 8080), 1 + i % 3));
        }
        lb = LoadBalancer.builder(SelectionAlgorithms.forName(algorithm)).backends(Backends.staticSet(list))
                .outlierDetection(OutlierDetection.defaults()).build();
        peers = new HttpPeer[Math.min(backends, 1024)];
        for (int i = 0; i < peers.length; i++) {
            peers[i] = HttpPeer.plain(list.get(i));
        }
    }

    /** Per-thread keys and position. */
    @State(Scope.Thread)
    public static class Keys {
        final byte[][] keys = new byte[1024][];
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = ("/api/v1/users/" + (i * 7919) + "/profile").getBytes(StandardCharsets.ISO_8859_1);
            }
        }

        byte[] next() {
            return keys[next++ & 1023];
        }
    }

    @Benchmark
    public Backend select(Keys keys) {
        return lb.selectOrNull(keys.next(), 16);
    }

    /** One attempt as the engine reports it: start and end, feeding in-flight counts, EWMA and outlier detection. */
    @Benchmark
    public void observeAttempt(Keys keys) {
        HttpPeer peer = peers[keys.next++ % peers.length];
        UpstreamObserver observer = lb.observer();
        observer.onAttemptStart(peer);
        observer.onAttemptEnd(peer, AttemptOutcome.SUCCESS, 2_000_000L);
    }
}
