package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@link ProxyProtocolReader} behind Netty's decoder on an {@link EmbeddedChannel}: what a refused header leaves. */
@Timeout(10)
class ProxyProtocolReaderTest {

    /**
     * Found by {@code ProxyProtocolFuzzTest}: after a v1 line over 108 bytes the decoder reports the
     * error and, in the same read, decodes the next line as a header. The connection is refused at the
     * first: the second must not set the client's address, and nothing after it may be passed on.
     */
    @Test
    void ignoresAHeaderAndBytesThatFollowAGarbledOneInTheSameRead() {
        EmbeddedChannel channel = new EmbeddedChannel(new HAProxyMessageDecoder(),
                new ProxyProtocolReader(List.of(), TimeUnit.SECONDS.toNanos(5), EngineClock.system()));
        String input = "PROXY TCP4 " + "1".repeat(120) + "\r\n"
                + "PROXY TCP4 203.0.113.9 198.51.100.2 3 4\r\n"
                + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        ByteBuf bytes = Unpooled.copiedBuffer(input, StandardCharsets.US_ASCII);

        channel.writeInbound(bytes);

        assertFalse(channel.isOpen());
        assertNull(channel.attr(ClientAddresses.FROM_PROXY_HEADER).get(), "no address from the second header");
        assertNull(channel.readInbound(), "nothing passed on");
        channel.finishAndReleaseAll();
    }
}
