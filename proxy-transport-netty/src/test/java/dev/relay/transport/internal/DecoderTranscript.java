package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What an HTTP/1 decoder made of some bytes, as one line of text that does not depend on how the bytes
 * were split: each message ({@code GET /p HTTP/1.1 [Host: x]}, or {@code FAILED(cause)}), its body
 * parts joined ({@code BODY 'abc'}), its end ({@code END}, {@code TRAILERS [..] END}, or
 * {@code BROKEN(cause)}), and raw bytes passed through ({@code RAW '..'}), separated by {@code " | "}.
 * Every object is released once rendered.
 */
final class DecoderTranscript {
    private final List<String> items = new ArrayList<>();
    private final StringBuilder body = new StringBuilder();
    private final StringBuilder raw = new StringBuilder();
    /** The last message decoded, for tests that look at more than the transcript shows (failure causes, framing). */
    final List<HttpMessage> messages = new ArrayList<>();

    private DecoderTranscript() {}

    /** Feeds {@code input} whole. */
    static DecoderTranscript whole(ChannelHandler decoder, String input) {
        return decode(decoder, input, 0, false, ch -> { });
    }

    /** Feeds {@code input} one byte per read, each byte in a direct buffer (as the native transports read). */
    static DecoderTranscript byteByByte(ChannelHandler decoder, String input) {
        return decode(decoder, input, 1, false, ch -> { });
    }

    /**
     * Feeds {@code input} in pieces of {@code step} bytes (0: whole, in a heap buffer; otherwise direct
     * buffers), runs {@code afterInput}, closes the channel when {@code close}, and renders what came out.
     */
    static DecoderTranscript decode(ChannelHandler decoder, String input, int step, boolean close,
                                    Consumer<EmbeddedChannel> afterInput) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        DecoderTranscript transcript = new DecoderTranscript();
        try {
            if (step == 0) {
                channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            } else {
                for (int i = 0; i < bytes.length; i += step) {
                    ByteBuf piece = PooledByteBufAllocator.DEFAULT.directBuffer(step);
                    piece.writeBytes(bytes, i, Math.min(step, bytes.length - i));
                    channel.writeInbound(piece);
                    transcript.drain(channel);
                }
            }
            afterInput.accept(channel);
            transcript.drain(channel);
            if (close) {
                channel.finish();
                transcript.drain(channel);
            }
        } finally {
            channel.finishAndReleaseAll();
        }
        transcript.flushRaw();
        return transcript;
    }

    private void drain(EmbeddedChannel channel) {
        Object o;
        while ((o = channel.readInbound()) != null) {
            try {
                add(o);
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
    }

    private void add(Object o) {
        if (o instanceof ByteBuf buf) {
            raw.append(buf.toString(StandardCharsets.ISO_8859_1));
            return;
        }
        flushRaw();
        if (o instanceof HttpMessage message) {
            messages.add(message);
            if (message.decoderResult().isFailure()) {
                items.add("FAILED(" + message.decoderResult().cause().getClass().getSimpleName() + ")");
                return;
            }
            String start = message instanceof HttpRequest r ? r.method() + " " + r.uri() + " " + r.protocolVersion()
                    : message.protocolVersion() + " " + ((HttpResponse) message).status();
            items.add(start + " " + fields(message.headers()));
        }
        if (o instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                items.add("BROKEN(" + content.decoderResult().cause().getClass().getSimpleName() + ")");
                body.setLength(0);
                return;
            }
            body.append(content.content().toString(StandardCharsets.ISO_8859_1));
            if (content instanceof LastHttpContent last) {
                items.add("BODY '" + body + "'");
                body.setLength(0);
                HttpHeaders trailers = last.trailingHeaders();
                items.add(trailers.isEmpty() ? "END" : "TRAILERS " + fields(trailers) + " END");
            }
        }
    }

    private void flushRaw() {
        if (raw.length() > 0) {
            items.add("RAW '" + raw + "'");
            raw.setLength(0);
        }
    }

    private static String fields(HttpHeaders headers) {
        List<String> fields = new ArrayList<>();
        for (Map.Entry<String, String> e : headers) {
            fields.add(e.getKey() + ": " + e.getValue());
        }
        return fields.toString();
    }

    /**
     * The transcript of {@code input} fed whole to one decoder of {@code decoders}, after checking that
     * one byte per read (in direct buffers) and pieces of 2 to 8 bytes give the same one; the channel is
     * closed after the input when {@code close}.
     */
    static DecoderTranscript sameInAnySplit(Supplier<? extends ChannelHandler> decoders, String input, boolean close) {
        Consumer<EmbeddedChannel> nothing = ch -> { };
        DecoderTranscript whole = decode(decoders.get(), input, 0, close, nothing);
        for (int step = 1; step <= 8; step++) {
            assertEquals(whole.toString(), decode(decoders.get(), input, step, close, nothing).toString(),
                    "whole and in pieces of " + step + " differ");
        }
        return whole;
    }

    /** The framing of the message decoded last. */
    Http1Framing framing() {
        return Http1Framing.of(lastMessage());
    }

    /** The message decoded last. */
    HttpMessage lastMessage() {
        return messages.get(messages.size() - 1);
    }

    @Override
    public String toString() {
        String s = String.join(" | ", items);
        // A body cut short: the parts that came, not ended.
        return body.length() > 0 ? s + " | PARTS '" + body + "'" : s;
    }
}
