package dev.relay.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TestOrigin#holdResponses()} and {@link TestOrigin#releaseResponses()}. */
@Timeout(60)
class HeldResponsesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** An origin per test: a failed test must not leave the next one's responses held. */
    @RegisterExtension
    final OriginExtension origin = OriginExtension.plain("a");

    private CompletableFuture<RawHttpConnection.Response> getAsync(String path) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return RawHttpConnection.get(origin.origin().socketAddress(), "a.test", path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void aHeldRequestIsRecordedButAnsweredOnlyOnRelease() throws Exception {
        origin.origin().holdResponses();

        CompletableFuture<RawHttpConnection.Response> inFlight = getAsync("/held");
        origin.origin().awaitHeldResponses(1, WAIT);

        assertEquals(1, origin.origin().heldResponses());
        assertEquals("/held", origin.requests().get(0).path());
        assertFalse(inFlight.isDone());

        origin.origin().releaseResponses();

        RawHttpConnection.Response response = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, response.status());
        assertEquals("origin a\n", response.bodyText());
        assertEquals(0, origin.origin().heldResponses());
    }

    @Test
    void releaseAnswersEveryHeldRequestWithItsOwnRoute() throws Exception {
        origin.origin().holdResponses();
        CompletableFuture<RawHttpConnection.Response> root = getAsync("/");
        CompletableFuture<RawHttpConnection.Response> teapot = getAsync("/status/418");
        origin.origin().awaitHeldResponses(2, WAIT);

        origin.origin().releaseResponses();

        assertEquals(200, root.get(10, TimeUnit.SECONDS).status());
        assertEquals(418, teapot.get(10, TimeUnit.SECONDS).status());
    }

    @Test
    void afterAReleaseRequestsAreAnsweredAtOnceAgain() throws Exception {
        origin.origin().holdResponses();
        origin.origin().releaseResponses();

        assertEquals(200, RawHttpConnection.get(origin.origin().socketAddress(), "a.test", "/").status());
        assertEquals(0, origin.origin().heldResponses());
    }

    @Test
    void aClientThatLeavesWhileItsResponseIsHeldIsNoticedAndNotAnswered() throws Exception {
        origin.origin().holdResponses();
        try (RawHttpConnection client = new RawHttpConnection(origin.port())) {
            client.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
            origin.origin().awaitHeldResponses(1, WAIT);
        }

        origin.origin().awaitOpenConnections(0, WAIT);
        origin.origin().releaseResponses();

        assertEquals(1, origin.requests().size());
        assertEquals(200, RawHttpConnection.get(origin.origin().socketAddress(), "a.test", "/").status());
    }

    @Test
    void aPipelinedRequestWaitsBehindTheHeldOne() throws Exception {
        origin.origin().holdResponses();
        try (RawHttpConnection client = new RawHttpConnection(origin.port())) {
            client.send("GET /first HTTP/1.1\r\nHost: a.test\r\n\r\nGET /second HTTP/1.1\r\nHost: a.test\r\n\r\n");
            origin.origin().awaitHeldResponses(1, WAIT);

            origin.origin().releaseResponses();

            assertEquals(200, client.readResponse().status());
            assertEquals(200, client.readResponse().status());
            assertEquals("/first", origin.requests().get(0).path());
            assertEquals("/second", origin.requests().get(1).path());
        }
    }

    @Test
    void awaitHeldResponsesFailsSayingWhyWhenNothingIsHeld() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> origin.origin().awaitHeldResponses(1, Duration.ofMillis(50)));

        assertTrue(e.getMessage().contains("holdResponses() was not called"), e.getMessage());
    }
}
