package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A deliberately dumb HTTP/2 client over a blocking socket, for tests that must put arbitrary frames on
 * the wire (floods, resets, header blocks that never end, HPACK bombs, frames on closed streams) and see
 * every frame the server sends back. It keeps no stream state and enforces nothing: it writes what it is
 * told, in order, and records what arrives.
 *
 * <p>Opening a connection writes the client preface (the 24-byte magic and an empty SETTINGS frame).
 * A reader thread records every frame the server sends ({@link #frames()}); it answers the server's
 * SETTINGS and PING frames with their ACKs as a well-behaved client does (so a flood test measures the
 * flood, not a client that never acknowledges), and decodes each complete header block (HEADERS plus its
 * CONTINUATION frames) with one HPACK decoder for the connection.
 *
 * <p>Writes are buffered: call {@link #flush()} to send. Once the server has closed the connection a
 * write or flush throws an {@link IOException}; a flood that expects to be cut off uses
 * {@link #sendUntilClosed(int, FrameBatch)}.
 *
 * <pre>{@code
 * try (RawHttp2Connection h2 = RawHttp2Connection.open(proxyPort)) {
 *     int sent = h2.sendUntilClosed(10_000, (c, i) -> {
 *         int stream = 2 * i + 1;
 *         c.headers(stream, RawHttp2Connection.get("localhost", "/"), false);
 *         c.rstStream(stream, Http2Error.CANCEL);
 *     });
 *     RawHttp2Connection.GoAway goAway = h2.awaitGoAway(Duration.ofSeconds(5));
 *     assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error());
 * }
 * }</pre>
 *
 * <p>Writes are for one thread (the test's); the reading methods may be called from any thread.
 */
public final class RawHttp2Connection implements AutoCloseable {
    /** Frame types (RFC 9113 section 6). */
    public static final int DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
            PUSH_PROMISE = 0x5, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
    /** Frame flags. */
    public static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;

    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final byte[] CLIENT_MAGIC = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** The largest frame payload any HTTP/2 server must accept (SETTINGS_MAX_FRAME_SIZE's initial value). */
    private static final int DEFAULT_MAX_FRAME_SIZE = 16_384;

    private final Socket socket;
    private final OutputStream out;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Written a HEADERS (or CONTINUATION) frame without END_HEADERS last; guarded by {@link #writeLock}. */
    private boolean headerBlockOpen;
    /** ACKs the reader could not write because the test thread held the socket; sent with the next write. */
    private final List<byte[]> pendingAcks = new ArrayList<>();
    private final DefaultHttp2HeadersEncoder headerEncoder = new DefaultHttp2HeadersEncoder();
    private final Thread reader;
    /** Guarded by itself; readers wait on it for new frames. */
    private final List<Frame> frames = new ArrayList<>();
    private volatile boolean closedByPeer;
    private volatile long bytesReceived;
    private volatile IOException readFailure;

    private RawHttp2Connection(Socket socket) throws IOException {
        this.socket = socket;
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
        writeLock.lock();
        try {
            out.write(CLIENT_MAGIC);
            writeFrame(SETTINGS, 0, 0, new byte[0]);
            out.flush();
        } finally {
            writeLock.unlock();
        }
        this.reader = new Thread(() -> readLoop(in), "raw-h2-reader-" + socket.getLocalPort());
        reader.setDaemon(true);
        reader.start();
    }

    /** Connects to {@code 127.0.0.1:port} in clear text (HTTP/2 with prior knowledge, h2c) and sends the preface. */
    public static RawHttp2Connection open(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            return new RawHttp2Connection(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Connects to {@code 127.0.0.1:port} with TLS through {@code tls} (for example
     * {@link TestCertificates#clientSslContext()}), offering only {@code h2} by ALPN, and sends the preface.
     *
     * @throws IOException when the handshake fails or the server does not choose {@code h2}
     */
    public static RawHttp2Connection openTls(int port, SSLContext tls, String serverName) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(CONNECT_TIMEOUT_MILLIS);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"h2"});
            parameters.setServerNames(List.of(new javax.net.ssl.SNIHostName(serverName)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            if (!"h2".equals(socket.getApplicationProtocol())) {
                throw new IOException("ALPN: '" + socket.getApplicationProtocol() + "' (expected: h2)");
            }
            socket.setSoTimeout(0); // the reader thread blocks until the server sends or closes
            return new RawHttp2Connection(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The header fields of a {@code GET path} request with {@code :authority} {@code authority}. */
    public static Http2Headers get(String authority, String path) {
        return request("GET", authority, path);
    }

    /** The header fields of a {@code method path} request with {@code :authority} {@code authority}. */
    public static Http2Headers request(String method, String authority, String path) {
        return new DefaultHttp2Headers().method(method).scheme("http").authority(authority).path(path);
    }

    // ---------------------------------------------------------------------------------------- writing

    /**
     * A HEADERS frame on {@code streamId} carrying {@code headers} (HPACK-encoded with this connection's
     * encoder), followed by CONTINUATION frames when the block is larger than 16 KiB.
     */
    public void headers(int streamId, Http2Headers headers, boolean endStream) throws IOException {
        headerBlock(streamId, encode(streamId, headers), endStream);
    }

    /**
     * A HEADERS frame carrying the raw (already HPACK-encoded) header block {@code block}, followed by
     * CONTINUATION frames when it is larger than 16 KiB: for blocks no encoder would write (an HPACK bomb).
     */
    public void headerBlock(int streamId, byte[] block, boolean endStream) throws IOException {
        int first = Math.min(block.length, DEFAULT_MAX_FRAME_SIZE);
        int flags = (endStream ? END_STREAM : 0) | (first == block.length ? END_HEADERS : 0);
        writeLock.lock();
        try {
            writeFrame(HEADERS, flags, streamId, block, 0, first);
            for (int offset = first; offset < block.length; offset += DEFAULT_MAX_FRAME_SIZE) {
                int length = Math.min(block.length - offset, DEFAULT_MAX_FRAME_SIZE);
                writeFrame(CONTINUATION, offset + length == block.length ? END_HEADERS : 0, streamId, block, offset, length);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The HPACK encoding of {@code headers} by this connection's encoder (which then expects it sent). */
    public byte[] encode(int streamId, Http2Headers headers) throws IOException {
        ByteBuf buffer = Unpooled.buffer();
        try {
            headerEncoder.encodeHeaders(streamId, headers, buffer);
            byte[] block = new byte[buffer.readableBytes()];
            buffer.readBytes(block);
            return block;
        } catch (Http2Exception e) {
            throw new IOException("cannot encode " + headers, e);
        } finally {
            buffer.release();
        }
    }

    /** A HEADERS frame carrying the raw header block fragment {@code fragment}, with {@code flags} as given. */
    public void headersFragment(int streamId, byte[] fragment, int flags) throws IOException {
        frame(HEADERS, flags, streamId, fragment);
    }

    /** A CONTINUATION frame carrying {@code fragment}. */
    public void continuation(int streamId, byte[] fragment, boolean endHeaders) throws IOException {
        frame(CONTINUATION, endHeaders ? END_HEADERS : 0, streamId, fragment);
    }

    /** A DATA frame (no padding). */
    public void data(int streamId, byte[] payload, boolean endStream) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, streamId, payload);
    }

    /** An RST_STREAM frame with {@code error}. */
    public void rstStream(int streamId, Http2Error error) throws IOException {
        frame(RST_STREAM, 0, streamId, int32(error.code()));
    }

    /** A SETTINGS frame with {@code settings} (identifier to value, in the map's order). */
    public void settings(Map<Integer, Long> settings) throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        settings.forEach((id, value) -> {
            payload.write(id >>> 8);
            payload.write(id);
            payload.writeBytes(int32(value));
        });
        frame(SETTINGS, 0, 0, payload.toByteArray());
    }

    /** A PING frame (not an ACK) with {@code data} as its 8 bytes. */
    public void ping(long data) throws IOException {
        frame(PING, 0, 0, int64(data));
    }

    /** A PRIORITY frame: {@code streamId} depends on {@code dependency} with {@code weight} (1 to 256). */
    public void priority(int streamId, int dependency, int weight, boolean exclusive) throws IOException {
        byte[] payload = new byte[5];
        System.arraycopy(int32((exclusive ? 0x8000_0000L : 0) | dependency), 0, payload, 0, 4);
        payload[4] = (byte) (weight - 1);
        frame(PRIORITY, 0, streamId, payload);
    }

    /** A WINDOW_UPDATE frame; stream 0 is the connection's window. An increment of 0 is a protocol error. */
    public void windowUpdate(int streamId, int increment) throws IOException {
        frame(WINDOW_UPDATE, 0, streamId, int32(increment));
    }

    /** Any frame: {@code type}, {@code flags} and {@code payload} exactly as given. */
    public void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        writeLock.lock();
        try {
            writeFrame(type, flags, streamId, payload, 0, payload.length);
        } finally {
            writeLock.unlock();
        }
    }

    /** Sends what the writes above have buffered. */
    public void flush() throws IOException {
        writeLock.lock();
        try {
            writePendingAcks();
            out.flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** What {@link #sendUntilClosed} repeats: the frames of round {@code round} (from 0). */
    @FunctionalInterface
    public interface FrameBatch {
        void write(RawHttp2Connection connection, int round) throws IOException;
    }

    /**
     * Writes {@code rounds} rounds of {@code batch}, flushing as the buffer fills and at the end, and stops
     * early when the server closes or resets the connection (what a flood is expected to run into).
     *
     * @return the rounds written before the connection broke ({@code rounds} when it never did)
     */
    public int sendUntilClosed(int rounds, FrameBatch batch) {
        for (int i = 0; i < rounds; i++) {
            try {
                batch.write(this, i);
            } catch (IOException closed) {
                return i;
            }
        }
        try {
            flush();
        } catch (IOException closed) {
            return rounds - 1;
        }
        return rounds;
    }

    private void writeFrame(int type, int flags, int streamId, byte[] payload) throws IOException {
        writeFrame(type, flags, streamId, payload, 0, payload.length);
    }

    /** Writes one frame; the caller holds {@link #writeLock}. */
    private void writeFrame(int type, int flags, int streamId, byte[] payload, int offset, int length)
            throws IOException {
        writePendingAcks();
        out.write(frameHeader(length, type, flags, streamId));
        out.write(payload, offset, length);
        if (type == HEADERS || type == PUSH_PROMISE || type == CONTINUATION) {
            headerBlockOpen = (flags & END_HEADERS) == 0;
        }
    }

    /**
     * Writes the ACKs the reader left, unless a header block is open (no frame may come between its
     * HEADERS and CONTINUATION frames): they then wait for the block to end. The caller holds {@link #writeLock}.
     */
    private void writePendingAcks() throws IOException {
        if (headerBlockOpen) {
            return;
        }
        synchronized (pendingAcks) {
            for (byte[] ack : pendingAcks) {
                out.write(ack);
            }
            pendingAcks.clear();
        }
    }

    /** Sends the ACKs the reader left, unless the test thread is writing (it sends them itself). */
    private void sendPendingAcks() {
        if (writeLock.tryLock()) {
            try {
                writePendingAcks();
                out.flush();
            } catch (IOException e) {
                // the connection is going away; the read side will see it
            } finally {
                writeLock.unlock();
            }
        }
    }

    private static byte[] frameHeader(int length, int type, int flags, int streamId) {
        return new byte[] {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
                (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId};
    }

    private static byte[] int32(long value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    private static byte[] int64(long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (56 - 8 * i));
        }
        return bytes;
    }

    // ---------------------------------------------------------------------------------------- reading

    private void readLoop(DataInputStream in) {
        DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(true, 1 << 20);
        ByteArrayOutputStream block = null;
        Frame blockStart = null;
        byte[] header = new byte[9];
        try {
            while (true) {
                in.readFully(header);
                int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff;
                int type = header[3] & 0xff;
                int flags = header[4] & 0xff;
                int streamId = ((header[5] & 0x7f) << 24) | (header[6] & 0xff) << 16 | (header[7] & 0xff) << 8
                        | header[8] & 0xff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                bytesReceived += 9 + length;
                Frame frame = new Frame(type, flags, streamId, payload, null);
                if (type == HEADERS || type == PUSH_PROMISE) {
                    block = new ByteArrayOutputStream();
                    block.write(payload, headerBlockOffset(frame), headerBlockLength(frame));
                    blockStart = frame;
                } else if (type == CONTINUATION && block != null) {
                    block.write(payload, 0, length);
                }
                if ((type == HEADERS || type == PUSH_PROMISE || type == CONTINUATION) && (flags & END_HEADERS) != 0
                        && block != null && blockStart != null) {
                    ByteBuf bytes = Unpooled.wrappedBuffer(block.toByteArray());
                    try {
                        Http2Headers decoded = decoder.decodeHeaders(blockStart.streamId(), bytes);
                        record(new Frame(blockStart.type(), blockStart.flags() | END_HEADERS, blockStart.streamId(),
                                blockStart.payload(), decoded));
                    } finally {
                        bytes.release();
                    }
                    block = null;
                    blockStart = null;
                    continue;
                }
                if (type != HEADERS && type != CONTINUATION && type != PUSH_PROMISE) {
                    record(frame);
                }
                if (type == SETTINGS && (flags & ACK) == 0) {
                    acknowledge(frameHeader(0, SETTINGS, ACK, 0), new byte[0]);
                } else if (type == PING && (flags & ACK) == 0) {
                    acknowledge(frameHeader(8, PING, ACK, 0), payload);
                }
            }
        } catch (EOFException e) {
            // the server closed the connection
        } catch (IOException | Http2Exception e) {
            readFailure = e instanceof IOException io ? io : new IOException(e);
        } finally {
            closedByPeer = true;
            synchronized (frames) {
                frames.notifyAll();
            }
        }
    }

    /** Writes an ACK now when the test thread is not writing, else leaves it for its next write. */
    private void acknowledge(byte[] header, byte[] payload) {
        byte[] ack = new byte[header.length + payload.length];
        System.arraycopy(header, 0, ack, 0, header.length);
        System.arraycopy(payload, 0, ack, header.length, payload.length);
        synchronized (pendingAcks) {
            pendingAcks.add(ack);
        }
        sendPendingAcks();
    }

    private static int headerBlockOffset(Frame frame) {
        int offset = (frame.flags() & PADDED) != 0 ? 1 : 0;
        if (frame.type() == HEADERS && (frame.flags() & PRIORITY_FLAG) != 0) {
            offset += 5;
        } else if (frame.type() == PUSH_PROMISE) {
            offset += 4;
        }
        return offset;
    }

    private static int headerBlockLength(Frame frame) {
        int padding = (frame.flags() & PADDED) != 0 ? frame.payload()[0] & 0xff : 0;
        return frame.payload().length - headerBlockOffset(frame) - padding;
    }

    private void record(Frame frame) {
        synchronized (frames) {
            frames.add(frame);
            frames.notifyAll();
        }
    }

    /** Every frame received so far, in order (a header block as one frame with its decoded fields). */
    public List<Frame> frames() {
        synchronized (frames) {
            return List.copyOf(frames);
        }
    }

    /** Bytes received so far (frame headers included). */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Whether the server has closed (or reset) the connection. */
    public boolean closedByPeer() {
        return closedByPeer;
    }

    /**
     * The first frame received (already or within {@code timeout}) that {@code matches}.
     *
     * @throws AssertionError when none arrives in time or the connection closes without one
     */
    public Frame awaitFrame(Predicate<Frame> matches, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        sendPendingAcks();
        synchronized (frames) {
            int seen = 0;
            while (true) {
                for (; seen < frames.size(); seen++) {
                    if (matches.test(frames.get(seen))) {
                        return frames.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (closedByPeer || left <= 0) {
                    throw new AssertionError((closedByPeer ? "connection closed" : "timed out after " + timeout)
                            + " without the awaited frame; received: " + summary(frames)
                            + (readFailure == null ? "" : "; read failure: " + readFailure));
                }
                frames.wait(Math.min(100, Math.max(1, left / 1_000_000)));
            }
        }
    }

    /** The GOAWAY frame received (already or within {@code timeout}). */
    public GoAway awaitGoAway(Duration timeout) throws InterruptedException {
        return GoAway.of(awaitFrame(f -> f.type() == GOAWAY, timeout));
    }

    /** The first RST_STREAM frame for {@code streamId}, as its error. */
    public Http2Error awaitReset(int streamId, Duration timeout) throws InterruptedException {
        Frame reset = awaitFrame(f -> f.type() == RST_STREAM && f.streamId() == streamId, timeout);
        return Http2Error.valueOf(reset.int32(0));
    }

    /** The first header block (response header fields) received on {@code streamId}. */
    public Http2Headers awaitHeaders(int streamId, Duration timeout) throws InterruptedException {
        Frame headers = awaitFrame(f -> f.type() == HEADERS && f.streamId() == streamId, timeout);
        return headers.headers();
    }

    /**
     * Whether the server closes the connection within {@code timeout}: true when it has, false when it is
     * still open when the time is up.
     */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
        reader.join(timeout.toMillis());
        return closedByPeer;
    }

    private static String summary(List<Frame> frames) {
        StringBuilder s = new StringBuilder();
        int from = Math.max(0, frames.size() - 20);
        if (from > 0) {
            s.append("... ").append(from).append(" earlier, then ");
        }
        for (int i = from; i < frames.size(); i++) {
            s.append(i > from ? ", " : "").append(frames.get(i));
        }
        return s.length() == 0 ? "nothing" : s.toString();
    }

    /** Closes the socket (no GOAWAY: a test that wants one sends it with {@link #frame}). */
    @Override
    public void close() throws IOException {
        socket.close();
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One frame received. For a header block, the HEADERS (or PUSH_PROMISE) frame with its CONTINUATION
     * frames merged: {@code payload} is the first frame's and {@code headers} the decoded fields; null for
     * every other type.
     */
    public record Frame(int type, int flags, int streamId, byte[] payload,
                        Http2Headers headers) {
        /** Whether flag bit {@code flag} is set. */
        public boolean has(int flag) {
            return (flags & flag) != 0;
        }

        /** The unsigned 32-bit number at {@code offset} of the payload. */
        public long int32(int offset) {
            return (payload[offset] & 0xffL) << 24 | (payload[offset + 1] & 0xffL) << 16
                    | (payload[offset + 2] & 0xffL) << 8 | payload[offset + 3] & 0xffL;
        }

        @Override
        public String toString() {
            String name = switch (type) {
                case DATA -> "DATA";
                case HEADERS -> "HEADERS";
                case PRIORITY -> "PRIORITY";
                case RST_STREAM -> "RST_STREAM";
                case SETTINGS -> "SETTINGS";
                case PUSH_PROMISE -> "PUSH_PROMISE";
                case PING -> "PING";
                case GOAWAY -> "GOAWAY";
                case WINDOW_UPDATE -> "WINDOW_UPDATE";
                case CONTINUATION -> "CONTINUATION";
                default -> "type " + type;
            };
            String detail = switch (type) {
                case RST_STREAM -> " " + Http2Error.valueOf(int32(0));
                case GOAWAY -> " " + GoAway.of(this);
                case HEADERS -> " " + headers;
                default -> "";
            };
            return name + "(stream " + streamId + ", flags 0x" + Integer.toHexString(flags) + ", "
                    + payload.length + " bytes" + detail + ")";
        }
    }

    /** A GOAWAY frame's fields. */
    public record GoAway(int lastStreamId, long errorCode, String debugData) {
        static GoAway of(Frame frame) {
            byte[] p = frame.payload();
            return new GoAway((int) (frame.int32(0) & 0x7fff_ffff), frame.int32(4),
                    new String(p, 8, p.length - 8, StandardCharsets.UTF_8));
        }

        /** The error code as Netty's enum (null for a code RFC 9113 does not define). */
        public Http2Error error() {
            return Http2Error.valueOf(errorCode);
        }

        @Override
        public String toString() {
            Http2Error error = error();
            return "last stream " + lastStreamId + ", " + (error == null ? "code " + errorCode : error)
                    + (debugData.isEmpty() ? "" : ", '" + debugData + "'");
        }
    }
}
