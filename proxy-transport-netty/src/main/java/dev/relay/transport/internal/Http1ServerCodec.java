package dev.relay.transport.internal;

import dev.relay.transport.ProxyOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpDecoderConfig;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 codec of a client connection: the request decoder and the response encoder in one
 * handler (named {@code "http"} in the pipeline). The decoder can leave on its own
 * ({@link #removeInboundHandler()}): a connection held for a tunnel keeps writing its answer through
 * the encoder while the bytes the client sends stay raw.
 *
 * <p>One plain duplex handler that calls its two halves with its own context, rather than Netty's
 * {@code CombinedChannelDuplexHandler}: that one gives each half a delegating context, so every read,
 * decoded message, write and flush took an extra hop through it, and each connection kept the two
 * contexts (about 80 bytes).
 *
 * <p>It also tells the connection's {@link DownstreamHandler} when bytes arrive, before decoding them,
 * and when the read ends, so that the request-header timer starts with the first byte of a header that
 * did not arrive whole: done here rather than by a handler of its own in front, which cost every
 * connection a handler and a pipeline context (~90 bytes).
 */
public final class Http1ServerCodec extends ChannelDuplexHandler {
    /** Null once the decoder left: bytes then pass on raw. */
    private @Nullable Http1RequestDecoder decoder;
    private final Http1Encoder encoder;
    private final @Nullable DownstreamHandler connection;
    /** This codec's place in the pipeline, for {@link #removeInboundHandler()}. */
    private @Nullable ChannelHandlerContext ctx;
    /** Set while this codec gives way to its encoder-only successor: the encoder is handed over, not removed. */
    private boolean handingOver;

    /**
     * A codec with the request limits of {@code config}: its initial-line length, header size and chunk
     * size (the rest of it, Netty's decoder options, does not apply to {@link Http1RequestDecoder}).
     */
    public Http1ServerCodec(HttpDecoderConfig config) {
        this(config, null);
    }

    /** As {@link #Http1ServerCodec(HttpDecoderConfig)}, telling {@code connection} of the bytes that arrive. */
    public Http1ServerCodec(HttpDecoderConfig config, @Nullable DownstreamHandler connection) {
        this(new Http1RequestDecoder(config.getMaxInitialLineLength(), config.getMaxHeaderSize(),
                config.getMaxChunkSize()), new Http1Encoder(), connection);
    }

    /** A codec with the request limits and rules of {@code options}, and body parts of at most {@code maxChunkBytes}. */
    public Http1ServerCodec(ProxyOptions options, int maxChunkBytes) {
        this(options, maxChunkBytes, null);
    }

    /** As {@link #Http1ServerCodec(ProxyOptions, int)}, telling {@code connection} of the bytes that arrive. */
    public Http1ServerCodec(ProxyOptions options, int maxChunkBytes, @Nullable DownstreamHandler connection) {
        this(new Http1RequestDecoder(options, maxChunkBytes), new Http1Encoder(), connection);
    }

    private Http1ServerCodec(@Nullable Http1RequestDecoder decoder, Http1Encoder encoder,
                             @Nullable DownstreamHandler connection) {
        this.decoder = decoder;
        this.encoder = encoder;
        this.connection = connection;
    }

    /**
     * Takes the decoder out, which hands the bytes it holds on as they are; the encoder stays. The
     * codec gives way in the pipeline (same name) to one without a decoder: the decoder stops at once
     * because its context is then removed, even when this is called while it is passing a message on.
     * Does nothing when the decoder is gone already.
     */
    public void removeInboundHandler() {
        if (decoder == null) {
            return;
        }
        ChannelHandlerContext ctx = this.ctx;
        if (ctx == null || ctx.isRemoved()) {
            return;
        }
        handingOver = true;
        ctx.pipeline().replace(this, ctx.name(), new Http1ServerCodec(null, encoder, connection));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        Http1RequestDecoder d = decoder;
        decoder = null;
        try {
            if (d != null) {
                // Hands the undecoded bytes on: from a replaced context they reach the successor, which passes them.
                d.handlerRemoved(ctx);
            }
        } finally {
            if (!handingOver) {
                encoder.handlerRemoved(ctx);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        Http1RequestDecoder d = decoder;
        if (d == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (connection != null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            connection.onRequestBytes();
        }
        d.channelRead(ctx, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        Http1RequestDecoder d = decoder;
        if (d == null) {
            ctx.fireChannelReadComplete();
            return;
        }
        if (connection != null) {
            connection.onRequestBytesRead();
        }
        d.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Http1RequestDecoder d = decoder;
        if (d == null) {
            ctx.fireChannelInactive();
        } else {
            d.channelInactive(ctx);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        Http1RequestDecoder d = decoder;
        if (d == null) {
            ctx.fireUserEventTriggered(evt);
        } else {
            d.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        encoder.write(ctx, msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        encoder.flush(ctx);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        encoder.close(ctx, promise);
    }
}
