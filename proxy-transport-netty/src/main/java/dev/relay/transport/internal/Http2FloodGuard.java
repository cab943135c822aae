package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Ends a client's HTTP/2 connection (GOAWAY {@code ENHANCE_YOUR_CALM}, then close) when it sends what no
 * legitimate client does and Netty's codec does not limit: floods of SETTINGS, PING, PRIORITY,
 * WINDOW_UPDATE or empty DATA frames (Netty only bounds the ACKs it has queued and consecutive empty
 * DATA frames), stream churn (streams reset by either side: Rapid Reset, CVE-2023-44487, is the client
 * resetting; MadeYouReset, CVE-2025-8671, the server resetting because of frames the client sent), and
 * a header block (HEADERS and CONTINUATION frames) left open longer than the header read timeout
 * (a slow CONTINUATION stream holds the whole connection: no other frame may come in between).
 *
 * <p><b>Placement: before the frame codec, on the raw bytes.</b> It sits between the socket (or TLS) and
 * {@code Http2FrameCodec} and reads only frame headers (9 bytes: length, type, flags, stream id; the
 * client's 24-byte preface first), skipping payloads, in both directions: inbound for what the client
 * sends, outbound for the server's RST_STREAM (MadeYouReset shows only there) and DATA/HEADERS (what
 * earns the client WINDOW_UPDATE and PING frames). A frame-listener decorator cannot do this with
 * {@code Http2FrameCodec}: the codec builds its own listener and answers SETTINGS and PING inside the
 * decoder, and what it writes is not seen by a listener. Counting bytes this way costs one pass over
 * 9 bytes per frame and no allocation; the codec still parses and validates everything.
 *
 * <p><b>Counting.</b> Per connection, in fixed one-second windows. Each kind of control frame has its
 * own count against {@code maxControlFramesPerSecond}; WINDOW_UPDATE and PING frames are also allowed
 * in proportion to what the server sends (2 WINDOW_UPDATEs per DATA frame: stream and connection
 * window; 1 PING per DATA or HEADERS frame: gRPC's bandwidth probes) and PRIORITY frames in proportion
 * to the streams the client opens, so a fast download with small windows is never mistaken for a flood.
 * RST_STREAM frames of both sides count against {@code maxStreamChurnPerSecond}. Counts are reset at
 * each new window; a flood runs at tens of thousands of frames per second and is caught within
 * milliseconds, while the limits stay far above what browsers and gRPC clients send.
 *
 * <p>When a limit is passed: the reason is counted ({@link Http2Abuse}), logged at INFO with the
 * client's address (at most one line per second for all the connections of a service, with the number
 * left out), a
 * GOAWAY with {@code ENHANCE_YOUR_CALM} and the highest client stream id seen is written, followed by
 * a FIN once it is flushed, and the connection is closed when the client closes or after a second.
 * From then on the client's bytes are read and dropped. The codec does not see the GOAWAY; closing the channel ends
 * its streams as any close does.
 *
 * <p>One per connection; runs on its event loop.
 */
final class Http2FloodGuard extends ChannelDuplexHandler {
    private static final System.Logger LOG = System.getLogger("dev.relay.proxy.http2");
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long CLOSE_AFTER_GOAWAY_MILLIS = 1_000;
    private static final int CLIENT_PREFACE_LENGTH = 24;
    private static final long ENHANCE_YOUR_CALM = 0xb;

    private static final int DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
            PING = 0x6, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1, END_HEADERS = 0x4;

    /**
     * The limits of one listener.
     *
     * @param maxControlFramesPerSecond SETTINGS, PING, PRIORITY, WINDOW_UPDATE and empty DATA frames a
     *                                  client may send per second, each kind counted on its own (plus the
     *                                  allowance earned by what the server sends)
     * @param maxStreamChurnPerSecond   RST_STREAM frames per second, sent by either side
     * @param headersTimeoutNanos       how long a header block may stay open
     */
    record Limits(int maxControlFramesPerSecond, int maxStreamChurnPerSecond, long headersTimeoutNanos) {
        Limits {
            if (maxControlFramesPerSecond <= 0 || maxStreamChurnPerSecond <= 0 || headersTimeoutNanos <= 0) {
                throw new IllegalArgumentException("limits: " + maxControlFramesPerSecond + ", "
                        + maxStreamChurnPerSecond + ", " + headersTimeoutNanos + "ns (expected: all > 0)");
            }
        }
    }

    private final Limits limits;
    private final Http2Abuse abuse;
    private final EngineClock clock;
    private final FrameScanner inbound = new FrameScanner(CLIENT_PREFACE_LENGTH);
    private final FrameScanner outbound = new FrameScanner(0);
    private ChannelHandlerContext ctx;

