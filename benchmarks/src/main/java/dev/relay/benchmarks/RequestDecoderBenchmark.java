package dev.relay.benchmarks;

import dev.relay.transport.internal.Http1RequestDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 request decoded from a pooled direct buffer (as the native transports read it), by
 * Netty's {@code HttpRequestDecoder} and by Relay's {@code Http1RequestDecoder}, in a channel pipeline
 * with the proxy's limits. {@code nettyWithFraming} adds the framing lookups the streams made on
 * Netty's requests ({@code HttpUtil} for chunked, the length, {@code Expect} and keep-alive), which
 * Relay's decoder does while it scans. Requests: {@code wrk} (wrk's default), {@code curl} (curl's),
 * {@code browser} (a browser's navigation, 11 fields).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RequestDecoderBenchmark -f 1 -wi 3 -i 3 -w 2s -r 2s -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class RequestDecoderBenchmark {
    private static final int MAX_LINE = 8 * 1024;
    private static final int MAX_HEADER = 32 * 1024;
    private static final int MAX_CHUNK = 64 * 1024;

    @Param({"wrk", "curl", "browser"})
    public String request;

    private ByteBuf wire;
    private EmbeddedChannel netty;
    private EmbeddedChannel nettyWithFraming;
    private EmbeddedChannel relay;
    private Blackhole blackhole;

    @Setup(Level.Trial)
    public void setUp(Blackhole blackhole) {
        this.blackhole = blackhole;
        String text = switch (request) {
            case "wrk" -> "GET /small HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
            case "curl" -> "GET /small HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
            case "browser" -> "GET /index.html?q=relay HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\n"
                    + "Cache-Control: max-age=0\r\nUpgrade-Insecure-Requests: 1\r\n"
                    + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
                    + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                    + "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nAccept-Encoding: gzip, deflate, br\r\n"
                    + "Accept-Language: en-GB,en;q=0.9\r\nCookie: session=0123456789abcdef; theme=dark\r\n\r\n";
            default -> throw new IllegalArgumentException("request: " + request);
        };
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        wire = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        netty = channel(new HttpRequestDecoder(nettyConfig()), false);
        nettyWithFraming = channel(new HttpRequestDecoder(nettyConfig()), true);
        relay = channel(new Http1RequestDecoder(MAX_LINE, MAX_HEADER, MAX_CHUNK), false);
    }

    private static HttpDecoderConfig nettyConfig() {
        return new HttpDecoderConfig().setMaxInitialLineLength(MAX_LINE).setMaxHeaderSize(MAX_HEADER)
                .setMaxChunkSize(MAX_CHUNK);
    }

    private EmbeddedChannel channel(ChannelHandler decoder, boolean framingLookups) {
        return new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest r) {
                    if (r.decoderResult().isFailure()) {
                        throw new IllegalStateException("not decoded", r.decoderResult().cause());
                    }
                    if (framingLookups) {
                        blackhole.consume(HttpUtil.isTransferEncodingChunked(r));
                        blackhole.consume(HttpUtil.getContentLength(r, 0L));
                        blackhole.consume(HttpUtil.is100ContinueExpected(r));
                        blackhole.consume(HttpUtil.isKeepAlive(r));
                    }
                }
                blackhole.consume(msg);
                ReferenceCountUtil.release(msg);
            }
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        netty.finishAndReleaseAll();
        nettyWithFraming.finishAndReleaseAll();
        relay.finishAndReleaseAll();
        wire.release();
    }

    /** The same bytes again: the decoder releases the buffer once it has read it all. */
    private void decode(ChannelPipeline pipeline) {
        pipeline.fireChannelRead(wire.readerIndex(0).retain());
    }

    @Benchmark
    public void netty() {
        decode(netty.pipeline());
    }

    @Benchmark
    public void nettyWithFraming() {
        decode(nettyWithFraming.pipeline());
    }

    @Benchmark
    public void relay() {
        decode(relay.pipeline());
    }
}
