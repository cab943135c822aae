package dev.relay.filters;

import dev.relay.core.BodyChunk;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.MirrorModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.UpstreamGroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * The {@code mirror} filter's settings (each refusal names its key) and what one request's module does:
 * the copy's header and body, once, at the end of the body; drops counted; a sender that throws or fails
 * only counted. The end-to-end behaviour with real origins is {@code MirrorEndToEndTest} in proxy-server.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MirrorFilterProviderTest {
    private final MirrorFilterProvider provider = new MirrorFilterProvider();

    /** The groups a server would give: records what is sent, answers with what the test completes. */
    private static final class RecordingGroups implements UpstreamGroups {
        final List<RequestHeader> headers = new ArrayList<>();
        final List<byte[]> bodies = new ArrayList<>();
        final List<CompletableFuture<ResponseHeader>> answers = new ArrayList<>();
        final List<Duration> timeouts = new ArrayList<>();
        RuntimeException throwing;

        @Override
        public Set<String> names() {
            return Set.of("shadow", "web");
        }

        @Override
        public CompletionStage<ResponseHeader> sendDiscardingBody(String group, RequestHeader request, byte[] body,
                                                                  Duration timeout) {
            if (throwing != null) {
                throw throwing;
            }
            timeouts.add(timeout);
            assertEquals("shadow", group);
            headers.add(request);
            bodies.add(body);
            CompletableFuture<ResponseHeader> answer = new CompletableFuture<>();
            answers.add(answer);
            return answer;
        }
    }

    private final RecordingGroups groups = new RecordingGroups();

    private MirrorFilter create(Map<String, ?> settings) {
        return (MirrorFilter) provider.create(FilterSettings.of(settings, groups));
    }

    private static InvalidSettingException refused(Runnable create) {
        return assertThrows(InvalidSettingException.class, create::run);
    }

    private static Session session(RequestHeader request) {
        Session session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
        return session;
    }

    @Test
    void settingsAreCheckedAndEachRefusalNamesItsKey() {
        assertEquals("upstream", refused(() -> create(Map.of())).key());
        InvalidSettingException unknownGroup = refused(() -> create(Map.of("upstream", "nowhere")));
        assertEquals("upstream: 'nowhere' (expected one of: shadow, web)", unknownGroup.getMessage());
        assertEquals("upstream", refused(() -> provider.create(FilterSettings.of(Map.of("upstream", "shadow")))).key());
        assertEquals("sample: 1.5 (expected: 0 to 1)",
                refused(() -> create(Map.of("upstream", "shadow", "sample", 1.5))).getMessage());
        assertEquals("sample", refused(() -> create(Map.of("upstream", "shadow", "sample", "half"))).key());
        assertEquals("max-body", refused(() -> create(Map.of("upstream", "shadow", "max-body", "1GiB"))).key());
        assertEquals("max-in-flight", refused(() -> create(Map.of("upstream", "shadow", "max-in-flight", 0))).key());
        assertEquals("rate", refused(() -> create(Map.of("upstream", "shadow", "rate", 1))).key());
        assertEquals("timeout: PT0S (expected: > 0)",
                refused(() -> create(Map.of("upstream", "shadow", "timeout", "0s"))).getMessage());

        MirrorFilter filter = create(Map.of("upstream", "shadow", "sample", "0.25", "max-body", "1KiB"));
        assertEquals("shadow", filter.upstream());
        assertEquals(0.25, filter.sample());
    }

    @Test
    void aSampledRequestIsCopiedOnceAtTheEndOfItsBodyWithTheMarker() {
        MirrorFilter filter = create(Map.of("upstream", "shadow"));
        RequestHeader request = RequestHeader.of("PUT", "/item?id=7").insertHeader("Host", "site.test");
        Session session = session(request);
        HttpModule module = filter.newModule();

        module.requestHeaderFilter(session);
        request.insertHeader("X-Later", "not in the copy");
        module.requestBodyFilter(session, BodyChunk.wrap("hello ".getBytes(StandardCharsets.UTF_8)), false);
        assertTrue(groups.headers.isEmpty(), "nothing leaves before the body is complete");
        module.requestBodyFilter(session, BodyChunk.wrap("world".getBytes(StandardCharsets.UTF_8)), true);
        module.requestBodyFilter(session, BodyChunk.wrap(new byte[1]), true);

        assertEquals(1, groups.headers.size());
        RequestHeader copy = groups.headers.get(0);
        assertEquals("PUT", copy.method());
        assertEquals("/item?id=7", copy.uri());
        assertEquals("site.test", copy.headers().get("Host"));
        assertEquals("1", copy.headers().get(MirrorFilter.MARKER_HEADER));
        assertEquals(null, copy.headers().get("X-Later"));
        assertArrayEquals("hello world".getBytes(StandardCharsets.UTF_8), groups.bodies.get(0));
        assertEquals(List.of(Duration.ofSeconds(30)), groups.timeouts, "a copy always goes with a deadline");
        assertEquals(new MirrorModuleFactory.Stats(0, 0, 0, 0, 1), filter.stats());

        groups.answers.get(0).complete(ResponseHeader.of(500));
        assertEquals(new MirrorModuleFactory.Stats(1, 0, 0, 0, 0), filter.stats(), "any answer counts as mirrored");
    }

    @Test
    void dropsAreCountedAndFailuresNeverReachTheRequest() {
        MirrorFilter filter = MirrorFilter.builder(groups, "shadow").maxBody(4).maxInFlight(1).build();
        Session session = session(RequestHeader.of("POST", "/"));

        HttpModule tooBig = filter.newModule();
        tooBig.requestHeaderFilter(session);
        tooBig.requestBodyFilter(session, BodyChunk.wrap(new byte[5]), true);
        HttpModule first = filter.newModule();
        first.requestHeaderFilter(session);
        first.requestBodyFilter(session, BodyChunk.wrap(new byte[4]), true);
        HttpModule second = filter.newModule();
        second.requestHeaderFilter(session);
        second.requestBodyFilter(session, BodyChunk.wrap(new byte[0]), true);
        assertEquals(new MirrorModuleFactory.Stats(0, 0, 1, 1, 1), filter.stats());

        groups.answers.get(0).completeExceptionally(new IllegalStateException("connection refused"));
        groups.throwing = new IllegalStateException("sender broken");
        HttpModule third = filter.newModule();
        third.requestHeaderFilter(session);
        third.requestBodyFilter(session, BodyChunk.wrap(new byte[0]), true);
        assertEquals(new MirrorModuleFactory.Stats(0, 2, 1, 1, 0), filter.stats());
    }

    @Test
    void theDrawDecidesPerRequest() {
        double[] draws = {0.05, 0.5, 0.09, 0.99};
        int[] next = {0};
        MirrorFilter filter = MirrorFilter.builder(groups, "shadow").sample(0.1).random(() -> draws[next[0]++]).build();
        List<HttpModule> modules = new ArrayList<>();
        for (int i = 0; i < draws.length; i++) {
            modules.add(filter.newModule());
        }
        Session session = session(RequestHeader.of("GET", "/"));
        modules.forEach(m -> {
            m.requestHeaderFilter(session);
            m.requestBodyFilter(session, BodyChunk.wrap(new byte[0]), true);
        });
        assertEquals(2, groups.headers.size());
        assertSame(modules.get(1).getClass(), modules.get(3).getClass());
    }

    @Test
    void sampleZeroNeverCopiesEvenOnTheLowestDraw() {
        MirrorFilter filter = MirrorFilter.builder(groups, "shadow").sample(0).random(() -> 0.0).build();
        Session session = session(RequestHeader.of("POST", "/"));
        for (int i = 0; i < 3; i++) {
            HttpModule module = filter.newModule();
            module.requestHeaderFilter(session);
            module.requestBodyFilter(session, BodyChunk.wrap(new byte[] {1, 2}), true);
        }
        // Sending is synchronous here: nothing recorded means nothing was sent.
        assertTrue(groups.headers.isEmpty());
        assertEquals(new MirrorModuleFactory.Stats(0, 0, 0, 0, 0), filter.stats());
    }
}
