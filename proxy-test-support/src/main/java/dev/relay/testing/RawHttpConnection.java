package dev.relay.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately dumb HTTP/1.x client over a blocking socket, for tests that must control the bytes on
 * the wire (header case, HTTP/1.0, pipelining, half-sent bodies, a client that stalls or vanishes) or see
 * exactly what came back (a truncated body, a reset, a close). Every read is bounded by a socket timeout
 * (10 s unless {@link #setReadTimeout(int) set}). It never retries anything.
 *
 * <pre>{@code
 * try (RawHttpConnection connection = new RawHttpConnection(proxyPort)) {
 *     connection.send("GET /stall-body HTTP/1.1\r\nHost: x\r\n\r\n");
 *     RawHttpConnection.Response response = connection.readResponse();
 *     assertFalse(response.complete());   // the body ended early
 * }
 * }</pre>
 *
 * <p>For a plain request whose answer is all that matters, {@link #get(InetSocketAddress, String, String)}
 * does the whole exchange on a connection of its own.
 *
 * <p>Not thread-safe.
 */
public final class RawHttpConnection implements AutoCloseable {
    private static final int READ_TIMEOUT_MILLIS = 10_000;
    /** For {@link #get}: long enough for a response that a test holds back on purpose. */
    private static final int ONE_SHOT_READ_TIMEOUT_MILLIS = 30_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** Connects to {@code 127.0.0.1:port}. */
    public RawHttpConnection(int port) throws IOException {
        this(connect(new InetSocketAddress("127.0.0.1", port)));
    }

    /** Connects to {@code address}. */
    public RawHttpConnection(InetSocketAddress address) throws IOException {
        this(connect(address));
    }

    /** Uses an already connected {@code socket}. */
    public RawHttpConnection(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, READ_TIMEOUT_MILLIS);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    /**
     * {@code GET pathAndQuery} with {@code Host: host} and {@code Connection: close} on a new connection to
     * {@code address}; returns the response (body included) and closes the connection. Reads wait at most
     * 30 s, so a response that a test holds back on purpose still arrives.
     *
     * @throws IOException when the connection fails or ends before a status line
     */
    public static Response get(InetSocketAddress address, String host, String pathAndQuery) throws IOException {
        return get(address, host, pathAndQuery, Map.of());
    }

    /**
     * {@link #get(InetSocketAddress, String, String)} with the extra header fields {@code headers}, sent
     * after {@code Host} in the map's iteration order.
     */
    public static Response get(InetSocketAddress address, String host, String pathAndQuery,
                               Map<String, String> headers) throws IOException {
        StringBuilder request = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\nHost: ")
                .append(host).append("\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        request.append("Connection: close\r\n\r\n");
        try (RawHttpConnection connection = new RawHttpConnection(address)) {
            connection.setReadTimeout(ONE_SHOT_READ_TIMEOUT_MILLIS);
            connection.send(request.toString());
            return connection.readResponse();
        }
    }

    /** Sends the ISO-8859-1 bytes of {@code text}. */
    public void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends {@code bytes}. */
    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one response, body included (framed by its head; to the end of the stream when unframed). */
    public Response readResponse() throws IOException {
        return readResponse(false);
    }

    /** Reads one response; {@code toHead} means it answers a HEAD request (no body whatever the headers). */
    public Response readResponse(boolean toHead) throws IOException {
        Response head = readHead();
        int status = head.status();
        if (toHead || status / 100 == 1 || status == 204 || status == 304) {
            return head;
        }
        String contentLength = head.header("Content-Length");
        String transferEncoding = head.header("Transfer-Encoding");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete;
        boolean reset = false;
        try {
            if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked")) {
                complete = readChunked(body);
            } else if (contentLength != null) {
                complete = readFully(body, Long.parseLong(contentLength));
            } else {
                in.transferTo(body);
                complete = true;
            }
        } catch (java.net.SocketException e) {
            // A reset inside the body: what arrived is the answer, cut short.
            complete = false;
            reset = true;
        }
        return new Response(head.statusLine(), status, head.headers(), body.toByteArray(), complete, reset);
    }

    /** The next {@code length} bytes as a stream, for bodies too big to hold; read it before anything else. */
    public InputStream body(long length) {
        return new InputStream() {
            private long left = length;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, left));
                if (n > 0) {
                    left -= n;
                }
                return n;
            }
        };
    }

    /** Reads a status line and header fields, leaving the body unread. */
    public Response readHead() throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new EOFException("connection closed before a status line");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        List<RecordedRequest.Header> headers = new ArrayList<>();
        for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.add(new RecordedRequest.Header(line.substring(0, colon), line.substring(colon + 1).trim()));
        }
        return new Response(statusLine, status, headers, new byte[0], true, false);
    }

    /** Bounds every later read by {@code millis} instead of the default 10 s. */
    public void setReadTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Reads exactly {@code n} bytes, failing if the connection ends first. */
    public byte[] readBytes(int n) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (!readFully(body, n)) {
            throw new EOFException("connection closed after " + body.size() + " of " + n + " bytes");
        }
        return body.toByteArray();
    }

    /** Everything until the server closes the connection, as ISO-8859-1 text. */
    public String readToEnd() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Reads one byte: -1 at the end of the stream. Throws on a reset or when the read times out. */
    public int read() throws IOException {
        return in.read();
    }

    /** Whether the server closed the connection (as opposed to sending more bytes or staying open). */
    public boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private boolean readChunked(ByteArrayOutputStream body) throws IOException {
        while (true) {
            String sizeLine = readLine();
            if (sizeLine == null) {
                return false;
            }
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                for (String trailer = readLine(); trailer != null && !trailer.isEmpty(); trailer = readLine()) {
                    // trailers ignored
                }
                return true;
            }
            if (!readFully(body, size)) {
                return false;
            }
            readLine();
        }
    }

    private boolean readFully(ByteArrayOutputStream body, long length) throws IOException {
        byte[] buffer = new byte[8192];
        long left = length;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                return false;
            }
            body.write(buffer, 0, n);
            left -= n;
        }
        return true;
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            line.append((char) b);
        }
        return line.length() == 0 ? null : line.toString();
    }

    /** The socket, for what this class does not offer (for example {@code SO_LINGER} 0 before closing: a reset). */
    public Socket socket() {
        return socket;
    }

    /** Closes the connection. */
    @Override
    public void close() throws IOException {
        socket.close();
    }

    /**
     * A parsed response; {@code complete} is false when the connection ended inside the body, and
     * {@code reset} tells that it ended with a reset rather than a close.
     */
    public record Response(String statusLine, int status, List<RecordedRequest.Header> headers, byte[] body,
                           boolean complete, boolean reset) {
        /** The value of the first field named {@code name} (ignoring case), or null. */
        public String header(String name) {
            for (RecordedRequest.Header h : headers) {
                if (h.name().equalsIgnoreCase(name)) {
                    return h.value();
                }
            }
            return null;
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
