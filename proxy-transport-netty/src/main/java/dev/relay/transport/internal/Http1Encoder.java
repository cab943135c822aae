package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import org.jspecify.annotations.Nullable;

import java.util.Iterator;
import java.util.Map;

/**
 * The HTTP/1.1 encoder of both sides (responses to clients, requests to origins), written for the
 * proxy's write pattern: a header, a few body parts, an end marker, one flush.
 *
 * <ul>
 *   <li>A header block is formatted in one pass into a per-thread scratch array (a Latin-1 string is
 *       copied byte for byte, an {@code AsciiString} by array copy) and lands in one direct buffer of
 *       its exact size plus room for what usually follows: no buffer growth, no per-field write call.</li>
 *   <li>Framing bytes (chunk sizes, CRLFs, the last chunk) and small body parts are appended to that
 *       pending buffer instead of becoming buffers of their own, so a small response leaves as one
 *       buffer and one {@code write}; a large body part passes through by reference, in order.</li>
 *   <li>The pending buffer goes down the pipeline before anything that is not merged into it, and at
 *       every flush; the promises of the writes merged into it complete with its write.</li>
 * </ul>
 *
 * <p>The framing follows the message's own fields: {@code Transfer-Encoding: chunked} means chunked
 * coding, anything else passes body bytes as they are (the streams decide the fields, and drop the
 * body of a bodiless response themselves). Trailer fields go out only with chunked coding.
 */
