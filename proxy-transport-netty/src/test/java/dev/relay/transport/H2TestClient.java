package dev.relay.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Frame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw HTTP/2 client over prior knowledge (h2c) built on Netty's frame codec, for what curl cannot
 * show: frames as they come (trailers, RST_STREAM codes, GOAWAY), requests with fields a real client
 * refuses to send, and a client that does not read (its windows are given back only when the test
 * says so). DATA is not kept: each stream's bytes are counted and digested as they arrive.
 */
final class H2TestClient implements AutoCloseable {
    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /** What happened on the connection, in order (DATA frames as {@link Data}, released at once). */
    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private Channel channel;
    private final Frames frames;
    private final boolean autoWindow;
    private volatile long received;
    private final MessageDigest digest;

    /** A DATA frame as recorded: its stream, size and end flag. */
    record Data(int streamId, int bytes, boolean endStream) {}

    /** A GOAWAY as recorded. */
    record GoAway(int lastStreamId, long errorCode) {}

    private H2TestClient(Frames frames, boolean autoWindow) throws Exception {
        this.frames = frames;
        this.autoWindow = autoWindow;
        this.digest = MessageDigest.getInstance("SHA-256");
    }

    /**
     * Connects with prior knowledge. With {@code autoWindow} every DATA byte is given back at once (a
     * fast reader); without, the client's 64 KiB windows fill and stay full until {@link #giveBack}.
     */
    static H2TestClient connect(InetSocketAddress address, boolean autoWindow) throws Exception {
        return connect(address, autoWindow, true);
    }

    /** Like {@link #connect(InetSocketAddress, boolean)}; without {@code answerPings} a PING is recorded, never acknowledged. */
    static H2TestClient connect(InetSocketAddress address, boolean autoWindow, boolean answerPings) throws Exception {
        Frames frames = new Frames();
        H2TestClient client = new H2TestClient(frames, autoWindow);
        frames.client = client;
        client.channel = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                        .initialSettings(Http2Settings.defaultSettings())
                                        .validateHeaders(false)
                                        .encoderIgnoreMaxHeaderListSize(true)
                                        .autoAckPingFrame(answerPings)
                                        .build(),
                                frames);
                    }
                }).connect(address).sync().channel();
        return client;
    }

    /** A GET-like request's fields: {@code :method}, {@code :path}, {@code :scheme http}, {@code :authority}. */
    static Http2Headers request(String method, String path, String authority) {
        return new DefaultHttp2Headers(false).method(method).path(path).scheme("http").authority(authority);
    }

    /** Opens a stream with {@code headers}; returns it (its id is known once the HEADERS frame is written). */
    Http2FrameStream send(Http2Headers headers, boolean endStream) throws Exception {
        Http2FrameStream stream = frames.newStream();
        channel.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream).stream(stream)).sync();
        return stream;
    }

    void sendData(Http2FrameStream stream, ByteBuf data, boolean endStream) throws Exception {
        channel.writeAndFlush(new DefaultHttp2DataFrame(data, endStream).stream(stream)).sync();
    }

    void reset(Http2FrameStream stream, Http2Error error) throws Exception {
        channel.writeAndFlush(new DefaultHttp2ResetFrame(error).stream(stream)).sync();
    }

    /** Gives {@code bytes} of window back to the stream (and with it the connection). */
    void giveBack(Http2FrameStream stream, int bytes) throws Exception {
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream)).sync();
    }

    /** DATA bytes received so far, on every stream. */
    long receivedBytes() {
        return received;
    }

    /** The SHA-256 of the DATA received so far, in order (one stream at a time in tests that use it). */
    synchronized String receivedSha256() {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next event of type {@code type}, skipping others, within five seconds. */
    <T> T next(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            Object e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new AssertionError("no " + type.getSimpleName() + " within 5 s");
            }
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
    }

    /** Events until the stream's last frame (END_STREAM or RST_STREAM), within {@code seconds}. */
    List<Object> untilStreamEnd(int streamId, int seconds) throws InterruptedException {
        List<Object> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            Object e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new AssertionError("stream " + streamId + " did not end within " + seconds + " s: " + out);
            }
            out.add(e);
            if (e instanceof Data d && d.streamId() == streamId && d.endStream()
                    || e instanceof Http2HeadersFrame h && h.stream().id() == streamId && h.isEndStream()
                    || e instanceof Http2ResetFrame r && r.stream().id() == streamId) {
                return out;
            }
        }
    }

    boolean isOpen() {
        return channel.isActive();
    }

    Channel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private synchronized void onData(Http2DataFrame data) {
        ByteBuf content = data.content();
        received += content.readableBytes();
        byte[] bytes = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), bytes);
        digest.update(bytes);
    }

    /** Collects frames; gives windows back for a fast reader. */
    private static final class Frames extends Http2ChannelDuplexHandler {
        volatile H2TestClient client;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2DataFrame data) {
                    client.onData(data);
                    int flowControlled = data.initialFlowControlledBytes();
                    if (client.autoWindow && flowControlled > 0) {
                        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(flowControlled).stream(data.stream()));
                    }
                    client.events.add(new Data(data.stream().id(), data.content().readableBytes(), data.isEndStream()));
                } else if (msg instanceof Http2GoAwayFrame goAway) {
                    client.events.add(new GoAway(goAway.lastStreamId(), goAway.errorCode()));
                } else if (msg instanceof Http2Frame frame) {
                    client.events.add(frame);
                }
            } finally {
                if (msg instanceof Http2GoAwayFrame || msg instanceof Http2DataFrame) {
                    ReferenceCountUtil.release(msg);
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            client.events.add("closed");
            ctx.fireChannelInactive();
        }
    }
}
