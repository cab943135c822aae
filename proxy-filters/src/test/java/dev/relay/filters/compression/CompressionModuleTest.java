package dev.relay.filters.compression;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpModule;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

@Timeout(30)
class CompressionModuleTest {
    private final RequestHeader request = RequestHeader.of("GET", "/");
    private final Session session = mock(Session.class);

    CompressionModuleTest() {
        when(session.requestHeader()).thenReturn(request);
        when(session.attempts()).thenReturn(1);
    }

    @AfterEach
    void everyCodecClosed() {
        assertEquals(0, CompressionFilter.openCodecs(), "codecs left open");
    }

    private HttpModule module(CompressionFilter filter, String acceptEncoding) {
        if (acceptEncoding != null) {
            request.headers().set("Accept-Encoding", acceptEncoding);
        }
        HttpModule module = filter.newModule();
        module.requestHeaderFilter(session);
        return module;
    }

    private static ResponseHeader response(int status, String type, long length) {
        ResponseHeader response = ResponseHeader.of(status);
        if (type != null) {
            response.headers().set("Content-Type", type);
        }
        if (length >= 0) {
            response.headers().set("Content-Length", Long.toString(length));
        }
        return response;
    }

    /** Sends {@code body} through the module's response hooks in parts; returns the bytes the client gets. */
    private static byte[] sendBody(HttpModule module, Session session, byte[] body, int part) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int offset = 0; offset < body.length; offset += part) {
            BodyChunk chunk = BodyChunk.wrap(Arrays.copyOfRange(body, offset, Math.min(body.length, offset + part)));
            module.responseBodyFilter(session, chunk, false);
            out.write(chunk.toByteArray());
        }
        BodyChunk end = BodyChunk.wrap(new byte[0]);
        module.responseBodyFilter(session, end, true);
        out.write(end.toByteArray());
        module.responseDone(session);
        return out.toByteArray();
    }

    @Test
    void compressesWithTheBestAcceptedCodingAndAdjustsTheHeader() throws IOException {
        HttpModule module = module(CompressionFilter.withDefaults(), "gzip, br;q=0.9");
        byte[] body = TestBodies.text(100_000);
        ResponseHeader response = response(200, "application/json; charset=utf-8", body.length);
        response.headers().set("ETag", "\"v1\"");
        response.headers().set("Accept-Ranges", "bytes");
        response.headers().set("Vary", "Origin");
        module.responseHeaderFilter(session, response, false);

        assertEquals("gzip", response.headers().get("Content-Encoding"));
        assertNull(response.headers().get("Content-Length"));
        assertNull(response.headers().get("Accept-Ranges"));
        assertEquals("W/\"v1\"", response.headers().get("ETag"));
        assertEquals(List.of("Origin", "Accept-Encoding"), response.headers().getAll("Vary"));
        byte[] sent = sendBody(module, session, body, 8192);
        assertTrue(sent.length < body.length / 3);
        assertArrayEquals(body, TestBodies.decodeWithLibrary(ContentCoding.GZIP, sent));
    }

    @Test
    void zstdIsPreferredAtEqualQuality() throws IOException {
        HttpModule module = module(CompressionFilter.withDefaults(), "gzip, deflate, br, zstd");
        byte[] body = TestBodies.text(5000);
        ResponseHeader response = response(200, "text/html", -1);
        module.responseHeaderFilter(session, response, false);
        assertEquals("zstd", response.headers().get("Content-Encoding"));
        assertArrayEquals(body, TestBodies.decodeWithLibrary(ContentCoding.ZSTD, sendBody(module, session, body, 1000)));
    }

    @Test
    void tinyBodiesWrongTypesAndMissingTypesAreLeftAlone() {
        for (ResponseHeader response : List.of(response(200, "text/html", 100), response(200, "image/png", 100_000),
                response(200, null, 100_000), response(200, "application/zip", 100_000))) {
            HttpModule module = module(CompressionFilter.withDefaults(), "gzip");
            module.responseHeaderFilter(session, response, false);
            assertNull(response.headers().get("Content-Encoding"), response.headers().get("Content-Type"));
            assertNull(response.headers().get("Vary"));
            module.responseDone(session);
        }
    }

    @Test
    void aClientWithoutCompressionStillGetsVary() {
        HttpModule module = module(CompressionFilter.withDefaults(), null);
        ResponseHeader response = response(200, "text/css", 5000);
        module.responseHeaderFilter(session, response, false);
        assertNull(response.headers().get("Content-Encoding"));
        assertEquals("5000", response.headers().get("Content-Length"));
        assertEquals("Accept-Encoding", response.headers().get("Vary"));
    }

    @Test
    void headRangesNotModifiedNoTransformAndEncodedResponsesAreLeftAlone() {
        request.setMethod("HEAD");
        HttpModule head = module(CompressionFilter.withDefaults(), "gzip");
        ResponseHeader headResponse = response(200, "text/html", 5000);
        head.responseHeaderFilter(session, headResponse, false);
        assertNull(headResponse.headers().get("Content-Encoding"));
        request.setMethod("GET");

        ResponseHeader notModified = response(304, "text/html", -1);
        ResponseHeader partial = response(206, "text/html", 5000);
        partial.headers().set("Content-Range", "bytes 0-4999/10000");
        ResponseHeader noTransform = response(200, "text/html", 5000);
        noTransform.headers().set("Cache-Control", "public, No-Transform");
        ResponseHeader encoded = response(200, "text/html", 5000);
        encoded.headers().set("Content-Encoding", "br");
        for (ResponseHeader response : List.of(notModified, partial, noTransform, encoded)) {
            HttpModule module = module(CompressionFilter.withDefaults(), "gzip, br");
            module.responseHeaderFilter(session, response, false);
            assertFalse("gzip".equals(response.headers().get("Content-Encoding")));
            module.responseDone(session);
        }
        assertEquals("br", encoded.headers().get("Content-Encoding"));
        assertEquals("5000", encoded.headers().get("Content-Length"));
    }

    /** The 304 for a request with {@code acceptEncoding} and {@code ifNoneMatch} (null: none), after the filter. */
    private ResponseHeader notModified(String acceptEncoding, String ifNoneMatch, String type, String etag) {
        request.headers().remove("If-None-Match");
        request.headers().remove("Accept-Encoding");
        if (ifNoneMatch != null) {
            request.headers().set("If-None-Match", ifNoneMatch);
        }
        HttpModule module = module(CompressionFilter.withDefaults(), acceptEncoding);
        ResponseHeader response = response(304, type, -1);
        response.headers().set("ETag", etag);
        module.responseHeaderFilter(session, response, true);
        module.responseDone(session);
        return response;
    }

    @Test
    void notModifiedCarriesTheVaryAndWeakETagItsCompressed200Has() {
        // RFC 9110 §15.4.5: a 304 usually has no Content-Type; the client would get gzip, so its 200 is W/"x".
        for (String type : new String[] {null, "text/html"}) {
            ResponseHeader response = notModified("gzip", null, type, "\"x\"");
            assertEquals("W/\"x\"", response.headers().get("ETag"), type);
            assertEquals("Accept-Encoding", response.headers().get("Vary"), type);
            assertNull(response.headers().get("Content-Encoding"), type);
        }
        // The requester revalidating the tag the proxy weakened: whatever its Accept-Encoding says now.
        ResponseHeader revalidated = notModified(null, "\"y\", W/\"x\"", null, "\"x\"");
        assertEquals("W/\"x\"", revalidated.headers().get("ETag"));
        assertEquals("Accept-Encoding", revalidated.headers().get("Vary"));
        // An origin's own weak tag stays as it is.
        assertEquals("W/\"w\"", notModified("gzip", null, null, "W/\"w\"").headers().get("ETag"));
    }

    @Test
    void notModifiedKeepsTheStrongETagIts200Kept() {
        // A compressible type for a client without a coding: Vary (as its 200 has), the tag strong.
        ResponseHeader uncompressed = notModified(null, null, "text/html", "\"x\"");
        assertEquals("\"x\"", uncompressed.headers().get("ETag"));
        assertEquals("Accept-Encoding", uncompressed.headers().get("Vary"));
        // A type the proxy leaves alone.
        ResponseHeader image = notModified("gzip", null, "image/png", "\"x\"");
        assertEquals("\"x\"", image.headers().get("ETag"));
        assertNull(image.headers().get("Vary"));
        // No type, but the requester's stored copy has the strong tag: its 200 was not transformed.
        ResponseHeader stored = notModified("gzip", "\"x\"", null, "\"x\"");
        assertEquals("\"x\"", stored.headers().get("ETag"));
        assertNull(stored.headers().get("Vary"));
        // A tag that only contains the 304's between two others' quotes is not it.
        ResponseHeader lookalike = notModified(null, "\"a\",\"b\"", null, "\",\"");
        assertEquals("\",\"", lookalike.headers().get("ETag"));
    }

    @Test
    void notModifiedOfAnEncodedOriginBodyMirrorsTheDecoding() {
        for (String accept : new String[] {"br;q=0, identity", "gzip"}) {
            HttpModule module = module(CompressionFilter.withDefaults(), accept);
            ResponseHeader response = response(304, null, -1);
            response.headers().set("Content-Encoding", "gzip");
            response.headers().set("ETag", "\"g\"");
            module.responseHeaderFilter(session, response, true);
            module.responseDone(session);
            assertEquals(accept.equals("gzip") ? "\"g\"" : "W/\"g\"", response.headers().get("ETag"), accept);
            assertEquals("Accept-Encoding", response.headers().get("Vary"), accept);
        }
    }

    @Test
    void notModifiedUnderNoTransformOrToHeadIsLeftAlone() {
        ResponseHeader noTransform = response(304, null, -1);
        noTransform.headers().set("Cache-Control", "no-transform");
        noTransform.headers().set("ETag", "\"x\"");
        HttpModule module = module(CompressionFilter.withDefaults(), "gzip");
        module.responseHeaderFilter(session, noTransform, true);
        module.responseDone(session);
        assertEquals("\"x\"", noTransform.headers().get("ETag"));
        assertNull(noTransform.headers().get("Vary"));

        request.setMethod("HEAD");
        assertEquals("\"x\"", notModified("gzip", null, null, "\"x\"").headers().get("ETag"));
    }

    @Test
    void interimResponsesWaitForTheFinalOne() {
        HttpModule module = module(CompressionFilter.withDefaults(), "gzip");
        module.responseHeaderFilter(session, ResponseHeader.of(103), false);
        ResponseHeader response = response(200, "text/plain", 5000);
        module.responseHeaderFilter(session, response, false);
        assertEquals("gzip", response.headers().get("Content-Encoding"));
        module.responseDone(session);
    }

    @Test
    void gzipResponseIsDecodedForAClientWithoutGzip() throws IOException {
        HttpModule module = module(CompressionFilter.withDefaults(), "br;q=0, identity");
        byte[] body = TestBodies.text(300_000);
        byte[] encoded = TestBodies.encodeWithLibrary(ContentCoding.GZIP, body);
        ResponseHeader response = response(200, "application/octet-stream", encoded.length);
        response.headers().set("Content-Encoding", "gzip");
        response.headers().set("ETag", "\"abc\"");
        module.responseHeaderFilter(session, response, false);
        assertNull(response.headers().get("Content-Encoding"));
        assertNull(response.headers().get("Content-Length"));
        assertEquals("W/\"abc\"", response.headers().get("ETag"));
        assertEquals("Accept-Encoding", response.headers().get("Vary"));
        assertArrayEquals(body, sendBody(module, session, encoded, 4096));
    }

    @Test
    void encodedResponseStaysEncodedWhenTheClientAcceptsItOrRefusesIdentity() {
        for (String accept : List.of("gzip", "zstd, identity;q=0")) {
            HttpModule module = module(CompressionFilter.withDefaults(), accept);
            ResponseHeader response = response(200, "text/html", 500);
            response.headers().set("Content-Encoding", "gzip");
            module.responseHeaderFilter(session, response, false);
            assertEquals("gzip", response.headers().get("Content-Encoding"), accept);
            module.responseDone(session);
        }
    }

    @Test
    void corruptOriginBodyFailsTheResponseAndFreesTheDecoder() {
        HttpModule module = module(CompressionFilter.withDefaults(), null);
        ResponseHeader response = response(200, "text/html", -1);
        response.headers().set("Content-Encoding", "gzip");
        module.responseHeaderFilter(session, response, false);
        assertEquals(1, CompressionFilter.openCodecs());
        assertThrows(ProxyError.class, () -> module.responseBodyFilter(session, BodyChunk.wrap(TestBodies.text(100)), false));
        assertEquals(0, CompressionFilter.openCodecs());
        module.responseDone(session);
    }

    @Test
    void aClientLeavingMidBodyFreesTheCompressorInResponseDone() {
        HttpModule module = module(CompressionFilter.withDefaults(), "br");
        module.responseHeaderFilter(session, response(200, "text/html", -1), false);
        module.responseBodyFilter(session, BodyChunk.wrap(TestBodies.text(10_000)), false);
        assertEquals(1, CompressionFilter.openCodecs());
        module.responseDone(session);
        assertEquals(0, CompressionFilter.openCodecs());
    }

    private HttpModule requestDecoding(CompressionFilter filter, String coding, long length) {
        request.setMethod("POST");
        request.headers().set("Content-Encoding", coding);
        request.headers().set("Content-Length", Long.toString(length));
        HttpModule module = filter.newModule();
        module.requestHeaderFilter(session);
        return module;
    }

    @Test
    void requestBodyIsDecodedOnItsWayUpstream() throws IOException {
        byte[] body = TestBodies.text(200_000);
        byte[] encoded = TestBodies.encodeWithLibrary(ContentCoding.ZSTD, body);
        HttpModule module = requestDecoding(CompressionFilter.builder().requestDecompress(true).build(), "zstd", encoded.length);
        assertNull(request.headers().get("Content-Encoding"));
        assertNull(request.headers().get("Content-Length"));
        assertEquals("chunked", request.headers().get("Transfer-Encoding"));
        ByteArrayOutputStream upstream = new ByteArrayOutputStream();
        for (int offset = 0; offset < encoded.length; offset += 1000) {
            BodyChunk chunk = BodyChunk.wrap(Arrays.copyOfRange(encoded, offset, Math.min(encoded.length, offset + 1000)));
            module.requestBodyFilter(session, chunk, offset + 1000 >= encoded.length);
            upstream.write(chunk.toByteArray());
        }
        assertArrayEquals(body, upstream.toByteArray());
        module.responseDone(session);
    }

    /** Sends {@code body} whole as a request body in {@code coding}: the filter must answer {@code status}, saying {@code why}. */
    private void assertRequestRefused(CompressionFilter filter, String coding, byte[] body, int status, String why) {
        HttpModule module = requestDecoding(filter, coding, body.length);
        ProxyError e = assertThrows(ProxyError.class, () -> module.requestBodyFilter(session, BodyChunk.wrap(body), true));
        assertEquals(status, e.httpStatus());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        module.responseDone(session);
    }

    @Test
    void requestBombIsAnswered413() throws IOException {
        byte[] bomb = TestBodies.encodeWithLibrary(ContentCoding.GZIP, new byte[8 * 1024 * 1024]);
        assertRequestRefused(CompressionFilter.builder().requestDecompress(true).build(), "gzip", bomb, 413, "max-ratio");
    }

    @Test
    void requestOverTheSizeCapIsAnswered413() throws IOException {
        byte[] encoded = TestBodies.encodeWithLibrary(ContentCoding.BR, TestBodies.text(300_000));
        assertRequestRefused(CompressionFilter.builder().requestDecompress(true).maxRequestSize(100_000).build(),
                "br", encoded, 413, "max-request-size");
    }

    @Test
    void corruptRequestBodyIsAnswered400() {
        assertRequestRefused(CompressionFilter.builder().requestDecompress(true).build(), "gzip", TestBodies.text(100),
                400, "not valid gzip");
    }

    @Test
    void zstdRequestWithAWindowOverEightMebibytesIsAnswered400() throws IOException {
        byte[] frame = TestBodies.zstdFrame(TestBodies.text(10_000), 25);
        assertRequestRefused(CompressionFilter.builder().requestDecompress(true).build(), "zstd", frame, 400, "window");
    }

    @Test
    void aRetryKeepsDecodingTheSameStream() throws IOException {
        // On a retry the engine replays the bytes it already sent (decoded by this module) straight upstream
        // and only the parts not yet sent come through requestBodyFilter: the decoder must carry on.
        byte[] body = TestBodies.text(20_000);
        byte[] encoded = TestBodies.encodeWithLibrary(ContentCoding.GZIP, body);
        HttpModule module = requestDecoding(CompressionFilter.builder().requestDecompress(true).build(), "gzip", encoded.length);
        ByteArrayOutputStream upstream = new ByteArrayOutputStream();
        BodyChunk firstAttempt = BodyChunk.wrap(Arrays.copyOf(encoded, 100));
        module.requestBodyFilter(session, firstAttempt, false);
        upstream.write(firstAttempt.toByteArray());
        when(session.attempts()).thenReturn(2);
        BodyChunk rest = BodyChunk.wrap(Arrays.copyOfRange(encoded, 100, encoded.length));
        module.requestBodyFilter(session, rest, true);
        upstream.write(rest.toByteArray());
        assertArrayEquals(body, upstream.toByteArray());
        module.responseDone(session);
    }

    @Test
    void requestsAreLeftEncodedUnlessAsked() {
        HttpModule module = requestDecoding(CompressionFilter.withDefaults(), "gzip", 100);
        assertEquals("gzip", request.headers().get("Content-Encoding"));
        assertEquals("100", request.headers().get("Content-Length"));
        module.responseDone(session);
    }
}