public final class Http1Encoder extends ChannelOutboundHandlerAdapter {
    /** A body part up to this size is copied into the pending buffer rather than written by reference. */
    private static final int MERGE_LIMIT = 2048;
    /** Room left after a header block for the body and framing that usually follow it. */
    private static final int HEADER_SLACK = 256;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};
    private static final byte[] HEX = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    private boolean chunked;
    private @Nullable ByteBuf pending;
    private @Nullable ChannelPromise pendingPromise;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpMessage message) {
            writeHeader(ctx, message);
            if (msg instanceof HttpContent content) {
                writeContent(ctx, content, msg instanceof LastHttpContent);
            }
            attachPromise(ctx, promise);
            return;
        }
        if (msg instanceof HttpContent content) {
            writeContent(ctx, content, msg instanceof LastHttpContent);
            attachPromise(ctx, promise);
            return;
        }
        if (msg instanceof ByteBuf buf && !buf.isReadable() && pending != null) {
            // An empty buffer written for its future (a flush marker): the promise rides on the pending bytes.
            buf.release();
            attachPromise(ctx, promise);
            return;
        }
        emitPending(ctx);
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        emitPending(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        emitPending(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Removed (a tunnel takes the connection): what is formatted still goes out, before the raw bytes.
        emitPending(ctx);
    }

    private void writeHeader(ChannelHandlerContext ctx, HttpMessage message) {
        emitPending(ctx);
        Scratch out = SCRATCH.get();
        out.length = 0;
        if (message instanceof HttpRequest request) {
            out.text(request.method().asciiName()).put((byte) ' ');
            String uri = request.uri();
            out.text(uri.isEmpty() ? "/" : uri);
            if (!uri.isEmpty() && uri.charAt(0) != '/') {
                out.pathForAbsoluteTarget(uri);
            }
            out.put((byte) ' ').text(request.protocolVersion().text());
        } else {
            HttpResponse response = (HttpResponse) message;
            out.text(response.protocolVersion().text()).put((byte) ' ')
                    .text(response.status().codeAsText()).put((byte) ' ')
                    .text(response.status().reasonPhrase());
        }
        out.put(CRLF);
        chunked = out.fields(message.headers());
        out.put(CRLF);
        ByteBuf buf = ctx.alloc().ioBuffer(out.length + HEADER_SLACK);
        buf.writeBytes(out.bytes, 0, out.length);
        pending = buf;
    }

    private void writeContent(ChannelHandlerContext ctx, HttpContent content, boolean last) {
        ByteBuf data = content.content();
        int size = data.readableBytes();
        if (size == 0) {
            content.release();
        } else {
            if (chunked) {
                appendChunkSize(ctx, size);
            }
            if (size <= MERGE_LIMIT && room(size)) {
                copy(data, pending, size);
                content.release();
            } else {
                emitPending(ctx);
                // The content's buffer is the message's only reference-counted part: it goes on as it is.
                ctx.write(data, ctx.voidPromise());
            }
            if (chunked) {
                append(ctx, CRLF);
            }
        }
        if (last && chunked) {
            // Only chunked coding can carry trailer fields; otherwise they go (RFC 9110 §6.5 allows it).
            HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
            if (trailers.isEmpty()) {
                append(ctx, LAST_CHUNK);
            } else {
                Scratch out = SCRATCH.get();
                out.length = 0;
                out.put((byte) '0').put(CRLF);
                out.fields(trailers);
                out.put(CRLF);
                append(ctx, out.bytes, out.length);
            }
        }
    }

    /** Makes {@code promise} complete with the pending bytes, or with an empty write when none are pending. */
    private void attachPromise(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (promise.isVoid()) {
            return;
        }
        if (pending == null) {
            ctx.write(io.netty.buffer.Unpooled.EMPTY_BUFFER, promise);
        } else if (pendingPromise == null) {
            pendingPromise = promise;
        } else {
            // Rare (writes of the engine use the void promise but for the last): both complete with the buffer.
            ChannelPromise both = ctx.newPromise();
            both.addListener(new io.netty.util.concurrent.PromiseNotifier<>(pendingPromise, promise));
            pendingPromise = both;
        }
    }

    private void appendChunkSize(ChannelHandlerContext ctx, int size) {
        Scratch out = SCRATCH.get();
        out.length = 0;
        int digits = (Integer.SIZE - Integer.numberOfLeadingZeros(size) + 3) / 4;
        out.ensure(digits + 2);
        for (int i = digits - 1; i >= 0; i--) {
            out.bytes[out.length++] = HEX[(size >>> (i * 4)) & 0xf];
        }
        out.put(CRLF);
        append(ctx, out.bytes, out.length);
    }

    private void append(ChannelHandlerContext ctx, byte[] bytes) {
        append(ctx, bytes, bytes.length);
    }

    private void append(ChannelHandlerContext ctx, byte[] bytes, int length) {
        if (!room(length)) {
            emitPending(ctx);
            pending = ctx.alloc().ioBuffer(Math.max(length, 64));
        }
        pending.writeBytes(bytes, 0, length);
    }

    /**
     * Appends {@code size} readable bytes of {@code from} to {@code to}: address to address when both
     * are direct (Netty's {@code writeBytes} would make an NIO view of each, two objects per copy).
     */
    private static void copy(ByteBuf from, ByteBuf to, int size) {
        if (from.hasMemoryAddress() && to.hasMemoryAddress()) {
            int at = to.writerIndex();
            PlatformDependent.copyMemory(from.memoryAddress() + from.readerIndex(), to.memoryAddress() + at, size);
            to.writerIndex(at + size);
        } else {
            to.writeBytes(from, from.readerIndex(), size);
        }
    }

    /** Whether {@code size} more bytes fit the pending buffer without growing it. */
    private boolean room(int size) {
        return pending != null && pending.writableBytes() >= size;
    }

    private void emitPending(ChannelHandlerContext ctx) {
        ByteBuf buf = pending;
        if (buf != null) {
            pending = null;
            ChannelPromise promise = pendingPromise;
            pendingPromise = null;
            ctx.write(buf, promise != null ? promise : ctx.voidPromise());
        }
    }

    @Override
    public String toString() {
        return "Http1Encoder{chunked=" + chunked + ", pending=" + (pending == null ? 0 : pending.readableBytes()) + '}';
    }

    /** A thread's array that header blocks are formatted in (one per event loop; it only grows). */
    private static final class Scratch {
        byte[] bytes = new byte[4096];
        int length;

        void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(length + more, bytes.length * 2));
            }
        }

        Scratch put(byte b) {
            ensure(1);
            bytes[length++] = b;
            return this;
        }

        Scratch put(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, bytes, length, b.length);
            length += b.length;
            return this;
        }

        /**
         * Appends {@code text}: an {@code AsciiString} by array copy, other text char by char, Latin-1
         * as it is and anything above as {@code '?'} (as Netty's encoder does).
         */
        Scratch text(CharSequence text) {
            int n = text.length();
            ensure(n);
            byte[] out = bytes;
            int at = length;
            if (text instanceof AsciiString ascii) {
                System.arraycopy(ascii.array(), ascii.arrayOffset(), out, at, n);
            } else if (text instanceof String s) {
                for (int i = 0; i < n; i++) {
                    char c = s.charAt(i);
                    out[at + i] = c > 0xff ? (byte) '?' : (byte) c;
                }
            } else {
                for (int i = 0; i < n; i++) {
                    char c = text.charAt(i);
                    out[at + i] = c > 0xff ? (byte) '?' : (byte) c;
                }
            }
            length = at + n;
            return this;
        }

        /** Appends every field as {@code name: value CRLF}; true when one says the body is chunked. */
        boolean fields(HttpHeaders headers) {
            boolean chunkedBody = false;
            if (headers instanceof CompactHttpHeaders compact) {
                return fields(compact);
            }
            Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
            while (it.hasNext()) {
                Map.Entry<CharSequence, CharSequence> field = it.next();
                chunkedBody |= field(field.getKey(), field.getValue());
            }
            return chunkedBody;
        }

        /**
         * Appends the fields of {@code headers} straight from its arrays (no iterator, no entry objects),
         * and its decoded fields from the header block without a name or value object: a run of lines
         * that are already {@code name: value CRLF} and follow each other in the block is one copy.
         */
        private boolean fields(CompactHttpHeaders headers) {
            boolean chunkedBody = false;
            byte[] block = headers.block();
            // The run of block lines not yet copied: [runStart, runEnd), empty when equal.
            int runStart = -1;
            int runEnd = -1;
            for (int i = 0, n = headers.size(); i < n; i++) {
                int nameStart = headers.rawNameStart(i);
                if (nameStart < 0) {
                    copyRun(block, runStart, runEnd);
                    runStart = runEnd = -1;
                    chunkedBody |= field(headers.nameAt(i), headers.valueAt(i));
                    continue;
                }
                if (headers.nameEquals(i, HttpHeaderNames.TRANSFER_ENCODING)) {
                    chunkedBody |= AsciiString.containsIgnoreCase(headers.valueAt(i), HttpHeaderValues.CHUNKED);
                }
                int nameEnd = headers.rawNameEnd(i);
                int valueStart = headers.rawValueStart(i);
                int valueEnd = headers.rawValueEnd(i);
                if (valueStart == nameEnd + 2 && block[nameEnd + 1] == ' ' && block[valueEnd] == '\r') {
                    if (nameStart != runEnd) {
                        copyRun(block, runStart, runEnd);
                        runStart = nameStart;
                    }
                    runEnd = valueEnd + 2;
                } else {
                    // Other whitespace around the value than one space before it: written as a fresh line.
                    copyRun(block, runStart, runEnd);
                    runStart = runEnd = -1;
                    bytes(block, nameStart, nameEnd);
                    ensure(2);
                    bytes[length++] = ':';
                    bytes[length++] = ' ';
                    bytes(block, valueStart, valueEnd);
                    put(CRLF);
                }
            }
            copyRun(block, runStart, runEnd);
            return chunkedBody;
        }

        private void copyRun(byte[] block, int start, int end) {
            if (end > start) {
                bytes(block, start, end);
            }
        }

        private void bytes(byte[] from, int start, int end) {
            int n = end - start;
            ensure(n);
            System.arraycopy(from, start, bytes, length, n);
            length += n;
        }

        /** Appends {@code name: value CRLF}; true when it says the body is chunked. */
        private boolean field(CharSequence name, CharSequence value) {
            text(name);
            ensure(2);
            bytes[length++] = ':';
            bytes[length++] = ' ';
            text(value);
            put(CRLF);
            return name.length() == 17 && AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)
                    && AsciiString.containsIgnoreCase(value, HttpHeaderValues.CHUNKED);
        }

        /**
         * An absolute target without a path ({@code http://host} or {@code http://host?q}) gets the
         * {@code "/"} the origin form needs, before its query (what Netty's encoder does too).
         */
        void pathForAbsoluteTarget(String uri) {
            int scheme = uri.indexOf("://");
            if (scheme <= 0) {
                return;
            }
            int authority = scheme + 3;
            int query = uri.indexOf('?', authority);
            int slash = uri.indexOf('/', authority);
            if (slash >= 0 && (query < 0 || slash < query)) {
                return;
            }
            int at = query < 0 ? uri.length() : query;
            int start = length - uri.length();
            ensure(1);
            System.arraycopy(bytes, start + at, bytes, start + at + 1, uri.length() - at);
            bytes[start + at] = '/';
            length++;
        }
    }
}
