package dev.relay.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link TestOrigin.Builder#fallbackHandler} and the one-shot {@link RawHttpConnection#get}. */
@Timeout(60)
class FallbackHandlerTest {
    @RegisterExtension
    static final OriginExtension origin = OriginExtension.of(TestOrigin.builder()
            .name("b")
            .handler("/own", (request, response) -> response.body("own handler\n"))
            .fallbackHandler((request, response) -> response.header("X-Fallback", "yes")
                    .body("b " + request.path())));

    private static RawHttpConnection.Response get(String path) throws Exception {
        return RawHttpConnection.get(origin.origin().socketAddress(), "b.test", path);
    }

    @Test
    void answersTheRootAndUnknownPaths() throws Exception {
        assertEquals("b /", get("/").bodyText());
        RawHttpConnection.Response unknown = get("/no/such/path?q=1");

        assertEquals(200, unknown.status());
        assertEquals("b /no/such/path", unknown.bodyText());
        assertEquals("yes", unknown.header("X-Fallback"));
        assertEquals("b", unknown.header("X-Origin"));
    }

    @Test
    void handlersAndDefaultRoutesStillComeFirst() throws Exception {
        assertEquals("own handler\n", get("/own").bodyText());
        assertEquals(404, get("/status/404").status());
        assertEquals(100, get("/small").body().length);
    }

    @Test
    void getSendsHostTheExtraFieldsAndConnectionClose() throws Exception {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("X-First", "1");
        fields.put("X-Second", "2");

        RawHttpConnection.Response response = RawHttpConnection.get(origin.origin().socketAddress(), "b.test", "/x", fields);

        assertEquals(200, response.status());
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(10)).get(0);
        assertEquals(List.of("Host", "X-First", "X-Second", "Connection"),
                seen.headers().stream().map(RecordedRequest.Header::name).toList());
        assertEquals("b.test", seen.header("Host"));
        assertEquals("close", seen.header("Connection"));
        origin.origin().awaitOpenConnections(0, Duration.ofSeconds(10));
    }
}
