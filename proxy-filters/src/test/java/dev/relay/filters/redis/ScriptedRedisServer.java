package dev.relay.filters.redis;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server on a loopback port that speaks just enough RESP2 to play a Redis that misbehaves on cue: a test
 * decides, per command and per connection, what the reply is and when it is written ({@link Script}). Replies
 * on a connection go out in the order of their commands, so a reply that never completes holds back every
 * later one on that connection, as a blocked Redis does; other connections are not affected, unlike
 * {@code DEBUG SLEEP} on a shared redis-server, and nothing depends on how long anything takes.
 */
final class ScriptedRedisServer implements AutoCloseable {

    /** What the server does with one command. */
    @FunctionalInterface
    interface Script {
        /**
         * The raw RESP2 reply to {@code command} (its arguments as strings), the {@code index}th (from 1) received
         * on the connection numbered {@code connection} (1 for the first accepted), completed when it is to be
         * written; a future never completed is a reply that never comes.
         */
        CompletableFuture<String> reply(int connection, int index, List<String> command);
    }

    /** {@code +PONG} for {@code PING}, {@code +OK} for anything else, at once. */
    static CompletableFuture<String> answer(List<String> command) {
        return CompletableFuture.completedFuture("PING".equalsIgnoreCase(command.get(0)) ? "+PONG\r\n" : "+OK\r\n");
    }

    private final ServerSocket listener;
    private final Script script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<List<String>> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger closedByClient = new AtomicInteger();

    private ScriptedRedisServer(Script script) throws IOException {
        this.script = script;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "scripted-redis-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static ScriptedRedisServer start(Script script) throws IOException {
        return new ScriptedRedisServer(script);
    }

    /** The URI a client connects with. */
    RedisUri uri() {
        return RedisUri.of("127.0.0.1", listener.getLocalPort());
    }

    /** How many connections were accepted so far. */
    int connections() {
        return accepted.get();
    }

    /** How many connections the client closed (the server read the end of the stream). */
    int closedByClient() {
        return closedByClient.get();
    }

    /** Every command received so far, in order, on any connection. */
    List<List<String>> received() {
        return List.copyOf(received);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                sockets.add(socket);
                int number = accepted.incrementAndGet();
                Thread reader = new Thread(() -> serve(socket, number), "scripted-redis-" + number);
                reader.setDaemon(true);
                reader.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket, int connection) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
            List<String> command;
            int index = 0;
            while ((command = readCommand(in)) != null) {
                received.add(command);
                CompletableFuture<String> reply = script.reply(connection, ++index, command);
                // Chained: replies leave in the order of their commands, whenever each is ready.
                written = written.thenCombine(reply, (done, text) -> text).thenAccept(text -> write(out, text));
            }
            closedByClient.incrementAndGet();
        } catch (IOException e) {
            // the test closed the server, or the client reset the connection
        }
    }

    private static void write(OutputStream out, String text) {
        try {
            synchronized (out) {
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            // the connection is gone: the reply has nobody to go to
        }
    }

    /** One command (an array of bulk strings), or null at the end of the stream. */
    private static List<String> readCommand(InputStream in) throws IOException {
        String header = readLine(in);
        if (header == null) {
            return null;
        }
        if (!header.startsWith("*")) {
            throw new IOException("not a RESP array: " + header);
        }
        int count = Integer.parseInt(header.substring(1));
        List<String> command = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String length = readLine(in);
            if (length == null || !length.startsWith("$")) {
                throw new IOException("not a bulk string: " + length);
            }
            byte[] bytes = in.readNBytes(Integer.parseInt(length.substring(1)) + 2);
            command.add(new String(bytes, 0, bytes.length - 2, StandardCharsets.UTF_8));
        }
        return command;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                return line.substring(0, line.length() - 1); // without the \r
            }
            line.append((char) c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
