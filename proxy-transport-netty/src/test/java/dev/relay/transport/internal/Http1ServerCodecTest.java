package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client-side codec as one handler: decoding, encoding, and the decoder leaving on its own. */
class Http1ServerCodecTest {
    private final Http1ServerCodec codec = new Http1ServerCodec(new HttpDecoderConfig());
    /** What came through the codec, in order: requests by their URI, raw bytes as text, "part:" and "last" for body parts. */
    private final List<String> seen = new ArrayList<>();
    private boolean removeDecoderOnRequest;
    private final EmbeddedChannel channel = new EmbeddedChannel(codec, new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                seen.add(request.uri());
                if (removeDecoderOnRequest) {
                    ctx.pipeline().get(Http1ServerCodec.class).removeInboundHandler();
                }
            } else if (msg instanceof HttpContent content) {
                if (content.content().isReadable()) {
                    seen.add("part:" + content.content().toString(StandardCharsets.ISO_8859_1));
                }
                if (msg instanceof LastHttpContent) {
                    seen.add("last");
                }
            } else if (msg instanceof ByteBuf raw) {
                seen.add("raw:" + raw.toString(StandardCharsets.ISO_8859_1));
            }
            ReferenceCountUtil.release(msg);
        }
    });

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private void receive(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private String sent() {
        return OutboundText.drain(channel);
    }

    private static FullHttpResponse ok(String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.ISO_8859_1));
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length());
        return response;
    }

    @Test
    void decodesPipelinedRequestsAndEncodesResponses() {
        receive("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(List.of("/a", "part:hi", "last", "/b", "last"), seen);
        channel.writeAndFlush(ok("yes"));
        assertEquals("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nyes", sent());
    }

    @Test
    void bytesBehindARequestGoOnRawOnceTheDecoderLeftWhilePassingItOn() {
        removeDecoderOnRequest = true;
        receive("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nGET /not-http");
        receive("MORE");
        // Nothing behind the request is parsed as HTTP: it comes as it was sent, and later reads too.
        assertEquals("/ws", seen.get(0));
        assertTrue(seen.contains("raw:GET /not-http"), seen.toString());
        assertEquals("raw:MORE", seen.get(seen.size() - 1));
        assertEquals(1, seen.stream().filter(s -> s.startsWith("/")).count(), seen.toString());
    }

    @Test
    void theEncoderStaysAndTheCodecKeepsItsNameAndTypeOnceTheDecoderLeft() {
        removeDecoderOnRequest = true;
        receive("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
        Http1ServerCodec successor = channel.pipeline().get(Http1ServerCodec.class);
        assertInstanceOf(Http1ServerCodec.class, successor);
        assertSame(successor, channel.pipeline().get(channel.pipeline().names().get(0)));
        // A second removal (a lingering close after a hold) is harmless.
        successor.removeInboundHandler();
        channel.writeAndFlush(ok("a"));
        assertEquals("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na", sent());
        // The tunnel's switch takes the codec out by type.
        channel.pipeline().remove(Http1ServerCodec.class);
        assertNull(channel.pipeline().get(Http1ServerCodec.class));
    }

    @Test
    void removingTheCodecWritesWhatItsEncoderStillHeld() {
        channel.write(ok("held"));
        channel.pipeline().remove(codec);
        channel.flush();
        assertEquals("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nheld", sent());
    }

    @Test
    void aCloseInTheMiddleOfAHeaderIsReportedAsAFailedRequest() {
        receive("GET /cut HTTP/1.1\r\nHost: x\r\n");
        channel.close();
        assertEquals(List.of("/cut"), seen);
    }
}
