package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The connection's read-interest decisions, driven deterministically through an {@link EmbeddedChannel}. */
class OriginConnectionTest {
    private static final int WRITABILITY_BIT = 1;

    private final TestOrigin origin = TestOrigin.builder().name("e").build();
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel(new HttpServerCodec(),
                new OriginConnection(origin, 1, false, new InetSocketAddress("127.0.0.1", 40000)));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void receive(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private void setWritable(boolean writable) {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(WRITABILITY_BIT, writable);
        channel.runPendingTasks();
    }

    /** Everything written so far, as text; releases the buffers. */
    private String sent() {
        StringBuilder text = new StringBuilder();
        for (Object msg; (msg = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) msg;
            text.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return text.toString();
    }

    @Test
    void echoStopsReadingWhileTheSocketIsNotWritable() {
        receive("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc");
        assertTrue(channel.config().isAutoRead());

        setWritable(false);
        assertFalse(channel.config().isAutoRead(), "reading goes on while echoed bytes cannot be written");

        setWritable(true);
        assertTrue(channel.config().isAutoRead());
        receive("def");

        String response = sent();
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("content-length: 6\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\nabcdef"), response);
        assertEquals(6, origin.requests().get(0).bodyBytes());
    }

    @Test
    void aCompleteRequestWaitsForItsResponseBeforeThePipelinedOneIsRead() {
        setWritable(false);
        receive("GET /bytes/200000 HTTP/1.1\r\nHost: t\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: t\r\n\r\n");

        assertFalse(channel.config().isAutoRead(), "reads more requests while the first is unanswered");
        assertEquals(1, origin.requests().size(), "the second request waits, unread");

        setWritable(true);

        String responses = sent();
        assertTrue(responses.startsWith("HTTP/1.1 200 OK\r\n"), responses);
        assertTrue(responses.contains("HTTP/1.1 202 Accepted\r\n"), responses);
        assertEquals(2, origin.requests().size());
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void connectionCloseStopsReadingForGood() {
        receive("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /small HTTP/1.1\r\nHost: t\r\n\r\n");

        assertFalse(channel.isOpen());
        assertTrue(sent().contains("origin e\n"));
        assertEquals(1, origin.requests().size(), "the request after Connection: close is ignored");
    }
}
