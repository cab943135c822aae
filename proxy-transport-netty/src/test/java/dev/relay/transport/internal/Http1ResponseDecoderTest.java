package dev.relay.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Http1ResponseDecoder} on an {@link EmbeddedChannel}: every input decoded whole and again one
 * byte per read (in direct buffers), which must give the same messages.
 */
@Timeout(20)
class Http1ResponseDecoderTest {
    private static final int MAX_LINE = 256;
    private static final int MAX_HEADER = 1024;
    private static final int MAX_CHUNK = 64;

    private static Http1ResponseDecoder decoder(boolean head) {
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(MAX_LINE, MAX_HEADER, MAX_CHUNK);
        decoder.expectResponseTo(head);
        return decoder;
    }

    private static DecoderTranscript decode(String input) {
        return decode(input, false, false);
    }

    /** The transcript of {@code input} (to a HEAD request when {@code head}), the same whole and in any split. */
    private static DecoderTranscript decode(String input, boolean head, boolean close) {
        return DecoderTranscript.sameInAnySplit(() -> decoder(head), input, close);
    }

    @Test
    void decodesAContentLengthResponse() {
        DecoderTranscript t = decode("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello");
        assertEquals("HTTP/1.1 200 OK [Server: nginx, Content-Type: text/plain, Content-Length: 5, "
                + "Connection: keep-alive] | BODY 'hello' | END", t.toString());
        assertSame(HttpResponseStatus.OK, ((HttpResponse) t.lastMessage()).status(), "the usual phrase: Netty's constant");
        assertEquals(5, t.framing().contentLength());
        assertTrue(t.framing().keepAlive());
        assertTrue(t.framing().isDelimited());
    }

    @Test
    void keepsAnUnusualReasonPhraseOrAnEmptyOne() {
        assertEquals("HTTP/1.1 200 Fine [Content-Length: 0] | BODY '' | END",
                decode("HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n").toString());
        HttpResponse bare = (HttpResponse) decode("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").lastMessage();
        assertEquals(200, bare.status().code());
        assertEquals("", bare.status().reasonPhrase());
        // Without the SP after the code (RFC 9112 §4 has servers send it; nginx and HAProxy accept it anyway).
        HttpResponse noSpace = (HttpResponse) decode("HTTP/1.1 204\r\n\r\n").lastMessage();
        assertEquals(204, noSpace.status().code());
        assertEquals("", noSpace.status().reasonPhrase());
        assertEquals("HTTP/1.0 599 Odd \u00e9 phrase [] | BODY '' | END",
                decode("HTTP/1.0 599 Odd \u00e9 phrase\r\n\r\n", false, true).toString());
    }

