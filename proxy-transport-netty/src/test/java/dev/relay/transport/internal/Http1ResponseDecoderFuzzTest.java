package dev.relay.transport.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzz test of {@link Http1ResponseDecoder}: an origin's bytes are untrusted too. Each input is
 * decoded as the answer to a GET and to a HEAD; for both,
 * <ul>
 *   <li>only the declared errors, nothing thrown out of the pipeline, no buffer left referenced;</li>
 *   <li>the same result whole and one byte per read, with the same bytes left over after the final
 *       response (the bytes that keep the connection out of the pool);</li>
 *   <li>every response accepted has the framing a plain reading of its fields gives (no body for
 *       1xx, 204, 304 and HEAD; else chunked, Content-Length, or until the close: RFC 9112 §6.3);</li>
 *   <li>a complete response with a body, written again by {@link Http1Encoder}, decodes to the same.</li>
 * </ul>
 * Inputs replayed in the normal test run: {@code Http1ResponseDecoderFuzzTestInputs/} (cases of
 * {@code Http1ResponseDecoderTest}).
 */
class Http1ResponseDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void responseDecoding(byte[] input) {
        check(input, false);
        check(input, true);
    }

    private static void check(byte[] input, boolean head) {
        Http1DecoderRun whole = decode(input, head, false, 1);
        Http1DecoderRun pieces = decode(input, head, true, 1);
        try {
            whole.assertOnlyDeclaredFailures();
            pieces.assertOnlyDeclaredFailures();
            assertEquals(whole.transcript(), pieces.transcript(), "the same bytes whole and one by one");
            assertEquals(whole.decoder(Http1ResponseDecoder.class) == null ? -1
                            : whole.decoder(Http1ResponseDecoder.class).bufferedBytes(),
                    pieces.decoder(Http1ResponseDecoder.class) == null ? -1
                            : pieces.decoder(Http1ResponseDecoder.class).bufferedBytes(),
                    "bytes left after the response");
            List<Http1DecoderRun.Message> complete = new ArrayList<>();
            for (Http1DecoderRun.Message m : whole.messages()) {
                if (m.head().decoderResult().isSuccess()) {
                    checkFraming((DecodedHttpResponse) m.head(), head);
                }
                if (m.complete() && hasBody((HttpResponse) m.head(), head)) {
                    complete.add(m);
                }
            }
            if (!complete.isEmpty()) {
                roundTrip(complete.get(complete.size() - 1), head);
            }
        } finally {
            whole.release();
            pieces.release();
        }
    }

    private static Http1DecoderRun decode(byte[] input, boolean head, boolean byteByByte, int scale) {
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(Http1DecoderRun.MAX_LINE * scale,
                Http1DecoderRun.MAX_HEADER * scale, Http1DecoderRun.MAX_CHUNK);
        return Http1DecoderRun.decode(decoder,
                input, byteByByte, ch -> ch.pipeline().get(Http1ResponseDecoder.class).expectResponseTo(head));
    }

    private static boolean hasBody(HttpResponse response, boolean head) {
        int code = response.status().code();
        return !head && code >= 200 && code != 204 && code != 304;
    }

    private static void checkFraming(DecodedHttpResponse response, boolean head) {
        HttpHeaders headers = response.headers();
        Http1RequestDecoderFuzzTest.ReferenceFraming expected =
                Http1RequestDecoderFuzzTest.referenceFraming(headers, response.protocolVersion());
        if (expected == null) {
            fail("accepted a response whose framing fields a plain reading refuses: " + Http1DecoderRun.fields(headers));
        }
        Http1Framing framing = response.framing();
        assertEquals(expected.chunked(), framing.chunked(), "chunked");
        assertEquals(expected.contentLength(), framing.contentLength(), "Content-Length");
        assertEquals(expected.keepAlive(), framing.keepAlive(), "keep-alive");
        assertTrue(response.protocolVersion() == HttpVersion.HTTP_1_1 || response.protocolVersion() == HttpVersion.HTTP_1_0);
        int code = response.status().code();
        assertTrue(code >= 100 && code <= 599, "status " + code);
    }

    /** The response written by the encoder decodes to the same status, fields, body and trailers. */
    private static void roundTrip(Http1DecoderRun.Message response, boolean head) {
        byte[] encoded = Http1DecoderRun.encode(List.of(response));
        Http1DecoderRun again = decode(encoded, head, false, 4);
        try {
            again.assertOnlyDeclaredFailures();
            List<Http1DecoderRun.Message> messages = again.messages();
            assertEquals(1, messages.size(), again.transcript());
            assertEquals(Http1DecoderRun.render(response), Http1DecoderRun.render(messages.get(0)),
                    "decoded again after encoding");
        } finally {
            again.release();
        }
    }
}
