package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Http1EncoderTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new Http1Encoder());

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** Each buffer the encoder passed on, as Latin-1 text, in order. */
    private List<String> written() {
        List<String> parts = new ArrayList<>();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            parts.add(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return parts;
    }

    private static ByteBuf bytes(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    }

    @Test
    void aSmallResponseLeavesAsOneBuffer() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().add("Content-Length", "5").add("X-Name", "caf\u00e9");
        channel.write(response);
        channel.write(new DefaultHttpContent(bytes("hello")));
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);

        assertEquals(List.of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Name: caf\u00e9\r\n\r\nhello"), written());
    }

    @Test
    void decodedFieldsGoOutFromTheBlockAsTheyCameWhateverWasChangedAroundThem() {
        // Lines already "name: value", lines with other whitespace, a field removed between two, one added.
        CompactHttpHeaders headers = CompactHttpHeadersTest.decoded(
                "Server: nginx\r\nDate: d\r\nConnection: keep-alive\r\nx-odd:\tv \r\nEmpty:\r\nETag: \"e\"\r\n");
        headers.remove("connection");
        headers.add("Via", "1.1 relay");
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, headers);
        channel.writeAndFlush(response);

        assertEquals(List.of("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: d\r\nx-odd: v\r\nEmpty: \r\nETag: \"e\"\r\n"
                + "Via: 1.1 relay\r\n\r\n"), written());
    }

    @Test
    void aDecodedTransferEncodingChunkedFramesTheBody() {
        CompactHttpHeaders headers = CompactHttpHeadersTest.decoded("transfer-encoding: Chunked\r\n");
        channel.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, headers));
        channel.writeAndFlush(new DefaultLastHttpContent(bytes("ab")));

        assertEquals("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", String.join("", written()));
    }

    @Test
    void chunkedCodingFramesEachPartAndEndsWithTheLastChunk() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().add("Transfer-Encoding", "chunked");
        channel.write(response);
        channel.write(new DefaultHttpContent(bytes("0123456789abcdefX")));
        channel.writeAndFlush(new DefaultLastHttpContent(bytes("yz")));

        assertEquals("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n0123456789abcdefX\r\n2\r\nyz\r\n0\r\n\r\n",
                String.join("", written()));
    }

    @Test
    void trailersGoOutWithChunkedCodingOnly() {
        DefaultHttpResponse chunked = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        chunked.headers().add("transfer-encoding", "gzip, Chunked");
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        last.trailingHeaders().add("grpc-status", "0");
        channel.write(chunked);
        channel.writeAndFlush(last);
        assertEquals("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n0\r\ngrpc-status: 0\r\n\r\n",
                String.join("", written()));

        DefaultHttpResponse sized = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        sized.headers().add("Content-Length", "2");
        LastHttpContent withTrailers = new DefaultLastHttpContent(bytes("ok"));
        withTrailers.trailingHeaders().add("grpc-status", "0");
        channel.write(sized);
        channel.writeAndFlush(withTrailers);
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", String.join("", written()));
    }

    @Test
    void aLargePartGoesThroughByReferenceInOrder() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().add("Transfer-Encoding", "chunked");
        String large = "x".repeat(65536);
        channel.write(response);
        channel.writeAndFlush(new DefaultLastHttpContent(bytes(large)));

        List<String> parts = written();
        assertEquals(3, parts.size(), "header with the chunk size, the data itself, then the framing after it");
        assertEquals("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n", parts.get(0));
        assertEquals(large, parts.get(1));
        assertEquals("\r\n0\r\n\r\n", parts.get(2));
    }

    @Test
    void theRequestLineGetsAPathWhenTheTargetHasNone() {
        channel.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://example.com?q=1"));
        channel.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, ""));
        channel.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.OPTIONS, "*"));
        channel.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a?b=c"));

        assertEquals(List.of("GET http://example.com/?q=1 HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\n\r\n", "GET /a?b=c HTTP/1.1\r\n\r\n"), written());
    }

    @Test
    void aFullResponseAndItsPromiseCompleteWithTheWrite() {
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_TIMEOUT, bytes("late"));
        response.headers().add("Content-Length", "4");
        ChannelFuture written = channel.writeAndFlush(response);

        assertTrue(written.isSuccess());
        assertEquals(List.of("HTTP/1.1 408 Request Timeout\r\nContent-Length: 4\r\n\r\nlate"), written());
    }

    @Test
    void anEmptyBufferWrittenForItsFutureCompletesWithThePendingBytes() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        channel.write(response);
        ChannelFuture first = channel.write(new DefaultHttpContent(bytes("a")));
        ChannelFuture second = channel.write(Unpooled.EMPTY_BUFFER);
        assertFalse(first.isDone(), "nothing is written before the flush");
        channel.flush();

        assertTrue(first.isSuccess());
        assertTrue(second.isSuccess());
        String out = String.join("", written());
        assertEquals("HTTP/1.1 200 OK\r\n\r\na", out);
    }

    @Test
    void charactersAboveLatin1BecomeQuestionMarks() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().add("X-Snow", "\u2603!");
        channel.writeAndFlush(response);

        assertEquals(List.of("HTTP/1.1 200 OK\r\nX-Snow: ?!\r\n\r\n"), written());
    }
}
