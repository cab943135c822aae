package dev.relay.filters;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpModule;
import dev.relay.core.MirrorModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.core.UpstreamGroups;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The {@code mirror} filter (Pingora issue #266): sends a copy of a sample of requests to a backend of a
 * second upstream group, fire-and-forget. The request goes on to its own upstream as if nothing
 * happened; the copy's response is read and dropped, its failure only counted.
 *
 * <pre>{@code
 * HttpModuleFactory mirror = MirrorFilter.builder(groups, "shadow")
 *         .sample(0.1)                 // one request in ten, drawn at random per request
 *         .maxBody(64 * 1024)          // a bigger body is not copied (counted)
 *         .maxInFlight(100)            // copies beyond that many unanswered are dropped (counted)
 *         .timeout(Duration.ofSeconds(30)) // a copy unanswered by then is aborted (counted as failed)
 *         .build();
 * }</pre>
 *
 * <p>What is copied: the request header as the filters before this one left it (the client's
 * {@code Host} included: the shadow sees the request as the main upstream's host would) plus
 * {@value #MARKER_HEADER}{@code : 1}, so the shadow can tell copies from real traffic, and the whole
 * body. The copy leaves when the last part of the body has gone through the filter (so a body is held
 * in memory up to {@code maxBody}, never the request); requests that never send their body upstream
 * (answered by a filter or the cache, or whose upstream could not be reached) are not copied. A copy is
 * sent once, never retried.
 *
 * <p>The main path pays a random draw per request; a sampled one pays a copy of its header and body.
 * Nothing the shadow does (slow, dead, refusing) reaches the main request: the copy runs on its own
 * connection, and completes on its own.
 */
public final class MirrorFilter implements MirrorModuleFactory {
    /** The header field every copy carries, with the value {@code 1}. */
    public static final String MARKER_HEADER = "X-Relay-Mirror";

    private final UpstreamGroups groups;
    private final String upstream;
    private final double sample;
    private final int maxBody;
    private final int maxInFlight;
    private final Duration timeout;
    private final DoubleSupplier random;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder mirrored = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder bodyTooLarge = new LongAdder();
    private final LongAdder overInFlight = new LongAdder();

    private MirrorFilter(Builder b) {
        this.groups = b.groups;
        this.upstream = b.upstream;
        this.sample = b.sample;
        this.maxBody = b.maxBody;
        this.maxInFlight = b.maxInFlight;
        this.timeout = b.timeout;
        this.random = b.random;
    }

    /**
     * A builder for a filter that copies requests to group {@code upstream} of {@code groups}; defaults:
     * every request, bodies up to 64 KiB, 100 copies in flight, each for at most 30 s.
     */
    public static Builder builder(UpstreamGroups groups, String upstream) {
        return new Builder(groups, upstream);
    }

    @Override
    public String name() {
        return MirrorFilterProvider.NAME;
    }

    @Override
    public String upstream() {
        return upstream;
    }

    /** The share of requests copied, 0 to 1. */
    public double sample() {
        return sample;
    }

    @Override
    public Stats stats() {
        return new Stats(mirrored.sum(), failed.sum(), bodyTooLarge.sum(), overInFlight.sum(), inFlight.get());
    }

    @Override
    public HttpModule newModule() {
        // A request not sampled gets a module that does nothing: no state, no copy.
        return sample > 0 && (sample >= 1 || random.getAsDouble() < sample) ? new Copy() : NOT_SAMPLED;
    }

    private static final HttpModule NOT_SAMPLED = new HttpModule() {};
    private static final byte[] NO_BODY = new byte[0];

    /** Sends a copy; counts the outcome. Never throws: the request it copies must not notice. */
    private void send(RequestHeader header, byte[] body) {
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            overInFlight.increment();
            return;
        }
        CompletionStage<ResponseHeader> sent;
        try {
            sent = groups.sendDiscardingBody(upstream, header, body, timeout);
        } catch (RuntimeException e) {
            sent = Stages.failed(e);
        }
        sent.whenComplete((response, error) -> {
            inFlight.decrementAndGet();
            (error == null ? mirrored : failed).increment();
        });
    }

    /** The per-request module of a sampled request: copies the header, gathers the body, sends at its end. */
    private final class Copy implements HttpModule {
        private @Nullable RequestHeader header;
        /** The body so far, in {@code body[0, length)}; grown by doubling, never past {@code maxBody}. */
        private byte[] body = NO_BODY;
        private int length;
        private boolean done;

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            RequestHeader original = session.requestHeader();
            RequestHeader copy = RequestHeader.of(original.method(), original.uri());
            original.headers().forEach(copy.headers()::add);
            copy.headers().set(MARKER_HEADER, "1");
            header = copy;
            return Stages.done();
        }

        @Override
        public void requestBodyFilter(Session session, BodyChunk chunk, boolean endOfStream) {
            if (done || header == null) {
                return;
            }
            int n = chunk.length();
            if (n > 0) {
                if (length + (long) n > maxBody) {
                    done = true;
                    body = NO_BODY;
                    bodyTooLarge.increment();
                    return;
                }
                if (length + n > body.length) {
                    body = Arrays.copyOf(body, (int) Math.min(maxBody, Math.max(length + n, 2L * body.length)));
                }
                chunk.asReadOnlyByteBuffer().get(body, length, n);
                length += n;
            }
            if (endOfStream) {
                done = true;
                send(header, length == body.length ? body : Arrays.copyOf(body, length));
                body = NO_BODY;
            }
        }
    }

    @Override
    public String toString() {
        return "MirrorFilter{upstream=" + upstream + ", sample=" + sample + ", maxBody=" + maxBody
                + ", maxInFlight=" + maxInFlight + ", timeout=" + timeout + '}';
    }

    /** Settings of a {@link MirrorFilter}; {@link #build()} checks them. */
    public static final class Builder {
        private final UpstreamGroups groups;
        private final String upstream;
        private double sample = 1.0;
        private int maxBody = 64 * 1024;
        private int maxInFlight = 100;
        private Duration timeout = Duration.ofSeconds(30);
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

        private Builder(UpstreamGroups groups, String upstream) {
            this.groups = requireNonNull(groups, "groups");
            this.upstream = requireNonNull(upstream, "upstream");
        }

        /** The share of requests copied, from 0 (none) to 1 (all, the default), drawn at random per request. */
        public Builder sample(double share) {
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("sample: " + share + " (expected: 0 to 1)");
            }
            this.sample = share;
            return this;
        }

        /** The largest request body copied (default 64 KiB); a request with a bigger one is not copied. */
        public Builder maxBody(long bytes) {
            if (bytes < 0 || bytes > 64L * 1024 * 1024) {
                throw new IllegalArgumentException("max-body: " + bytes + " (expected: 0 to 64MiB)");
            }
            this.maxBody = (int) bytes;
            return this;
        }

        /** The most copies sent and not answered yet (default 100); beyond, a copy is dropped. */
        public Builder maxInFlight(long copies) {
            if (copies < 1 || copies > 1_000_000) {
                throw new IllegalArgumentException("max-in-flight: " + copies + " (expected: 1 to 1000000)");
            }
            this.maxInFlight = (int) copies;
            return this;
        }

        /**
         * The most a copy may take, from sending to the shadow's last response byte (default 30 s); then it
         * is aborted and counted as failed. It frees the copy's in-flight slot: without it, a shadow that
         * trickles or streams its answer would hold slots until none is left and mirroring stopped.
         */
        public Builder timeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
            }
            this.timeout = timeout;
            return this;
        }

        /** Where the per-request draw comes from (uniform in [0, 1)); for tests. */
        public Builder random(DoubleSupplier random) {
            this.random = requireNonNull(random, "random");
            return this;
        }

        /**
         * The filter.
         *
         * @throws IllegalStateException when {@code groups} has no group named {@code upstream}
         */
        public MirrorFilter build() {
            if (!groups.names().contains(upstream)) {
                throw new IllegalStateException("upstream: '" + upstream + "' (expected one of: "
                        + (groups.names().isEmpty() ? "no group is configured" : String.join(", ",
                        new java.util.TreeSet<>(groups.names()))) + ")");
            }
            return new MirrorFilter(this);
        }
    }
}
