package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import org.jspecify.annotations.Nullable;

/** Framing helpers shared by the HTTP/1.1 streams of both sides. */
final class Http1Messages {
    private Http1Messages() {}

    /**
     * Writes the data of a message's last part (if any) and returns its end marker to write next.
     * Without trailers the marker is the shared empty instance: a new {@code DefaultLastHttpContent}
     * would allocate a trailer map per message for nothing.
     */
    static LastHttpContent lastPart(Channel ch, ByteBuf data, @Nullable HttpHeaders trailers) {
        if (trailers != null && trailers.size() > 0) {
            io.netty.handler.codec.http.HttpHeaders netty;
            if (trailers instanceof NettyHttpHeaders n) {
                netty = n.unwrap();
            } else {
                netty = io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().newHeaders();
                trailers.forEach((String name, String value) -> netty.add(name, value));
            }
            return new DefaultLastHttpContent(data, netty);
        }
        if (data.isReadable()) {
            ch.write(new DefaultHttpContent(data), ch.voidPromise());
        } else {
            data.release();
        }
        return LastHttpContent.EMPTY_LAST_CONTENT;
    }
}
