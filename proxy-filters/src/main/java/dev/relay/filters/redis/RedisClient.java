package dev.relay.filters.redis;

import dev.relay.filters.redis.internal.RedisIoLoop;
import dev.relay.filters.redis.internal.RespEncoder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * A small, non-blocking Redis (RESP2) client: one connection, one I/O thread of its own, pipelined commands,
 * futures for replies. Built on the JDK's NIO alone, so that proxy-filters pulls in no network library of its
 * own ({@code docs/architecture.md} says why not Lettuce).
 *
 * <ul>
 *   <li><b>Never blocks the caller.</b> A command is encoded on the calling thread, queued without a lock,
 *       and written by the I/O thread together with whatever else is queued (pipelining). At most
 *       {@link Builder#maxPendingCommands} commands wait for a reply; one more fails at once with
 *       {@link RedisException.Kind#QUEUE_FULL}.</li>
 *   <li><b>Fails fast while down.</b> When the connection is lost, the commands sent on it fail with
 *       {@link RedisException.Kind#CONNECTION_LOST}, and every command until it is back fails at once with
 *       {@link RedisException.Kind#DISCONNECTED}, so a caller can fall back (fail open or closed) without
 *       waiting. The client reconnects by itself, with exponential backoff and jitter, on its I/O thread.
 *       Only while the very first connect is in progress do commands wait for it.</li>
 *   <li><b>Timeouts.</b> A connect (with its login) that takes longer than {@link Builder#connectTimeout}
 *       fails; a command without a reply within {@link Builder#commandTimeout} fails with
 *       {@link RedisException.Kind#TIMEOUT}. When nothing at all was read while a command timed out, the
 *       connection is taken for dead and replaced.</li>
 *   <li><b>Scripts.</b> {@link #eval} sends {@code EVALSHA}, and the source ({@code SCRIPT LOAD} and
 *       {@code EVAL}) only when the server answers {@code NOSCRIPT} (after a restart).</li>
 * </ul>
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.builder(RedisUri.parse("redis://127.0.0.1:6379"))
 *         .commandTimeout(Duration.ofMillis(200)).build();
 * redis.send("INCR", "hits").thenAccept(reply -> log(reply.asLong()));
 * redis.close();
 * }</pre>
 *
 * <p>Futures complete on the client's I/O thread: a dependent stage that does more than a little work, or
 * that would block, must run elsewhere ({@code thenApplyAsync}), or it delays every other reply. Each call
 * returns a new future: completing or cancelling it affects nobody else. Thread-safe.
 */
public final class RedisClient implements AutoCloseable {
    private final RedisUri uri;
    private final RedisIoLoop loop;

    private RedisClient(RedisUri uri, RedisIoLoop loop) {
        this.uri = uri;
        this.loop = loop;
    }

    /** A builder for a client of the server at {@code uri}. */
    public static Builder builder(RedisUri uri) {
        return new Builder(uri);
    }

    /** Sends one command ({@code "SET", "k", "v"}), its arguments as UTF-8. */
    public CompletableFuture<RedisReply> send(String... command) {
        return send(List.of(command));
    }

    /** Sends one command, its arguments as UTF-8. */
    public CompletableFuture<RedisReply> send(List<String> command) {
        requireCommand(command);
        return loop.submit(RespEncoder.encodeStrings(command));
    }

    /** Sends one command with binary arguments (not copied: do not change them until the future completes). */
    public CompletableFuture<RedisReply> sendBytes(List<byte[]> command) {
        requireCommand(command);
        return loop.submit(RespEncoder.encode(command));
    }

    /**
     * Runs {@code script} with {@code keys} and {@code args}: {@code EVALSHA} first; on {@code NOSCRIPT}, once
     * {@code SCRIPT LOAD} for the next calls and {@code EVAL} with the source for this one.
     */
    public CompletableFuture<RedisReply> eval(RedisScript script, List<String> keys, List<String> args) {
        requireNonNull(script, "script");
        List<String> evalsha = scriptCommand("EVALSHA", script.sha1(), keys, args);
        return send(evalsha).handle((reply, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(reply);
            }
            if (error instanceof RedisException redis && redis.isErrorReply("NOSCRIPT")) {
                // Both go out in one write. EVAL answers this call whatever the server's script cache does
                // with EVAL'd sources (Redis 7 may not keep them); SCRIPT LOAD makes the next EVALSHA work.
                send("SCRIPT", "LOAD", script.source());
                return send(scriptCommand("EVAL", script.source(), keys, args));
            }
            return CompletableFuture.<RedisReply>failedFuture(error);
        }).thenCompose(next -> next);
    }

    private static List<String> scriptCommand(String verb, String script, List<String> keys, List<String> args) {
        List<String> command = new ArrayList<>(3 + keys.size() + args.size());
        command.add(verb);
        command.add(script);
        command.add(Integer.toString(keys.size()));
        command.addAll(keys);
        command.addAll(args);
        return command;
    }

    private static void requireCommand(List<?> command) {
        requireNonNull(command, "command");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command: empty (expected a command name and its arguments)");
        }
    }

    /** Whether the connection is up now; a command sent while it is not fails at once. */
    public boolean isConnected() {
        return loop.isConnected();
    }

    /**
     * How many times this client has connected (and logged in): a change tells that the connection was lost
     * in between, so the server may have restarted and lost what it held.
     */
    public long connections() {
        return loop.connections();
    }

    /**
     * How many commands wait for a reply now (counted from submission until the reply, a failure, or the reply of
     * a timed-out command is in): when it reaches {@link #maxPendingCommands()}, the next command fails with
     * {@link RedisException.Kind#QUEUE_FULL}. A caller with work that can wait (a background report) reads it to
     * leave the room to commands that cannot.
     */
    public int pendingCommands() {
        return loop.pending();
    }

    /** The bound of {@link #pendingCommands()} ({@link Builder#maxPendingCommands}). */
    public int maxPendingCommands() {
        return loop.maxPending();
    }

    /** How many times the I/O thread went round its loop: for tests that check it waits rather than spins. */
    long ioLoopIterations() {
        return loop.iterations();
    }

    /** The server this client talks to. */
    public RedisUri uri() {
        return uri;
    }

    /** Closes the connection and ends the I/O thread; commands not answered yet fail with {@code CLOSED}. */
    @Override
    public void close() {
        loop.close();
    }

    @Override
    public String toString() {
        return "RedisClient(" + uri + (isConnected() ? ", connected)" : ", not connected)");
    }

    /** Settings of a {@link RedisClient}; {@link #build()} starts it connecting. */
    public static final class Builder {
        private final RedisUri uri;
        private Duration connectTimeout = Duration.ofSeconds(1);
        private Duration commandTimeout = Duration.ofSeconds(1);
        private int maxPendingCommands = 10_000;
        private Duration minReconnectDelay = Duration.ofMillis(50);
        private Duration maxReconnectDelay = Duration.ofSeconds(2);

        private Builder(RedisUri uri) {
            this.uri = requireNonNull(uri, "uri");
        }

        /** How long a connect and login may take (default 1 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long a command may wait for its reply (default 1 s). */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = positive(timeout, "commandTimeout");
            return this;
        }

        /** How many commands may wait for a reply at once before one more fails with QUEUE_FULL (default 10,000). */
        public Builder maxPendingCommands(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxPendingCommands: " + max + " (expected: >= 1)");
            }
            this.maxPendingCommands = max;
            return this;
        }

        /** The first and the longest delay before a reconnect attempt; it doubles in between (default 50 ms, 2 s). */
        public Builder reconnectDelay(Duration min, Duration max) {
            positive(min, "reconnectDelay min");
            positive(max, "reconnectDelay max");
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("reconnectDelay: max " + max + " < min " + min + " (expected: max >= min)");
            }
            this.minReconnectDelay = min;
            this.maxReconnectDelay = max;
            return this;
        }

        /** Starts the I/O thread, which connects at once; returns without waiting for the connection. */
        public RedisClient build() {
            RedisIoLoop loop;
            try {
                loop = new RedisIoLoop(new RedisIoLoop.Options(uri, connectTimeout.toNanos(), commandTimeout.toNanos(),
                        maxPendingCommands, minReconnectDelay.toNanos(), maxReconnectDelay.toNanos()));
            } catch (IOException e) {
                throw new UncheckedIOException("redis client of " + uri + ": cannot open a selector", e);
            }
            Thread thread = new Thread(loop, "relay-redis-" + uri.host() + ":" + uri.port());
            thread.setDaemon(true);
            thread.start();
            return new RedisClient(uri, loop);
        }

        private static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
            }
            return d;
        }
    }
}
