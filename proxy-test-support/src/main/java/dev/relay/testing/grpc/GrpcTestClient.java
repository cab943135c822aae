package dev.relay.testing.grpc;

import dev.relay.testing.TestCertificates;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * A real grpc-java client (Netty transport, shaded) for {@link GrpcTestService}: one channel to one
 * address, plain (HTTP/2 with prior knowledge) or over TLS trusting only the test CA. Every call has a
 * deadline ({@link Builder#defaultDeadline}, 30 seconds unless set), so no test waits forever; a failed
 * call throws grpc's {@code StatusRuntimeException}.
 *
 * <pre>{@code
 * try (GrpcTestClient client = GrpcTestClient.builder(proxyAddress).tls("localhost").build()) {
 *     List<byte[]> numbers = client.serverStreaming(GrpcTestService.REPEAT, GrpcTestService.utf8("3"));
 * }
 * }</pre>
 *
 * <p>Thread-safe (the channel is).
 */
public final class GrpcTestClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final Duration defaultDeadline;

    private GrpcTestClient(ManagedChannel channel, Duration defaultDeadline) {
        this.channel = channel;
        this.defaultDeadline = defaultDeadline;
    }

    /** A plain (h2c) client of {@code target} with the defaults. */
    public static GrpcTestClient plaintext(InetSocketAddress target) {
        return builder(target).build();
    }

    /** A builder for a client of {@code target}, plain unless {@link Builder#tls} is called. */
    public static Builder builder(InetSocketAddress target) {
        return new Builder(requireNonNull(target, "target"));
    }

    /** The channel, for calls the helpers below do not cover (cancellation, custom call options). */
    public ManagedChannel channel() {
        return channel;
    }

    /** Call options with the default deadline. */
    public CallOptions callOptions() {
        return CallOptions.DEFAULT.withDeadlineAfter(defaultDeadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** A unary call with the default deadline. */
    public byte[] unary(MethodDescriptor<byte[], byte[]> method, byte[] request) {
        return ClientCalls.blockingUnaryCall(channel, method, callOptions(), request);
    }

    /** A unary call with {@code deadline} instead of the default. */
    public byte[] unary(MethodDescriptor<byte[], byte[]> method, byte[] request, Duration deadline) {
        return ClientCalls.blockingUnaryCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS), request);
    }

    /** A server-streaming call: every response, in order. */
    public List<byte[]> serverStreaming(MethodDescriptor<byte[], byte[]> method, byte[] request) {
        List<byte[]> responses = new ArrayList<>();
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, method, callOptions(), request);
        it.forEachRemaining(responses::add);
        return responses;
    }

    /** A client-streaming call: sends {@code requests}, then half-closes; the one response. */
    public byte[] clientStreaming(MethodDescriptor<byte[], byte[]> method, List<byte[]> requests) {
        Collector collector = new Collector();
        StreamObserver<byte[]> out = ClientCalls.asyncClientStreamingCall(channel.newCall(method, callOptions()), collector);
        requests.forEach(out::onNext);
        out.onCompleted();
        List<byte[]> responses = collector.await(defaultDeadline);
        if (responses.size() != 1) {
            throw new AssertionError("a client-streaming call answered " + responses.size() + " messages");
        }
        return responses.get(0);
    }

    /**
     * A bidirectional call: sends {@code requests}, half-closes, collects every response. The requests are
     * handed to the call at once (grpc-java queues what flow control does not let out yet), so responses
     * arrive while requests are still being sent.
     */
    public List<byte[]> bidiStreaming(MethodDescriptor<byte[], byte[]> method, List<byte[]> requests) {
        Collector collector = new Collector();
        StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(channel.newCall(method, callOptions()), collector);
        requests.forEach(out::onNext);
        out.onCompleted();
        return collector.await(defaultDeadline);
    }

    /** Shuts the channel down at once and waits up to 5 seconds. */
    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Options of a {@link GrpcTestClient}. */
    public static final class Builder {
        private final InetSocketAddress target;
        private String authority;
        private boolean tls;
        private int maxInboundMessageSize = 4 * 1024 * 1024;
        private Duration defaultDeadline = Duration.ofSeconds(30);

        private Builder(InetSocketAddress target) {
            this.target = target;
            this.authority = target.getHostString() + ":" + target.getPort();
        }

        /** TLS (ALPN {@code h2}), trusting only the test CA, with {@code authority} as SNI and checked name. */
        public Builder tls(String authority) {
            this.tls = true;
            this.authority = requireNonNull(authority, "authority");
            return this;
        }

        /** The largest message the client accepts (default 4 MiB, grpc-java's). */
        public Builder maxInboundMessageSize(int bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("bytes: " + bytes + " (expected: > 0)");
            }
            this.maxInboundMessageSize = bytes;
            return this;
        }

        /** The deadline of every call a helper makes without one. */
        public Builder defaultDeadline(Duration deadline) {
            if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("deadline: " + deadline + " (expected: > 0)");
            }
            this.defaultDeadline = deadline;
            return this;
        }

        /** Creates the channel (it connects on the first call). */
        public GrpcTestClient build() {
            ChannelCredentials credentials = tls
                    ? TlsChannelCredentials.newBuilder().trustManager(TestCertificates.trustManagerFactory().getTrustManagers()).build()
                    : InsecureChannelCredentials.create();
            ManagedChannel channel = NettyChannelBuilder.forAddress(target, credentials)
                    .overrideAuthority(authority)
                    .maxInboundMessageSize(maxInboundMessageSize)
                    // The tests decide about retries (the proxy's), not the channel.
                    .disableRetry()
                    .build();
            return new GrpcTestClient(channel, defaultDeadline);
        }
    }

    /** Collects the responses of a streaming call and its end. */
    private static final class Collector implements StreamObserver<byte[]> {
        private final List<byte[]> responses = new ArrayList<>();
        private final CompletableFuture<List<byte[]>> done = new CompletableFuture<>();

        @Override
        public synchronized void onNext(byte[] value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public synchronized void onCompleted() {
            done.complete(List.copyOf(responses));
        }

        List<byte[]> await(Duration deadline) {
            try {
                // The call's own deadline ends it first; this bound only guards against a lost end.
                return done.get(deadline.toMillis() + 5_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (TimeoutException e) {
                throw new AssertionError("the call did not end within its deadline", e);
            }
        }
    }
}
