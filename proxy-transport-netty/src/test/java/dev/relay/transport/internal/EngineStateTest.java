package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's small state machines on their own (Pingora keeps such pieces in {@code proxy_common.rs}
 * with their unit tests): the body queue, the replay buffer and the lazy timer on a manual clock.
 */
@Timeout(10)
class EngineStateTest {

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void bodyQueueTellsTheLastPartAndHandsOverItsTrailersOnce() {
        BodyQueue queue = new BodyQueue();
        assertTrue(queue.isEmpty());
        assertNull(queue.poll());
        NettyHttpHeaders trailers = new NettyHttpHeaders(
                io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().newHeaders());
        trailers.set("X-Sum", "1");
        queue.add(bytes("ab"), false, null);
        queue.add(bytes("cde"), true, trailers);

        assertEquals(5, queue.readableBytes());
        assertEquals("abcde", new String(queue.copyBytes(), StandardCharsets.US_ASCII));
        assertFalse(queue.nextIsLast());
        ByteBuf first = queue.poll();
        assertEquals("ab", first.toString(StandardCharsets.US_ASCII));
        first.release();
        assertTrue(queue.nextIsLast());
        ByteBuf last = queue.poll();
        last.release();
        assertEquals("1", queue.takeTrailers().get("X-Sum"));
        assertNull(queue.takeTrailers());
        assertTrue(queue.isEmpty());
        assertFalse(queue.nextIsLast());
    }

    @Test
    void aPartPutBackGoesFirstAndKeepsItsEndOfMessage() {
        BodyQueue queue = new BodyQueue();
        queue.add(bytes("later"), false, null);
        queue.addFirst(bytes("first"), false, null);
        ByteBuf polled = queue.poll();
        assertEquals("first", polled.toString(StandardCharsets.US_ASCII));
        polled.release();
        queue.poll().release();

        queue.addFirst(bytes("end"), true, null);
        assertTrue(queue.nextIsLast());
        queue.releaseAll();
        assertTrue(queue.isEmpty());
    }

    @Test
    void releaseAllReleasesEveryHeldPart() {
        BodyQueue queue = new BodyQueue();
        ByteBuf a = bytes("a");
        ByteBuf b = bytes("b");
        queue.add(a, false, null);
        queue.add(b, true, null);
        queue.releaseAll();
        assertEquals(0, a.refCnt());
        assertEquals(0, b.refCnt());
    }

    @Test
    void replayBufferResendsWhatItHoldsAndLetsGoPastItsLimit() {
        ReplayBuffer replay = new ReplayBuffer(8);
        ByteBuf sent = bytes("12345");
        replay.keep(sent, false);
        assertTrue(replay.isReplayable());
        List<String> resent = new ArrayList<>();
        replay.replayTo(recordingStream(resent));
        replay.replayTo(recordingStream(resent));
        assertEquals(List.of("12345", "12345"), resent, "each replay is a fresh copy");

        ByteBuf more = bytes("6789");
        replay.keep(more, false);
        assertFalse(replay.isReplayable(), "9 bytes do not fit in 8");
        assertEquals(1, sent.refCnt(), "the buffer let go of its duplicate");
        sent.release();
        more.release();
    }

    @Test
    void aWholeBodyReadBeforeTheFirstAttemptIsKeptWhateverItsSize() {
        ReplayBuffer replay = new ReplayBuffer(2);
        ByteBuf body = bytes("longer than two");
        replay.keep(body, true);
        assertTrue(replay.isReplayable());
        replay.release();
        assertEquals(1, body.refCnt());
        body.release();
    }

    @Test
    void lazyTimerFiresOnceAtItsLatestDeadlineAndNotWhenDisarmed() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ManualEngineClock clock = new ManualEngineClock();
        AtomicInteger fired = new AtomicInteger();
        LazyTimer timer = new LazyTimer(clock, channel.eventLoop(), fired::incrementAndGet);

        timer.arm(Duration.ofMillis(300).toNanos());
        clock.advance(Duration.ofMillis(200));
        timer.arm(Duration.ofMillis(300).toNanos()); // progress: the deadline moves, no new task
        assertEquals(1, clock.pendingTasks());
        clock.advance(Duration.ofMillis(100));
        channel.runPendingTasks();
        assertEquals(0, fired.get(), "woke early and went back to sleep for the rest");
        clock.advance(Duration.ofMillis(200));
        channel.runPendingTasks();
        assertEquals(1, fired.get());
        assertFalse(timer.isArmed());

        timer.arm(Duration.ofMillis(100).toNanos());
        timer.disarm();
        clock.advance(Duration.ofMillis(500));
        channel.runPendingTasks();
        assertEquals(1, fired.get(), "a disarmed timer does not fire");

        timer.arm(Duration.ofMillis(100).toNanos());
        timer.cancel();
        assertEquals(0, clock.pendingTasks(), "cancel removes the task");
        channel.finishAndReleaseAll();
    }

    @Test
    void lazyTimerArmedAtAnEarlierDeadlineReschedulesAndAtAPassedOneFiresOnTheNextRun() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ManualEngineClock clock = new ManualEngineClock();
        AtomicInteger fired = new AtomicInteger();
        LazyTimer timer = new LazyTimer(clock, channel.eventLoop(), fired::incrementAndGet);
        long start = clock.nanoTime();

        timer.armAt(start + Duration.ofMillis(500).toNanos());
        timer.armAt(start + Duration.ofMillis(100).toNanos()); // earlier: the later task goes
        assertEquals(1, clock.pendingTasks());
        clock.advance(Duration.ofMillis(100));
        channel.runPendingTasks();
        assertEquals(1, fired.get(), "fired at the earlier deadline, not the first one");

        timer.armAt(start); // already passed: due at once
        clock.advance(Duration.ZERO);
        channel.runPendingTasks();
        assertEquals(2, fired.get());
        assertEquals(0, clock.pendingTasks());
        channel.finishAndReleaseAll();
    }

    /**
     * An upstream stream that records the body parts written to it; the rest of the interface is not
     * part of what these tests drive, and a call to it fails the test.
     */
    private static UpstreamStream recordingStream(List<String> written) {
        return new UpstreamStream() {
            @Override
            public void writeBody(ByteBuf data, boolean last, dev.relay.core.HttpHeaders trailers) {
                written.add(data.toString(StandardCharsets.US_ASCII));
                data.release();
            }

            @Override
            public void start(Listener listener) {
                throw new AssertionError("a replay never calls start");
            }

            @Override
            public dev.relay.core.RequestHeader newRequestHeader(dev.relay.core.RequestHeader clientRequest,
                                                                dev.relay.core.HttpPeer peer, boolean requestHasBody,
                                                                long bufferedBodyLength, boolean upgrade) {
                throw new AssertionError("a replay never calls newRequestHeader");
            }

            @Override
            public boolean switchedProtocols() {
                return false;
            }

            @Override
            public ByteBuf switchToTunnel(io.netty.channel.ChannelHandler relay) {
                throw new AssertionError("a replay never calls switchToTunnel");
            }

            @Override
            public void writeHeader(dev.relay.core.RequestHeader upstreamRequest) {
                throw new AssertionError("a replay never calls writeHeader");
            }

            @Override
            public void flush() {
            }

            @Override
            public boolean isWritable() {
                return true;
            }

            @Override
            public void setReading(boolean on) {
            }

            @Override
            public void armReadTimeout(long timeoutNanos) {
            }

            @Override
            public void progress() {
            }

            @Override
            public void release() {
            }

            @Override
            public void abort() {
            }
        };
    }
}
