package dev.relay.server.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A strict HTTP/1.1 load client, like wrk: each thread keeps one keep-alive connection and sends
 * {@code GET path} back to back, opening a new connection only when the server closed the previous
 * one after a complete response ({@code Connection: close}, or a clean close between responses is
 * NOT forgiven: a request sent on a connection that then closes without an answer is an error).
 * It never retries. Counts responses by status and errors by message; stops when told.
 */
public final class LoadClient implements AutoCloseable {
    private final Supplier<InetSocketAddress> target;
    private final String host;
    private final String path;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final ConcurrentHashMap<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, AtomicLong> bodies = new ConcurrentHashMap<>();

    /** Starts {@code threads} threads sending {@code GET path} with {@code Host: host} to {@code target}. */
    public LoadClient(Supplier<InetSocketAddress> target, String host, String path, int threadCount) {
        this.target = target;
        this.host = host;
        this.path = path;
        for (int i = 0; i < threadCount; i++) {
            Thread t = new Thread(this::loop, "load-client-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void loop() {
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: relay-load-client\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        while (running.get()) {
            try (Socket socket = new Socket()) {
                socket.connect(target.get(), 5_000);
                socket.setSoTimeout(30_000);
                socket.setTcpNoDelay(true);
                connections.incrementAndGet();
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                boolean open = true;
                while (open && running.get()) {
                    out.write(request);
                    out.flush();
                    Response r = read(in);
                    byStatus.computeIfAbsent(r.status, k -> new AtomicLong()).incrementAndGet();
                    bodies.computeIfAbsent(r.body, k -> new AtomicLong()).incrementAndGet();
                    if (r.status >= 200 && r.status < 300) {
                        ok.incrementAndGet();
                    } else {
                        errors.add("status " + r.status);
                    }
                    open = !r.close;
                }
            } catch (IOException e) {
                if (running.get()) {
                    errors.add(e.toString());
                }
            }
        }
    }

    private record Response(int status, boolean close, String body) {}

    private static Response read(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = status.startsWith("HTTP/1.0");
        String l;
        while ((l = line(in)) != null && !l.isEmpty()) {
            int colon = l.indexOf(':');
            String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = l.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                default -> { }
            }
        }
        if (l == null) {
            throw new IOException("connection closed in a response header");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                String size = line(in);
                if (size == null) {
                    throw new IOException("connection closed in a chunked body");
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while ((l = line(in)) != null && !l.isEmpty()) {
                        // trailers
                    }
                    break;
                }
                body.write(in.readNBytes(n));
                line(in);
            }
        } else if (length >= 0) {
            byte[] b = in.readNBytes((int) length);
            if (b.length < length) {
                throw new IOException("connection closed in a body");
            }
            body.write(b);
        } else {
            in.transferTo(body);
            close = true;
        }
        return new Response(code, close, body.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** Successful (2xx) responses so far. */
    public long ok() {
        return ok.get();
    }

    /** Connections opened so far. */
    public long connections() {
        return connections.get();
    }

    /** Errors so far (non-2xx statuses and I/O errors), at most the first 20. */
    public List<String> errors() {
        return errors.subList(0, Math.min(errors.size(), 20));
    }

    /** Number of errors. */
    public int errorCount() {
        return errors.size();
    }

    /** How often each response body was seen. */
    public java.util.Map<String, Long> bodies() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        bodies.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Stops every thread after its current request, and waits for them (bounded). */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(35_000);
        }
    }
}
