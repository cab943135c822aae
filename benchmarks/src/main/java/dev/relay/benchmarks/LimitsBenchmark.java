package dev.relay.benchmarks;

import dev.relay.filters.limits.Estimator;
import dev.relay.filters.limits.Rate;
import dev.relay.filters.limits.TokenBucket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The rate-limiting primitives of {@code dev.relay.filters.limits} on their hot path, with the sketch
 * sizes the {@code rate-limit} filter uses (4 x 16,384): {@code Estimator.incr}, {@code Rate.observe}
 * (one window per second, so the benchmark also crosses window starts) and {@code TokenBucket.tryAcquire}
 * (a rate high enough that most calls are admitted). Keys are client-address-like strings from a
 * per-thread ring of 1,024. The point is {@code gc.alloc.rate.norm}: 0 B/op.
 *
 * <pre>
 * bench/run.sh limits
 * java -jar benchmarks/target/benchmarks.jar LimitsBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class LimitsBenchmark {
    Estimator estimator;
    Rate rate;
    TokenBucket buckets;

    @Setup(Level.Trial)
    public void setUp() {
        estimator = Estimator.of(4, 16384);
        rate = Rate.builder(Duration.ofSeconds(1)).hashes(4).slots(16384).build();
        buckets = TokenBucket.builder(1_000_000_000, Duration.ofSeconds(1)).burst(1_000_000).hashes(4).slots(16384).build();
    }

    /** Per-thread keys and position. */
    @State(Scope.Thread)
    public static class Keys {
        final String[] keys = new String[1024];
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = "198.51." + (i >> 8) + "." + (i & 0xff);
            }
        }

        String next() {
            return keys[next++ & 1023];
        }
    }

    @Benchmark
    public long estimatorIncr(Keys keys) {
        return estimator.incr(keys.next(), 1);
    }

    @Benchmark
    public long rateObserve(Keys keys) {
        return rate.observe(keys.next(), 1);
    }

    @Benchmark
    public boolean tokenBucketTryAcquire(Keys keys) {
        return buckets.tryAcquire(keys.next(), 1);
    }
}
