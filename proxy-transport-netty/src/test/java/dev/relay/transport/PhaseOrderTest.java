package dev.relay.transport;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorType;
import dev.relay.core.FailToProxy;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The order in which the engine calls the phases, and what failures do to it. */
@Timeout(60)
class PhaseOrderTest {
    private static TestOrigin a;
    private static TestOrigin b;

    @BeforeAll
    static void start() {
        a = TestOrigin.builder().name("a").build().start();
        b = TestOrigin.builder().name("b").build().start();
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
    }

    /** Records every phase call of one request in its context; hands the finished list to the test. */
    static class RecordingProxy implements ProxyHttp<List<String>> {
        final BlockingQueue<List<String>> finished = new LinkedBlockingQueue<>();
        final String upstream;
        final boolean asyncEverywhere;

        RecordingProxy(String upstream, boolean asyncEverywhere) {
            this.upstream = upstream;
            this.asyncEverywhere = asyncEverywhere;
        }

        private <T> CompletionStage<T> answer(T value) {
            // The async variant completes on a foreign thread: the engine must come back to its loop.
            return asyncEverywhere ? CompletableFuture.supplyAsync(() -> value) : CompletableFuture.completedFuture(value);
        }

        @Override
        public List<String> newCtx() {
            List<String> phases = new ArrayList<>();
            phases.add("newCtx");
            return phases;
        }

        @Override
        public void initDownstreamModules(HttpModules modules) {
            modules.add(new HttpModuleFactory() {
                @Override
                public String name() {
                    return "recording";
                }

                @Override
                public HttpModule newModule() {
                    return new HttpModule() {
                        @Override
                        public CompletionStage<Void> requestHeaderFilter(Session session) {
                            session.requestHeader().insertHeader("X-Module", "1");
                            return Stages.done();
                        }
                    };
                }
            });
        }

        @Override
        public CompletionStage<Void> earlyRequestFilter(Session session, List<String> ctx) {
            ctx.add("earlyRequestFilter");
            return answer(null);
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, List<String> ctx) {
            ctx.add("requestFilter:" + session.requestHeader().headers().get("X-Module"));
            return answer(false);
        }

        @Override
        public CompletionStage<Boolean> proxyUpstreamFilter(Session session, List<String> ctx) {
            ctx.add("proxyUpstreamFilter");
            return answer(true);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, List<String> ctx) {
            ctx.add("upstreamPeer");
            return answer(HttpPeer.plain(upstream));
        }

        @Override
        public void connectedToUpstream(Session session, boolean reused, HttpPeer peer, List<String> ctx) {
            ctx.add("connectedToUpstream");
        }

        @Override
        public ProxyError failToConnect(Session session, HttpPeer peer, List<String> ctx, ProxyError error) {
            ctx.add("failToConnect");
            return error.setRetry(false);
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest,
                                                           List<String> ctx) {
            ctx.add("upstreamRequestFilter");
            return answer(null);
        }

        @Override
        public CompletionStage<Void> requestBodyFilter(Session session, BodyChunk body, boolean endOfStream,
                                                       List<String> ctx) {
            ctx.add("requestBodyFilter:" + endOfStream);
            return answer(null);
        }

        @Override
        public void upstreamResponseFilter(Session session, ResponseHeader upstreamResponse, List<String> ctx) {
            ctx.add("upstreamResponseFilter");
        }

        @Override
        public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, List<String> ctx) {
            ctx.add("responseFilter");
            upstreamResponse.insertHeader("X-Phase", "responseFilter");
            return answer(null);
        }

        @Override
        public Duration upstreamResponseBodyFilter(Session session, BodyChunk body, boolean endOfStream,
                                                   List<String> ctx) {
            if (endOfStream) {
                ctx.add("upstreamResponseBodyFilter:end");
            }
            return null;
        }

        @Override
        public Duration responseBodyFilter(Session session, BodyChunk body, boolean endOfStream, List<String> ctx) {
            if (endOfStream) {
                ctx.add("responseBodyFilter:end");
            }
            return null;
        }

        @Override
        public ProxyError errorWhileProxy(HttpPeer peer, Session session, ProxyError error, List<String> ctx,
                                          boolean upstreamReused) {
            ctx.add("errorWhileProxy");
            return ProxyHttp.super.errorWhileProxy(peer, session, error, ctx, upstreamReused);
        }

        @Override
        public CompletionStage<FailToProxy> failToProxy(Session session, ProxyError error, List<String> ctx) {
            ctx.add("failToProxy");
            return ProxyHttp.super.failToProxy(session, error, ctx);
        }

