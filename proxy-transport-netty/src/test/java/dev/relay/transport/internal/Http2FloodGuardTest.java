package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Http2FloodGuard} on an {@link EmbeddedChannel}: raw frame bytes in, GOAWAY bytes out, a manual clock. */
class Http2FloodGuardTest {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
            PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
    private static final int LIMIT = 100;
    private static final int CHURN = 50;
    private static final Duration HEADERS_TIMEOUT = Duration.ofSeconds(5);

    private final ManualEngineClock clock = new ManualEngineClock();
    private final Http2Abuse abuse = new Http2Abuse(clock);
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new Http2FloodGuard(
                new Http2FloodGuard.Limits(LIMIT, CHURN, HEADERS_TIMEOUT.toNanos()), abuse, clock));
        send(PREFACE);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Test
    void passesEveryByteThroughUnchangedBelowTheLimits() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(frame(SETTINGS, 0, 0, new byte[6]));
        all.writeBytes(frame(HEADERS, 0x5, 1, new byte[20]));
        for (int i = 0; i < LIMIT; i++) {
            all.writeBytes(frame(PING, 0, 0, new byte[8]));
            all.writeBytes(frame(WINDOW_UPDATE, 0, 0, new byte[] {0, 0, 1, 0}));
        }
        all.writeBytes(frame(DATA, 0x1, 1, new byte[300]));
        byte[] bytes = all.toByteArray();

        send(bytes);

        assertArrayEquals(concat(PREFACE, bytes), readInbound());
        assertTrue(channel.isOpen());
        assertNull(channel.readOutbound());
    }

    @Test
    void findsFrameHeadersSplitAcrossBuffersAtAnyByte() {
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        for (int i = 0; i <= LIMIT; i++) {
            flood.writeBytes(frame(PRIORITY, 0, 3, new byte[] {0, 0, 0, 1, 15}));
        }
        for (byte b : flood.toByteArray()) {
            if (!channel.isOpen()) {
                break;
            }
            send(new byte[] {b});
        }

        assertGoAway(0, "priority_flood");
        assertEquals(1, abuse.counts().get(Http2Abuse.Reason.PRIORITY_FLOOD));
    }

    @Test
    void aSettingsFloodGetsGoAwayEnhanceYourCalmAndIsClosed() {
        for (int i = 0; i < LIMIT; i++) {
            send(frame(SETTINGS, 0, 0, new byte[0]));
        }
        assertTrue(channel.isOpen());

        send(frame(SETTINGS, 0, 0, new byte[0]));

        assertGoAway(0, "settings_flood");
        assertFalse(channel.isOpen());
        assertEquals(1, abuse.counts().get(Http2Abuse.Reason.SETTINGS_FLOOD));
    }

    @Test
    void theGoAwayNamesTheLastStreamTheClientOpenedAndLaterBytesAreDropped() {
        send(frame(HEADERS, 0x5, 1, new byte[4]));
        send(frame(HEADERS, 0x5, 7, new byte[4]));
        readInbound();
        for (int i = 0; i <= LIMIT; i++) {
            send(frame(PING, 0, 0, new byte[8]));
        }
        // The buffer that passed the limit is dropped, not handed to the codec.
        assertEquals(LIMIT * 17, readInbound().length);

        send(frame(HEADERS, 0x5, 9, new byte[4]));

        assertGoAway(7, "ping_flood");
        assertEquals(0, readInbound().length);
    }

    @Test
    void controlFramesSpreadOverSecondsAreAllowed() {
        for (int second = 0; second < 5; second++) {
            for (int i = 0; i < LIMIT; i++) {
                send(frame(WINDOW_UPDATE, 0, 0, new byte[] {0, 0, 1, 0}));
            }
            clock.advance(Duration.ofSeconds(1));
        }

        assertTrue(channel.isOpen());
        assertEquals(0, abuse.counts().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void dataTheServerSendsEarnsTheClientWindowUpdatesAndPings() {
        send(frame(HEADERS, 0x5, 1, new byte[4]));
        for (int i = 0; i < 500; i++) {
            channel.writeOutbound(Unpooled.wrappedBuffer(frame(DATA, 0, 1, new byte[100])));
        }
        // 2 WINDOW_UPDATEs (stream and connection) and a PING for every DATA frame, on top of the limit.
        for (int i = 0; i < LIMIT + 1000; i++) {
            send(frame(WINDOW_UPDATE, 0, i % 2, new byte[] {0, 0, 1, 0}));
        }
        for (int i = 0; i < LIMIT + 500; i++) {
            send(frame(PING, 0, 0, new byte[8]));
        }
        assertTrue(channel.isOpen());
        channel.releaseOutbound();

        send(frame(WINDOW_UPDATE, 0, 0, new byte[] {0, 0, 1, 0}));

        assertGoAway(1, "window_update_flood");
    }

    @Test
    void emptyDataFramesWithoutEndStreamAreAFloodButEndStreamOnesAreNot() {
        send(frame(HEADERS, 0x4, 1, new byte[4]));
        for (int i = 0; i < LIMIT; i++) {
            send(frame(DATA, 0, 1, new byte[0]));
            send(frame(DATA, 0x1, 1, new byte[0]));
        }
        assertTrue(channel.isOpen());

        send(frame(DATA, 0, 1, new byte[0]));

        assertGoAway(1, "empty_data_flood");
    }

    @Test
    void streamChurnCountsResetsByTheClientAndByTheServer() {
        for (int i = 0; i < CHURN / 2; i++) {
            int stream = 2 * i + 1;
            send(frame(HEADERS, 0x5, stream, new byte[4]));
            send(frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}));
        }
        for (int i = 0; i < CHURN / 2; i++) {
            channel.writeOutbound(Unpooled.wrappedBuffer(frame(RST_STREAM, 0, 2 * i + 1, new byte[] {0, 0, 0, 1})));
        }
        channel.releaseOutbound();
        assertTrue(channel.isOpen());

        // The server's own reset passes the limit (MadeYouReset): the GOAWAY follows once that write is done.
        channel.writeOutbound(Unpooled.wrappedBuffer(frame(RST_STREAM, 0, 1, new byte[] {0, 0, 0, 1})));
        ByteBuf reset = channel.readOutbound();
        reset.release();
        channel.runPendingTasks();

        assertGoAway(CHURN - 1, "stream_churn");
        assertEquals(1, abuse.counts().get(Http2Abuse.Reason.STREAM_CHURN));
    }

    @Test
    void aHeaderBlockLeftOpenIsEndedAfterTheHeadersTimeout() {
        send(frame(HEADERS, 0, 1, new byte[10]));
        for (int i = 0; i < 3; i++) {
            send(frame(CONTINUATION, 0, 1, new byte[0]));
        }
        clock.advance(HEADERS_TIMEOUT.minusMillis(1));
        channel.runPendingTasks();
        assertTrue(channel.isOpen());

        clock.advance(Duration.ofMillis(1));
        channel.runPendingTasks();

        assertGoAway(1, "headers_timeout");
        assertEquals(1, abuse.counts().get(Http2Abuse.Reason.HEADERS_TIMEOUT));
    }

    @Test
    void aHeaderBlockThatEndsInTimeStopsItsTimerOnlyWhenTheLastFrameIsComplete() {
        send(frame(HEADERS, 0, 1, new byte[10]));
        byte[] last = frame(CONTINUATION, 0x4, 1, new byte[10]);
        send(java.util.Arrays.copyOf(last, 12)); // the END_HEADERS frame has begun, not ended
        assertEquals(1, clock.pendingTasks());

        send(java.util.Arrays.copyOfRange(last, 12, last.length));

        assertEquals(0, clock.pendingTasks());
        clock.advance(HEADERS_TIMEOUT.multipliedBy(2));
        channel.runPendingTasks();
        assertTrue(channel.isOpen());
    }

    @Test
    void headerBlocksThatEndInTheBufferTheyBeginInScheduleNoTimer() {
        long before = clock.scheduledTasks();
        for (int stream = 1; stream < 400; stream += 4) {
            send(concat(frame(HEADERS, 0, stream, new byte[10]), frame(CONTINUATION, 0x4, stream, new byte[10])));
            send(frame(HEADERS, 0x5, stream + 2, new byte[10]));
        }

        assertEquals(before, clock.scheduledTasks(), "a timer per request");
        assertTrue(channel.isOpen());
    }

    @Test
    void logsAtMostOneLineASecondForAllConnectionsAndCountsTheOnesLeftOut() {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.relay.proxy.http2");
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                lines.add(r.getLevel() + " " + java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            floodSettings(channel);
            floodSettings(newConnection());
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("INFO HTTP/2 connection from embedded closed with GOAWAY "
                    + "ENHANCE_YOUR_CALM: settings_flood, 101 frames in under a second (limit 100"), lines.get(0));

            clock.advance(Duration.ofSeconds(1));
            floodSettings(newConnection());

            assertEquals(2, lines.size(), lines.toString());
            assertTrue(lines.get(1).endsWith("(1 more connections closed for abuse since the last line)"), lines.get(1));
            assertEquals(3, abuse.counts().get(Http2Abuse.Reason.SETTINGS_FLOOD));
        } finally {
            logger.removeHandler(capture);
        }
    }

    private EmbeddedChannel newConnection() {
        EmbeddedChannel other = new EmbeddedChannel(new Http2FloodGuard(
                new Http2FloodGuard.Limits(LIMIT, CHURN, HEADERS_TIMEOUT.toNanos()), abuse, clock));
        other.writeInbound(Unpooled.wrappedBuffer(PREFACE));
        other.releaseInbound();
        return other;
    }

    private static void floodSettings(EmbeddedChannel target) {
        for (int i = 0; i <= LIMIT && target.isOpen(); i++) {
            target.writeInbound(Unpooled.wrappedBuffer(frame(SETTINGS, 0, 0, new byte[0])));
        }
        assertFalse(target.isOpen());
        target.finishAndReleaseAll();
    }

    @Test
    void rejectsLimitsThatAreNotPositive() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Http2FloodGuard.Limits(0, 1, 1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Http2FloodGuard.Limits(1, 1, 0));
    }

    private void assertGoAway(int lastStreamId, String debug) {
        ByteBuf goAway = channel.readOutbound();
        try {
            assertEquals(8 + debug.length(), goAway.readUnsignedMedium());
            assertEquals(GOAWAY, goAway.readByte());
            assertEquals(0, goAway.readByte());
            assertEquals(0, goAway.readInt());
            assertEquals(lastStreamId, goAway.readInt());
            assertEquals(0xb, goAway.readInt(), "ENHANCE_YOUR_CALM");
            assertEquals(debug, goAway.toString(StandardCharsets.US_ASCII));
        } finally {
            goAway.release();
        }
        assertFalse(channel.isOpen(), "closed after the GOAWAY");
    }

    private void send(byte[] bytes) {
        if (channel.isOpen()) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        }
    }

    private byte[] readInbound() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (ByteBuf b = channel.readInbound(); b != null; b = channel.readInbound()) {
            all.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        return all.toByteArray();
    }

    private static byte[] frame(int type, int flags, int streamId, byte[] payload) {
        ByteBuf b = Unpooled.buffer(9 + payload.length);
        b.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(streamId).writeBytes(payload);
        return ByteBufUtil.getBytes(b);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
