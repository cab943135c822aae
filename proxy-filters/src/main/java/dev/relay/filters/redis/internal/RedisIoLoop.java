package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RedisException;
import dev.relay.filters.redis.RedisException.Kind;
import dev.relay.filters.redis.RedisReply;
import dev.relay.filters.redis.RedisUri;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection to one Redis server, driven by one thread of its own around a {@link Selector}: connect
 * with a timeout, log in ({@code AUTH}, {@code SELECT}, or a {@code PING} that proves the server answers),
 * write every queued command in as few writes as the socket takes (pipelining), match replies to commands
 * in order, time commands out, and reconnect with exponential backoff and jitter after a loss.
 *
 * <p>Callers never block: {@link #submit} adds to a lock-free queue and wakes the selector only when no
 * wake-up is already pending, so a burst of commands costs one wake-up. While the connection is down
 * (after it was up once, or after the first attempt failed) a command fails at once with
 * {@link Kind#DISCONNECTED}, so a caller can fall back without waiting; during the very first connect,
 * commands wait for it (within their timeout), so a client used right after it is built works.
 *
 * <p>A command that times out moves from {@code awaiting} to {@code late}, keeping its place in the order of
 * replies (its reply still comes, and is dropped), so the select timeout never comes from a deadline already
 * handled. When a command has waited a whole command timeout since it was written and nothing at all was read
 * meanwhile, the connection is taken for dead (a server that stopped, a peer that vanished without a reset)
 * and replaced. Both clocks start when the command is written, not submitted: a command held during the first
 * connect was submitted before the login's reply was read.
 *
 * <p>Futures complete on this thread.
 */
public final class RedisIoLoop implements Runnable {
    private static final System.Logger LOG = System.getLogger(RedisIoLoop.class.getName());
    private static final int BUFFER_SIZE = 64 * 1024;

    /** What a caller's command meets now. Written by the I/O thread, read by callers. */
    private enum State { FIRST_CONNECT, CONNECTED, DISCONNECTED }

    /** The settings of a loop; validated by the client's builder. */
    public record Options(RedisUri uri, long connectTimeoutNanos, long commandTimeoutNanos, int maxPending,
            long minBackoffNanos, long maxBackoffNanos) {}

    /** A command on its way: its bytes, its future, its deadline, and when it was written. */
    private static final class Command {
        final byte[] bytes;
        final @Nullable CompletableFuture<RedisReply> future;
        /** When its caller stops waiting: the submission plus the command timeout. */
        final long deadline;
        /** When it was put in the output buffer ({@link #enqueueWrite}); the start of the dead-connection wait. */
        long writtenAt;

        Command(byte[] bytes, @Nullable CompletableFuture<RedisReply> future, long deadline) {
            this.bytes = bytes;
            this.future = future;
            this.deadline = deadline;
        }

        /** A login command of the loop itself, not a caller's. */
        boolean isHandshake() {
            return future == null;
        }
    }

    private final Options options;
    private final String name;
    private final Selector selector;
    private final ConcurrentLinkedQueue<Command> submitted = new ConcurrentLinkedQueue<>();
    /** Commands submitted and not yet answered, failed or timed out with their reply in: the bounded queue. */
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private volatile State state = State.FIRST_CONNECT;
    private volatile boolean closed;
    /** How many times a connection was established and logged in. */
    private volatile long connections;
    /** Why the connection is down, for the message of the commands that fail meanwhile. */
    private volatile @Nullable String lastFailure;

    // I/O thread only.
    private final ArrayDeque<Command> held = new ArrayDeque<>();
    /** Written, reply not in, not timed out (or a login command): deadlines in ascending order. */
    private final ArrayDeque<Command> awaiting = new ArrayDeque<>();
    /** Written and timed out, reply not in: all written before any of {@link #awaiting}, so their replies come first. */
    private final ArrayDeque<Command> late = new ArrayDeque<>();
    private final RespParser parser = new RespParser();
    private ByteBuffer in = ByteBuffer.allocate(BUFFER_SIZE);
    private ByteBuffer out = ByteBuffer.allocate(BUFFER_SIZE);
    private @Nullable SocketChannel channel;
    private @Nullable SelectionKey key;
    private int handshakeReplies;
    private long connectDeadline;
    private long reconnectAt;
    private long backoff;
    private long lastRead;
    /** How many times the loop went round: a count that stays small unless the loop spins. */
    private volatile long iterations;

    /** Opens the selector; {@link #run()} on a thread of its own starts connecting. */
    public RedisIoLoop(Options options) throws IOException {
        this.options = options;
        this.name = options.uri().toString();
        this.selector = Selector.open();
        this.backoff = options.minBackoffNanos();
    }

    /**
     * Queues {@code bytes} (one encoded command) and returns the future of its reply; fails it at once when
     * the client is closed, disconnected or has {@code maxPending} commands outstanding.
     */
    public CompletableFuture<RedisReply> submit(byte[] bytes) {
        if (closed) {
            return failed(Kind.CLOSED, "the redis client of " + name + " is closed");
        }
        if (state == State.DISCONNECTED) {
            return failed(Kind.DISCONNECTED, notConnected());
        }
        if (outstanding.incrementAndGet() > options.maxPending()) {
            outstanding.decrementAndGet();
            return failed(Kind.QUEUE_FULL, options.maxPending() + " commands to " + name + " wait for an answer already");
        }
        CompletableFuture<RedisReply> future = new CompletableFuture<>();
        submitted.add(new Command(bytes, future, System.nanoTime() + options.commandTimeoutNanos()));
        if (closed) {
            // The loop may have drained the queue for the last time before the add: fail what it left.
            failAll(submitted, Kind.CLOSED, "the redis client of " + name + " is closed");
        } else if (!wakeupPending.getAndSet(true)) {
            selector.wakeup();
        }
        return future;
    }

    /** How many commands are outstanding now (submitted, not yet answered, failed or timed out with their reply in). */
    public int pending() {
        return outstanding.get();
    }

    /** How many commands may be outstanding at once. */
    public int maxPending() {
        return options.maxPending();
    }

    /** How many times a connection was established and logged in. */
    public long connections() {
        return connections;
    }

    /** How many times the I/O thread has gone round its loop (each select): for tests that check it does not spin. */
    public long iterations() {
        return iterations;
    }

    /** Whether the connection is up and logged in. */
    public boolean isConnected() {
        return state == State.CONNECTED;
    }

    /** Stops the loop: every command not answered yet fails with {@link Kind#CLOSED}; the thread ends. */
    public void close() {
        closed = true;
        selector.wakeup();
    }

    @Override
    public void run() {
        try {
            connect(System.nanoTime());
            while (!closed) {
                long timeoutMillis = selectTimeoutMillis(System.nanoTime());
                if (timeoutMillis < 0) {
                    selector.select();
                } else if (timeoutMillis == 0) {
                    selector.selectNow();
                } else {
                    selector.select(timeoutMillis);
                }
                wakeupPending.set(false);
                iterations++; // only this thread writes it
                if (closed) {
                    break;
                }
                for (SelectionKey ready : selector.selectedKeys()) {
                    if (ready.isValid()) {
                        handleReady(ready);
                    }
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                takeSubmitted();
                checkTimers(now);
                flush();
            }
        } catch (IOException | RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "redis client of " + name + ": the I/O thread failed", e);
        } finally {
            closed = true;
            dropConnection();
            String message = "the redis client of " + name + " is closed";
            failAll(held, Kind.CLOSED, message);
            failAll(late, Kind.CLOSED, message);
            failAll(awaiting, Kind.CLOSED, message);
            failAll(submitted, Kind.CLOSED, message);
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    /**
     * Milliseconds until the next deadline not handled yet: 0 when one has passed, -1 when there is none.
     * Every deadline counted here is one that {@link #checkTimers} acts on and then leaves behind (a timed-out
     * command leaves {@code held} or {@code awaiting}; a dead connection is dropped), so a passed deadline
     * costs one turn of the loop, never a spin.
     */
    private long selectTimeoutMillis(long now) {
        long next = Long.MAX_VALUE;
        if (channel == null) {
            next = reconnectAt;
        } else if (state != State.CONNECTED) {
            next = connectDeadline;
        }
        Command oldestHeld = held.peek();
        if (oldestHeld != null) {
            next = Math.min(next, oldestHeld.deadline);
        }
        Command oldestAwaiting = awaiting.peek();
        if (oldestAwaiting != null && !oldestAwaiting.isHandshake()) {
            next = Math.min(next, oldestAwaiting.deadline);
        }
        Command oldestWritten = oldestWaitingForReply();
        if (oldestWritten != null && state == State.CONNECTED) {
            next = Math.min(next, deadConnectionAt(oldestWritten));
        }
        if (next == Long.MAX_VALUE) {
            return -1;
        }
        if (next - now <= 0) {
            return 0;
        }
        // Rounded up: a select that wakes a little early would spin until the deadline.
        return TimeUnit.NANOSECONDS.toMillis(next - now) + 1;
    }

    private void handleReady(SelectionKey ready) throws IOException {
        SocketChannel socket = (SocketChannel) ready.channel();
        if (ready.isConnectable()) {
            try {
                if (!socket.finishConnect()) {
                    return;
                }
            } catch (IOException e) {
                connectionFailed("connect failed: " + e.getMessage());
                return;
            }
            if (connectedToItself(socket)) {
                connectionFailed(SELF_CONNECTED);
                return;
            }
            startHandshake();
        }
        if (ready.isValid() && ready.isReadable()) {
            read(socket);
        }
        if (ready.isValid() && ready.isWritable()) {
            flush();
        }
    }

    private void connect(long now) {
        try {
            SocketChannel socket = SocketChannel.open();
            channel = socket;
            socket.configureBlocking(false);
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            socket.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            connectDeadline = now + options.connectTimeoutNanos();
            // A name lookup blocks this thread, which is the client's own: no caller and no event loop waits.
            InetSocketAddress address = new InetSocketAddress(options.uri().host(), options.uri().port());
            if (address.isUnresolved()) {
                connectionFailed("cannot resolve " + options.uri().host());
                return;
            }
            key = socket.register(selector, SelectionKey.OP_CONNECT);
            if (socket.connect(address)) {
                if (connectedToItself(socket)) {
                    connectionFailed(SELF_CONNECTED);
                    return;
                }
                startHandshake();
            }
        } catch (IOException e) {
            connectionFailed("connect failed: " + e.getMessage());
        }
    }

    private static final String SELF_CONNECTED = "connect failed: connected to itself (nothing listens on the port)";

    /**
     * Whether {@code socket} is connected to itself. With nothing listening on a loopback port in the
     * ephemeral range, a connect can be given that very port as its source and "succeed" (TCP
     * simultaneous open); the socket then echoes what the client writes, a PING comes back as an array,
     * and the client took the echo for a server. Seen in a test whose Redis was killed: the client kept
     * "deciding as if Redis were up" until the test gave up.
     */
    static boolean connectedToItself(SocketChannel socket) {
        try {
            SocketAddress local = socket.getLocalAddress();
            return local != null && local.equals(socket.getRemoteAddress());
        } catch (IOException e) {
            return false;
        }
    }

    /** Logs in: AUTH and SELECT when the URI asks for them, else a PING, so "connected" means "it answers". */
    private void startHandshake() {
        SelectionKey k = key;
        if (k == null) {
            return;
        }
        k.interestOps(SelectionKey.OP_READ);
        RedisUri uri = options.uri();
        List<List<String>> commands = new ArrayList<>();
        if (uri.password() != null) {
            commands.add(uri.user() == null ? List.of("AUTH", uri.password()) : List.of("AUTH", uri.user(), uri.password()));
        }
        if (uri.database() != 0) {
            commands.add(List.of("SELECT", Integer.toString(uri.database())));
        }
        if (commands.isEmpty()) {
            commands.add(List.of("PING"));
        }
        handshakeReplies = commands.size();
        for (List<String> command : commands) {
            enqueueWrite(new Command(RespEncoder.encodeStrings(command), null, connectDeadline));
        }
    }

    private void handshakeAnswered(RedisReply reply) {
        if (reply.type() == RedisReply.Type.ERROR) {
            connectionFailed("login refused: " + reply.asString());
            return;
        }
        if (--handshakeReplies > 0) {
            return;
        }
        connections++; // only this thread writes it
        state = State.CONNECTED;
        backoff = options.minBackoffNanos();
        lastRead = System.nanoTime();
        if (lastFailure != null) {
            LOG.log(System.Logger.Level.INFO, "redis {0}: connected", name);
            lastFailure = null;
        }
        while (!held.isEmpty()) {
            enqueueWrite(held.poll());
        }
    }

    private void takeSubmitted() {
        Command command;
        while ((command = submitted.poll()) != null) {
            switch (state) {
                case CONNECTED -> enqueueWrite(command);
                case FIRST_CONNECT -> held.add(command);
                default -> {
                    outstanding.decrementAndGet();
                    // With the reason, as submit() gives it: a command submitted during the first connect
                    // can be taken here just after that connect failed (a refused login, say).
                    fail(command, Kind.DISCONNECTED, notConnected());
                }
            }
        }
    }

    private void enqueueWrite(Command command) {
        if (out.remaining() < command.bytes.length) {
            out = grow(out, out.position() + command.bytes.length);
        }
        out.put(command.bytes);
        command.writtenAt = System.nanoTime();
        awaiting.add(command);
    }

    private void flush() {
        SocketChannel socket = channel;
        SelectionKey k = key;
        if (socket == null || k == null || out.position() == 0 || !socket.isConnected()) {
            return;
        }
        out.flip();
        try {
            socket.write(out);
        } catch (IOException e) {
            out.compact();
            connectionLost("write failed: " + e.getMessage());
            return;
        }
        out.compact();
        k.interestOps(out.position() > 0 ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private void read(SocketChannel socket) {
        int n;
        try {
            n = socket.read(in);
        } catch (IOException e) {
            connectionLost("read failed: " + e.getMessage());
            return;
        }
        if (n < 0) {
            connectionLost("the server closed the connection");
            return;
        }
        lastRead = System.nanoTime();
        in.flip();
        try {
            parser.parse(in, this::replied);
            if (channel != socket) {
                return; // a reply ended the connection (a refused login): its buffer is cleared already
            }
        } catch (RespProtocolException e) {
            in.clear();
            LOG.log(System.Logger.Level.WARNING, "redis {0}: {1}; reconnecting", name, e.getMessage());
            String why = e.getMessage() == null ? "not RESP2" : e.getMessage();
            failAll(late, Kind.PROTOCOL, why);
            failAll(awaiting, Kind.PROTOCOL, why);
            connectionLost(e.getMessage());
            return;
        }
        in.compact();
        if (!in.hasRemaining()) {
            in = grow(in, Math.max(in.capacity() * 2, parser.bytesNeeded()));
        } else if (in.capacity() > BUFFER_SIZE && in.position() == 0) {
            in = ByteBuffer.allocate(BUFFER_SIZE); // a large reply is done: give its buffer back
        }
    }

    /** One reply, to the oldest command waiting; false when the connection was dropped because of it. */
    private boolean replied(RedisReply reply) {
        Command command = late.isEmpty() ? awaiting.poll() : late.poll();
        if (command == null) {
            throw new RespProtocolException("a reply nobody asked for: " + reply);
        }
        if (command.isHandshake()) {
            handshakeAnswered(reply);
            return channel != null;
        }
        outstanding.decrementAndGet();
        CompletableFuture<RedisReply> future = command.future;
        if (future == null || future.isDone()) {
            return true; // timed out before its reply came
        }
        if (reply.type() == RedisReply.Type.ERROR) {
            future.completeExceptionally(new RedisException(Kind.ERROR_REPLY, reply.asString()));
        } else {
            future.complete(reply);
        }
        return true;
    }

    private void checkTimers(long now) {
        if (channel == null) {
            if (now - reconnectAt >= 0) {
                connect(now);
            }
        } else if (state != State.CONNECTED && now - connectDeadline >= 0) {
            connectionFailed("no connection within " + TimeUnit.NANOSECONDS.toMillis(options.connectTimeoutNanos()) + " ms");
        }
        // Commands share one timeout and queue in submission order, so the first one not due ends the scan.
        while (!held.isEmpty() && now - held.peek().deadline >= 0) {
            Command command = held.poll();
            outstanding.decrementAndGet();
            timeOut(command);
        }
        // Login commands only ever wait alone (callers' commands are written once the login is done), and the
        // connect deadline covers them.
        while (!awaiting.isEmpty() && !awaiting.peek().isHandshake() && now - awaiting.peek().deadline >= 0) {
            Command command = awaiting.poll();
            timeOut(command);
            late.add(command); // its reply, if any, still comes in its turn
        }
        Command oldest = oldestWaitingForReply();
        if (oldest != null && state == State.CONNECTED && now - deadConnectionAt(oldest) >= 0) {
            connectionLost("no reply for " + TimeUnit.NANOSECONDS.toMillis(now - oldest.writtenAt)
                    + " ms and nothing read for " + TimeUnit.NANOSECONDS.toMillis(now - lastRead) + " ms");
        }
    }

    /** The caller's command written longest ago whose reply has not come, or null. */
    private @Nullable Command oldestWaitingForReply() {
        Command oldest = late.isEmpty() ? awaiting.peek() : late.peek();
        return oldest == null || oldest.isHandshake() ? null : oldest;
    }

    /**
     * When the connection counts as dead if nothing is read until then: a whole command timeout after the later
     * of the oldest unanswered command's write and the last read. A server that answers slowly but steadily
     * keeps its connection (each reply moves the last read); one that went quiet loses it.
     */
    private long deadConnectionAt(Command oldest) {
        long since = lastRead - oldest.writtenAt > 0 ? lastRead : oldest.writtenAt;
        return since + options.commandTimeoutNanos();
    }

    private void timeOut(Command command) {
        CompletableFuture<RedisReply> future = command.future;
        if (future != null && !future.isDone()) {
            future.completeExceptionally(new RedisException(Kind.TIMEOUT, "no reply from " + name + " within "
                    + TimeUnit.NANOSECONDS.toMillis(options.commandTimeoutNanos()) + " ms"));
        }
    }

    private String notConnected() {
        String last = lastFailure;
        return "not connected to " + name + " (reconnecting" + (last == null ? "" : "; last failure: " + last) + ")";
    }

    /** A connect or login attempt failed: fail what waits, try again after the backoff. */
    private void connectionFailed(String why) {
        boolean first = state == State.FIRST_CONNECT;
        if (first) {
            LOG.log(System.Logger.Level.WARNING, "redis {0}: {1}; retrying in the background", name, why);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "redis {0}: reconnect failed: {1}", name, why);
        }
        disconnect(why);
        if (first) {
            failAll(held, Kind.DISCONNECTED, "not connected to " + name + ": " + why);
        }
    }

    /** An established connection broke: fail what was sent on it, reconnect after the backoff. */
    private void connectionLost(@Nullable String why) {
        String reason = why == null ? "connection lost" : why;
        if (state == State.CONNECTED) {
            LOG.log(System.Logger.Level.WARNING, "redis {0}: connection lost ({1}); commands fail until it is back",
                    name, reason);
        }
        disconnect(reason);
    }

    private void disconnect(String why) {
        lastFailure = why;
        state = State.DISCONNECTED;
        dropConnection();
        failAll(late, Kind.CONNECTION_LOST, "connection to " + name + " lost: " + why);
        failAll(awaiting, Kind.CONNECTION_LOST, "connection to " + name + " lost: " + why);
        long jitter = ThreadLocalRandom.current().nextLong(backoff / 5 + 1);
        reconnectAt = System.nanoTime() + backoff + jitter;
        backoff = Math.min(backoff * 2, options.maxBackoffNanos());
    }

    private void dropConnection() {
        SocketChannel socket = channel;
        channel = null;
        key = null;
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        parser.reset();
        in.clear();
        out.clear();
        handshakeReplies = 0;
    }

    /** Fails every command of {@code commands} (removing them) that is not done yet. */
    private void failAll(java.util.Queue<Command> commands, Kind kind, String message) {
        Command command;
        while ((command = commands.poll()) != null) {
            if (!command.isHandshake()) {
                outstanding.decrementAndGet();
                fail(command, kind, message);
            }
        }
    }

    private static void fail(Command command, Kind kind, String message) {
        CompletableFuture<RedisReply> future = command.future;
        if (future != null && !future.isDone()) {
            future.completeExceptionally(new RedisException(kind, message));
        }
    }

    private static CompletableFuture<RedisReply> failed(Kind kind, String message) {
        return CompletableFuture.failedFuture(new RedisException(kind, message));
    }

    private static ByteBuffer grow(ByteBuffer buffer, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, buffer.capacity() * 2));
        buffer.flip();
        bigger.put(buffer);
        return bigger;
    }
}
