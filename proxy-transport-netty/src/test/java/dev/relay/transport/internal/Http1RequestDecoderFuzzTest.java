package dev.relay.transport.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzz test of {@link Http1RequestDecoder}: what a client sends is untrusted bytes. For any input,
 * <ul>
 *   <li>the decoder fails only with its declared errors (parse error, too long, closed within a head),
 *       never throws out of the pipeline, and leaves no buffer referenced;</li>
 *   <li>the result does not depend on how the bytes arrive (whole, or one byte per read);</li>
 *   <li>every request it accepts has the framing a plain reading of its {@code Content-Length} and
 *       {@code Transfer-Encoding} fields gives (RFC 9112 §6: a differential check against
 *       {@link #referenceFraming}), and no request whose fields that reading refuses is accepted;</li>
 *   <li>the complete requests, written again by {@link Http1Encoder}, decode to the same requests.</li>
 * </ul>
 * Small limits, so that short inputs reach the too-long paths. In the normal test run the inputs under
 * {@code src/test/resources/dev/relay/transport/internal/Http1RequestDecoderFuzzTestInputs/} are
 * replayed (cases of {@code Http1RequestDecoderTest}); {@code bench/fuzz.sh} fuzzes.
 */
class Http1RequestDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void requestDecoding(byte[] input) {
        Http1DecoderRun whole = Http1DecoderRun.decode(decoder(1), input, false, ch -> { });
        Http1DecoderRun pieces = Http1DecoderRun.decode(decoder(1), input, true, ch -> { });
        try {
            whole.assertOnlyDeclaredFailures();
            pieces.assertOnlyDeclaredFailures();
            assertEquals(whole.transcript(), pieces.transcript(), "the same bytes whole and one by one");

            List<Http1DecoderRun.Message> complete = new ArrayList<>();
            for (Http1DecoderRun.Message m : whole.messages()) {
                if (m.head().decoderResult().isSuccess()) {
                    checkFraming((DecodedHttpRequest) m.head(), m);
                }
                if (m.complete()) {
                    complete.add(m);
                }
            }
            roundTrip(complete);
        } finally {
            whole.release();
            pieces.release();
        }
    }

    /** A decoder with the test's limits times {@code scale}. */
    private static Http1RequestDecoder decoder(int scale) {
        return new Http1RequestDecoder(Http1DecoderRun.MAX_LINE * scale, Http1DecoderRun.MAX_HEADER * scale,
                Http1DecoderRun.MAX_CHUNK);
    }

    private static void checkFraming(DecodedHttpRequest request, Http1DecoderRun.Message m) {
        ReferenceFraming expected = referenceFraming(request.headers(), request.protocolVersion());
        if (expected == null) {
            fail("accepted a request whose framing fields a plain reading refuses: "
                    + Http1DecoderRun.fields(request.headers()));
        }
        Http1Framing framing = request.framing();
        assertEquals(expected.chunked(), framing.chunked(), "chunked");
        assertEquals(expected.contentLength(), framing.contentLength(), "Content-Length");
        assertEquals(expected.keepAlive(), framing.keepAlive(), "keep-alive");
        if (m.complete() && !expected.chunked()) {
            long body = m.parts().stream().mapToLong(p -> p.content().readableBytes()).sum()
                    + m.end().content().readableBytes();
            assertEquals(Math.max(expected.contentLength(), 0), body, "body bytes of a Content-Length body");
        }
    }

    /** What the framing fields say, read plainly; {@code null} when they must be refused. */
    record ReferenceFraming(long contentLength, boolean chunked, boolean keepAlive) {}

    /**
     * RFC 9112 §6.1 to §6.3 read the simple way: {@code Transfer-Encoding} only in HTTP/1.1, only
     * without {@code Content-Length}, and only {@code chunked} once; one {@code Content-Length} of
     * 1 to 18 digits; {@code Connection: close} ends the connection, HTTP/1.0 needs
     * {@code keep-alive}.
     */
    static ReferenceFraming referenceFraming(HttpHeaders headers, HttpVersion version) {
        List<String> lengths = headers.getAll("content-length");
        List<String> codings = elements(headers.getAll("transfer-encoding"));
        List<String> options = elements(headers.getAll("connection"));
        boolean http11 = version == HttpVersion.HTTP_1_1;
        boolean keepAlive = !options.contains("close") && (http11 || options.contains("keep-alive"));
        if (!headers.getAll("transfer-encoding").isEmpty()) {
            if (!http11 || !lengths.isEmpty() || !codings.equals(List.of("chunked"))
                    || headers.getAll("transfer-encoding").size() != 1) {
                return null;
            }
            return new ReferenceFraming(Http1Framing.NO_LENGTH, true, keepAlive);
        }
        if (lengths.isEmpty()) {
            return new ReferenceFraming(Http1Framing.NO_LENGTH, false, keepAlive);
        }
        String length = lengths.get(0);
        if (lengths.size() != 1 || length.isEmpty() || length.length() > 18 || !length.chars().allMatch(Character::isDigit)
                || !length.chars().allMatch(c -> c < 0x80)) {
            return null;
        }
        return new ReferenceFraming(Long.parseLong(length), false, keepAlive);
    }

    private static List<String> elements(List<String> values) {
        List<String> elements = new ArrayList<>();
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                String trimmed = element.strip();
                if (!trimmed.isEmpty()) {
                    elements.add(trimmed.toLowerCase(Locale.ROOT));
                }
            }
        }
        return elements;
    }

    /**
     * The complete requests written by the encoder decode to the same requests. The limits are larger
     * for the second decoding: the encoder writes {@code name: value}, which may be longer than what
     * came. An absolute-form target without a path gets the {@code /} the encoder adds.
     */
    private static void roundTrip(List<Http1DecoderRun.Message> complete) {
        if (complete.isEmpty()) {
            return;
        }
        StringBuilder expected = new StringBuilder();
        for (Http1DecoderRun.Message m : complete) {
            expected.append(withPath(Http1DecoderRun.render(m), ((DecodedHttpRequest) m.head()).uri())).append('\n');
        }
        byte[] encoded = Http1DecoderRun.encode(complete);
        Http1DecoderRun again = Http1DecoderRun.decode(decoder(4), encoded, false, ch -> { });
        try {
            again.assertOnlyDeclaredFailures();
            assertEquals(expected.toString(), again.transcript(), "decoded again after encoding");
            assertTrue(again.messages().stream().allMatch(Http1DecoderRun.Message::complete));
        } finally {
            again.release();
        }
    }

    /** {@code rendered} with the target the encoder writes for {@code uri} (a path for an absolute target without one). */
    private static String withPath(String rendered, String uri) {
        int scheme = uri.indexOf("://");
        if (scheme <= 0 || uri.startsWith("/")) {
            return rendered;
        }
        int authority = scheme + 3;
        int query = uri.indexOf('?', authority);
        int slash = uri.indexOf('/', authority);
        if (slash >= 0 && (query < 0 || slash < query)) {
            return rendered;
        }
        int at = query < 0 ? uri.length() : query;
        String written = uri.substring(0, at) + "/" + uri.substring(at);
        return rendered.replaceFirst(java.util.regex.Pattern.quote(" " + uri + " "),
                java.util.regex.Matcher.quoteReplacement(" " + written + " "));
    }
}
