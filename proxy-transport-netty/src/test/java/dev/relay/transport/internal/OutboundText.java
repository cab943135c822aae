package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;

/** What a test's {@link EmbeddedChannel} wrote, as Latin-1 text: the written buffers are released. */
final class OutboundText {
    private OutboundText() {}

    /** Everything written since the last call, in order, each buffer released after it is read. */
    static String drain(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return out.toString();
    }
}
