package dev.relay.transport.internal;

import dev.relay.transport.ProxyOptions;
import dev.relay.transport.UnderscoresInHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Http1RequestDecoder} on an {@link EmbeddedChannel}: every input decoded whole and again one
 * byte per read (in direct buffers), which must give the same messages.
 */
@Timeout(20)
class Http1RequestDecoderTest {
    private static final int MAX_LINE = 256;
    private static final int MAX_HEADER = 1024;
    private static final int MAX_CHUNK = 64;

    private static Http1RequestDecoder decoder() {
        return new Http1RequestDecoder(MAX_LINE, MAX_HEADER, MAX_CHUNK);
    }

    /** The transcript of {@code input}, the same whole and in any split. */
    private static DecoderTranscript decode(String input) {
        return DecoderTranscript.sameInAnySplit(Http1RequestDecoderTest::decoder, input, false);
    }

    @Test
    void decodesARequestWithoutBodyKeepingTheCaseOfEveryName() {
        DecoderTranscript t = decode("GET /p?q=1 HTTP/1.1\r\nHost: example.test\r\nuser-agent: curl/8\r\n"
                + "ACCEPT: */*\r\nX-Custom-Thing: a, b\r\n\r\n");
        assertEquals("GET /p?q=1 HTTP/1.1 [Host: example.test, user-agent: curl/8, ACCEPT: */*, "
                + "X-Custom-Thing: a, b] | BODY '' | END", t.toString());
        Http1Framing framing = t.framing();
        assertFalse(framing.hasRequestBody());
        assertTrue(framing.keepAlive());
        assertFalse(framing.expectContinue());
    }

    @Test
    void keepsDecodedFieldsAsOffsetsIntoTheBlockAndMakesANameOnceWhenAsked() {
        DecoderTranscript t = decode("GET / HTTP/1.1\r\nHost: a\r\nhost2:  b \r\n\r\n");
        CompactHttpHeaders headers = (CompactHttpHeaders) t.messages.get(0).headers();
        byte[] block = headers.block();
        assertEquals("Host", new String(block, headers.rawNameStart(0), headers.rawNameEnd(0) - headers.rawNameStart(0),
                StandardCharsets.ISO_8859_1));
        assertEquals("b", new String(block, headers.rawValueStart(1), headers.rawValueEnd(1) - headers.rawValueStart(1),
                StandardCharsets.ISO_8859_1));
        assertSame(headers.nameAt(1), headers.nameAt(1), "made once, then kept");
        assertEquals("host2", headers.nameAt(1).toString());
        assertSame(headers.get("HOST2"), headers.get("host2"), "one String per value, however often it is read");
    }

    @Test
    void trimsOptionalWhitespaceAroundValuesAndKeepsItInside() {
        assertEquals("GET / HTTP/1.1 [Host: h, A: x  y, B: , C: \u00e9t\u00e9] | BODY '' | END",
                decode("GET / HTTP/1.1\r\nHost: h\r\nA: \t x  y \t\r\nB:\r\nC:\u00e9t\u00e9 \r\n\r\n").toString());
    }

