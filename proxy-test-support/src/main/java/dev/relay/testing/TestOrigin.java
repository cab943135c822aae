package dev.relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.Objects.requireNonNull;

/**
 * A real HTTP/1.1 origin server for integration tests of a proxy: Netty on its own event loops, bound to
 * {@code 127.0.0.1} on an ephemeral port, plain or TLS. It records every connection and every request
 * (headers exactly as sent, body size and SHA-256 computed while streaming), and serves these routes,
 * all with an {@code X-Origin: <name>} header (and {@code X-Origin-Connection: <connection id>}):
 *
 * <table>
 *   <caption>Default routes</caption>
 *   <tr><th>Path</th><th>Response</th></tr>
 *   <tr><td>{@code /} and any unknown path</td><td>200, {@code origin <name>\n}</td></tr>
 *   <tr><td>{@code /small}, {@code /64k}</td><td>200, 100 or 65536 pattern bytes, {@code Content-Length}</td></tr>
 *   <tr><td>{@code /bytes/{n}}</td><td>200, {@code n} pattern bytes with {@code Content-Length}, generated
 *       chunk by chunk as the socket drains (any {@code n}, 1 GiB included)</td></tr>
 *   <tr><td>{@code /chunked/{n}}</td><td>the same with {@code Transfer-Encoding: chunked}</td></tr>
 *   <tr><td>{@code /echo} (any method)</td><td>200, the request body streamed back as it arrives, with the
 *       request's {@code Content-Length} or else chunked; reading pauses while the socket is not
 *       writable</td></tr>
 *   <tr><td>{@code /sink}</td><td>200, {@code {"bytes":N,"sha256":"hex"}} of the request body</td></tr>
 *   <tr><td>{@code /status/{code}}</td><td>that status (200..599) and a short body</td></tr>
 *   <tr><td>{@code /headers}</td><td>200, the request's header fields as {@code Name: value} lines</td></tr>
 *   <tr><td>{@code /close-after-headers}</td><td>a head with {@code Content-Length: 100}, then the
 *       connection closes with no body</td></tr>
 * </table>
 *
 * <p>Routes that misbehave on purpose (numbers are query parameters; a bad one is answered 400):
 *
 * <table>
 *   <caption>Misbehaving routes</caption>
 *   <tr><th>Path</th><th>Behaviour</th></tr>
 *   <tr><td>{@code /hang}</td><td>reads the whole request (it is recorded), then never answers; the
 *       connection stays open until the client closes it</td></tr>
 *   <tr><td>{@code /slow-headers?delay=ms&interval=ms}</td><td>waits {@code delay} (default 200) before the
 *       status line, then answers 200 {@code slow headers\n}; with {@code interval} the head is written one
 *       line at a time, {@code interval} apart</td></tr>
 *   <tr><td>{@code /drip-body?bytes=N&interval=ms}</td><td>the head ({@code Content-Length: N}, default 10)
 *       at once, then one pattern byte every {@code interval} (default 100)</td></tr>
 *   <tr><td>{@code /stall-body?after=N&length=L}</td><td>a head with {@code Content-Length: L} (default
 *       N + 100), N pattern bytes (default 100), then nothing, ever</td></tr>
 *   <tr><td>{@code /reset-before-response}</td><td>reads the whole request, then resets the connection
 *       ({@code SO_LINGER} 0 and close: a TCP RST) without a byte of response</td></tr>
 *   <tr><td>{@code /reset-mid-body?after=N&length=L&delay=ms}</td><td>a head with {@code Content-Length: L}
 *       (default N + 100), N pattern bytes (default 100), then, {@code delay} (default 50) after they were
 *       written, a reset</td></tr>
 *   <tr><td>{@code /close-on-next?reset=1}</td><td>200, kept alive; the next request on the same connection
 *       closes it (a reset with {@code reset=1}) as soon as its head arrives, unanswered and not recorded
 *       (counted in {@link #discardedRequests()}): the keep-alive race, made deterministic</td></tr>
 *   <tr><td>{@code /bad-status-line}</td><td>{@code HTTP/1.1 2x0 Broken}, a 5-byte body, then close</td></tr>
 *   <tr><td>{@code /bad-header?kind=K}</td><td>200 with one malformed header line, a 5-byte body, then
 *       close. {@code K}: {@code no-colon} (default, {@code NoColonInThisLine}), {@code no-colon-spaces}
 *       ({@code This header line has no colon}), {@code space-in-name} ({@code X-Bad Name: value}),
 *       {@code space-before-colon} ({@code X-Bad-Name : value}), {@code control-char} (a 0x01 in the name),
 *       {@code obs-fold} (a value continued on an indented line, obsolete line folding)</td></tr>
 *   <tr><td>{@code /cl-and-te}</td><td>200 with both {@code Content-Length: 5} and {@code Transfer-Encoding:
 *       chunked}, body {@code hello} chunked, kept alive</td></tr>
 *   <tr><td>{@code /too-many-bytes}</td><td>200 with {@code Content-Length: 5}, then {@code hello0123456789}
 *       (ten bytes more than announced, with no line break), kept alive</td></tr>
 *   <tr><td>{@code /trailers}</td><td>200, chunked: {@code hello}, then the trailer field {@code X-Checksum}</td></tr>
 *   <tr><td>{@code /early-hints}</td><td>a {@code 103 Early Hints} with a {@code Link} field, then 200 {@code hinted}</td></tr>
 * </table>
 *
 * <p>The origin as a whole misbehaves on command too: {@link #pause()} stops accepting connections (they
 * are refused) until {@link #resume()}; {@link Builder#closeIdleConnectionsAfter(Duration)} closes a
 * keep-alive connection that stays idle for a while, as real servers do, which races with a client reusing
 * it. {@link TestOrigin#closedPort()} gives a port that refuses connections; {@link SilentServer} accepts
 * connections and never says a word (for TLS handshake timeouts). {@link #holdResponses()} keeps every
 * request that arrives unanswered until {@link #releaseResponses()}, then answers it as usual: a request
 * that is certainly in flight while a proxy shuts down or reloads.
 *
 * <p>Pattern byte {@code i} is {@code i % 251} ({@link #patternByte(long)}). A path registered with
 * {@link Builder#handler(String, RequestHandler)} takes precedence over a default route;
 * {@link Builder#fallbackHandler(RequestHandler)} replaces the answer to {@code /} and unknown paths.
 *
 * <p>HTTP: persistent connections per HTTP/1.1 (HTTP/1.0 keep-alive when asked for), {@code Connection:
 * close} honoured, {@code Expect: 100-continue} answered before the body is read, pipelined requests
 * answered in order, HEAD answered without a body, malformed requests answered {@code 400} and closed.
 *
 * <p>Ordering guarantee: a request is recorded when its last byte arrives, before its response is
 * finished, so a client that has read a whole response can assert on {@link #requests()} without waiting.
 *
 * <pre>{@code
 * try (TestOrigin origin = TestOrigin.builder().name("a").build().start()) {
 *     // point the proxy at origin.address() ("127.0.0.1:PORT"), send a request through it, then:
 *     RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
 *     assertEquals("proxy.example", seen.header("Host"));
 *     assertEquals(1, origin.connectionsAccepted());
 * }
 * }</pre>
 *
 * <p>Thread-safe. Usually started per test class by {@link OriginExtension}.
 */
