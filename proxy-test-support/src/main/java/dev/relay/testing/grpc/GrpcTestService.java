package dev.relay.testing.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC service of the test origin ({@link GrpcTestServer}), written by hand: no {@code .proto}, no code
 * generator. Messages are plain bytes ({@link #BYTES}); the methods that take a number or text read it as
 * UTF-8 ({@link #utf8(String)}, {@link #text(byte[])}).
 *
 * <table>
 * <caption>Methods of {@value #SERVICE}</caption>
 * <tr><th>descriptor</th><th>kind</th><th>what it does</th></tr>
 * <tr><td>{@link #ECHO}</td><td>unary</td><td>answers the request's bytes</td></tr>
 * <tr><td>{@link #REPEAT}</td><td>server streaming</td><td>request {@code "n"}: answers {@code "0"}, {@code "1"} ...
 *     {@code "n-1"}</td></tr>
 * <tr><td>{@link #SUM}</td><td>client streaming</td><td>requests are numbers; answers {@code "<count> <sum>"}</td></tr>
 * <tr><td>{@link #CHAT}</td><td>bidirectional</td><td>answers each request with its bytes, in order</td></tr>
 * <tr><td>{@link #SLEEP}</td><td>unary</td><td>request {@code "millis"}: answers {@code "slept"} after that long
 *     (on a timer, no thread blocked); a cancellation is recorded</td></tr>
 * <tr><td>{@link #FAIL}</td><td>unary</td><td>fails with {@code INVALID_ARGUMENT} and the request's text as the
 *     message, before any header: grpc-java sends that as a trailers-only response</td></tr>
 * <tr><td>{@link #HANG}</td><td>server streaming</td><td>answers {@code "started"}, then nothing until the call is
 *     cancelled, which it records</td></tr>
 * </table>
 */
public final class GrpcTestService {
    /** The service name. */
    public static final String SERVICE = "relay.test.TestService";

    /** Bytes as they are: the marshaller of every method. */
    public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("reading a message", e);
            }
        }
    };

    /** Unary: answers the request's bytes. */
    public static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo", MethodType.UNARY);
    /** Server streaming: request {@code "n"}, answers {@code "0"} to {@code "n-1"}. */
    public static final MethodDescriptor<byte[], byte[]> REPEAT = method("Repeat", MethodType.SERVER_STREAMING);
    /** Client streaming: requests are decimal numbers, the answer is {@code "<count> <sum>"}. */
    public static final MethodDescriptor<byte[], byte[]> SUM = method("Sum", MethodType.CLIENT_STREAMING);
    /** Bidirectional: each request comes back as it is, in order. */
    public static final MethodDescriptor<byte[], byte[]> CHAT = method("Chat", MethodType.BIDI_STREAMING);
    /** Unary: request {@code "millis"}, answers {@code "slept"} after that long; records a cancellation. */
    public static final MethodDescriptor<byte[], byte[]> SLEEP = method("Sleep", MethodType.UNARY);
    /** Unary: fails at once with {@code INVALID_ARGUMENT} and the request's text (a trailers-only response). */
    public static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodType.UNARY);
    /** Server streaming: answers {@code "started"}, then waits for the cancellation, which it records. */
    public static final MethodDescriptor<byte[], byte[]> HANG = method("Hang", MethodType.SERVER_STREAMING);

    /** Every method, in the order of the table above. */
    public static final List<MethodDescriptor<byte[], byte[]>> METHODS = List.of(ECHO, REPEAT, SUM, CHAT, SLEEP, FAIL, HANG);

    private GrpcTestService() {}

    /** The UTF-8 bytes of {@code text}. */
    public static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code message} decoded as UTF-8. */
    public static String text(byte[] message) {
        return new String(message, StandardCharsets.UTF_8);
    }

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                // Lets a client retry ECHO as an idempotent call; the proxy's own retries do not look at it.
                .setIdempotent(name.equals("Echo"))
                .build();
    }

    /** Builds the service; {@code timer} runs {@link #SLEEP}'s answers, {@code recorder} hears of every call. */
    static ServerServiceDefinition definition(ScheduledExecutorService timer, CallRecorder recorder) {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, out) -> {
                    recorder.called(ECHO);
                    out.onNext(request);
                    out.onCompleted();
                }))
                .addMethod(REPEAT, ServerCalls.asyncServerStreamingCall((request, out) -> {
                    recorder.called(REPEAT);
                    int count = Integer.parseInt(text(request));
                    for (int i = 0; i < count; i++) {
                        out.onNext(utf8(Integer.toString(i)));
                    }
                    out.onCompleted();
                }))
                .addMethod(SUM, ServerCalls.asyncClientStreamingCall(out -> {
                    recorder.called(SUM);
                    return new SumObserver(out);
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(out -> {
                    recorder.called(CHAT);
                    return new EchoObserver(out);
                }))
                .addMethod(SLEEP, ServerCalls.asyncUnaryCall((request, out) -> {
                    recorder.called(SLEEP);
                    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) out;
                    long millis = Long.parseLong(text(request));
                    ScheduledFuture<?> answer = timer.schedule(() -> {
                        if (!call.isCancelled()) {
                            call.onNext(utf8("slept"));
                            call.onCompleted();
                        }
                    }, millis, TimeUnit.MILLISECONDS);
                    call.setOnCancelHandler(() -> {
                        answer.cancel(false);
                        recorder.cancelled(SLEEP);
                    });
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((request, out) -> {
                    recorder.called(FAIL);
                    out.onError(Status.INVALID_ARGUMENT.withDescription(text(request)).asRuntimeException());
                }))
                .addMethod(HANG, ServerCalls.asyncServerStreamingCall((request, out) -> {
                    recorder.called(HANG);
                    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) out;
                    call.setOnCancelHandler(() -> recorder.cancelled(HANG));
                    call.onNext(utf8("started"));
                }))
                .build();
    }

    /** What the service tells its server about calls. */
    interface CallRecorder {
        void called(MethodDescriptor<?, ?> method);

        void cancelled(MethodDescriptor<?, ?> method);
    }

    private static final class SumObserver implements StreamObserver<byte[]> {
        private final StreamObserver<byte[]> out;
        private long count;
        private long sum;

        SumObserver(StreamObserver<byte[]> out) {
            this.out = out;
        }

        @Override
        public void onNext(byte[] value) {
            count++;
            sum += Long.parseLong(text(value));
        }

        @Override
        public void onError(Throwable t) {
            // The client went away: there is nobody to answer.
        }

        @Override
        public void onCompleted() {
            out.onNext(utf8(count + " " + sum));
            out.onCompleted();
        }
    }

    private static final class EchoObserver implements StreamObserver<byte[]> {
        private final StreamObserver<byte[]> out;

        EchoObserver(StreamObserver<byte[]> out) {
            this.out = out;
        }

        @Override
        public void onNext(byte[] value) {
            out.onNext(value);
        }

        @Override
        public void onError(Throwable t) {
            // The client went away: there is nobody to answer.
        }

        @Override
        public void onCompleted() {
            out.onCompleted();
        }
    }
}
