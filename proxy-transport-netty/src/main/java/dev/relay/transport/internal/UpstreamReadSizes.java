package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;

/**
 * How much an upstream connection reads at once: one read per read loop, of up to {@link #MAX_READ} bytes
 * (Netty's adaptive default stops at 64 KiB and reads up to 16 times per loop).
 *
 * <p>Why larger reads: a response a little over 64 KiB (a 64 KiB body and its header), all in the socket
 * by the time the event loop reads it, otherwise arrives in two reads and leaves for the client in two
 * writes, one TCP segment and two ACKs more than nginx, which reads it whole; on {@code /64k} Relay's CPU
 * per request drops from about 0.95x nginx's to about 0.8x (docs/benchmarks.md). Why one read per loop:
 * with Netty's 16, a loop whose read did not fill its buffer still asked for another, and that cost most
 * of the gain once the JIT had seen small responses first. Why not larger: on io_uring a read is
 * submitted with its buffer before any byte arrives, and it keeps it while the connection idles in the
 * pool; at up to 1,024 idle connections that lately carried large responses, the pool holds at most
 * 128 MiB that way (Netty's default: 64 MiB).
 *
 * <p>The size grows fourfold after a read that filled its buffer and halves after two reads in a row that
 * took less than a quarter of it, between {@link #MIN_READ} and {@link #MAX_READ}.
 */
final class UpstreamReadSizes extends DefaultMaxMessagesRecvByteBufAllocator {
    /** The most one read takes, and what an idle connection holds at most. */
    static final int MAX_READ = 128 * 1024;
    static final int MIN_READ = 512;
    static final int INITIAL_READ = 2048;
    static final UpstreamReadSizes INSTANCE = new UpstreamReadSizes();

    private UpstreamReadSizes() {
        super(1);
    }

    @Override
    public Handle newHandle() {
        return new Sizes();
    }

    private final class Sizes extends MaxMessageHandle {
        private int size = INITIAL_READ;
        private int smallReads;

        @Override
        public int guess() {
            return size;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(size);
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes > 0 && bytes == attemptedBytesRead()) {
                size = Math.min(MAX_READ, Math.max(size, bytes) * 4);
                smallReads = 0;
            } else if (bytes >= 0 && bytes < size / 4) {
                if (++smallReads == 2) {
                    smallReads = 0;
                    size = Math.max(MIN_READ, size / 2);
                }
            } else {
                smallReads = 0;
            }
            super.lastBytesRead(bytes);
        }
    }
}
