package dev.relay.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * An HTTP/1.1 origin that answers each request with exactly the bytes a test gives it, however wrong:
 * status lines, framing and bodies are not checked or repaired (a {@link TestOrigin} goes through Netty's
 * encoder). It reads each request (head, then a {@code Content-Length} or chunked body), records it with
 * the number of the connection it came on, and writes the reply either whole or one byte per write
 * ({@link Delivery#BYTE_BY_BYTE}, {@code TCP_NODELAY}), so the reader sees the message in as many pieces
 * as the network keeps apart. After a reply the connection serves the next request unless the reply
 * says to close it; so whether a proxy reused a connection shows in {@link Request#connection()}.
 *
 * <pre>{@code
 * try (RawResponseOrigin origin = RawResponseOrigin.start(Delivery.WHOLE,
 *         request -> Reply.keepOpen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))) {
 *     // a client of origin.address() gets those bytes; origin.requests() says what it asked
 * }
 * }</pre>
 *
 * <p>Blocking sockets, one daemon thread per connection (a test peer, never an event loop). Thread-safe.
 */
public final class RawResponseOrigin implements AutoCloseable {
    /** How the bytes of a reply are written. */
    public enum Delivery {
        /** In one write. */
        WHOLE,
        /** One byte per write, each sent at once. */
        BYTE_BY_BYTE
    }

    /**
     * A request as the origin read it.
     *
     * @param connection the number of the connection it came on, from 1 in accept order
     * @param method     the method of its request line
     * @param target     the request target
     * @param head       the request line and fields as received (ISO-8859-1), without the empty line
     * @param bodyBytes  the length of its body
     */
    public record Request(int connection, String method, String target, String head, long bodyBytes) {
        /** The value of the first field called {@code name} (any case), or null when there is none. */
        public String header(String name) {
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
            }
            return null;
        }
    }

    /**
     * The bytes written for one request and whether the origin closes the connection after them.
     *
     * @param bytes      written as they are
     * @param closeAfter whether the connection closes once they are written
     */
    public record Reply(byte[] bytes, boolean closeAfter) {
        public Reply {
            requireNonNull(bytes, "bytes");
        }

        /** The ISO-8859-1 bytes of {@code text}; the connection then waits for the next request. */
        public static Reply keepOpen(String text) {
            return new Reply(text.getBytes(StandardCharsets.ISO_8859_1), false);
        }

        /** The ISO-8859-1 bytes of {@code text}; then the origin closes the connection. */
        public static Reply thenClose(String text) {
            return new Reply(text.getBytes(StandardCharsets.ISO_8859_1), true);
        }
    }

    /** Chooses the reply to a request; called on the connection's thread. */
    @FunctionalInterface
    public interface Replies {
        /** The reply to {@code request}. */
        Reply reply(Request request);
    }

    private final ServerSocket listener;
    private final Delivery delivery;
    private final Replies replies;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger repliesFinished = new AtomicInteger();
    private volatile boolean closed;

    private RawResponseOrigin(ServerSocket listener, Delivery delivery, Replies replies) {
        this.listener = listener;
        this.delivery = delivery;
        this.replies = replies;
    }

    /** Binds {@code 127.0.0.1} on an ephemeral port and starts answering with {@code replies}. */
    public static RawResponseOrigin start(Delivery delivery, Replies replies) {
        requireNonNull(delivery, "delivery");
        requireNonNull(replies, "replies");
        ServerSocket listener;
        try {
            listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind an ephemeral loopback port", e);
        }
        RawResponseOrigin origin = new RawResponseOrigin(listener, delivery, replies);
        Thread acceptor = new Thread(origin::acceptLoop, "raw-response-origin-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return origin;
    }

    /** The bound port. */
    public int port() {
        return listener.getLocalPort();
    }

    /** {@code "127.0.0.1:PORT"}. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    /** The bound address. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(listener.getInetAddress(), port());
    }

    /** The requests read so far, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Connections accepted so far. */
    public int connectionsAccepted() {
        return connections.get();
    }

    /**
     * Waits until {@code n} replies have been written in full, or cut off because the peer closed the
     * connection (up to {@code timeout}): after that, nothing more of them is on its way.
     */
    public void awaitRepliesFinished(int n, Duration timeout) {
        Await.until(() -> repliesFinished.get() >= n, timeout, () -> repliesFinished.get() + " of " + n
                + " replies finished");
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = listener.accept();
                int number = connections.incrementAndGet();
                sockets.add(socket);
                Thread serving = new Thread(() -> serve(socket, number),
                        "raw-response-origin-" + port() + "-conn-" + number);
                serving.setDaemon(true);
                serving.start();
            } catch (IOException e) {
                if (!closed) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private void serve(Socket socket, int number) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (!closed) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                Request request = parse(number, head, in);
                requests.add(request);
                Reply reply = replies.reply(request);
                try {
                    write(out, reply.bytes());
                } finally {
                    // Counted written or cut off: either way the origin will send nothing more for it.
                    repliesFinished.incrementAndGet();
                }
                if (reply.closeAfter()) {
                    return;
                }
            }
        } catch (SocketException e) {
            // The peer reset or closed: nothing more to answer on this connection.
        } catch (IOException e) {
            if (!closed) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void write(OutputStream out, byte[] bytes) throws IOException {
        if (delivery == Delivery.WHOLE) {
            out.write(bytes);
            out.flush();
            return;
        }
        for (byte b : bytes) {
            out.write(b);
            out.flush();
        }
    }

    /** The head up to its empty line (excluded), or null when the connection ended before a request began. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (;;) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside a request head");
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            if (matched == 4) {
                String text = head.toString(StandardCharsets.ISO_8859_1);
                return text.substring(0, text.length() - 4);
            }
        }
    }

    private static Request parse(int connection, String head, InputStream in) throws IOException {
        String[] requestLine = head.substring(0, head.indexOf("\r\n") < 0 ? head.length() : head.indexOf("\r\n"))
                .split(" ", 3);
        Request withoutBody = new Request(connection, requestLine[0], requestLine.length > 1 ? requestLine[1] : "",
                head, 0);
        String length = withoutBody.header("Content-Length");
        String coding = withoutBody.header("Transfer-Encoding");
        long body = 0;
        if (coding != null && coding.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = skipChunked(in);
        } else if (length != null) {
            body = Long.parseLong(length);
            in.skipNBytes(body);
        }
        return new Request(connection, withoutBody.method(), withoutBody.target(), head, body);
    }

    private static long skipChunked(InputStream in) throws IOException {
        long total = 0;
        for (;;) {
            String sizeLine = readLine(in);
            int extension = sizeLine.indexOf(';');
            long size = Long.parseLong((extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim(), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailer fields
                }
                return total;
            }
            in.skipNBytes(size);
            total += size;
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (;;) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a chunked body");
            }
            if (b == '\n') {
                int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1 : line.length();
                return line.substring(0, end);
            }
            line.append((char) b);
        }
    }

    /** Stops listening and closes every connection. */
    @Override
    public void close() {
        closed = true;
        SilentServer.closeAll(listener, sockets);
    }

    @Override
    public String toString() {
        return "RawResponseOrigin{" + address() + ", " + delivery + '}';
    }
}
