package dev.relay.filters;

import dev.relay.core.BodyChunk;
import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** The bridge on one exchange at a time, hook by hook, as the engine calls them. */
@Timeout(10)
class GrpcWebBridgeTest {
    /** A gRPC message frame: flag 0, length 3, "abc". */
    private static final byte[] MESSAGE = {0, 0, 0, 0, 3, 'a', 'b', 'c'};

    private RequestHeader request;
    private Session session;
    private final HttpModule bridge = GrpcWebBridge.factory().newModule();

    @BeforeEach
    void setUp() {
        request = RequestHeader.of("POST", "/relay.test.TestService/Echo");
        session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
    }

    private void requestWith(String contentType, String... more) {
        request.headers().set("Content-Type", contentType).set("Content-Length", "8");
        for (int i = 0; i < more.length; i += 2) {
            request.headers().set(more[i], more[i + 1]);
        }
        assertTrue(bridge.requestHeaderFilter(session).toCompletableFuture().isDone());
    }

    private static ResponseHeader grpcResponse(String contentType) {
        ResponseHeader response = ResponseHeader.of(200);
        response.headers().set("content-type", contentType).set("content-length", "8");
        return response;
    }

    private static HttpHeaders okTrailers() {
        return HttpHeaders.create().add("grpc-status", "0").add("grpc-message", "fine");
    }

    private static byte[] okFrame() {
        return GrpcWebFraming.trailerFrame(okTrailers());
    }

    @Test
    void binaryRequestGoesUpAsGrpcAndItsTrailersComeBackAsAFrame() {
        requestWith("application/grpc-web+proto", "X-Grpc-Web", "1");

        assertEquals("application/grpc+proto", request.headers().get("content-type"));
        assertEquals("trailers", request.headers().get("te"));
        assertEquals("8", request.headers().get("content-length"), "the body keeps its length");
        BodyChunk up = BodyChunk.wrap(MESSAGE.clone());
        bridge.requestBodyFilter(session, up, true);
        assertArrayEquals(MESSAGE, up.toByteArray());

        ResponseHeader response = grpcResponse("application/grpc+proto");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc-web+proto", response.headers().get("content-type"));
        assertFalse(response.headers().contains("content-length"), "the trailer frame makes the body longer");

        BodyChunk down = BodyChunk.wrap(MESSAGE.clone());
        bridge.responseBodyFilter(session, down, true);
        assertArrayEquals(MESSAGE, down.toByteArray());
        assertArrayEquals(okFrame(), bridge.responseTrailerFilter(session, okTrailers()));
    }

    @Test
    void plainGrpcWebTypeWithoutSuffix() {
        requestWith("application/grpc-web");
        assertEquals("application/grpc", request.headers().get("content-type"));
        ResponseHeader response = grpcResponse("application/grpc");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc-web", response.headers().get("content-type"));
    }

    @Test
    void textRequestIsDecodedAndTheResponseEncodedPieceByPiece() {
        requestWith("application/grpc-web-text+proto", "Accept", "application/grpc-web-text");

        assertEquals("application/grpc+proto", request.headers().get("content-type"));
        assertFalse(request.headers().contains("content-length"), "the decoded body is shorter");
        String text = Base64.getEncoder().encodeToString(MESSAGE);
        BodyChunk first = BodyChunk.wrap(ascii(text.substring(0, 5)));
        bridge.requestBodyFilter(session, first, false);
        BodyChunk second = BodyChunk.wrap(ascii(text.substring(5)));
        bridge.requestBodyFilter(session, second, true);
        assertArrayEquals(MESSAGE, concat(first.toByteArray(), second.toByteArray()));

        ResponseHeader response = grpcResponse("application/grpc+proto");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc-web-text+proto", response.headers().get("content-type"));
        BodyChunk down = BodyChunk.wrap(MESSAGE.clone());
        bridge.responseBodyFilter(session, down, true);
        assertEquals(text, new String(down.toByteArray(), StandardCharsets.US_ASCII));
        BodyChunk end = BodyChunk.wrap(new byte[0]);
        bridge.responseBodyFilter(session, end, true);
        assertTrue(end.isEmpty(), "an empty piece stays empty");
        assertEquals(Base64.getEncoder().encodeToString(okFrame()),
                new String(bridge.responseTrailerFilter(session, okTrailers()), StandardCharsets.US_ASCII));
    }

