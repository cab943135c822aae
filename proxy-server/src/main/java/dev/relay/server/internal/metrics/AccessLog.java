package dev.relay.server.internal.metrics;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.TlsInfo;
import dev.relay.core.cache.CacheResult;
import dev.relay.server.internal.config.ProxyConfig.AccessLogDestination;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * The access log: one line per request, formatted and written by a background thread
 * ({@code relay-access-log}), so neither the formatting nor the I/O ever runs on an event loop.
 *
 * <p>The event loop only copies the request's fields into a preallocated slot of a bounded ring
 * (a multi-producer, single-consumer queue after Dmitry Vyukov's bounded queue: one CAS to claim a
 * slot, one ordered write to publish it). When the ring is full the line is dropped and counted
 * ({@code relay_access_log_dropped_lines_total{reason="ring_full"}}), never waited for.
 *
 * <p>The writer takes every line there is, formats it ({@link AccessLogFormatter}: bytes into one
 * reused buffer, the timestamp cached per second) and writes the batch with one system call per
 * 64 KiB (4 KiB on standard output, see {@link AccessLogSink}); then it naps {@value #BATCH_NAP_MILLIS} ms
 * so that the next batch can gather. A producer does not wake it for each line, which would cost a
 * system call on the event loop and a context switch per request: only when it has gone idle (a
 * batch found nothing, so the first line of a quiet period goes out at once) or, while it naps, with
 * the line at each quarter of the ring (so a nap never lets more than a quarter fill). A line thus
 * reaches its destination within about
 * {@value #BATCH_NAP_MILLIS} ms under load. A batch that cannot be written (a full disk, a closed
 * pipe) is dropped and counted ({@code reason="write_error"}), with one warning per minute at most;
 * the proxy never waits for the disk. {@link #close()} writes every line queued before it.
 *
 * <p>Destinations ({@link AccessLogDestination}): standard output, a file (opened for append and
 * reopened by {@link #reopen()}, which a reload calls, for logrotate), or the SLF4J logger
 * {@value #LOGGER}. Formats: {@link AccessLogFormat#COMBINED} (Apache/nginx combined, then Relay's
 * fields) and {@link AccessLogFormat#JSON}.
 */
public final class AccessLog implements AutoCloseable {
    /** The logger of the {@code logger} destination. */
    public static final String LOGGER = "dev.relay.access";
    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    /** How long the writer waits after a batch for the next one to gather. */
    static final long BATCH_NAP_MILLIS = 10;
    /** How long an idle writer sleeps when nothing wakes it (a producer does, with its first line). */
    private static final long IDLE_PARK_MILLIS = 1000;
    private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long CLOSE_WAIT_MILLIS = 5000;

    private static final int RUNNING = 0;
    private static final int NAPPING = 1;
    private static final int IDLE = 2;

    private static final VarHandle SEQUENCE;

    static {
        try {
            SEQUENCE = MethodHandles.lookup().findVarHandle(Entry.class, "sequence", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Why lines were dropped: the {@code reason} label of {@code relay_access_log_dropped_lines_total}. */
    public enum DropReason {
        /** The writer fell a whole ring behind. */
        RING_FULL("ring_full"),
        /** Writing the batch failed (a full disk, a closed pipe). */
        WRITE_ERROR("write_error"),
        /** The line came after {@link #close()}, or the writer could not finish within the close's wait. */
        STOPPED("stopped");

        private final String label;

        DropReason(String label) {
            this.label = label;
        }

        /** The metric label's value. */
        public String label() {
            return label;
        }
    }

    private final Entry[] ring;
    private final int mask;
    /** A quarter ring, less one: while the writer naps, the producer of a line at a position with none of these bits wakes it. */
    private final int wakeMask;
    private final AtomicLong tail = new AtomicLong();
    /** The next position the writer reads; the writer's own (read by others only after it ended). */
    private long head;
    private final LongAdder dropped = new LongAdder();
    private final RelayMetrics metrics;
    private final Thread writer;
    private volatile int writerState = RUNNING;
    private volatile boolean closed;
    private volatile AccessLogFormat format;
    private volatile AccessLogDestination destination;
    /** A sink opened by a reload or reopen, for the writer to take at its next batch. */
    private final AtomicReference<AccessLogSink> nextSink = new AtomicReference<>();
    /** The writer's. */
    private AccessLogSink sink;
    private final AccessLogFormatter formatter = new AccessLogFormatter(new LogTimestamps(ZoneId.systemDefault()));
    private final LogLineBuffer buffer = new LogLineBuffer(80 * 1024);
    /** Lines taken from the ring so far. */
    private volatile long linesTaken;
    /** Write calls made (failed ones included): how well lines are batched. */
    private volatile long writes;
    private long lastWarnNanos;
    private long droppedSinceWarn;
    private boolean failing;

    /**
     * An access log writing to {@code destination}, with a ring of {@code capacity} lines (rounded up
     * to a power of two, at least 4).
     *
     * @param metrics where to count dropped lines; null: only {@link #dropped()} counts them
     * @throws UncheckedIOException when the destination cannot be opened
     */
    public AccessLog(AccessLogFormat format, AccessLogDestination destination, int capacity, RelayMetrics metrics) {
        this.format = requireNonNull(format, "format");
        this.destination = requireNonNull(destination, "destination");
        this.metrics = metrics;
        try {
            sink = AccessLogSink.open(destination);
        } catch (IOException e) {
            throw new UncheckedIOException("access log: cannot open '" + destination + "': " + e.getMessage(), e);
        }
        int size = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
        ring = new Entry[size];
        for (int i = 0; i < size; i++) {
            ring[i] = new Entry(this, i);
        }
        mask = size - 1;
        wakeMask = size / 4 - 1;
        writer = new Thread(this::writeLoop, "relay-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Applies a reload's settings: the format (lines already queued take the new one) and the
     * destination, opened here when it changed. A destination that cannot be opened is reported and
     * the lines keep going where they went.
     */
    public void reconfigure(AccessLogFormat format, AccessLogDestination destination) {
        this.format = requireNonNull(format, "format");
        requireNonNull(destination, "destination");
        if (!destination.equals(this.destination)) {
            switchTo(destination);
        }
    }

    /**
     * Reopens the file (a no-op for standard output and the logger): once logrotate has renamed it,
     * the next lines go to a new file at the configured path.
     */
    public void reopen() {
        AccessLogDestination current = destination;
        if (current.kind() == AccessLogDestination.Kind.FILE) {
            switchTo(current);
        }
    }

    private synchronized void switchTo(AccessLogDestination next) {
        AccessLogSink opened;
        try {
            opened = AccessLogSink.open(next);
        } catch (IOException | RuntimeException e) {
            LOG.warn("access log: cannot open '{}' ({}); the lines still go to '{}'", next, e.toString(), destination);
            return;
        }
        destination = next;
        AccessLogSink unused = nextSink.getAndSet(opened);
        if (unused != null) {
            unused.close();
        }
        LockSupport.unpark(writer);
        LOG.info("access log: writing to '{}'", next);
    }

    /** Where the lines go. */
    public AccessLogDestination destination() {
        return destination;
    }

    /** Write calls so far (one per batch of up to the destination's write size). */
    long writes() {
        return writes;
    }

    /** Lines the writer has taken from the ring (written or dropped). */
    long linesTaken() {
        return linesTaken;
    }

    /** The writer thread (for measuring its CPU time). */
    Thread writerThread() {
        return writer;
    }

    /** Whether the writer sleeps until a producer wakes it (its last look found no line). */
    boolean writerIdle() {
        return writerState == IDLE;
    }

    /** Lines dropped, for every reason. */
    public long dropped() {
        return dropped.sum();
    }

    private void drop(DropReason reason, long lines) {
        dropped.add(lines);
        if (metrics != null) {
            metrics.accessLogDropped(reason, lines);
        }
    }

    /**
     * Claims a slot for one line; fill it and {@link Entry#publish()} it. Null when the ring is full
     * or the log closed (the line is counted as dropped). Never blocks; allocates nothing.
     */
    public Entry claim() {
        if (closed) {
            drop(DropReason.STOPPED, 1);
            return null;
        }
        long pos = tail.get();
        while (true) {
            Entry e = ring[(int) (pos & mask)];
            long dif = e.sequence - pos;
            if (dif == 0) {
                if (tail.compareAndSet(pos, pos + 1)) {
                    e.claimedAt = pos;
                    return e;
                }
                pos = tail.get();
            } else if (dif < 0) {
                drop(DropReason.RING_FULL, 1);
                return null;
            } else {
                pos = tail.get();
            }
        }
    }

    private void writeLoop() {
        while (true) {
            takeNextSink();
            int lines = writeAvailable();
            if (lines > 0) {
                writerState = NAPPING;
                if (!closed) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(BATCH_NAP_MILLIS));
                }
                writerState = RUNNING;
                continue;
            }
            if (closed) {
                if (head == tail.get()) {
                    break;
                }
                // A line claimed before the close and not yet published: its producer is filling it.
                Thread.onSpinWait();
                continue;
            }
            writerState = IDLE;
            // Checked after announcing the sleep: a producer that published meanwhile saw IDLE and
            // wakes this thread, or its line is seen here (both are volatile: one of them sees the other).
            if (!ready(head) && !closed && nextSink.get() == null) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(IDLE_PARK_MILLIS));
            }
            writerState = RUNNING;
        }
        takeNextSink();
        sink.close();
    }

    private boolean ready(long position) {
        return ring[(int) (position & mask)].sequence == position + 1;
    }

    private void takeNextSink() {
        AccessLogSink next = nextSink.getAndSet(null);
        if (next != null) {
            sink.close();
            sink = next;
        }
    }

    /**
     * Formats every line there is into the buffer and writes it, one write per
     * {@link AccessLogSink#maxWriteBytes()} of whole lines. Returns how many lines it took.
     */
    private int writeAvailable() {
        AccessLogFormat fmt = format;
        int max = sink.maxWriteBytes();
        LogLineBuffer buf = buffer;
        int linesInBuffer = 0;
        int taken = 0;
        long h = head;
        while (ready(h)) {
            Entry e = ring[(int) (h & mask)];
            int lineStart = buf.length();
            try {
                formatter.format(e, fmt, buf);
                linesInBuffer++;
            } catch (RuntimeException ex) {
                buf.truncate(lineStart);
                LOG.warn("access log: a line could not be formatted: {}", ex.toString());
            }
            e.clear();
            // Frees the slot; release order is enough: a producer reads it before it writes the slot.
            SEQUENCE.setRelease(e, h + ring.length);
            h++;
            taken++;
            if (buf.length() >= max) {
                if (lineStart > 0 && buf.length() > max) {
                    // The last line would take the write past its size: it opens the next one.
                    write(lineStart, linesInBuffer - 1);
                    buf.discardFirst(lineStart);
                    linesInBuffer = 1;
                } else {
                    write(buf.length(), linesInBuffer);
                    buf.clear();
                    linesInBuffer = 0;
                }
            }
        }
        head = h;
        linesTaken += taken;
        if (buf.length() > 0) {
            write(buf.length(), linesInBuffer);
            buf.clear();
        }
        return taken;
    }

    /** Writes the buffer's first {@code length} bytes, {@code lines} whole lines; drops them on failure. */
    private void write(int length, int lines) {
        writes++;
        try {
            sink.write(buffer.array(), length);
            if (failing) {
                failing = false;
                LOG.info("access log: writing to '{}' again ({} line(s) dropped since the last warning)",
                        destination, droppedSinceWarn);
                droppedSinceWarn = 0;
            }
        } catch (IOException | RuntimeException e) {
            drop(DropReason.WRITE_ERROR, lines);
            droppedSinceWarn += lines;
            long now = System.nanoTime();
            if (!failing || now - lastWarnNanos >= WARN_INTERVAL_NANOS) {
                LOG.warn("access log: writing to '{}' failed ({}); {} line(s) dropped, counted in "
                                + "relay_access_log_dropped_lines_total{reason=\"write_error\"}; the next warning in a minute at the soonest",
                        destination, e.toString(), droppedSinceWarn);
                lastWarnNanos = now;
                droppedSinceWarn = 0;
            }
            failing = true;
        }
    }

    /**
     * Writes every line queued (and every line claimed before, once published), then stops the
     * writer: at most five seconds; lines it could not write by then (a destination that blocks) are
     * counted as dropped. Call it once nothing logs any more: a later line is dropped.
     */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            long lost = Math.max(0, tail.get() - head);
            LOG.warn("access log: the writer did not finish within {} ms (is '{}' blocked?); up to {} line(s) lost",
                    CLOSE_WAIT_MILLIS, destination, lost);
            drop(DropReason.STOPPED, lost);
            return;
        }
        AccessLogSink unused = nextSink.getAndSet(null);
        if (unused != null) {
            unused.close();
        }
    }

    /**
     * One line's fields, filled on the event loop and formatted by the writer.
     *
     * <p>A slot is an old object (the ring lives as long as the process), so a reference written into
     * it dirties its card, and every young collection then scans the dirty cards of the whole ring:
     * under load, once the first minute's survivors were old, young pauses took 1.4-1.8 ms with a
     * line's references stored and take 0.6-0.8 ms without (docs/benchmarks.md, issue 11 tenth pass).
     * So a line of a plain request writes no reference. The request's texts (target, Referer,
     * User-Agent, Host) are copied into the slot's own bytes, an IPv4 client is kept as its address's
     * number, and the other references (method, protocol, route and upstream names, peer, error, cache
     * result) are written only when they differ from what the slot holds, which for a proxy's usual
     * traffic they rarely do: each setter below compares before it stores, and the writer leaves them
     * in place. Per-request objects that can only be kept by reference (a client that is not IPv4, a
     * request id, a stream line's fields) are let go by the writer.
     */
    public static final class Entry {
        /** The texts a line copies into the slot's bytes (their spans in {@link #textSpans}). */
        static final int URI = 0;
        static final int REFERER = 1;
        static final int USER_AGENT = 2;
        static final int HOST = 3;
        private static final int TEXTS = 4;
        /** The length of a text the line does not have. */
        private static final int ABSENT = -1;
        /** The length of a text with a char above U+00FF, which bytes cannot hold: it is in {@link #unusualTexts}. */
        private static final int UNUSUAL = -2;
        /**
         * The most bytes a slot keeps for its next line once the writer is done with one (the usual
         * target, Referer, User-Agent and Host fit): a slot that held a longer line lets it go, else
         * each of the ring's slots would keep the longest line it ever saw (up to the header limit:
         * 32 KiB x 16384 slots, some 500 MB a client could pin with long User-Agents).
         */
        static final int FIELD_BYTES_KEPT = 512;
        /**
         * What a slot starts with: a short target, a Host, a User-Agent and a short Referer fit. The
         * bytes are made with the slot, not on its first line: the ring lives as long as the process,
         * and what it makes under load would be young objects that every young collection copies until
         * they are old enough to be promoted (fifteen collections: young pauses of 6 to 9 ms instead of
         * 1.4 through the first minute of load, docs/benchmarks.md, issue 11 fifth pass). Made at start,
         * they are promoted by the collection that settles the heap ({@code StartupHeap}).
         */
        static final int FIELD_BYTES_INITIAL = 128;

        private final AccessLog log;
        private volatile long sequence;
        private long claimedAt;
        public long epochMillis;
        public int status;
        public long requestBytes;
        public long responseBytes;
        public int attempts;
        public boolean upstreamReused;
        public long upstreamConnectNanos;
        public long upstreamNanos;
        public long totalNanos;
        /** Whether the line has the {@code request_id} field: a request-id filter is configured for the request. */
        public boolean requestIdField;

        /** The client's IPv4 address as a number, when {@link #clientIsIpv4}. */
        int clientIpv4;
        boolean clientIsIpv4;
        /** The client when it is not an IPv4 address (IPv6, a unix socket, unknown: null). */
        @Nullable SocketAddress client;
        @Nullable String method;
        @Nullable String protocol;
        @Nullable String route;
        @Nullable String upstream;
        @Nullable HttpPeer peer;
        @Nullable ErrorType error;
        /** What the cache did for the request ({@code cache=}); null when no cache was enabled for it. */
        @Nullable CacheResult cache;
        /** The request's id (nginx's {@code $request_id}) when it has the field; null when it has none. */
        @Nullable String requestId;
        /** The stream service of a stream connection's line; null for an HTTP request's. */
        @Nullable String stream;
        /** How a stream connection ended ({@code completed}, {@code idle_timeout} ...); streams only. */
        @Nullable String end;
        /** What a stream connection's TLS handshake settled; null on a plain listener. Streams only. */
        @Nullable TlsInfo tls;

        /** The texts' bytes: grown for a long line, given back by {@link #clear()} after one. */
        private byte[] textBytes;
        /** Where the next text goes in {@link #textBytes}. */
        private int textEnd;
        /** Each text's start and length in {@link #textBytes} ({@link #ABSENT}, {@link #UNUSUAL}). */
        private final int[] textSpans = new int[2 * TEXTS];
        /** The texts that bytes could not hold; made on the first such text. */
        private CharSequence @Nullable [] unusualTexts;

        /** A slot of {@code log}'s ring (a line's fields alone, for the formatter's tests, when null). */
        Entry(AccessLog log, long sequence) {
            this.log = log;
            this.sequence = sequence;
            textBytes = new byte[FIELD_BYTES_INITIAL];
            java.util.Arrays.fill(textSpans, ABSENT);
        }

        /** The client: an IPv4 address is kept as its number, anything else by reference. */
        public void client(@Nullable SocketAddress client) {
            if (AccessLogFormatter.INET4_HASH_IS_ADDRESS && client instanceof InetSocketAddress inet
                    && inet.getAddress() instanceof Inet4Address address) {
                clientIpv4 = address.hashCode();
                clientIsIpv4 = true;
            } else {
                clientIsIpv4 = false;
                if (this.client != client) {
                    this.client = client;
                }
            }
        }

        /** The request's method. */
        public void method(@Nullable String method) {
            if (this.method != method) {
                this.method = method;
            }
        }

        /** The request's target, copied. */
        public void uri(@Nullable CharSequence uri) {
            copyText(URI, uri);
        }

        /** The request's protocol version ({@code HTTP/1.1}). */
        public void protocol(@Nullable String protocol) {
            if (this.protocol != protocol) {
                this.protocol = protocol;
            }
        }

        /** The Referer, copied (as {@link #copyRequestFields} does from the request's headers). */
        public void referer(@Nullable CharSequence referer) {
            copyText(REFERER, referer);
        }

        /** The User-Agent, copied. */
        public void userAgent(@Nullable CharSequence userAgent) {
            copyText(USER_AGENT, userAgent);
        }

        /** The Host, copied. */
        public void host(@Nullable CharSequence host) {
            copyText(HOST, host);
        }

        /** The route's name. */
        public void route(@Nullable String route) {
            if (this.route != route) {
                this.route = route;
            }
        }

        /** The upstream group's name. */
        public void upstream(@Nullable String upstream) {
            if (this.upstream != upstream) {
                this.upstream = upstream;
            }
        }

        /** The backend of the last attempt. */
        public void peer(@Nullable HttpPeer peer) {
            if (this.peer != peer) {
                this.peer = peer;
            }
        }

        /** Why the request or connection failed; null when it did not. */
        public void error(@Nullable ErrorType error) {
            if (this.error != error) {
                this.error = error;
            }
        }

        /** What the cache did; null when no cache was enabled for the request. */
        public void cache(@Nullable CacheResult cache) {
            if (this.cache != cache) {
                this.cache = cache;
            }
        }

        /** The request's id, when it has the field ({@link #requestIdField}). */
        public void requestId(@Nullable String requestId) {
            if (this.requestId != requestId) {
                this.requestId = requestId;
            }
        }

        /** A stream connection's line: its service's name. */
        public void stream(@Nullable String stream) {
            this.stream = stream;
        }

        /** How a stream connection ended. */
        public void end(@Nullable String end) {
            this.end = end;
        }

        /** A stream connection's TLS. */
        public void tls(@Nullable TlsInfo tls) {
            this.tls = tls;
        }

        /** Sets Referer, User-Agent and Host from the request's {@code headers}, copied into the slot's bytes. */
        public void copyRequestFields(HttpHeaders headers) {
            copyField(REFERER, headers, "Referer");
            copyField(USER_AGENT, headers, "User-Agent");
            copyField(HOST, headers, "Host");
        }

        /** Copies field {@code name} to the next bytes as text {@code which}, or marks it absent. */
        private void copyField(int which, HttpHeaders headers, String name) {
            int at = textEnd;
            int length = headers.copyValue(name, textBytes, at);
            if (length > textBytes.length - at) {
                // It did not fit: what is copied so far moves to a larger buffer, and the field is copied again.
                grow(at + length);
                headers.copyValue(name, textBytes, at);
            }
            span(which, at, length < 0 ? ABSENT : length);
        }

        private void copyText(int which, @Nullable CharSequence text) {
            int at = textEnd;
            if (text == null) {
                span(which, at, ABSENT);
                return;
            }
            int length = text.length();
            if (length > textBytes.length - at) {
                grow(at + length);
            }
            byte[] b = textBytes;
            for (int i = 0; i < length; i++) {
                char c = text.charAt(i);
                if (c > 0xff) {
                    // Only a filter's own text can hold such a char: a request's arrive as bytes.
                    if (unusualTexts == null) {
                        unusualTexts = new CharSequence[TEXTS];
                    }
                    unusualTexts[which] = text;
                    span(which, at, UNUSUAL);
                    return;
                }
                b[at + i] = (byte) c;
            }
            span(which, at, length);
        }

        private void span(int which, int start, int length) {
            textSpans[2 * which] = start;
            textSpans[2 * which + 1] = length;
            if (length > 0) {
                textEnd = start + length;
            }
        }

        private void grow(int needed) {
            textBytes = java.util.Arrays.copyOf(textBytes, (needed + 63) & ~63);
        }

        /** Text {@code which} through {@code view} (the writer's), or null when the line has none. */
        @Nullable CharSequence text(int which, FieldValueText view) {
            int length = textSpans[2 * which + 1];
            if (length >= 0) {
                return view.set(textBytes, textSpans[2 * which], length);
            }
            return length == UNUSUAL ? unusualTexts[which] : null;
        }

        /** The client as an address (an IPv4 client's port is not kept: 0), for tests. */
        @Nullable SocketAddress clientAddress() {
            if (!clientIsIpv4) {
                return client;
            }
            int a = clientIpv4;
            byte[] address = {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
            try {
                return new InetSocketAddress(java.net.InetAddress.getByAddress(address), 0);
            } catch (java.net.UnknownHostException e) {
                throw new AssertionError(e);
            }
        }

        /** Text {@code which} as a String, or null (for tests). */
        @Nullable String text(int which) {
            CharSequence text = text(which, new FieldValueText(textBytes, 0, 0));
            return text == null ? null : text.toString();
        }

        /**
         * Makes the line visible to the writer; the entry must not be touched afterwards. Wakes the
         * writer only when it is idle, or napping with a quarter of the ring filled (see the class comment).
         */
        public void publish() {
            long position = claimedAt;
            sequence = position + 1;
            int state = log.writerState;
            if (state != RUNNING && (state == IDLE || (position & log.wakeMask) == 0)) {
                LockSupport.unpark(log.writer);
            }
        }

        /** How many bytes the slot holds for its texts (for tests). */
        int fieldBytesHeld() {
            return textBytes.length;
        }

        /**
         * Readies the slot for its next line, on the writer: the texts are gone; what only this line
         * had by reference is let go; the references lines share stay, for the next line's setters to
         * find in place (a store of null is one the collectors do not track).
         */
        void clear() {
            textEnd = 0;
            java.util.Arrays.fill(textSpans, ABSENT);
            if (textBytes.length > FIELD_BYTES_KEPT) {
                textBytes = new byte[FIELD_BYTES_INITIAL];
            }
            if (unusualTexts != null) {
                java.util.Arrays.fill(unusualTexts, null);
            }
            if (client != null) {
                client = null;
            }
            if (requestId != null) {
                requestId = null;
            }
            if (stream != null) {
                stream = null;
                end = null;
                tls = null;
            }
        }
    }
}
