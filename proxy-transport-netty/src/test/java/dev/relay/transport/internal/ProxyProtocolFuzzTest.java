package dev.relay.transport.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.NetUtil;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz test of the PROXY protocol parsing of a listener: Netty's {@code HAProxyMessageDecoder} and
 * {@link ProxyProtocolReader}, as {@link ProxyEngine#addConnectionHandlers} installs them. For any
 * bytes from a trusted peer, one of three outcomes and nothing else:
 * <ul>
 *   <li>the header is read: the addresses are recorded (IP literals, ports in range: no name is ever
 *       looked up on the event loop), {@link ProxyProtocolReader#HEADER_READ} fires once, the reader
 *       has left the pipeline, and the bytes after the header reach the next handler unchanged;</li>
 *   <li>the header is refused: the connection is closed and nothing is passed on;</li>
 *   <li>the header has not all arrived: the connection waits (for the header-read timeout).</li>
 * </ul>
 * The same outcome whole and one byte per read; no exception escapes the pipeline, and no buffer is
 * left referenced. Inputs replayed in the normal run: {@code ProxyProtocolFuzzTestInputs/} (v1, v2
 * with TLVs, LOCAL, garbled headers, as in {@code ProxyProtocolTest}).
 */
class ProxyProtocolFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void proxyProtocolHeaders(byte[] input) {
        Outcome whole = read(input, false);
        Outcome pieces = read(input, true);
        assertEquals(whole, pieces, "the same bytes whole and one by one");
    }

    /** What became of a connection that sent {@code input}. */
    record Outcome(boolean open, String addresses, int headerReadEvents, String passedOn) {}

    private static Outcome read(byte[] input, boolean byteByByte) {
        Collector next = new Collector();
        EmbeddedChannel channel = new EmbeddedChannel(new HAProxyMessageDecoder(),
                new ProxyProtocolReader(List.of(), TimeUnit.SECONDS.toNanos(5), EngineClock.system()), next);
        List<ByteBuf> inputs = new ArrayList<>();
        try {
            if (byteByByte) {
                for (byte b : input) {
                    feed(channel, PooledByteBufAllocator.DEFAULT.directBuffer(1).writeByte(b), inputs);
                }
            } else if (input.length > 0) {
                feed(channel, Unpooled.buffer(input.length).writeBytes(input), inputs);
            }
            ClientAddresses addresses = channel.attr(ClientAddresses.FROM_PROXY_HEADER).get();
            byte[] passedOn = next.bytes.toByteArray();
            if (addresses != null) {
                assertNull(channel.pipeline().get(ProxyProtocolReader.class), "the reader left the pipeline");
                checkAddress(addresses.client());
                checkAddress(addresses.server());
                assertTrue(passedOn.length < input.length, "the header took bytes");
                assertTrue(Arrays.equals(passedOn, 0, passedOn.length, input, input.length - passedOn.length, input.length),
                        "the bytes after the header are passed on unchanged");
            } else {
                assertEquals(0, next.headerReadEvents);
                assertEquals(0, passedOn.length, "nothing is passed on before the header");
            }
            return new Outcome(channel.isOpen(), String.valueOf(addresses), next.headerReadEvents,
                    ByteBufUtil.hexDump(passedOn));
        } finally {
            channel.finishAndReleaseAll();
            for (ByteBuf b : inputs) {
                assertEquals(1, b.refCnt(), "an input buffer still referenced");
                b.release();
            }
        }
    }

    private static void feed(EmbeddedChannel channel, ByteBuf piece, List<ByteBuf> inputs) {
        inputs.add(piece.retain());
        if (channel.isOpen()) {
            channel.writeInbound(piece);
            channel.checkException();
        } else {
            piece.release();
        }
    }

    private static void checkAddress(java.net.SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            assertFalse(inet.isUnresolved());
            String host = inet.getAddress().getHostAddress();
            assertTrue(NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host), host);
            assertTrue(inet.getPort() >= 0 && inet.getPort() <= 0xffff);
        }
    }

    /** The handler after the reader: keeps the bytes it is passed (and releases them) and counts the event. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int headerReadEvents;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                bytes.writeBytes(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ProxyProtocolReader.HEADER_READ) {
                headerReadEvents++;
            }
        }
    }
}