    @Test
    void explicitBase64TextTypeIsTheTextVariant() {
        requestWith("application/grpc-web-text-base64+proto");
        assertEquals("application/grpc+proto", request.headers().get("content-type"));
        ResponseHeader response = grpcResponse("application/grpc+proto");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc-web-text+proto", response.headers().get("content-type"));
    }

    @Test
    void binaryRequestThatAcceptsTextGetsATextResponse() {
        requestWith("application/grpc-web+proto", "Accept", "application/grpc-web-text");
        BodyChunk up = BodyChunk.wrap(MESSAGE.clone());
        bridge.requestBodyFilter(session, up, true);
        assertArrayEquals(MESSAGE, up.toByteArray(), "a binary request body is not decoded");
        ResponseHeader response = grpcResponse("application/grpc+proto");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc-web-text+proto", response.headers().get("content-type"));
    }

    @Test
    void trailersOnlyResponseKeepsItsStatusInTheHeader() {
        requestWith("application/grpc-web+proto");
        ResponseHeader response = ResponseHeader.of(200);
        response.headers().set("content-type", "application/grpc").set("grpc-status", "3").set("grpc-message", "bad");
        bridge.responseHeaderFilter(session, response, true);
        BodyChunk end = BodyChunk.wrap(new byte[0]);
        bridge.responseBodyFilter(session, end, true);

        assertEquals("application/grpc-web", response.headers().get("content-type"));
        assertEquals("3", response.headers().get("grpc-status"));
        assertEquals("bad", response.headers().get("grpc-message"));
        assertTrue(end.isEmpty());
    }

    @Test
    void otherRequestsAndTheirTrailersPassUntouched() {
        requestWith("application/json");
        assertEquals("application/json", request.headers().get("content-type"));
        assertNull(request.headers().get("te"));
        ResponseHeader response = grpcResponse("application/grpc");
        bridge.responseHeaderFilter(session, response, false);
        assertEquals("application/grpc", response.headers().get("content-type"));
        assertNull(bridge.responseTrailerFilter(session, okTrailers()));
    }

    @Test
    void typesThatOnlyStartLikeGrpcWebAreNotBridged() {
        requestWith("application/grpc-webby");
        assertEquals("application/grpc-webby", request.headers().get("content-type"));
        assertNull(request.headers().get("te"));
    }

    @Test
    void aResponseThatIsNotGrpcGoesBackAsItIs() {
        requestWith("application/grpc-web+proto");
        ResponseHeader response = ResponseHeader.of(502);
        response.headers().set("content-type", "text/plain; charset=utf-8").set("content-length", "15");
        bridge.responseHeaderFilter(session, response, true);
        assertEquals("text/plain; charset=utf-8", response.headers().get("content-type"));
        assertEquals("15", response.headers().get("content-length"));
        assertNull(bridge.responseTrailerFilter(session, okTrailers()));
    }

    @Test
    void aBadTextBodyIsA400() {
        requestWith("application/grpc-web-text");
        ProxyError e = assertThrows(ProxyError.class,
                () -> bridge.requestBodyFilter(session, BodyChunk.wrap(ascii("AAA!")), true));
        assertEquals(400, e.httpStatus());
    }

    @Test
    void providerIsFoundByServiceLoaderAndHasNoSettings() {
        List<String> names = ServiceLoader.load(FilterProvider.class).stream().map(p -> p.get().name()).toList();
        assertTrue(names.contains("grpc-web"), names.toString());
        GrpcWebFilterProvider provider = new GrpcWebFilterProvider();
        assertSame(GrpcWebBridge.factory(), provider.create(FilterSettings.of(Map.of())));
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of("text", true))));
        assertEquals("text", e.key());
    }

    @Test
    void eachRequestGetsItsOwnModule() {
        assertFalse(GrpcWebBridge.factory().newModule() == GrpcWebBridge.factory().newModule());
        assertEquals("grpc-web", GrpcWebBridge.factory().name());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
