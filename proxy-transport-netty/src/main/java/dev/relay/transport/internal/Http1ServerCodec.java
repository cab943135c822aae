package dev.relay.transport.internal;

import dev.relay.transport.ProxyOptions;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;

/**
 * The HTTP/1.1 codec of a client connection: the request decoder and the response encoder in one
 * handler (named {@code "http"} in the pipeline). The decoder can leave on its own
 * ({@link #removeInboundHandler()}): a connection held for a tunnel keeps writing its answer through
 * the encoder while the bytes the client sends stay raw.
 */
public final class Http1ServerCodec extends CombinedChannelDuplexHandler<ChannelInboundHandler, ChannelOutboundHandler> {

    /**
     * A codec with the request limits of {@code config}: its initial-line length, header size and chunk
     * size (the rest of it, Netty's decoder options, does not apply to {@link Http1RequestDecoder}).
     */
    public Http1ServerCodec(HttpDecoderConfig config) {
        super(new Http1RequestDecoder(config.getMaxInitialLineLength(), config.getMaxHeaderSize(),
                config.getMaxChunkSize()), new Http1Encoder());
    }

    /** A codec with the request limits and rules of {@code options}, and body parts of at most {@code maxChunkBytes}. */
    public Http1ServerCodec(ProxyOptions options, int maxChunkBytes) {
        super(new Http1RequestDecoder(options, maxChunkBytes), new Http1Encoder());
    }
}