        @Override
        public CompletionStage<Void> logging(Session session, ProxyError error, List<String> ctx) {
            ctx.add("logging" + (error == null ? "" : ":" + error.type()));
            finished.add(ctx);
            return Stages.done();
        }
    }

    private static List<String> run(RecordingProxy proxy, String path, int expectedStatus) throws Exception {
        try (ProxyFixture f = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(1).build())) {
            HttpResponse<String> response = f.client.send(HttpRequest.newBuilder(f.uri(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(expectedStatus, response.statusCode());
            List<String> phases = proxy.finished.poll(5, TimeUnit.SECONDS);
            assertNotNull(phases, "logging was not called");
            assertEquals(null, proxy.finished.poll(100, TimeUnit.MILLISECONDS), "logging called twice");
            return phases;
        }
    }

    private static final List<String> SUCCESS = List.of("newCtx", "earlyRequestFilter", "requestFilter:1",
            "proxyUpstreamFilter", "upstreamPeer", "connectedToUpstream", "upstreamRequestFilter",
            "requestBodyFilter:true", "upstreamResponseFilter", "responseFilter", "upstreamResponseBodyFilter:end",
            "responseBodyFilter:end", "logging");

    @Test
    void callsEveryPhaseInPingorasOrder() throws Exception {
        assertEquals(SUCCESS, run(new RecordingProxy(a.address(), false), "/small", 200));
    }

    @Test
    void asyncPhasesCompletedOnOtherThreadsKeepTheOrder() throws Exception {
        assertEquals(SUCCESS, run(new RecordingProxy(a.address(), true), "/small", 200));
    }

    @Test
    void connectFailureGoesThroughFailToConnectAndFailToProxy() throws Exception {
        List<String> phases = run(new RecordingProxy("127.0.0.1:" + TestOrigin.closedPort(), false), "/", 502);
        assertEquals(List.of("newCtx", "earlyRequestFilter", "requestFilter:1", "proxyUpstreamFilter", "upstreamPeer",
                "failToConnect", "failToProxy", "logging:CONNECT_REFUSED"), phases);
    }

    @Test
    void upstreamClosingMidResponseGoesThroughErrorWhileProxy() throws Exception {
        RecordingProxy proxy = new RecordingProxy(a.address(), false);
        try (ProxyFixture f = new ProxyFixture(proxy, ProxyOptions.builder().maxAttempts(1).build())) {
            try {
                f.client.send(HttpRequest.newBuilder(f.uri("/close-after-headers")).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException expected) {
                // The response started, so the client sees its connection end early.
            }
            List<String> phases = proxy.finished.poll(5, TimeUnit.SECONDS);
            assertNotNull(phases);
            assertTrue(phases.contains("errorWhileProxy"), phases.toString());
            assertEquals("logging:CONNECTION_CLOSED", phases.get(phases.size() - 1));
        }
    }

    @Test
    void aThrowingFilterBecomesA500AndTheConnectionStaysSane() throws Exception {
        RecordingProxy throwing = new RecordingProxy(a.address(), false) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, List<String> ctx) {
                if (session.requestHeader().uri().equals("/boom")) {
                    throw new IllegalStateException("filter bug");
                }
                return super.requestFilter(session, ctx);
            }
        };
        List<String> phases = run(throwing, "/boom", 500);
        assertEquals("logging:INTERNAL", phases.get(phases.size() - 1));
    }

    @Test
    void roundRobinAlternatesBetweenTwoOrigins() throws Exception {
        LoadBalancer<RoundRobin> lb = LoadBalancer.tryFromIterable(RoundRobin.create(), a.address(), b.address());
        ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(session ->
                HttpPeer.plain(lb.select(LoadBalancer.NO_KEY, 256).orElseThrow()));
        try (ProxyFixture f = new ProxyFixture(proxy)) {
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                seen.add(f.client.send(HttpRequest.newBuilder(f.uri("/")).build(), HttpResponse.BodyHandlers.ofString())
                        .headers().firstValue("X-Origin").orElseThrow());
            }
            // The backend set is ordered by address (like Pingora's BTreeSet), so either origin may come first.
            String first = seen.get(0);
            String second = first.equals("a") ? "b" : "a";
            assertEquals(List.of(first, second, first, second, first, second), seen);
        }
    }

    @Test
    void theErrorTypeOfAProxyErrorThrownByAFilterIsKept() throws Exception {
        RecordingProxy denying = new RecordingProxy(a.address(), false) {
            @Override
            public CompletionStage<Boolean> requestFilter(Session session, List<String> ctx) {
                return CompletableFuture.failedFuture(ProxyError.httpStatus(429));
            }
        };
        List<String> phases = run(denying, "/", 429);
        assertEquals("logging:" + ErrorType.HTTP_STATUS, phases.get(phases.size() - 1));
    }
}
