package dev.relay.transport;

import dev.relay.testing.TestOrigin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Idle connections hold no read buffer: after responses large enough to grow an upstream connection's
 * read size to its largest (128 KiB, {@code UpstreamReadSizes}), the pooled upstream connection and the
 * keep-alive client connection wait for bytes without a buffer (Netty's io_uring and epoll transports
 * both take one only once bytes are there).
 */
@Timeout(60)
class IdleReadBuffersTest {
    private static final int LARGE = 300_000;
    /** The largest read size of an upstream connection, which these responses reach. */
    private static final int READ_SIZE = 128 * 1024;

    @Test
    void closingAnIdlePooledUpstreamConnectionAndAnIdleClientFreesNoReadBuffer() throws Exception {
        assumeTrue(ByteBufAllocator.DEFAULT instanceof PooledByteBufAllocator, "the build's pooled allocator");
        PooledByteBufAllocator pooled = (PooledByteBufAllocator) ByteBufAllocator.DEFAULT;
        try (TestOrigin origin = TestOrigin.builder().name("a").build().start();
             TransportRuntime runtime = TransportRuntime.create(TransportRuntime.Kind.AUTO, 1)) {
            ProxyFixture proxy = new ProxyFixture(new ProxyFixture.SimpleProxy(origin.address()),
                    ProxyOptions.defaults(), runtime);
            Socket client = new Socket(proxy.address.getAddress(), proxy.address.getPort());
            try {
                DataInputStream in = new DataInputStream(new BufferedInputStream(client.getInputStream()));
                for (int i = 0; i < 4; i++) {
                    client.getOutputStream().write(("GET /bytes/" + LARGE + " HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    StringBuilder head = new StringBuilder();
                    while (head.indexOf("\r\n\r\n") < 0) {
                        head.append((char) in.readUnsignedByte());
                    }
                    assertTrue(head.toString().startsWith("HTTP/1.1 200"), head.toString());
                    in.readFully(new byte[LARGE]);
                }
                assertEquals(1, origin.connectionsAccepted(), "one pooled upstream connection carried them all");
                // The last writes complete and both connections settle into waiting for bytes.
                Thread.sleep(200);

                // What the test holds itself shows that the measure sees a read-sized buffer go.
                ByteBuf held = pooled.directBuffer(READ_SIZE);
                long whileIdle = usedBytes(pooled);
                held.release();
                client.close();
                proxy.close();
                Thread.sleep(300);
                long freed = whileIdle - usedBytes(pooled);

                // Closing takes a few small buffers of its own (tens of KiB either way): half a read size of margin.
                assertTrue(freed > READ_SIZE / 2, "the test's own buffer: " + freed);
                assertTrue(freed < READ_SIZE + READ_SIZE / 2, "freed when the idle connections closed: " + freed);
            } finally {
                client.close();
                proxy.close();
            }
        }
    }

    private static long usedBytes(PooledByteBufAllocator allocator) {
        long used = 0;
        for (PoolArenaMetric arena : allocator.metric().directArenas()) {
            for (io.netty.buffer.PoolChunkListMetric list : arena.chunkLists()) {
                for (io.netty.buffer.PoolChunkMetric chunk : list) {
                    used += chunk.chunkSize() - chunk.freeBytes();
                }
            }
        }
        return used;
    }
}
