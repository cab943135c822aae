package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;

/**
 * How much an upstream connection reads at once: up to {@link #MAX_READ} bytes (Netty's adaptive default
 * stops at 64 KiB), except the first read of each read loop, which takes at most {@link #FIRST_READ}.
 *
 * <p>Why larger reads: a response a little over 64 KiB (a 64 KiB body and its header), all in the socket
 * by the time the event loop reads it, otherwise arrives in two read loops and leaves for the client in
 * two writes, one TCP segment and one ACK more; on {@code /64k} Relay's CPU per request drops from 0.94x
 * nginx's to about 0.8x with them (docs/benchmarks.md). Such a response must fit the first read of its
 * loop: a loop of two reads (16 KiB, then the rest) costs a window-update ACK each time and kept only
 * half the gain. Why the first read is still capped: on io_uring it is submitted with its buffer before a
 * byte has arrived, and it stays there while the connection idles in the pool; at up to 1,024 idle
 * connections that lately carried large responses, 256 KiB each would hold 256 MiB of the pooled
 * allocator (128 MiB with the cap; Netty's default holds up to 64 KiB each). A first read that fills its
 * buffer continues the loop (up to 16 reads) in reads of the grown size, and the client still gets one
 * write for the loop.
 *
 * <p>The size grows fourfold after a read that filled a buffer of the full size, and halves after two loops
 * in a row that read less than a quarter of it, between {@link #MIN_READ} and {@link #MAX_READ}.
 */
final class UpstreamReadSizes extends DefaultMaxMessagesRecvByteBufAllocator {
    /** The most one read takes. */
    static final int MAX_READ = 256 * 1024;
    /** The most the first read of a loop takes: what an idle connection holds. */
    static final int FIRST_READ = 128 * 1024;
    static final int MIN_READ = 512;
    private static final int INITIAL_READ = 2048;
    /** Netty's own figure for stream channels. */
    private static final int READS_PER_LOOP = 16;
    static final UpstreamReadSizes INSTANCE = new UpstreamReadSizes();

    private UpstreamReadSizes() {
        super(READS_PER_LOOP);
    }

    @Override
    public Handle newHandle() {
        return new Sizes();
    }

    private final class Sizes extends MaxMessageHandle {
        /** What a read takes after the first of its loop. */
        private int size = INITIAL_READ;
        private boolean firstOfLoop;
        private int smallLoops;

        @Override
        public void reset(ChannelConfig config) {
            super.reset(config);
            firstOfLoop = true;
        }

        @Override
        public int guess() {
            return firstOfLoop ? Math.min(size, FIRST_READ) : size;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            int bytes = guess();
            firstOfLoop = false;
            return alloc.ioBuffer(bytes);
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes > 0 && bytes == attemptedBytesRead() && bytes >= size) {
                size = Math.min(MAX_READ, size * 4);
            }
            super.lastBytesRead(bytes);
        }

        @Override
        public void readComplete() {
            if (totalBytesRead() < size / 4) {
                if (++smallLoops == 2) {
                    smallLoops = 0;
                    size = Math.max(MIN_READ, size / 2);
                }
            } else {
                smallLoops = 0;
            }
        }
    }
}