    private long windowStart;
    private int settings;
    private int pings;
    private int priorities;
    private int windowUpdates;
    private int emptyData;
    private int resets;
    private int dataSent;
    private int headersSent;
    private int streamsOpened;

    /** The highest stream id the client has opened, in what this handler has read so far. */
    private int lastClientStreamId;
    /** The same in what has been passed on to the codec: the GOAWAY's last stream id. */
    private int lastStreamIdPassed;
    private boolean headerBlockOpen;
    /** Set when a header block is still open at the end of a buffer; cancelled when the block ends. */
    private Future<?> headersTimer;
    private final Runnable headersTimedOut = this::onHeadersTimeout;
    private boolean tripped;

    Http2FloodGuard(Limits limits, Http2Abuse abuse, EngineClock clock) {
        this.limits = requireNonNull(limits, "limits");
        this.abuse = requireNonNull(abuse, "abuse");
        this.clock = requireNonNull(clock, "clock");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.windowStart = clock.nanoTime();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelHeadersTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelHeadersTimer();
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tripped) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf bytes) {
            inbound.scan(bytes, clientFrames);
            if (tripped) {
                // Nothing of this buffer reaches the codec: the streams it opens were never processed.
                bytes.release();
                return;
            }
            lastStreamIdPassed = lastClientStreamId;
            if (headerBlockOpen && headersTimer == null) {
                // Almost every header block ends in the buffer it begins in: only one still open after it
                // costs a timer (a schedule and a cancel per request would load the loop's timer heap).
                headersTimer = clock.schedule(ctx.executor(), headersTimedOut, limits.headersTimeoutNanos());
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf bytes && !tripped) {
            outbound.scan(bytes, serverFrames);
        }
        ctx.write(msg, promise);
    }

    private final FrameSink clientFrames = new FrameSink() {
        private int type;
        private int flags;

        @Override
        public void frameStart(int length, int type, int flags, int streamId) {
            if (tripped) {
                return;
            }
            this.type = type;
            this.flags = flags;
            roll();
            switch (type) {
                case HEADERS -> {
                    if (streamId > lastClientStreamId && (streamId & 1) == 1) {
                        lastClientStreamId = streamId;
                        streamsOpened++;
                    }
                    headerBlockOpen = true;
                }
                case SETTINGS -> check(++settings, 0, Http2Abuse.Reason.SETTINGS_FLOOD);
                case PING -> check(++pings, dataSent + headersSent, Http2Abuse.Reason.PING_FLOOD);
                case PRIORITY -> check(++priorities, 2 * streamsOpened, Http2Abuse.Reason.PRIORITY_FLOOD);
                case WINDOW_UPDATE -> check(++windowUpdates, 2 * dataSent, Http2Abuse.Reason.WINDOW_UPDATE_FLOOD);
                case RST_STREAM -> countReset();
                case DATA -> {
                    if (length == 0 && (flags & END_STREAM) == 0) {
                        check(++emptyData, 0, Http2Abuse.Reason.EMPTY_DATA_FLOOD);
                    }
                }
                default -> { }
            }
        }

        @Override
        public void frameEnd() {
            if ((type == HEADERS || type == CONTINUATION) && (flags & END_HEADERS) != 0) {
                headerBlockOpen = false;
                cancelHeadersTimer();
            }
        }

        private void check(int count, int earned, Http2Abuse.Reason reason) {
            if (count > limits.maxControlFramesPerSecond() + earned) {
                trip(reason, count);
            }
        }
    };

    private final FrameSink serverFrames = new FrameSink() {
        @Override
        public void frameStart(int length, int type, int flags, int streamId) {
            switch (type) {
                case DATA -> {
                    roll();
                    dataSent++;
                }
                case HEADERS -> {
                    roll();
                    headersSent++;
                }
                case RST_STREAM -> {
                    roll();
                    countReset();
                }
                default -> { }
            }
        }
    };

    /** Counts one RST_STREAM; the window has been rolled. */
    private void countReset() {
        if (++resets > limits.maxStreamChurnPerSecond()) {
            // An outbound reset trips inside the codec's write: end the connection once that write is done.
            if (!tripped) {
                tripped = true;
                ctx.executor().execute(() -> goAway(Http2Abuse.Reason.STREAM_CHURN, resets,
                        limits.maxStreamChurnPerSecond()));
            }
        }
    }

    /** Starts a new window when the current one is over; called before every count. */
    private void roll() {
        long now = clock.nanoTime();
        if (now - windowStart >= WINDOW_NANOS) {
            windowStart = now;
            settings = pings = priorities = windowUpdates = emptyData = resets = 0;
            dataSent = headersSent = streamsOpened = 0;
        }
    }

    private void trip(Http2Abuse.Reason reason, int count) {
        if (!tripped) {
            tripped = true;
            goAway(reason, count, limits.maxControlFramesPerSecond());
        }
    }

    private void onHeadersTimeout() {
        headersTimer = null;
        if (headerBlockOpen && !tripped && ctx.channel().isActive()) {
            tripped = true;
            goAway(Http2Abuse.Reason.HEADERS_TIMEOUT, 1, 0);
        }
    }

    private void cancelHeadersTimer() {
        if (headersTimer != null) {
            headersTimer.cancel(false);
            headersTimer = null;
        }
    }

    private void goAway(Http2Abuse.Reason reason, int count, int limit) {
        cancelHeadersTimer();
        abuse.count(reason);
        log(reason, count, limit);
        byte[] debug = reason.label().getBytes(StandardCharsets.US_ASCII);
        ByteBuf frame = ctx.alloc().buffer(9 + 8 + debug.length);
        frame.writeMedium(8 + debug.length).writeByte(0x7).writeByte(0).writeInt(0)
                .writeInt(lastStreamIdPassed).writeInt((int) ENHANCE_YOUR_CALM).writeBytes(debug);
        ctx.writeAndFlush(frame).addListener((ChannelFutureListener) written -> {
            if (written.isSuccess() && ctx.channel() instanceof DuplexChannel socket) {
                // A lingering close: the GOAWAY and a FIN go out, the client's bytes are still read (and
                // dropped) until it closes or the linger ends. Closing with its flood unread would send
                // a TCP reset, which discards whatever of the GOAWAY the kernel had not sent yet.
                socket.shutdownOutput();
            } else {
                ctx.close();
            }
        });
        // A client that neither reads nor closes: closed anyway.
        ctx.executor().schedule(() -> ctx.close(), CLOSE_AFTER_GOAWAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void log(Http2Abuse.Reason reason, int count, int limit) {
        long left = abuse.logPermit();
        if (left < 0) {
            return;
        }
        String what = switch (reason) {
            case HEADERS_TIMEOUT -> "a header block open longer than "
                    + TimeUnit.NANOSECONDS.toMillis(limits.headersTimeoutNanos()) + " ms";
            case STREAM_CHURN -> count + " streams reset in under a second (limit " + limit + ")";
            default -> count + " frames in under a second (limit " + limit
                    + ", plus what the proxy's DATA and the client's streams allow)";
        };
        LOG.log(System.Logger.Level.INFO, "HTTP/2 connection from {0} closed with GOAWAY ENHANCE_YOUR_CALM: {1}, {2}{3}",
                ctx.channel().remoteAddress(), reason.label(), what,
                left == 0 ? "" : " (" + left + " more connections closed for abuse since the last line)");
    }

    /** What {@link FrameScanner} reports. */
    interface FrameSink {
        /** A frame header: the payload of {@code length} bytes follows (and is skipped). */
        void frameStart(int length, int type, int flags, int streamId);

        /** The payload of the last frame started has been passed in full. */
        default void frameEnd() {
        }
    }

    /**
     * Finds the frame headers in a byte stream split at any point: skips a preface, collects each 9-byte
     * header (which may span buffers), skips the payload. Reads the buffers without moving their indexes.
     */
    static final class FrameScanner {
        private int prefaceLeft;
        private int headerFilled;
        private long header; // header bytes 2 to 9 so far, big-endian
        private int lengthHigh;
        private int payloadLeft;
        private boolean inPayload;

        FrameScanner(int prefaceLength) {
            this.prefaceLeft = prefaceLength;
        }

        void scan(ByteBuf bytes, FrameSink sink) {
            int i = bytes.readerIndex();
            int end = bytes.writerIndex();
            while (i < end) {
                if (prefaceLeft > 0) {
                    int n = Math.min(prefaceLeft, end - i);
                    prefaceLeft -= n;
                    i += n;
                } else if (inPayload) {
                    int n = Math.min(payloadLeft, end - i);
                    payloadLeft -= n;
                    i += n;
                    if (payloadLeft == 0) {
                        inPayload = false;
                        sink.frameEnd();
                    }
                } else {
                    header = header << 8 | bytes.getUnsignedByte(i++);
                    if (++headerFilled == 9) {
                        headerFilled = 0;
                        // header holds the last 8 bytes: length[1..2], type, flags, stream id[0..3]; the
                        // first length byte is in lengthHigh.
                        int length = (lengthHigh << 16) | (int) (header >>> 48) & 0xffff;
                        int type = (int) (header >>> 40) & 0xff;
                        int flags = (int) (header >>> 32) & 0xff;
                        int streamId = (int) header & 0x7fff_ffff;
                        header = 0;
                        payloadLeft = length;
                        sink.frameStart(length, type, flags, streamId);
                        if (length == 0) {
                            sink.frameEnd();
                        } else {
                            inPayload = true;
                        }
                    } else if (headerFilled == 1) {
                        lengthHigh = (int) header & 0xff;
                        header = 0;
                    }
                }
            }
        }
    }
}