public final class TestOrigin implements AutoCloseable {
    private static final String LOOPBACK = "127.0.0.1";
    /** The sockets that keep {@link #closedPort()}'s ports from being handed out again. */
    private static final Queue<Socket> RESERVED_PORTS = new ConcurrentLinkedQueue<>();

    private final String name;
    private final TestCertificates.Server certificate;
    private final boolean requireClientCertificate;
    private final Map<String, RequestHandler> handlers;
    private final RequestHandler fallbackHandler;
    private final long idleCloseMinNanos;
    private final long idleCloseMaxNanos;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger connectionsAccepted = new AtomicInteger();
    private final Set<Channel> openChannels = ConcurrentHashMap.newKeySet();
    /** Guards recorded state; event loops take it too, so never wait on an event loop while holding it. */
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Serialises {@link #pause()} and {@link #resume()}, which wait on an event loop; no event loop ever takes
     * it (holding {@link #lock} there instead deadlocked against a connection's close listener).
     */
    private final Object listening = new Object();
    private final Condition requestRecorded = lock.newCondition();
    private final Condition connectionClosed = lock.newCondition();
    private final AtomicInteger discardedRequests = new AtomicInteger();
    private final AtomicInteger idleConnectionsClosed = new AtomicInteger();
    private final List<RecordedRequest> requests = new ArrayList<>();
    private final List<Throwable> handlerFailures = new ArrayList<>();
    private final HeldResponses held = new HeldResponses();

    private volatile EventLoopGroup group;
    private volatile ServerBootstrap bootstrap;
    private volatile Channel serverChannel;
    private volatile int port;

    private TestOrigin(Builder builder) {
        this.name = builder.name;
        this.certificate = builder.certificate;
        this.requireClientCertificate = builder.requireClientCertificate;
        this.handlers = Map.copyOf(builder.handlers);
        this.fallbackHandler = builder.fallbackHandler;
        this.idleCloseMinNanos = builder.idleCloseMinNanos;
        this.idleCloseMaxNanos = builder.idleCloseMaxNanos;
    }

    /** A builder for an origin named {@code "origin"}, plain HTTP, with the default routes only. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A loopback port that nothing listens on, for "connection refused" tests. It stays bound, by a
     * socket that never listens (a connect gets a reset), until the JVM exits: released at once, it
     * could go to the next listener bound on port 0, the proxy's own (which then proxied to itself).
     */
    public static int closedPort() {
        Socket socket = new Socket();
        RESERVED_PORTS.add(socket);
        try {
            socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind an ephemeral loopback port", e);
        }
    }

    /** Byte {@code offset} of the pattern that {@code /bytes/}, {@code /chunked/}, {@code /small}, {@code /64k} send. */
    public static byte patternByte(long offset) {
        return BytePattern.at(offset);
    }

    /** {@code length} pattern bytes starting at {@code offset}. */
    public static byte[] patternBytes(long offset, int length) {
        return BytePattern.bytes(offset, length);
    }

    /** Lower-case hex SHA-256 of {@code data}, to compare with {@link RecordedRequest#bodySha256()}. */
    public static String sha256Hex(byte[] data) {
        return BodyDigest.sha256Hex(requireNonNull(data, "data"));
    }

    /**
     * Binds the origin and starts serving.
     *
     * @return this origin
     * @throws IllegalStateException if already started
     */
    public TestOrigin start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("origin " + name + " already started");
        }
        SslContext sslContext = certificate == null ? null : certificate.jdkServerContext(requireClientCertificate);
        // epoll where available: closing its listening socket refuses new connections at once, which
        // pause() relies on (NIO closes it only at the loop's next select).
        boolean epoll = io.netty.channel.epoll.Epoll.isAvailable();
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2,
                new DefaultThreadFactory("test-origin-" + name, true),
                epoll ? io.netty.channel.epoll.EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loops)
                .channel(epoll ? io.netty.channel.epoll.EpollServerSocketChannel.class : NioServerSocketChannel.class)
                // resume() binds the same port again while accepted connections may still use it.
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 512 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted(ch, sslContext);
                    }
                });
        group = loops;
        this.bootstrap = bootstrap;
        try {
            ChannelFuture bind = bootstrap.bind(LOOPBACK, 0).syncUninterruptibly();
            serverChannel = bind.channel();
            port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        } catch (RuntimeException e) {
            loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        return this;
    }

    private void accepted(SocketChannel ch, SslContext sslContext) {
        long id = connectionIds.incrementAndGet();
        connectionsAccepted.incrementAndGet();
        openChannels.add(ch);
        ch.closeFuture().addListener(f -> {
            openChannels.remove(ch);
            lock.lock();
            try {
                connectionClosed.signalAll();
            } finally {
                lock.unlock();
            }
        });
        ChannelPipeline pipeline = ch.pipeline();
        if (sslContext != null) {
            pipeline.addLast(new SniHandler((Mapping<String, SslContext>) hostname -> sslContext));
        }
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(16 * 1024)
                .setMaxHeaderSize(64 * 1024)
                .setMaxChunkSize(BytePattern.CHUNK_SIZE);
        pipeline.addLast(new HttpServerCodec(decoder));
        pipeline.addLast(new OriginConnection(this, id, sslContext != null, ch.remoteAddress()));
    }

    /** The name given to the builder; every response carries it in {@code X-Origin}. */
    public String name() {
        return name;
    }

    /** Whether the origin serves TLS. */
    public boolean tls() {
        return certificate != null;
    }

    /** The bound port. */
    public int port() {
        requireStarted();
        return port;
    }

    /** {@code "127.0.0.1:PORT"}. */
    public String address() {
        return LOOPBACK + ':' + port();
    }

    /** The bound address. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(LOOPBACK, port());
    }

    /**
     * {@code http://127.0.0.1:PORT} (or {@code https://}) followed by {@code pathAndQuery}.
     *
     * @param pathAndQuery starts with {@code /}
     */
    public URI uri(String pathAndQuery) {
        requireNonNull(pathAndQuery, "pathAndQuery");
        if (!pathAndQuery.startsWith("/")) {
            throw new IllegalArgumentException("pathAndQuery: " + pathAndQuery + " (expected: starts with /)");
        }
        return URI.create((tls() ? "https://" : "http://") + address() + pathAndQuery);
    }

    /** Connections accepted since start or the last {@link #reset()}. */
    public int connectionsAccepted() {
        return connectionsAccepted.get();
    }

    /** Connections open right now. */
    public int openConnections() {
        return openChannels.size();
    }

    /**
     * Waits until at most {@code max} connections are open (for example 0 once a proxy has closed the
     * upstream connection of a failed request). Call it from a test thread.
     *
     * @throws AssertionError if more are still open after {@code timeout}
     */
    public void awaitOpenConnections(int max, Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (max < 0) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
        }
        requireNotOnEventLoop("awaitOpenConnections");
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (openChannels.size() > max) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("origin " + name + ": expected at most " + max
                            + " open connections within " + timeout + " but " + openChannels.size() + " are open");
                }
                connectionClosed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for connections of origin " + name + " to close", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Requests that {@code /close-on-next} (or a connection armed by it) dropped unanswered and unrecorded,
     * since start or the last {@link #reset()}.
     */
    public int discardedRequests() {
        return discardedRequests.get();
    }

    /**
     * Keep-alive connections the origin closed because they idled longer than
     * {@link Builder#closeIdleConnectionsAfter(Duration)}, since start or the last {@link #reset()}.
     */
    public int idleConnectionsClosed() {
        return idleConnectionsClosed.get();
    }

    /** How many recorded requests were for {@code path} (compared without the query string). */
    public int requestCount(String path) {
        requireNonNull(path, "path");
        int count = 0;
        for (RecordedRequest r : requests()) {
            if (r.path().equals(path)) {
                count++;
            }
        }
        return count;
    }

    /**
     * Stops accepting connections: the listening socket closes, so new connections are refused, while
     * open connections carry on. {@link #resume()} listens again on the same port.
     */
    public void pause() {
        requireStarted();
        requireNotOnEventLoop("pause");
        synchronized (listening) {
            Channel server = serverChannel;
            if (server != null) {
                serverChannel = null;
                server.close().awaitUninterruptibly();
                // NIO closes a registered listening socket only when its key is deregistered, at the loop's
                // next select; a task submitted now runs after that select, so once it has run, new
                // connections are refused rather than left in a dead backlog.
                server.eventLoop().submit(() -> { }).awaitUninterruptibly();
            }
        }
    }

    /**
     * Listens again on the same port after {@link #pause()}; does nothing when not paused.
     *
     * @throws IllegalStateException when the port cannot be bound again (another socket took it)
     */
    public void resume() {
        requireStarted();
        requireNotOnEventLoop("resume");
        synchronized (listening) {
            if (serverChannel != null || closed.get()) {
                return;
            }
            ChannelFuture bind = bootstrap.bind(LOOPBACK, port).awaitUninterruptibly();
            if (!bind.isSuccess()) {
                throw new IllegalStateException("origin " + name + " cannot listen on port " + port + " again",
                        bind.cause());
            }
            serverChannel = bind.channel();
        }
    }

    /** Whether the origin is {@linkplain #pause() paused}. */
    public boolean isPaused() {
        return started.get() && serverChannel == null;
    }

    /** A snapshot of the requests recorded since start or the last {@link #reset()}, in arrival order. */
    public List<RecordedRequest> requests() {
        lock.lock();
        try {
            return List.copyOf(requests);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until at least {@code count} requests have been recorded, and returns them. Call it from a test
     * thread, never from an event loop.
     *
     * @throws AssertionError if they have not all arrived within {@code timeout}, naming what did arrive
     */
    public List<RecordedRequest> awaitRequests(int count, Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (count < 0) {
            throw new IllegalArgumentException("count: " + count + " (expected: >= 0)");
        }
        requireNotOnEventLoop("awaitRequests");
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (requests.size() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("origin " + name + ": expected " + count + " requests within "
                            + timeout + " but got " + requests.size() + ": " + requests);
                }
                requestRecorded.awaitNanos(left);
            }
            return List.copyOf(requests);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + count + " requests to origin " + name, e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * What the test's {@link RequestHandler}s threw (each was answered {@code 500}), since start or the
     * last {@link #reset()}. A handler runs on the origin's event loop, so an assertion in it cannot fail
     * the test by itself: assert that this is empty.
     */
    public List<Throwable> handlerFailures() {
        lock.lock();
        try {
            return List.copyOf(handlerFailures);
        } finally {
            lock.unlock();
        }
    }

    /**
     * From now on, answers no request until {@link #releaseResponses()}: each request is read and recorded
     * as usual, then its response waits (the connection keeps reading, so a client that gives up is noticed).
     * For a request that is certainly in flight while a proxy shuts down or reloads:
     *
     * <pre>{@code
     * origin.holdResponses();
     * CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> get(proxy, "/slow"));
     * origin.awaitHeldResponses(1, Duration.ofSeconds(10));
     * // ... stop or reload the proxy ...
     * origin.releaseResponses();
     * assertEquals(200, inFlight.get().status());
     * }</pre>
     */
    public void holdResponses() {
        requireStarted();
        held.hold();
    }

    /**
     * Answers every held request (each on its connection's event loop, as its route would have), and
     * answers at once again from now on. A held request whose connection closed meanwhile is dropped.
     * Does nothing when no response is held.
     */
    public void releaseResponses() {
        held.release();
    }

    /** How many requests wait for {@link #releaseResponses()} right now. */
    public int heldResponses() {
        return held.count();
    }

    /**
     * Waits until at least {@code count} requests wait for {@link #releaseResponses()}. Call it from a test
     * thread.
     *
     * @throws AssertionError if fewer are held after {@code timeout}
     */
    public void awaitHeldResponses(int count, Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (count < 0) {
            throw new IllegalArgumentException("count: " + count + " (expected: >= 0)");
        }
        requireNotOnEventLoop("awaitHeldResponses");
        held.await(count, timeout, () -> "origin " + name + " (requests: " + requests() + ")");
    }

    /**
     * Forgets recorded requests, handler failures and the connection count. Open connections stay open
     * (a proxy's pooled connection remains usable); connection ids keep increasing.
     */
    public void reset() {
        connectionsAccepted.set(0);
        discardedRequests.set(0);
        idleConnectionsClosed.set(0);
        lock.lock();
        try {
            requests.clear();
            handlerFailures.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Closes every open connection (as an origin restart would) and waits until they are closed. */
    public void closeConnections() {
        requireNotOnEventLoop("closeConnections");
        for (Channel channel : List.copyOf(openChannels)) {
            channel.close().awaitUninterruptibly();
        }
    }

    /** Stops listening, closes every connection and stops the event loops; waits until all are done. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        held.discard();
        EventLoopGroup loops = group;
        if (loops == null) {
            return;
        }
        requireNotOnEventLoop("close");
        Channel server = serverChannel;
        serverChannel = null;
        if (server != null) {
            server.close().awaitUninterruptibly();
        }
        // Termination waits for every connection's handlers to release what they hold.
        loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Override
    public String toString() {
        return "TestOrigin{" + name + (tls() ? ", tls" : "") + (started.get() && port != 0 ? ", " + address() : "")
                + '}';
    }

    // ---- called from connections ----

    Route route(String path) {
        return OriginRoutes.resolve(path, handlers, fallbackHandler);
    }

    /**
     * Keeps {@code answer} for {@link #releaseResponses()} when responses are held ({@link #holdResponses()})
     * and returns true; otherwise returns false and the caller answers at once.
     */
    boolean holdResponse(Runnable answer) {
        return held.offer(answer);
    }

    void record(RecordedRequest request) {
        lock.lock();
        try {
            requests.add(request);
            requestRecorded.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void requestDiscarded() {
        discardedRequests.incrementAndGet();
    }

    void idleConnectionClosed() {
        idleConnectionsClosed.incrementAndGet();
    }

    /** The delay before an idle keep-alive connection is closed, drawn afresh each time; -1 for never. */
    long idleCloseDelayNanos() {
        if (idleCloseMaxNanos < 0) {
            return -1;
        }
        if (idleCloseMaxNanos == idleCloseMinNanos) {
            return idleCloseMinNanos;
        }
        return java.util.concurrent.ThreadLocalRandom.current().nextLong(idleCloseMinNanos, idleCloseMaxNanos + 1);
    }

    void handlerFailed(Throwable failure) {
        lock.lock();
        try {
            handlerFailures.add(failure);
        } finally {
            lock.unlock();
        }
    }

    private void requireStarted() {
        if (!started.get() || port == 0) {
            throw new IllegalStateException("origin " + name + " is not started (call start())");
        }
    }

    private void requireNotOnEventLoop(String method) {
        EventLoopGroup loops = group;
        if (loops == null) {
            return;
        }
        for (EventExecutor executor : loops) {
            if (executor.inEventLoop()) {
                throw new IllegalStateException(method + "() called on an event loop of origin " + name
                        + " (expected: a test thread)");
            }
        }
    }

    /**
     * Configures a {@link TestOrigin}. Per-request misbehaviour (stalls, resets, malformed responses) is
     * chosen by the path (see the class comment); per-origin misbehaviour is set here.
     *
     * <pre>{@code
     * TestOrigin origin = TestOrigin.builder()
     *         .name("a")
     *         .tls(TestCertificates.localhost())
     *         .handler("/hello", (request, response) -> response.body("hi\n"))
     *         .build()
     *         .start();
     * }</pre>
     */
    public static final class Builder {
        private String name = "origin";
        private TestCertificates.Server certificate;
        private boolean requireClientCertificate;
        private final Map<String, RequestHandler> handlers = new LinkedHashMap<>();
        private RequestHandler fallbackHandler;
        private long idleCloseMinNanos = -1;
        private long idleCloseMaxNanos = -1;

        private Builder() {
        }

        /**
         * Close a keep-alive connection once it has been idle (no request since the last response) for
         * {@code idle}, as servers with a keep-alive timeout do. A client that reuses the connection just
         * then loses the race: its request meets a closed (or reset) connection.
         *
         * @param idle zero or more
         */
        public Builder closeIdleConnectionsAfter(Duration idle) {
            return closeIdleConnectionsAfter(idle, idle);
        }

        /**
         * Like {@link #closeIdleConnectionsAfter(Duration)}, with an idle time drawn uniformly between
         * {@code min} and {@code max} each time a connection becomes idle: short random delays make the
         * keep-alive race happen often.
         *
         * <pre>{@code
         * TestOrigin racy = TestOrigin.builder()
         *         .closeIdleConnectionsAfter(Duration.ZERO, Duration.ofMillis(2))
         *         .build().start();
         * }</pre>
         */
        public Builder closeIdleConnectionsAfter(Duration min, Duration max) {
            requireNonNull(min, "min");
            requireNonNull(max, "max");
            if (min.isNegative()) {
                throw new IllegalArgumentException("min: " + min + " (expected: >= 0)");
            }
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("max: " + max + " (expected: >= min " + min + ")");
            }
            this.idleCloseMinNanos = min.toNanos();
            this.idleCloseMaxNanos = max.toNanos();
            return this;
        }

        /** The name sent in {@code X-Origin} and used for thread names; default {@code "origin"}. */
        public Builder name(String name) {
            requireNonNull(name, "name");
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("name: \"" + name + "\" (expected: visible ASCII, no spaces)");
            }
            this.name = name;
            return this;
        }

        /** Serve TLS with {@code certificate} (the SNI each client presents is recorded). */
        public Builder tls(TestCertificates.Server certificate) {
            this.certificate = requireNonNull(certificate, "certificate");
            return this;
        }

        /**
         * With {@link #tls}: require every client to present a certificate issued by the test CA
         * (mutual TLS, such as {@link TestCertificates#client(String)}); a client without one fails
         * the handshake.
         */
        public Builder requireClientCertificate() {
            this.requireClientCertificate = true;
            return this;
        }

        /**
         * Answer requests for exactly {@code path} (compared without the query string) with {@code handler},
         * instead of any default route.
         *
         * @throws IllegalArgumentException if {@code path} does not start with {@code /} or already has one
         */
        public Builder handler(String path, RequestHandler handler) {
            requireNonNull(path, "path");
            requireNonNull(handler, "handler");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path: " + path + " (expected: starts with /)");
            }
            if (handlers.putIfAbsent(path, handler) != null) {
                throw new IllegalArgumentException("path: " + path + " (expected: one handler per path)");
            }
            return this;
        }

        /**
         * Answer {@code /} and every path that has neither a {@linkplain #handler(String, RequestHandler)
         * handler} nor a default route with {@code handler}, instead of {@code origin <name>\n}. For example,
         * to tell from the body alone which origin answered which path:
         *
         * <pre>{@code
         * TestOrigin.builder().name("a")
         *         .fallbackHandler((request, response) -> response.body("a " + request.path()))
         * }</pre>
         */
        public Builder fallbackHandler(RequestHandler handler) {
            this.fallbackHandler = requireNonNull(handler, "handler");
            return this;
        }

        /** A new origin, not yet started. */
        public TestOrigin build() {
            return new TestOrigin(this);
        }
    }
}
