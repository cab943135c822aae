package dev.relay.transport.internal;

import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;

/**
 * How much an upstream HTTP connection reads at once: one read per read loop, of up to {@link #MAX_READ}
 * bytes (Netty's adaptive default stops at 64 KiB and, on io_uring, reads up to 16 times per loop).
 *
 * <p>Why larger reads: a response a little over 64 KiB (a 64 KiB body and its header), all in the socket
 * by the time the event loop reads it, otherwise arrives in two reads and leaves for the client in two
 * writes, one TCP segment and two ACKs more than nginx, which reads it whole; on {@code /64k} Relay's CPU
 * per request drops from about 0.95x nginx's to about 0.8x (docs/benchmarks.md, issue 11 third pass).
 * Why one read per loop: on io_uring, Netty keeps a loop going while its reads return bytes, so with 16
 * a loop whose read had not filled its buffer still asked for another, and that cost most of the gain.
 * An idle connection holds no buffer whatever its size: Netty's io_uring and epoll transports wait for
 * bytes with a poll and take a buffer only once they are there ({@code IdleReadBuffersTest}). Why not
 * larger all the same: a read holds its buffer while its bytes go through the pipeline, and 128 KiB
 * already takes a 64 KiB body and its header at once. The stream proxy's connections (one per client)
 * keep Netty's sizes, as client connections do.
 *
 * <p>The size grows fourfold after a read that filled its buffer and halves after two reads in a row that
 * took less than a quarter of it, between {@link #MIN_READ} and {@link #MAX_READ}. One instance per
 * connection attempt: a channel's configuration can change its allocator's reads per loop.
 */
final class UpstreamReadSizes extends DefaultMaxMessagesRecvByteBufAllocator {
    /** The most one read takes. */
    static final int MAX_READ = 128 * 1024;
    static final int MIN_READ = 512;
    static final int INITIAL_READ = 2048;

    UpstreamReadSizes() {
        super(1);
    }

    @Override
    public Handle newHandle() {
        return new Sizes();
    }

    /** Netty's handle allocates {@code guess()} bytes per read; this one sizes the guess. */
    private final class Sizes extends MaxMessageHandle {
        private int size = INITIAL_READ;
        private int smallReads;

        @Override
        public int guess() {
            return size;
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
