package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One run of an HTTP/1 decoder over fuzz input, for the fuzz tests: the bytes fed whole (one heap
 * buffer) or one byte per read (direct pooled buffers, as the native transports read), the channel
 * closed at the end, and everything the decoder emitted kept, in order, until {@link #release()}.
 * The input buffers are kept too, so that {@link #release()} can check that every slice the decoder
 * took of them was released exactly once (their count back to zero, no over-release).
 */
final class Http1DecoderRun {
    // Small limits for the fuzz tests' decoders, so that short inputs reach the too-long paths.
    static final int MAX_LINE = 96;
    static final int MAX_HEADER = 384;
    static final int MAX_CHUNK = 16;

    /** The decoded messages: a head, its body parts, its end (absent when the input stops first). */
    record Message(HttpMessage head, List<HttpContent> parts, LastHttpContent end) {
        boolean complete() {
            return head.decoderResult().isSuccess() && end != null && end.decoderResult().isSuccess();
        }
    }

    final List<Object> out = new ArrayList<>();
    private final List<ByteBuf> inputs = new ArrayList<>();
    private final EmbeddedChannel channel;

    private Http1DecoderRun(ChannelHandler decoder) {
        channel = new EmbeddedChannel(decoder);
    }

    /** Decodes {@code input}; {@code beforeInput} prepares the decoder (a response decoder's request). */
    static Http1DecoderRun decode(ChannelHandler decoder, byte[] input, boolean byteByByte,
                                  Consumer<EmbeddedChannel> beforeInput) {
        Http1DecoderRun run = new Http1DecoderRun(decoder);
        beforeInput.accept(run.channel);
        if (byteByByte) {
            for (byte b : input) {
                ByteBuf piece = PooledByteBufAllocator.DEFAULT.directBuffer(1).writeByte(b);
                run.feed(piece);
            }
        } else if (input.length > 0) {
            // Not Unpooled.wrappedBuffer: for no bytes it is the shared empty buffer, which has no count to check.
            run.feed(Unpooled.buffer(input.length).writeBytes(input));
        }
        run.channel.finish();
        run.drain();
        return run;
    }

    private void feed(ByteBuf piece) {
        inputs.add(piece.retain());
        channel.writeInbound(piece);
        // The decoder never throws out of the pipeline: a malformed message is a failed decoder result.
        channel.checkException();
        drain();
    }

    private void drain() {
        for (Object o; (o = channel.readInbound()) != null; ) {
            out.add(o);
        }
    }

    /** The decoder of this run, if it is still in the pipeline (for what it holds after the input). */
    <T extends ChannelHandler> T decoder(Class<T> type) {
        return channel.pipeline().get(type);
    }

    /** The messages, each with its parts; raw buffers (after 101) are not messages and are left out. */
    List<Message> messages() {
        List<Message> messages = new ArrayList<>();
        HttpMessage head = null;
        List<HttpContent> parts = new ArrayList<>();
        for (Object o : out) {
            if (o instanceof HttpMessage m) {
                if (head != null) {
                    messages.add(new Message(head, parts, null));
                }
                head = m;
                parts = new ArrayList<>();
            } else if (o instanceof LastHttpContent last) {
                messages.add(new Message(head, parts, last));
                head = null;
                parts = new ArrayList<>();
            } else if (o instanceof HttpContent part) {
                parts.add(part);
            }
        }
        if (head != null) {
            messages.add(new Message(head, parts, null));
        }
        return messages;
    }

    /**
     * Checks that every failure is one the decoder declares: its parse error, a too-long line or
     * header, or a connection closed within a head; anything else is a bug in the parser.
     */
    void assertOnlyDeclaredFailures() {
        for (Object o : out) {
            if (o instanceof HttpMessage || o instanceof LastHttpContent) {
                var result = ((io.netty.handler.codec.DecoderResultProvider) o).decoderResult();
                if (result.isFailure()) {
                    Throwable cause = result.cause();
                    if (!(cause instanceof Http1ParseException || cause instanceof TooLongHttpLineException
                            || cause instanceof TooLongHttpHeaderException
                            || cause instanceof PrematureChannelClosureException)) {
                        fail("an undeclared failure", cause);
                    }
                }
            }
        }
    }

    /** The run as text that does not depend on how the input was split (body parts joined). */
    String transcript() {
        StringBuilder s = new StringBuilder();
        for (Message m : messages()) {
            s.append(render(m)).append('\n');
        }
        StringBuilder raw = new StringBuilder();
        for (Object o : out) {
            if (o instanceof ByteBuf bytes) {
                raw.append(ByteBufUtil.hexDump(bytes));
            }
        }
        return raw.isEmpty() ? s.toString() : s.append("RAW ").append(raw).toString();
    }

    static String render(Message m) {
        StringBuilder s = new StringBuilder();
        HttpMessage head = m.head();
        if (head.decoderResult().isFailure()) {
            Throwable cause = head.decoderResult().cause();
            s.append("FAILED ").append(cause.getClass().getSimpleName());
            // Which of the header limits (the section, one field line) is named can depend on where the
            // bytes were split: a line over both is caught by the first check its bytes reach. The outcome
            // (431 for a request, 502 for a response) is the same, and that is what must not depend on it.
            if (!(cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException)) {
                s.append(": ").append(cause.getMessage());
            }
            if (cause instanceof Http1ParseException parse) {
                s.append(" status ").append(parse.status());
            }
        } else {
            if (head instanceof HttpRequest request) {
                s.append(request.method()).append(' ').append(request.uri()).append(' ').append(request.protocolVersion());
            } else {
                HttpResponse response = (HttpResponse) head;
                s.append(response.protocolVersion()).append(' ').append(response.status().code()).append(" '")
                        .append(response.status().reasonPhrase()).append('\'');
            }
            s.append(' ').append(fields(head.headers()));
        }
        StringBuilder body = new StringBuilder();
        for (HttpContent part : m.parts()) {
            body.append(ByteBufUtil.hexDump(part.content()));
        }
        if (m.end() != null) {
            body.append(ByteBufUtil.hexDump(m.end().content()));
        }
        s.append(" | BODY ").append(body);
        LastHttpContent end = m.end();
        if (end == null) {
            s.append(" | (cut short)");
        } else if (end.decoderResult().isFailure()) {
            Throwable cause = end.decoderResult().cause();
            s.append(" | BROKEN ").append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage());
        } else {
            s.append(" | END ").append(fields(end.trailingHeaders()));
        }
        return s.toString();
    }

    static String fields(HttpHeaders headers) {
        StringBuilder s = new StringBuilder("[");
        for (Map.Entry<CharSequence, CharSequence> field : (Iterable<Map.Entry<CharSequence, CharSequence>>)
                headers::iteratorCharSequence) {
            if (s.length() > 1) {
                s.append(", ");
            }
            s.append(field.getKey()).append(": ").append(field.getValue());
        }
        return s.append(']').toString();
    }

    /** Bytes the encoder wrote for {@code messages} (each head, a duplicate of each part and end). */
    static byte[] encode(List<Message> messages) {
        EmbeddedChannel encoder = new EmbeddedChannel(new Http1Encoder());
        try {
            for (Message m : messages) {
                encoder.write(m.head());
                for (HttpContent part : m.parts()) {
                    encoder.write(part.retainedDuplicate());
                }
                encoder.write(m.end().retainedDuplicate());
            }
            encoder.flush();
            encoder.checkException();
            ByteBuf all = Unpooled.buffer();
            for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
                all.writeBytes(b);
                b.release();
            }
            byte[] bytes = ByteBufUtil.getBytes(all);
            all.release();
            return bytes;
        } finally {
            encoder.finishAndReleaseAll();
        }
    }

    /** Releases what the decoder emitted, and checks that nothing it took of the input is still held. */
    void release() {
        for (Object o : out) {
            ReferenceCountUtil.release(o);
        }
        out.clear();
        channel.finishAndReleaseAll();
        for (ByteBuf input : inputs) {
            assertTrue(input.refCnt() == 1, "an input buffer still referenced by the decoder's output: refCnt "
                    + input.refCnt() + " (expected: 1, the test's own)");
            input.release();
            assertEquals(0, input.refCnt());
        }
    }
}
