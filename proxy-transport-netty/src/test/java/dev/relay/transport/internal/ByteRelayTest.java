package dev.relay.transport.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The splice's state machine between two real loopback TCP connections whose proxy ends are on one
 * event loop; the far ends are plain sockets, so a FIN, a close and a slow reader are the kernel's.
 */
@Timeout(30)
class ByteRelayTest {
    private static final Duration IDLE = Duration.ofSeconds(10);

    private final ManualEngineClock clock = new ManualEngineClock();
    private final List<ByteRelay.End> ends = new CopyOnWriteArrayList<>();
    private final CompletableFuture<ByteRelay.End> ended = new CompletableFuture<>();
    private final BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    private final List<Socket> sockets = new ArrayList<>();
    private EventLoopGroup group;
    private EventLoop loop;
    private Channel server;

    /** The far end of the client's connection (the relay's downstream side is the proxy's end of it). */
    private Socket client;
    private Socket origin;
    private Channel downstream;
    private Channel upstream;

    @BeforeEach
    void listen() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                // Small kernel buffers, so that bytes wait in the relay's outbound buffer, not the kernel's.
                .childOption(ChannelOption.SO_SNDBUF, 4096)
                .childHandler(new ChannelInitializer<NioSocketChannel>() {
                    @Override
                    protected void initChannel(NioSocketChannel ch) {
                        accepted.add(ch);
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        client = connect();
        downstream = accepted.poll(5, TimeUnit.SECONDS);
        origin = connect();
        upstream = accepted.poll(5, TimeUnit.SECONDS);
        assertNotNull(downstream);
        assertNotNull(upstream);
    }

    @AfterEach
    void close() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.setSoTimeout(5_000);
        s.setReceiveBufferSize(4096);
        s.connect(server.localAddress());
        return s;
    }

    private ByteRelay.Listener recorder() {
        return (relay, end, cause) -> {
            ends.add(end);
            ended.complete(end);
        };
    }

    private ByteRelay startRelay(Duration idle) throws Exception {
        return onLoop(() -> ByteRelay.start(downstream, upstream, idle.toNanos(), clock, recorder()));
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    /** Waits until the loop ran what was queued before (tasks the manual clock made due, for one). */
    private void settle() throws Exception {
        onLoop(() -> null);
    }

    @Test
    void copiesBothWaysCountsTheBytesAndEndsOnceWhenBothDirectionsAreDone() throws Exception {
        ByteRelay relay = startRelay(IDLE);

        write(client, "hello");
        assertEquals("hello", readExactly(origin, 5));
        write(origin, "world!");
        assertEquals("world!", readExactly(client, 6));

        client.shutdownOutput();
        assertEquals(-1, origin.getInputStream().read(), "the client's FIN reaches the origin");
        origin.shutdownOutput();
        assertEquals(-1, client.getInputStream().read(), "the origin's FIN reaches the client");

        assertEquals(ByteRelay.End.COMPLETED, ended.get(5, TimeUnit.SECONDS));
        assertTrue(downstream.closeFuture().await(5, TimeUnit.SECONDS));
        assertTrue(upstream.closeFuture().await(5, TimeUnit.SECONDS));
        assertEquals(5, onLoop(relay::downstreamBytes));
        assertEquals(6, onLoop(relay::upstreamBytes));
        onLoop(() -> {
            relay.abort();
            return null;
        });
        assertEquals(List.of(ByteRelay.End.COMPLETED), ends, "the listener hears the end once");
    }

    @Test
    void aClientHalfCloseIsPassedOnAndTheOtherDirectionCarriesOn() throws Exception {
        startRelay(IDLE);

        write(client, "ping");
        client.shutdownOutput();
        assertEquals("ping", readExactly(origin, 4));
        assertEquals(-1, origin.getInputStream().read());
        settle();
        assertTrue(ends.isEmpty(), "one direction done is not the end");

        write(origin, "pong");
        assertEquals("pong", readExactly(client, 4));
        origin.shutdownOutput();
        assertEquals(-1, client.getInputStream().read());
        assertEquals(ByteRelay.End.COMPLETED, ended.get(5, TimeUnit.SECONDS));
    }

    @Test
    void anOriginHalfCloseIsPassedOnAndTheOtherDirectionCarriesOn() throws Exception {
        startRelay(IDLE);

        write(origin, "banner");
        origin.shutdownOutput();
        assertEquals("banner", readExactly(client, 6));
        assertEquals(-1, client.getInputStream().read());
        settle();
        assertTrue(ends.isEmpty(), "one direction done is not the end");

        write(client, "reply");
        assertEquals("reply", readExactly(origin, 5));
        client.shutdownOutput();
        assertEquals(-1, origin.getInputStream().read());
        assertEquals(ByteRelay.End.COMPLETED, ended.get(5, TimeUnit.SECONDS));
    }

    @Test
    void theIdleTimeoutEndsTheRelayOnlyWhenNoByteMovedForThatLong() throws Exception {
        startRelay(IDLE);

        clock.advance(Duration.ofSeconds(6));
        write(client, "x");
        assertEquals("x", readExactly(origin, 1));
        clock.advance(Duration.ofSeconds(6));
        settle();
        assertTrue(ends.isEmpty(), "a byte 6 s ago re-armed the 10 s timeout");

        clock.advance(Duration.ofSeconds(5));
        assertEquals(ByteRelay.End.IDLE_TIMEOUT, ended.get(5, TimeUnit.SECONDS));
        assertTrue(downstream.closeFuture().await(5, TimeUnit.SECONDS));
        assertTrue(upstream.closeFuture().await(5, TimeUnit.SECONDS));
        assertEquals(-1, readOrEnd(client));
        assertEquals(-1, readOrEnd(origin));
        assertEquals(0, clock.pendingTasks(), "no timer is left behind");
    }

    @Test
    void aSideIsReadOnlyWhileTheOtherIsWritable() throws Exception {
        startRelay(IDLE);

        onLoop(() -> {
            upstream.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
            return null;
        });
        write(client, "a");
        assertEquals("a", readExactly(origin, 1));
        assertFalse(onLoop(() -> downstream.config().isAutoRead()), "the upstream cannot take more: the client is not read");
        assertTrue(onLoop(() -> upstream.config().isAutoRead()), "the other direction is not held back");

        onLoop(() -> {
            upstream.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
            return null;
        });
        assertTrue(onLoop(() -> downstream.config().isAutoRead()), "writable again: the client is read again");
        write(client, "b");
        assertEquals("b", readExactly(origin, 1));
    }

    @Test
    void whatWasReadIsWrittenBeforeTheCloseAfterTheEnd() throws Exception {
        ByteRelay relay = startRelay(IDLE);
        client.shutdownOutput();
        assertEquals(-1, origin.getInputStream().read());

        // The origin sends more than the client's small socket buffers hold, then closes: its FIN
        // ends the relay while the last batch still waits in the relay's buffer for the client.
        byte[] payload = new byte[512 * 1024];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31);
        }
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            try {
                origin.getOutputStream().write(payload);
                origin.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        byte[] received = client.getInputStream().readAllBytes();
        sent.get(5, TimeUnit.SECONDS);

        assertArrayEquals(payload, received, "every byte reaches the client before its connection closes");
        assertEquals(ByteRelay.End.COMPLETED, ended.get(5, TimeUnit.SECONDS));
        assertEquals(payload.length, onLoop(relay::upstreamBytes));
    }

    @Test
    void anAbortClosesBothAtOnceAndIsTheOnlyEnd() throws Exception {
        ByteRelay relay = startRelay(Duration.ZERO);
        write(client, "x");
        assertEquals("x", readExactly(origin, 1));

        onLoop(() -> {
            relay.abort();
            return null;
        });
        assertEquals(-1, readOrEnd(client));
        assertEquals(-1, readOrEnd(origin));
        assertTrue(downstream.closeFuture().await(5, TimeUnit.SECONDS));
        assertTrue(upstream.closeFuture().await(5, TimeUnit.SECONDS));
        settle();
        assertEquals(List.of(ByteRelay.End.ABORTED), ends);
        assertEquals(0, clock.pendingTasks(), "no idle timeout: no timer");
    }

    @Test
    void bytesEachSideSentBeforeTheStartGoFirst() throws Exception {
        ByteRelay relay = new ByteRelay(IDLE.toNanos(), clock, recorder());
        onLoop(() -> {
            // An HTTP tunnel's way: each stream puts its handler where its codec was, then the start.
            downstream.pipeline().addLast(relay.downstreamHandler());
            upstream.pipeline().addLast(relay.upstreamHandler());
            relay.start(Unpooled.copiedBuffer("after-request ", StandardCharsets.US_ASCII),
                    Unpooled.copiedBuffer("after-101 ", StandardCharsets.US_ASCII));
            return null;
        });
        write(client, "live");
        assertEquals("after-request live", readExactly(origin, 18));
        write(origin, "live");
        assertEquals("after-101 live", readExactly(client, 14));
        assertEquals(18, onLoop(relay::downstreamBytes));
        assertEquals(14, onLoop(relay::upstreamBytes));
    }

    @Test
    void aSideThatClosedBeforeTheStartEndsTheRelayAfterItsBytesAreWritten() throws Exception {
        origin.close();
        assertTrue(waitInactive(upstream));
        ByteRelay relay = new ByteRelay(IDLE.toNanos(), clock, recorder());
        onLoop(() -> {
            downstream.pipeline().addLast(relay.downstreamHandler());
            upstream.pipeline().addLast(relay.upstreamHandler());
            relay.start(Unpooled.EMPTY_BUFFER, Unpooled.copiedBuffer("goodbye", StandardCharsets.US_ASCII));
            return null;
        });
        assertEquals(ByteRelay.End.COMPLETED, ended.get(5, TimeUnit.SECONDS));
        assertEquals("goodbye", readExactly(client, 7));
        assertEquals(-1, readOrEnd(client));
    }

    /** The proxy's end of a connection closed by its far end notices once it reads: the end of the stream. */
    private boolean waitInactive(Channel ch) throws Exception {
        onLoop(() -> {
            ch.config().setAutoRead(true);
            return null;
        });
        return ch.closeFuture().await(5, TimeUnit.SECONDS);
    }

    private static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static String readExactly(Socket s, int n) throws IOException {
        byte[] bytes = s.getInputStream().readNBytes(n);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** The next byte, or -1 at the end of the stream or on a reset (a close at once may be either). */
    private static int readOrEnd(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                rest.write(b);
            }
            return rest.size() == 0 ? -1 : rest.toByteArray()[0];
        } catch (SocketException reset) {
            return -1;
        }
    }
}
