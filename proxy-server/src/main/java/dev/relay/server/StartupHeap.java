package dev.relay.server;

import org.slf4j.Logger;

/**
 * One full collection once the server has started, before it reports ready: what start-up made to
 * keep (the access log's ring and its field buffers, the event loops, the configuration, the filters)
 * moves to the old generation at once, instead of being copied from survivor space to survivor space
 * by every young collection until it is old enough to be promoted (fifteen collections by default).
 * The access log's ring alone is about 6 MB. Under load, with the serial collector the JVM picks on
 * one CPU, young pauses took 6 to 9 ms through the first minute and 1.4 ms once it was promoted; with
 * this collection, 3.3 to 4 ms: what the first requests make to keep (classes initialised on the request
 * path, about 1.2 MB) still waits its turn (docs/benchmarks.md, issue 11 fifth pass). The start-up
 * garbage goes in the same collection.
 *
 * <p>Only in the server's own process ({@code Main.main}): an application that embeds {@code Main.run}
 * owns its heap. {@code -XX:+DisableExplicitGC} turns it off, as it does every {@code System.gc()}.
 */
final class StartupHeap {
    private StartupHeap() {}

    static void settle(Logger log) {
        long start = System.nanoTime();
        System.gc();
        log.debug("start-up heap settled in {} ms", (System.nanoTime() - start) / 1_000_000);
    }
}
