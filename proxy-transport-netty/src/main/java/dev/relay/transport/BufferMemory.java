package dev.relay.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

/**
 * What the process's network buffers hold now: the bytes Netty's default allocator (the one every Relay
 * channel uses) has reserved from the operating system (direct) and from the Java heap. A proxy that leaks
 * buffers, or holds them for clients that stopped reading, shows here long before its RSS does, so it is
 * exported as a metric and sampled by the soak script.
 *
 * @param directBytes bytes of direct (off-heap) memory reserved by the allocator's arenas and chunks
 * @param heapBytes   bytes of heap memory reserved by the allocator
 */
public record BufferMemory(long directBytes, long heapBytes) {

    /**
     * The default allocator's figures now; {@code -1} for each when the allocator does not publish them
     * (only an allocator configured with {@code -Dio.netty.allocator.type} other than pooled or adaptive).
     * Cheap (a sum over arenas) and thread-safe; meant for a scrape, not for a request path.
     */
    public static BufferMemory now() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            ByteBufAllocatorMetric metric = provider.metric();
            return new BufferMemory(metric.usedDirectMemory(), metric.usedHeapMemory());
        }
        return new BufferMemory(-1, -1);
    }
}
