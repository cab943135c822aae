package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the response decoder tells its connection of each read, before decoding it. */
class UpstreamConnectionTest {
    private static final HttpPeer PEER = HttpPeer.of("127.0.0.1:8080", false, "");

    private final ManualEngineClock clock = new ManualEngineClock();
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final Http1ResponseDecoder decoder = new Http1ResponseDecoder(8192, 8192, 8192);
    private final UpstreamConnection connection = new UpstreamConnection(channel, PEER.reuseKey(),
            new UpstreamConnectionPool(16, Duration.ofSeconds(60)), decoder, clock);

    UpstreamConnectionTest() {
        channel.pipeline().addLast("decoder", decoder).addLast("proxy", connection);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private void receive(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private void advanceMillis(long millis) {
        clock.advance(Duration.ofMillis(millis));
        channel.runPendingTasks();
    }

    @Test
    void aByteOnAnIdlePooledConnectionClosesItUndecoded() {
        connection.markIdle();
        receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertFalse(channel.isOpen());
        assertFalse(connection.isUsable());
        assertNull(channel.readInbound());
    }

    @Test
    void eachReadRestartsTheReadTimeoutEvenInTheMiddleOfAHeader() {
        decoder.expectResponseTo(false);
        connection.armReadTimeout(Duration.ofMillis(100).toNanos());
        advanceMillis(60);
        receive("HTTP/1.1 200 OK\r\n");
        advanceMillis(60);
        assertTrue(connection.readTimer.isArmed(), "a part of a header is progress");
        advanceMillis(40);
        assertFalse(connection.readTimer.isArmed());
    }
}