    @Test
    void decodesAChunkedResponseWithTrailersInPartsOfAtMostTheChunkSize() {
        String big = "y".repeat(100);
        DecoderTranscript t = decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "64\r\n" + big + "\r\n1;ext\r\nz\r\n0\r\nGrpc-Status: 0\r\nTransfer-Encoding: x\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK [Transfer-Encoding: chunked] | BODY '" + big + "z' | TRAILERS [Grpc-Status: 0] END",
                t.toString());
        assertTrue(t.framing().chunked());
    }

    @Test
    void aResponseWithoutLengthEndsWithTheConnection() {
        DecoderTranscript t = decode("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", false, true);
        assertEquals("HTTP/1.1 200 OK [Content-Type: text/plain] | BODY 'until the end' | END", t.toString());
        assertFalse(t.framing().isDelimited());
        assertEquals("HTTP/1.1 200 OK [] | PARTS 'open'", decode("HTTP/1.1 200 OK\r\n\r\nopen").toString(),
                "not ended while the connection is open");
    }

    @Test
    void theAnswerToHeadAnd204And304HaveNoBodyWhateverTheySay() {
        assertEquals("HTTP/1.1 200 OK [Content-Length: 1000] | BODY '' | END",
                decode("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true, false).toString());
        assertEquals("HTTP/1.1 200 OK [Transfer-Encoding: chunked] | BODY '' | END",
                decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, false).toString());
        assertEquals("HTTP/1.1 204 No Content [Content-Length: 3] | BODY '' | END",
                decode("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n").toString());
        assertEquals("HTTP/1.1 304 Not Modified [ETag: \"x\"] | BODY '' | END",
                decode("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n").toString());
    }

    @Test
    void interimResponsesComeBeforeTheFinalOne() {
        assertEquals("HTTP/1.1 100 Continue [] | BODY '' | END"
                        + " | HTTP/1.1 103 Early Hints [Link: </s.css>; rel=preload] | BODY '' | END"
                        + " | HTTP/1.1 200 OK [Content-Length: 1] | BODY 'x' | END",
                decode("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx").toString());
    }

    @Test
    void after101TheBytesArePassedOnAsTheyCome() {
        assertEquals("HTTP/1.1 101 Switching Protocols [Upgrade: websocket, Connection: Upgrade] | BODY '' | END"
                        + " | RAW '\u0081\u0002hiHTTP/1.1 200 OK\r\n\r\n'",
                decode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                        + "\u0081\u0002hiHTTP/1.1 200 OK\r\n\r\n").toString());
    }

    @Test
    void bytesAfterTheResponseWaitForTheNextRequestAndCount() {
        EmbeddedChannel channel = new EmbeddedChannel();
        Http1ResponseDecoder decoder = decoder(false);
        channel.pipeline().addLast(decoder);
        channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"
                + "Content-Length: 0\r\n\r\n", StandardCharsets.ISO_8859_1));
        int messages = 0;
        Object o;
        while ((o = channel.readInbound()) != null) {
            messages += o instanceof HttpResponse ? 1 : 0;
            ReferenceCountUtil.release(o);
        }
        assertEquals(1, messages, "a second response nobody asked for is not decoded");
        assertEquals(38, decoder.bufferedBytes());

        decoder.expectResponseTo(false);
        channel.writeInbound(Unpooled.EMPTY_BUFFER.retain());
        while ((o = channel.readInbound()) != null) {
            messages += o instanceof HttpResponse ? 1 : 0;
            ReferenceCountUtil.release(o);
        }
        channel.finishAndReleaseAll();
        assertEquals(2, messages, "decoded once the next request went out");
        assertEquals(0, decoder.bufferedBytes());
    }

    @Test
    void keepAliveFollowsTheVersionAndTheConnectionOptions() {
        assertTrue(decode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").framing().keepAlive());
        assertFalse(decode("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").framing().keepAlive());
        assertFalse(decode("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").framing().keepAlive());
        assertTrue(decode("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").framing().keepAlive());
        // RFC 9112 §6.1: a 204 must not have one; its chunked body may come after the response ends.
        assertFalse(decode("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n").framing().keepAlive());
        assertTrue(decode("HTTP/1.1 204 No Content\r\n\r\n").framing().keepAlive());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "FOO/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 O\u0001K\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "garbage\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : v\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Bad Name: v\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\u0000b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\u00d1: v\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // RFC 9112 §6.1: never in a 1xx (it ends at its empty line: a chunked body after it would be
        // taken for the final response).
        "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    })
    void aMalformedHeadIsAFailedResponse(String input) {
        DecoderTranscript t = decode(input + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertEquals("FAILED(Http1ParseException)", t.toString(), input);
    }

    @Test
    void aStatusLineOrFieldsOverTheLimitAreTooLong() {
        assertEquals("FAILED(TooLongHttpLineException)",
                decode("HTTP/1.1 200 " + "O".repeat(MAX_LINE)).toString());
        DecoderTranscript t = decode("HTTP/1.1 404 Not Found\r\nX: " + "v".repeat(MAX_HEADER));
        assertEquals("FAILED(TooLongHttpHeaderException)", t.toString());
        assertEquals(404, ((HttpResponse) t.lastMessage()).status().code(), "the status line names the response");
        assertInstanceOf(TooLongHttpLineException.class, decode("HTTP/1.1 200 " + "O".repeat(MAX_LINE))
                .lastMessage().decoderResult().cause());
        assertInstanceOf(TooLongHttpHeaderException.class, t.lastMessage().decoderResult().cause());
    }

    @Test
    void aMalformedChunkedBodyEndsInAFailedLastPart() {
        assertEquals("HTTP/1.1 200 OK [Transfer-Encoding: chunked] | BROKEN(Http1ParseException)",
                decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n").toString());
        assertEquals("HTTP/1.1 200 OK [Transfer-Encoding: chunked] | BROKEN(Http1ParseException)",
                decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").toString());
    }

    @Test
    void aConnectionClosedEarlyEndsAsNettysDecoderEndsIt() {
        DecoderTranscript inHead = decode("HTTP/1.1 200 OK\r\nContent-Le", false, true);
        assertEquals("FAILED(PrematureChannelClosureException)", inHead.toString());
        assertInstanceOf(PrematureChannelClosureException.class, inHead.lastMessage().decoderResult().cause());
        assertEquals("", decode("HTTP/1.1 20", false, true).toString(), "no status line, no response");
        assertEquals("HTTP/1.1 200 OK [Content-Length: 5] | PARTS 'ab'",
                decode("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", false, true).toString());
        assertEquals("HTTP/1.1 200 OK [Transfer-Encoding: chunked] | PARTS 'abcde'",
                decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n", false, true)
                        .toString());
    }

    @Test
    void removedAfter101ItHandsOnWhatItHolds() {
        EmbeddedChannel channel = new EmbeddedChannel();
        Http1ResponseDecoder decoder = decoder(false);
        channel.pipeline().addLast("decoder", decoder);
        channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nearly",
                StandardCharsets.ISO_8859_1));
        StringBuilder raw = new StringBuilder();
        Object o;
        while ((o = channel.readInbound()) != null) {
            if (o instanceof ByteBuf buf) {
                raw.append(buf.toString(StandardCharsets.ISO_8859_1));
            }
            ReferenceCountUtil.release(o);
        }
        channel.pipeline().remove(decoder);
        channel.writeInbound(Unpooled.copiedBuffer("late", StandardCharsets.ISO_8859_1));
        while ((o = channel.readInbound()) != null) {
            raw.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
            ReferenceCountUtil.release(o);
        }
        channel.finishAndReleaseAll();
        assertEquals("earlylate", raw.toString());
    }

    /** Responses both decoders accept: the same messages as Netty's decoder (which this one replaced), in any split. */
    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 70\r\nConnection: keep-alive\r\n\r\n"
                + "0123456789012345678901234567890123456789012345678901234567890123456789",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nCache-Control: max-age=60\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 404 Not Found\r\nX-Empty:\r\nX-Obs: caf\u00e9 \t\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html></html>",
    })
    void decodesWhatNettysDecoderDecodesTheSameWay(String input) {
        String netty = DecoderTranscript.decode(new HttpResponseDecoder(new HttpDecoderConfig()
                .setMaxChunkSize(MAX_CHUNK)), input, 0, true, ch -> { }).toString();
        assertEquals(netty, decode(input, false, true).toString());
    }
}
