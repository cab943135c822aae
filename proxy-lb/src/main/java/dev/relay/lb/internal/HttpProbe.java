package dev.relay.lb.internal;

import dev.relay.core.ResponseHeader;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 exchange of a health probe over a blocking socket: writes the request, reads the
 * response head and body (Content-Length, chunked, or until close), keeps at most
 * {@code maxBodyBytes} of the body, and says whether the connection may carry another probe.
 * Every read is bounded by a deadline.
 */
public final class HttpProbe {
    private static final int MAX_HEAD_BYTES = 64 * 1024;

    private HttpProbe() {}

    /** The response: head, the kept body bytes, and whether the connection is reusable. */
    public record Response(ResponseHeader header, byte[] body, boolean reusable) {}

    /**
     * Sends {@code request} on {@code socket} and reads the response.
     *
     * @param headRequest whether the request is a HEAD (the response has no body)
     * @param deadline    {@link System#nanoTime()} by which the response must be read
     */
    public static Response exchange(Socket socket, byte[] request, boolean headRequest, int maxBodyBytes, long deadline)
            throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(request);
        out.flush();
        Reader in = new Reader(socket, deadline);
        for (;;) {
            String statusLine = in.line();
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new ProtocolException("malformed status line: " + printable(statusLine));
            }
            int status;
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new ProtocolException("malformed status line: " + printable(statusLine));
            }
            ResponseHeader header = ResponseHeader.of(status);
            int headBytes = statusLine.length();
            for (String line = in.line(); !line.isEmpty(); line = in.line()) {
                headBytes += line.length();
                if (headBytes > MAX_HEAD_BYTES) {
                    throw new ProtocolException("response head longer than " + MAX_HEAD_BYTES + " bytes");
                }
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw new ProtocolException("malformed header line: " + printable(line));
                }
                header.headers().add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
            if (status >= 100 && status < 200) {
                continue; // 100 Continue and other interim responses precede the real one
            }
            boolean keepAlive = parts[0].equals("HTTP/1.1") ? !hasToken(header, "Connection", "close")
                    : hasToken(header, "Connection", "keep-alive");
            if (headRequest || status == 204 || status == 304) {
                return new Response(header, new byte[0], keepAlive);
            }
            BodySink body = new BodySink(maxBodyBytes);
            String transferEncoding = header.headers().get("Transfer-Encoding");
            String contentLength = header.headers().get("Content-Length");
            if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).endsWith("chunked")) {
                readChunked(in, body);
            } else if (contentLength != null) {
                long length;
                try {
                    length = Long.parseLong(contentLength.trim());
                } catch (NumberFormatException e) {
                    throw new ProtocolException("malformed Content-Length: " + printable(contentLength));
                }
                if (length < 0) {
                    throw new ProtocolException("negative Content-Length: " + length);
                }
                in.copy(length, body);
            } else {
                in.copyToEnd(body);
                keepAlive = false;
            }
            return new Response(header, body.bytes(), keepAlive);
        }
    }

    private static void readChunked(Reader in, BodySink body) throws IOException {
        for (;;) {
            String sizeLine = in.line();
            int semicolon = sizeLine.indexOf(';');
            String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim();
            long size;
            try {
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw new ProtocolException("malformed chunk size: " + printable(sizeLine));
            }
            if (size < 0) {
                throw new ProtocolException("malformed chunk size: " + printable(sizeLine));
            }
            if (size == 0) {
                while (!in.line().isEmpty()) {
                    // trailer fields are ignored
                }
                return;
            }
            in.copy(size, body);
            if (!in.line().isEmpty()) {
                throw new ProtocolException("chunk not followed by CRLF");
            }
        }
    }

    private static boolean hasToken(ResponseHeader header, String name, String token) {
        for (String value : header.headers().getAll(name)) {
            for (String t : value.split(",")) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** Keeps the first {@code limit} bytes of the body and counts the rest. */
    private static final class BodySink {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int limit;

        BodySink(int limit) {
            this.limit = limit;
        }

        void write(byte[] b, int off, int len) {
            int room = limit - kept.size();
            if (room > 0) {
                kept.write(b, off, Math.min(room, len));
            }
        }

        byte[] bytes() {
            return kept.toByteArray();
        }
    }

    /** A buffered reader of lines and counted bytes whose every read respects the deadline. */
    private static final class Reader {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;
        private final byte[] buffer = new byte[8192];
        private int position;
        private int limit;

        Reader(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        private boolean fill() throws IOException {
            socket.setSoTimeout(ProbeConnector.remainingMillis(deadline));
            int n = in.read(buffer);
            if (n < 0) {
                return false;
            }
            position = 0;
            limit = n;
            return true;
        }

        String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (;;) {
                if (position == limit && !fill()) {
                    throw new EOFException("connection closed mid-response");
                }
                byte b = buffer[position++];
                if (b == '\n') {
                    int len = line.length();
                    if (len > 0 && line.charAt(len - 1) == '\r') {
                        line.setLength(len - 1);
                    }
                    return line.toString();
                }
                if (line.length() >= MAX_HEAD_BYTES) {
                    throw new ProtocolException("line longer than " + MAX_HEAD_BYTES + " bytes");
                }
                line.append((char) (b & 0xff));
            }
        }

        void copy(long length, BodySink sink) throws IOException {
            long left = length;
            while (left > 0) {
                if (position == limit && !fill()) {
                    throw new EOFException("connection closed with " + left + " body bytes missing");
                }
                int n = (int) Math.min(left, limit - position);
                sink.write(buffer, position, n);
                position += n;
                left -= n;
            }
        }

        void copyToEnd(BodySink sink) throws IOException {
            for (;;) {
                if (position == limit && !fill()) {
                    return;
                }
                sink.write(buffer, position, limit - position);
                position = limit;
            }
        }
    }

    /** The request bytes: request line, headers as given, CRLF. */
    public static byte[] encodeRequest(String method, String target, Iterable<String[]> headers) {
        StringBuilder b = new StringBuilder(128);
        b.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        for (String[] h : headers) {
            b.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
