package dev.relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 origin on a Unix-domain socket: every request is answered {@code 200} with
 * {@code X-Origin: <name>} and the body {@code "<name> <uri>"}, and recorded with its {@code Host}.
 * Keep-alive as the client asks. {@link #close()} stops it and removes the socket file, which is
 * what a backend that went away looks like.
 *
 * <pre>{@code
 * try (UnixOrigin origin = UnixOrigin.start("u", dir.resolve("app.sock"))) {
 *     // point the proxy at "unix:" + origin.path(), send a request through it, then:
 *     assertEquals("localhost", origin.hosts().get(0));
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class UnixOrigin implements AutoCloseable {
    private final String name;
    private final Path path;
    private final EventLoopGroup group;
    private final ChannelGroup channels = new DefaultChannelGroup("unix-origin", GlobalEventExecutor.INSTANCE);
    private final List<String> hosts = new CopyOnWriteArrayList<>();

    private UnixOrigin(String name, Path path) {
        this.name = name;
        this.path = path.toAbsolutePath();
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("unix-origin-" + name, true),
                NioIoHandler.newFactory());
    }

    /** Listens on {@code path} (which must not exist) and starts answering. */
    public static UnixOrigin start(String name, Path path) {
        UnixOrigin origin = new UnixOrigin(name, path);
        try {
            Channel listener = new ServerBootstrap()
                    .group(origin.group)
                    .channel(NioServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            origin.channels.add(ch);
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                    origin.new Answer());
                        }
                    })
                    .bind(UnixDomainSocketAddress.of(origin.path)).syncUninterruptibly().channel();
            origin.channels.add(listener);
        } catch (RuntimeException e) {
            origin.close();
            throw e;
        }
        return origin;
    }

    /** The socket's path (absolute). */
    public Path path() {
        return path;
    }

    /** {@code unix:} and the path: the address to configure a backend with. */
    public String address() {
        return "unix:" + path;
    }

    /** The {@code Host} header of every request so far, in order. */
    public List<String> hosts() {
        return List.copyOf(hosts);
    }

    /** Requests answered so far. */
    public int requestCount() {
        return hosts.size();
    }

    /** Closes the listener (its socket file goes with it) and every connection. */
    @Override
    public void close() {
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "UnixOrigin{" + name + ", " + path + '}';
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            hosts.add(String.valueOf(request.headers().get(HttpHeaderNames.HOST)));
            byte[] body = (name + " " + request.uri()).getBytes(StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            response.headers().set("X-Origin", name).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            ctx.writeAndFlush(response);
        }
    }
}
