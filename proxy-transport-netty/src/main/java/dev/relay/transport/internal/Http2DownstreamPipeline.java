package dev.relay.transport.internal;

import dev.relay.transport.Http2Settings;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * Builds the HTTP/2 end of a downstream connection, once the protocol is known (ALPN {@code h2}, or
 * the prior-knowledge preface on a plain listener):
 *
 * <pre>
 * [tls] ─► "h2-flushes" ─► "h2-activity" ─► "h2-guard" ─► "h2" Http2FrameCodec ─► "h2-streams" Http2MultiplexHandler ─► "h2-connection"
 *                                                     └─ per stream: child channel ─► Http2StreamIdleTimeout ─► Http2StreamHandler
 * </pre>
 *
 * The one place the HTTP/2 pipeline is put together. {@link Http2FloodGuard} reads the raw frame
 * headers both ways before the codec (its Javadoc says why there).
 */
final class Http2DownstreamPipeline {
    /** The names of the handlers, in pipeline order. */
    private static final String FLUSHES = "h2-flushes";
    private static final String ACTIVITY = "h2-activity";
    private static final String GUARD = "h2-guard";
    private static final String CODEC = "h2";
    private static final String STREAMS = "h2-streams";
    private static final String CONNECTION = "h2-connection";

    private Http2DownstreamPipeline() {}

    /**
     * Appends the HTTP/2 handlers to {@code pipeline}, for a connection of a listener with these timeouts
     * (the header read timeout bounds a header block left open).
     */
    static void install(ChannelPipeline pipeline, ProxyEngine<?> engine, long headerReadNanos, long keepAliveNanos,
                        long bodyReadNanos) {
        Http2Settings settings = engine.options.http2();
        long streamIdleNanos = settings.streamIdleTimeout().toNanos();
        Http2DownstreamConnection connection = new Http2DownstreamConnection(engine, settings, keepAliveNanos,
                bodyReadNanos);
        Http2FrameCodec codec = codec(settings, engine.options.maxHeaderBytes());
        // Each stream flushes its own response, usually while handling an upstream read rather than a
        // read of this connection: without consolidation every response would be a socket write (and
        // a TLS record) of its own. Flushes are batched to one per event-loop turn instead.
        pipeline.addLast(FLUSHES, new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true))
                .addLast(ACTIVITY, connection.activityWatcher())
                .addLast(GUARD, new Http2FloodGuard(new Http2FloodGuard.Limits(settings.maxControlFramesPerSecond(),
                        settings.maxStreamChurnPerSecond(), headerReadNanos), engine.http2Abuse, engine.clock))
                .addLast(CODEC, codec)
                .addLast(STREAMS, new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline().addLast(new Http2StreamIdleTimeout(engine.clock, streamIdleNanos),
                                new Http2StreamHandler(connection));
                    }
                }))
                .addLast(CONNECTION, connection);
        openConnectionWindow(pipeline, CONNECTION, settings.connectionWindow());
    }

    /**
     * Raises the receive window of a connection whose frame codec sits before the handler named
     * {@code after} to {@code window} bytes. The connection window starts at 64 KiB whatever SETTINGS
     * say (RFC 9113 §6.9.2); a WINDOW_UPDATE on stream 0 raises it, and the codec keeps it at the new
     * size from then on. Used for client and origin connections alike.
     */
    static void openConnectionWindow(ChannelPipeline pipeline, String after, int window) {
        int increase = window - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        if (increase > 0) {
            pipeline.context(after).writeAndFlush(new DefaultHttp2WindowUpdateFrame(increase));
        }
    }

    /** Netty's frame codec with the proxy's SETTINGS and its limits on abusive peers. */
    static Http2FrameCodec codec(Http2Settings settings, int maxHeaderBytes) {
        Integer headerList = settings.maxHeaderListSize();
        io.netty.handler.codec.http2.Http2Settings initial = new io.netty.handler.codec.http2.Http2Settings()
                .maxConcurrentStreams(settings.maxConcurrentStreams())
                .initialWindowSize(settings.initialStreamWindow())
                .maxFrameSize(settings.maxFrameSize())
                .maxHeaderListSize(headerList != null ? headerList : maxHeaderBytes);
        int resetWindowSeconds = (int) settings.resetWindow().toSeconds();
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(initial)
                // RFC 9113 §8.2.2: connection-specific fields and a TE other than "trailers" make the
                // request malformed; Netty's header validation answers RST_STREAM PROTOCOL_ERROR.
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(settings.maxResetsPerWindow(), resetWindowSeconds)
                .encoderEnforceMaxRstFramesPerWindow(settings.maxResetsPerWindow(), resetWindowSeconds)
                .encoderEnforceMaxQueuedControlFrames(settings.maxQueuedControlFrames())
                .decoderEnforceMaxConsecutiveEmptyDataFrames(settings.maxConsecutiveEmptyDataFrames())
                .decoderEnforceMaxSmallContinuationFrames(settings.maxSmallContinuationFrames())
                .build();
    }
}
