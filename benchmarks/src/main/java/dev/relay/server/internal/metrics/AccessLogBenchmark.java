package dev.relay.server.internal.metrics;

import dev.relay.core.HttpPeer;
import dev.relay.server.internal.config.ProxyConfig.AccessLogDestination;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;

/**
 * The access log's two halves, per line: what the event loop pays ({@code claimFillPublish}: claim a
 * ring slot, copy a request's fields, publish, in bursts of {@value #BURST} lines that the ring
 * holds, the writer draining them into {@code /dev/null} meanwhile and between bursts) and what the
 * writer pays to format a line ({@code format}, into its reused buffer). At the end of a trial the
 * writer thread's own CPU time per line is printed: formatting, ring and write calls together. In
 * the package of the classes it measures, whose formatter is not public.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar AccessLogBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessLogBenchmark {
    static final int BURST = 100_000;

    @Param({"combined", "json"})
    public String format;

    private AccessLogFormat lineFormat;
    private AccessLog log;
    private AccessLogFormatter formatter;
    private LogLineBuffer buffer;
    private AccessLog.Entry entry;
    private final InetSocketAddress client = new InetSocketAddress("192.0.2.17", 51234);
    private final HttpPeer peer = HttpPeer.plain("10.0.0.11:8080");
    private long dropsBefore;

    @Setup(Level.Trial)
    public void setUp() {
        lineFormat = AccessLogFormat.valueOf(format.toUpperCase(java.util.Locale.ROOT));
        log = new AccessLog(lineFormat, AccessLogDestination.file(Path.of("/dev/null")), 2 * BURST, null);
        formatter = new AccessLogFormatter(new LogTimestamps(ZoneId.systemDefault()));
        buffer = new LogLineBuffer(64 * 1024);
        entry = new AccessLog.Entry(null, 0);
        fill(entry);
        dropsBefore = log.dropped();
    }

    /** Each burst starts with the ring empty: the writer wrote the last one. */
    @Setup(Level.Invocation)
    public void awaitWriter() throws InterruptedException {
        while (!log.writerIdle()) {
            Thread.sleep(1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        long lines = log.linesTaken();
        long cpu = ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getThreadCpuTime(log.writerThread().getId());
        log.close();
        System.out.printf("%nwriter: %d lines, %d ns CPU per line; dropped (ring full): %d%n", lines,
                lines == 0 ? 0 : cpu / lines, log.dropped() - dropsBefore);
    }

    private void fill(AccessLog.Entry e) {
        e.epochMillis = System.currentTimeMillis();
        e.client(client);
        e.method("GET");
        e.uri("/api/v1/items?page=2&sort=name");
        e.protocol("HTTP/1.1");
        e.status = 200;
        e.requestBytes = 0;
        e.responseBytes = 1234;
        e.referer("https://www.example.com/start");
        e.userAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
        e.host("api.example.com");
        e.route("api");
        e.upstream("web");
        e.peer(peer);
        e.attempts = 1;
        e.upstreamReused = true;
        e.upstreamConnectNanos = 0;
        e.upstreamNanos = 1_800_000;
        e.totalNanos = 2_100_000;
    }

    /** The event loop's part of one line. */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public int claimFillPublish() {
        int published = 0;
        for (int i = 0; i < BURST; i++) {
            AccessLog.Entry e = log.claim();
            if (e != null) {
                fill(e);
                e.publish();
                published++;
            }
        }
        return published;
    }

    /** The writer's formatting of one line (about 300 bytes), the timestamp from its per-second cache. */
    @Benchmark
    public int format() {
        buffer.clear();
        entry.epochMillis = System.currentTimeMillis();
        formatter.format(entry, lineFormat, buffer);
        return buffer.length();
    }
}
