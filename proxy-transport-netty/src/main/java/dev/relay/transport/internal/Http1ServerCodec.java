package dev.relay.transport.internal;

import dev.relay.transport.ProxyOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 codec of a client connection: the request decoder and the response encoder in one
 * handler (named {@code "http"} in the pipeline). The decoder can leave on its own
 * ({@link #removeInboundHandler()}): a connection held for a tunnel keeps writing its answer through
 * the encoder while the bytes the client sends stay raw.
 *
 * <p>It also tells the connection's {@link DownstreamHandler} when bytes arrive, before decoding them,
 * so that the request-header timer starts on the first byte of a header: done here rather than by a
 * handler of its own in front, which cost every connection a handler and a pipeline context (~90 bytes).
 */
public final class Http1ServerCodec extends CombinedChannelDuplexHandler<ChannelInboundHandler, ChannelOutboundHandler> {
    private final @Nullable DownstreamHandler connection;

    /**
     * A codec with the request limits of {@code config}: its initial-line length, header size and chunk
     * size (the rest of it, Netty's decoder options, does not apply to {@link Http1RequestDecoder}).
     */
    public Http1ServerCodec(HttpDecoderConfig config) {
        this(config, null);
    }

    /** As {@link #Http1ServerCodec(HttpDecoderConfig)}, telling {@code connection} of the bytes that arrive. */
    public Http1ServerCodec(HttpDecoderConfig config, @Nullable DownstreamHandler connection) {
        super(new Http1RequestDecoder(config.getMaxInitialLineLength(), config.getMaxHeaderSize(),
                config.getMaxChunkSize()), new Http1Encoder());
        this.connection = connection;
    }

    /** A codec with the request limits and rules of {@code options}, and body parts of at most {@code maxChunkBytes}. */
    public Http1ServerCodec(ProxyOptions options, int maxChunkBytes) {
        this(options, maxChunkBytes, null);
    }

    /** As {@link #Http1ServerCodec(ProxyOptions, int)}, telling {@code connection} of the bytes that arrive. */
    public Http1ServerCodec(ProxyOptions options, int maxChunkBytes, @Nullable DownstreamHandler connection) {
        super(new Http1RequestDecoder(options, maxChunkBytes), new Http1Encoder());
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (connection != null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            connection.onRequestBytes();
        }
        super.channelRead(ctx, msg);
    }
}