    @Test
    void acceptsLongValuesOfAnyAllowedByteWordByWord() {
        String obsText = "\u00e9\u00ff\u0080".repeat(9);
        String mixed = "a\tb c~d!e\"f" + obsText + "\t" + "0123456789".repeat(3) + "\t";
        assertEquals("GET / HTTP/1.1 [Host: h, X-Long: " + mixed.strip() + ", Y: " + obsText + "] | BODY '' | END",
                decode("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + mixed + "\r\nY:" + obsText + "\r\n\r\n").toString());
    }

    @Test
    void readsAContentLengthBodyInPartsOfAtMostTheChunkSize() {
        String body = "x".repeat(200);
        EmbeddedChannel channel = new EmbeddedChannel(decoder());
        channel.writeInbound(Unpooled.copiedBuffer("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n" + body,
                StandardCharsets.ISO_8859_1));
        List<Integer> parts = new ArrayList<>();
        Object o;
        while ((o = channel.readInbound()) != null) {
            if (o instanceof io.netty.handler.codec.http.HttpContent c) {
                parts.add(c.content().readableBytes());
            }
            ReferenceCountUtil.release(o);
        }
        channel.finishAndReleaseAll();
        assertEquals(List.of(64, 64, 64, 8), parts);
        assertEquals("POST /up HTTP/1.1 [Host: h, Content-Length: 200] | BODY '" + body + "' | END",
                decode("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n" + body).toString());
    }

    @Test
    void readsAChunkedBodyWithExtensionsAndTrailers() {
        DecoderTranscript t = decode("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value ; other=\"quoted; \\\"x\"\r\nhello\r\n00A\r\n0123456789\r\n"
                + "0\r\nX-Checksum: 42\r\nContent-Length: 15\r\nTrailer: X-Checksum\r\n\r\n");
        assertEquals("POST /c HTTP/1.1 [Host: h, Transfer-Encoding: chunked] | BODY 'hello0123456789' "
                + "| TRAILERS [X-Checksum: 42] END", t.toString(), "framing fields never come through as trailers");
        assertTrue(t.framing().chunked());
        assertTrue(t.framing().hasRequestBody());
    }

    @Test
    void readsPipelinedRequestsOneAfterAnother() {
        assertEquals("GET /1 HTTP/1.1 [Host: x] | BODY '' | END"
                        + " | POST /2 HTTP/1.1 [Host: x, Content-Length: 3] | BODY 'abc' | END"
                        + " | POST /3 HTTP/1.1 [Host: x, Transfer-Encoding: chunked] | BODY 'wxyz' | END"
                        + " | GET /4 HTTP/1.0 [] | BODY '' | END",
                decode("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                        + "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n"
                        + "\r\nGET /4 HTTP/1.0\r\n\r\n").toString());
    }

    @Test
    void decodesTheSameFromACompositeCumulation() {
        String input = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n";
        assertEquals(decode(input).toString(), DecoderTranscript.sameInAnySplit(() -> {
            Http1RequestDecoder decoder = decoder();
            decoder.setCumulator(io.netty.handler.codec.ByteToMessageDecoder.COMPOSITE_CUMULATOR);
            return decoder;
        }, input, false).toString());
    }

    @Test
    void ignoresEmptyLinesBeforeARequest() {
        assertEquals("GET / HTTP/1.1 [Host: h] | BODY '' | END", decode("\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").toString());
    }

    @Test
    void recognisesTheFramingFieldsWhateverTheirCase() {
        DecoderTranscript t = decode("POST / HTTP/1.1\r\nHost: h\r\ncontent-LENGTH: 2\r\nCONNECTION: Close\r\n\r\nok");
        assertEquals("POST / HTTP/1.1 [Host: h, content-LENGTH: 2, CONNECTION: Close] | BODY 'ok' | END", t.toString());
        assertEquals(2, t.framing().contentLength());
        assertFalse(t.framing().keepAlive());
        assertTrue(decode("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: CHUNKED\r\n\r\n0\r\n\r\n").framing().chunked());
    }

    @Test
    void keepAliveFollowsTheVersionAndTheConnectionOptions() {
        assertTrue(decode("GET / HTTP/1.1\r\nHost: h\r\n\r\n").framing().keepAlive());
        assertFalse(decode("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n").framing().keepAlive());
        assertFalse(decode("GET / HTTP/1.0\r\n\r\n").framing().keepAlive());
        assertTrue(decode("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").framing().keepAlive());
        assertFalse(decode("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").framing()
                .keepAlive());
    }

    @Test
    void expectContinueCountsOnHttp11Only() {
        assertTrue(decode("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx").framing()
                .expectContinue());
        assertFalse(decode("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").framing()
                .expectContinue());
    }

    @Test
    void anHttp10RequestMayGoWithoutHost() {
        assertEquals("GET / HTTP/1.0 [] | BODY '' | END", decode("GET / HTTP/1.0\r\n\r\n").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.test", "example.test:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:65535",
        "[2001:db8::7]:443", "xn--bcher-kva.example", "a_b.example", "%41.example", "a.b-c~d!$&'()*+,;=:0"})
    void acceptsEveryValidHostSyntax(String host) {
        assertEquals("GET / HTTP/1.1 [Host: " + host + "] | BODY '' | END",
                decode("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").toString());
    }

    @Test
    void anAbsoluteFormTargetBecomesOriginFormWithItsAuthorityAsTheOneHost() {
        assertEquals("GET /x?y=1 HTTP/1.1 [Accept: */*, Host: example.test:8080] | BODY '' | END",
                decode("GET http://example.test:8080/x?y=1 HTTP/1.1\r\nHost: other\r\nAccept: */*\r\n\r\n").toString());
        assertEquals("GET / HTTP/1.1 [Host: example.test] | BODY '' | END",
                decode("GET HTTPS://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n").toString());
        assertEquals("GET /?q HTTP/1.0 [Host: example.test] | BODY '' | END",
                decode("GET http://example.test?q HTTP/1.0\r\n\r\n").toString());
        assertEquals("OPTIONS * HTTP/1.1 [Host: x] | BODY '' | END", decode("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").toString());
        // RFC 9112 §3.2.4: an OPTIONS for a whole server leaves the last proxy as "*", not "/".
        assertEquals("OPTIONS * HTTP/1.1 [Host: example.test] | BODY '' | END",
                decode("OPTIONS http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n").toString());
        assertEquals("OPTIONS /?q HTTP/1.1 [Host: example.test] | BODY '' | END",
                decode("OPTIONS http://example.test?q HTTP/1.1\r\nHost: example.test\r\n\r\n").toString());
    }

    @Test
    void theAsteriskFormIsOnlyForOptions() {
        assertEquals("FAILED(Http1ParseException)", decode("GET * HTTP/1.1\r\nHost: x\r\n\r\n").toString());
        assertEquals("FAILED(Http1ParseException)", decode("POST * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").toString());
    }

    private static DecoderTranscript decode(ProxyOptions options, String input) {
        return DecoderTranscript.sameInAnySplit(() -> new Http1RequestDecoder(options, MAX_CHUNK), input, false);
    }

    @Test
    void fieldNamesWithAnUnderscoreAreDroppedKeptOrRefusedAsConfigured() {
        String input = "GET / HTTP/1.1\r\nHost: x\r\nX_User: evil\r\nX-User: ok\r\nx_y_z:\r\n\r\n";
        assertEquals("GET / HTTP/1.1 [Host: x, X-User: ok] | BODY '' | END",
                decode(ProxyOptions.defaults(), input).toString(), "dropped by default");
        assertEquals("GET / HTTP/1.1 [Host: x, X_User: evil, X-User: ok, x_y_z: ] | BODY '' | END",
                decode(ProxyOptions.builder().underscoresInHeaders(UnderscoresInHeaders.ALLOW).build(), input).toString());
        DecoderTranscript rejected = decode(ProxyOptions.builder().underscoresInHeaders(UnderscoresInHeaders.REJECT)
                .build(), input + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("FAILED(Http1ParseException)", rejected.toString());
        assertEquals(400, ((Http1ParseException) rejected.lastMessage().decoderResult().cause()).status());
        assertEquals("GET / HTTP/1.1 [Host: x, X_User: evil, X-User: ok, x_y_z: ] | BODY '' | END",
                decode(input).toString(), "a decoder built from limits alone keeps them");
    }

    @Test
    void oneFieldLineOverItsLimitIsTooLargeEvenBeforeItEnds() {
        ProxyOptions options = ProxyOptions.builder().maxFieldBytes(100).build();
        String fits = "X-Fits: " + "f".repeat(100 - "X-Fits: ".length());
        assertEquals("GET / HTTP/1.1 [Host: h, " + fits + "] | BODY '' | END",
                decode(options, "GET / HTTP/1.1\r\nHost: h\r\n" + fits + "\r\n\r\n").toString());
        String over = fits + "f";
        assertEquals("FAILED(TooLongHttpHeaderException)",
                decode(options, "GET / HTTP/1.1\r\nHost: h\r\n" + over + "\r\n\r\n").toString());
        assertEquals("FAILED(TooLongHttpHeaderException)",
                decode(options, "GET / HTTP/1.1\r\nHost: h\r\n" + over).toString(), "before its line ends");
        assertEquals(431, Http1DownstreamStream.malformedRequest(new TooLongHttpHeaderException("x")).httpStatus());
    }

    @Test
    void moreFieldsThanTheLimitAreTooMany() {
        ProxyOptions options = ProxyOptions.builder().maxFields(3).build();
        assertEquals("GET / HTTP/1.1 [Host: h, A: 1, B: 2] | BODY '' | END",
                decode(options, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n").toString());
        assertEquals("FAILED(TooLongHttpHeaderException)",
                decode(options, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n").toString());
        assertEquals("POST / HTTP/1.1 [Host: h, Transfer-Encoding: chunked] | BROKEN(TooLongHttpHeaderException)",
                decode(options, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n").toString(), "the trailer section too");
    }

    @Test
    void fieldsAddedAfterDecodingAreValidated() {
        HttpRequest request = (HttpRequest) decode("GET / HTTP/1.1\r\nHost: x\r\n\r\n").lastMessage();
        assertThrows(IllegalArgumentException.class, () -> request.headers().add("X-Injected", "a\r\nEvil: b"));
        assertThrows(IllegalArgumentException.class, () -> request.headers().set("Bad Name", "v"));
        request.headers().set(HttpHeaderNames.HOST, "y");
        assertEquals("y", request.headers().get("host"));
    }

    /** Malformed heads: a failed request, then nothing more from the connection. */
    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHo\"st: x\r\n\r\n",
        "GET / HTTP/1.1\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nno-colon\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u007fb\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u0001b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: 0123456789abcdef\u0000ghijklmnop\r\n\r\n",
        "GET / HTTP/1.1\r\nX: 0123456789abcdefg\u007fhijklmnop\r\n\r\n",
        "GET / HTTP/1.1\r\nX: 0123456789\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u001fz\r\n\r\n",
        "GET / HTTP/1.1\r\nX: 0123456789abcdef\nY: 0123456789abcdef\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\n",
        "GET / HTTP/1.1\r\nHost: x\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\n",
        "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "GET /a\u0001b HTTP/1.1\r\n\r\n",
        "GET /a\u007fb HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /\tHTTP/1.1\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.1x\r\n\r\n",
        "GET / HTTP/11\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nUser-Agent: no-host\r\n\r\n",
        "GET / HTTP/1.1\r\nHost:\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: user@example.test\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.test:65536\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.test:\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.test:8o\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.test:080800\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [example]\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a b\r\n\r\n",
        "GET http://user@example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n",
        "GET http:///x HTTP/1.1\r\nHost: example.test\r\n\r\n",
        "GET http://example.test:99999/ HTTP/1.1\r\nHost: example.test\r\n\r\n",
        "GET ftp://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n",
        "GET example.test/x HTTP/1.1\r\nHost: example.test\r\n\r\n",
    })
    void aMalformedHeadIsAFailedRequestAndWhatFollowsIsDiscarded(String head) {
        String input = head + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
        DecoderTranscript t = decode(input);
        assertEquals("FAILED(Http1ParseException)", t.toString(), input);
        HttpRequest failed = (HttpRequest) t.lastMessage();
        assertFalse(Http1Framing.of(failed).keepAlive());
        assertEquals(400, ((Http1ParseException) failed.decoderResult().cause()).status());
    }

    /** Malformed chunked bodies: the request, the body so far, a failed last part, then nothing. */
    @ParameterizedTest
    @ValueSource(strings = {
        "5\r\nhelloXY0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "g\r\nhello\r\n0\r\n\r\n",
        "\r\nhello\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "5;a\u0001=b\r\nhello\r\n0\r\n\r\n",
        "5;a=b\rc\r\nhello\r\n0\r\n\r\n",
        "fffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        "00000000000000000000000005\r\nhello\r\n0\r\n\r\n",
        "00000000000000005\r\nhello\r\n0\r\n\r\n",
        "0\r\nT : 1\r\n\r\n",
        "0\r\n folded\r\n\r\n",
        "0\r\nT: 1\r\n  folded\r\n\r\n",
        "0\r\nT: 1\n\r\n",
        "0\r\n\n",
    })
    void aMalformedChunkedBodyEndsInAFailedLastPart(String body) {
        String input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body
                + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
        String t = decode(input).toString();
        assertTrue(t.startsWith("POST / HTTP/1.1 [Host: h, Transfer-Encoding: chunked] | BROKEN(Http1ParseException)"), t);
        assertFalse(t.contains("smuggled"), t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0"})
    void anHttpVersionOtherThan1xIsRefusedWith505(String version) {
        HttpRequest failed = (HttpRequest) decode("GET /x " + version + "\r\nHost: x\r\n\r\n").lastMessage();
        assertEquals(505, ((Http1ParseException) failed.decoderResult().cause()).status());
        assertEquals(505, Http1DownstreamStream.malformedRequest(failed.decoderResult().cause()).httpStatus());
        // The logs name the request that was refused.
        assertEquals("GET", failed.method().name());
        assertEquals("/x", failed.uri());
    }

    /** What stands for a request line that could not be read is "-", not a made-up request. */
    @ParameterizedTest
    @ValueSource(strings = {"\u0016\u0003\u0001\u0002\u0000\u0001\r\n\r\n", "GET /x\r\n\r\n", "G@T /x HTTP/1.1\r\n\r\n"})
    void anUnreadableRequestLineStandsAsDash(String input) {
        HttpRequest failed = (HttpRequest) decode(input).lastMessage();
        assertTrue(failed.decoderResult().isFailure());
        assertEquals("-", failed.method().name());
        assertEquals("-", failed.uri());
    }

    @Test
    void aRequestLineOverTheLimitIsTooLongEvenBeforeItEnds() {
        String longTarget = "/" + "a".repeat(MAX_LINE);
        assertEquals("FAILED(TooLongHttpLineException)", decode("GET " + longTarget).toString());
        assertEquals("FAILED(TooLongHttpLineException)", decode("GET " + longTarget + " HTTP/1.1\r\n\r\n").toString());
        String fits = "/" + "a".repeat(MAX_LINE - "GET  HTTP/1.1".length() - 1);
        assertEquals("GET " + fits + " HTTP/1.1 [Host: h] | BODY '' | END", decode("GET " + fits + " HTTP/1.1\r\nHost: h\r\n\r\n").toString());
    }

    @Test
    void headerFieldsOverTheLimitAreTooLargeEvenBeforeTheyEnd() {
        String big = "X-Big: " + "b".repeat(MAX_HEADER);
        DecoderTranscript t = decode("GET /named HTTP/1.1\r\n" + big);
        assertEquals("FAILED(TooLongHttpHeaderException)", t.toString());
        assertEquals("/named", ((HttpRequest) t.lastMessage()).uri(), "the request line still names the request");
        assertInstanceOf(TooLongHttpHeaderException.class, t.lastMessage().decoderResult().cause());
        String fits = "X-Fits: " + "f".repeat(MAX_HEADER - "Host: h\r\nX-Fits: \r\n".length());
        assertEquals(MAX_HEADER, ("Host: h\r\n" + fits + "\r\n").length());
        assertEquals("GET / HTTP/1.1 [Host: h, " + fits + "] | BODY '' | END",
                decode("GET / HTTP/1.1\r\nHost: h\r\n" + fits + "\r\n\r\n").toString());
    }

    @Test
    void aConnectionClosedInTheHeaderEndsInAPrematureClosure() {
        DecoderTranscript t = DecoderTranscript.decode(decoder(), "GET / HTTP/1.1\r\nHo", 1, true, ch -> { });
        assertEquals("FAILED(PrematureChannelClosureException)", t.toString());
        assertInstanceOf(PrematureChannelClosureException.class, t.lastMessage().decoderResult().cause());
        assertEquals("", DecoderTranscript.decode(decoder(), "GE", 1, true, ch -> { }).toString(),
                "no request line, no request");
        assertEquals("", DecoderTranscript.decode(decoder(), "\r\n", 1, true, ch -> { }).toString());
    }

    @Test
    void aConnectionClosedInTheBodyEndsNothingMore() {
        assertEquals("POST / HTTP/1.1 [Host: h, Content-Length: 5] | PARTS 'ab'", DecoderTranscript.decode(decoder(),
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab", 0, true, ch -> { }).toString());
        assertEquals("POST / HTTP/1.1 [Host: h, Transfer-Encoding: chunked] | PARTS 'ab'", DecoderTranscript.decode(decoder(),
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0, true, ch -> { }).toString());
    }

    @Test
    void removedOnARequestItHandsTheBytesBehindItOnRaw() {
        String upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        String frames = "\u0081\u0005hello GET /not-http HTTP/1.1\r\n\r\n";
        for (int step : new int[] {0, 1, 7}) {
            EmbeddedChannel channel = new EmbeddedChannel();
            channel.pipeline().addLast("decoder", decoder()).addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof HttpRequest) {
                        ctx.pipeline().remove("decoder");
                    }
                    ctx.fireChannelRead(msg);
                }
            });
            byte[] bytes = (upgrade + frames).getBytes(StandardCharsets.ISO_8859_1);
            if (step == 0) {
                channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            } else {
                for (int i = 0; i < bytes.length; i += step) {
                    channel.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(step, bytes.length - i)));
                }
            }
            StringBuilder raw = new StringBuilder();
            int requests = 0;
            Object o;
            while ((o = channel.readInbound()) != null) {
                if (o instanceof HttpRequest) {
                    requests++;
                } else if (o instanceof ByteBuf buf) {
                    raw.append(buf.toString(StandardCharsets.ISO_8859_1));
                }
                ReferenceCountUtil.release(o);
            }
            channel.finishAndReleaseAll();
            assertEquals(1, requests, "step " + step);
            assertEquals(frames, raw.toString(), "step " + step);
        }
    }

    /**
     * Requests both decoders accept: the same messages as Netty's decoder (which this one replaced),
     * in any split.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "GET /small HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        "GET /index.html?a=b&c=%20 HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\nCache-Control: max-age=0\r\n"
                + "Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                + "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate, br\r\n"
                + "Accept-Language: en-GB,en;q=0.9\r\nCookie: a=1; b=2\r\n\r\n",
        "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"ok\": true }",
        "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nDELETE /r HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Spaces:   a   b   \r\nX-Obs-Text: caf\u00e9\r\n\r\n",
        "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
        "PATCH /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nHEAD /h HTTP/1.1\r\nHost: x\r\n\r\n",
    })
    void decodesWhatNettysDecoderDecodesTheSameWay(String input) {
        String netty = DecoderTranscript.whole(new HttpRequestDecoder(new HttpDecoderConfig()
                .setMaxChunkSize(MAX_CHUNK)), input).toString();
        assertEquals(netty, decode(input).toString());
    }

    @Test
    void theServerCodecTakesItsLimitsFromTheDecoderConfig() {
        EmbeddedChannel channel = new EmbeddedChannel(new Http1ServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(64).setMaxHeaderSize(64)));
        channel.writeInbound(Unpooled.copiedBuffer("GET /" + "a".repeat(100) + " HTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
        HttpRequest request = channel.readInbound();
        channel.finishAndReleaseAll();
        assertInstanceOf(TooLongHttpLineException.class, request.decoderResult().cause());
    }
}
