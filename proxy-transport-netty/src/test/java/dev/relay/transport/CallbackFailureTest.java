package dev.relay.transport;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorType;
import dev.relay.core.FailToProxy;
import dev.relay.core.HttpHeaders;
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
import dev.relay.core.UpstreamObserver;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every user callback throws, one at a time: each phase of {@link ProxyHttp}, each hook of an
 * {@link HttpModule}, the module factory and the {@link UpstreamObserver}. Whatever throws, the
 * request ends — with a 500 while no response has started, with the connection closed on a
 * response that has (the client can tell it is incomplete), or normally when the callback runs after
 * the response — {@code logging} runs exactly once, nothing hangs and no buffer leaks.
 */
@Timeout(60)
class CallbackFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static TestOrigin origin;

    /** What the client sees when the callback throws. */
    enum Expect { STATUS_500, STATUS_502, RESPONSE_CUT, STATUS_200 }

    /** Each callback, the request that reaches it, and what follows when it throws. */
    enum Callback {
        NEW_CTX("/small", Expect.STATUS_500),
        MODULE_FACTORY("/small", Expect.STATUS_500),
        EARLY_REQUEST_FILTER("/small", Expect.STATUS_500),
        MODULE_REQUEST_HEADER_FILTER("/small", Expect.STATUS_500),
        REQUEST_FILTER("/small", Expect.STATUS_500),
        PROXY_UPSTREAM_FILTER("/small", Expect.STATUS_500),
        UPSTREAM_PEER("/small", Expect.STATUS_500),
        OBSERVER_START("/small", Expect.STATUS_500),
        CONNECTED_TO_UPSTREAM("/small", Expect.STATUS_500),
        FAIL_TO_CONNECT("refused", Expect.STATUS_500),
        UPSTREAM_REQUEST_FILTER("/small", Expect.STATUS_500),
        MODULE_REQUEST_BODY_FILTER("/small", Expect.STATUS_500),
        REQUEST_BODY_FILTER("/small", Expect.STATUS_500),
        ERROR_WHILE_PROXY("/reset-before-response", Expect.STATUS_500),
        UPSTREAM_RESPONSE_FILTER("/small", Expect.STATUS_500),
        RESPONSE_FILTER("/small", Expect.STATUS_500),
        MODULE_RESPONSE_HEADER_FILTER("/small", Expect.STATUS_500),
        UPSTREAM_RESPONSE_BODY_FILTER("/small", Expect.RESPONSE_CUT),
        RESPONSE_BODY_FILTER("/small", Expect.RESPONSE_CUT),
        MODULE_RESPONSE_BODY_FILTER("/small", Expect.RESPONSE_CUT),
        UPSTREAM_RESPONSE_TRAILER_FILTER("/trailers", Expect.RESPONSE_CUT),
        RESPONSE_TRAILER_FILTER("/trailers", Expect.RESPONSE_CUT),
        MODULE_RESPONSE_TRAILER_FILTER("/trailers", Expect.RESPONSE_CUT),
        // The request failed already (connection refused): the fallback is the default answer to that error.
        FAIL_TO_PROXY("refused", Expect.STATUS_502),
        SUPPRESS_ERROR_LOG("refused", Expect.STATUS_502),
        REQUEST_SUMMARY("refused", Expect.STATUS_502),
        // After the response: it stands.
        MODULE_RESPONSE_DONE("/small", Expect.STATUS_200),
        OBSERVER_END("/small", Expect.STATUS_200),
        LOGGING("/small", Expect.STATUS_200);

        final String path;
        final Expect expect;

        Callback(String path, Expect expect) {
            this.path = path;
            this.expect = expect;
        }
    }

    @BeforeAll
    static void startOrigin() {
        origin = TestOrigin.builder().name("o").build().start();
    }

    @AfterAll
    static void stopOrigin() {
        origin.close();
    }

    @ParameterizedTest
    @EnumSource(Callback.class)
    void aThrowingCallbackEndsTheRequestAndLoggingRunsOnce(Callback callback) throws Exception {
        ThrowingProxy proxy = new ThrowingProxy(callback);
        ProxyOptions options = ProxyOptions.builder().maxAttempts(1).upstreamObserver(proxy.observer()).build();
        try (ProxyFixture fixture = new ProxyFixture(proxy, options);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            String path = callback.path.equals("refused") ? "/small" : callback.path;
            client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String answer = client.readToEnd();

            switch (callback.expect) {
                case STATUS_500 -> assertTrue(answer.startsWith("HTTP/1.1 500 "), callback + ": " + answer);
                case STATUS_502 -> assertTrue(answer.startsWith("HTTP/1.1 502 "), callback + ": " + answer);
                case STATUS_200 -> assertTrue(answer.startsWith("HTTP/1.1 200 "), callback + ": " + answer);
                case RESPONSE_CUT -> {
                    assertFalse(answer.startsWith("HTTP/1.1 500 "), callback + ": " + answer);
                    assertTrue(isIncomplete(answer), callback + ": the client must see the response cut: " + answer);
                }
            }
            assertTrue(proxy.thrown.get() > 0, callback + " was never called");
            Await.until(() -> fixture.server.activeRequests() == 0, WAIT, () -> callback + ": request never ended");
            assertEquals(1, proxy.loggingCalls.get(), callback + ": logging calls");
            Logged logged = proxy.logged.poll(5, TimeUnit.SECONDS);
            assertNotNull(logged);
            switch (callback.expect) {
                case STATUS_200 -> assertNull(logged.error, callback + ": " + logged.error);
                case STATUS_502 -> assertEquals(ErrorType.CONNECT_REFUSED, logged.error.type());
                default -> {
                    assertEquals(ErrorType.INTERNAL, logged.error.type(), callback + ": " + logged.error);
                    assertTrue(String.valueOf(logged.error.getCause()).contains("boom in " + callback),
                            callback + ": " + logged.error);
                }
            }
        }
    }

    /** Whether a {@code Connection: close} answer is less than a whole response. */
    private static boolean isIncomplete(String answer) {
        int headEnd = answer.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            return true;
        }
        String head = answer.substring(0, headEnd).toLowerCase();
        String body = answer.substring(headEnd + 4);
        int at = head.indexOf("content-length: ");
        if (at >= 0) {
            int length = Integer.parseInt(head.substring(at + 16).split("\r\n")[0].trim());
            return body.length() < length;
        }
        // Chunked: a whole body ends with the last chunk and an empty line.
        return !body.contains("0\r\n") || !body.endsWith("\r\n\r\n");
    }

    record Logged(int status, ProxyError error) {}

    /** A proxy whose {@code failing} callback throws; every other callback behaves. */
    static final class ThrowingProxy implements ProxyHttp<Object> {
        final Callback failing;
        final AtomicInteger thrown = new AtomicInteger();
        final AtomicInteger loggingCalls = new AtomicInteger();
        final BlockingQueue<Logged> logged = new LinkedBlockingQueue<>();

        ThrowingProxy(Callback failing) {
            this.failing = failing;
        }

        void maybeThrow(Callback at) {
            if (failing == at) {
                thrown.incrementAndGet();
                throw new IllegalStateException("boom in " + at);
            }
        }

        UpstreamObserver observer() {
            return new UpstreamObserver() {
                @Override
                public void onAttemptStart(HttpPeer peer) {
                    maybeThrow(Callback.OBSERVER_START);
                }

                @Override
                public void onAttemptEnd(HttpPeer peer, AttemptOutcome outcome, long durationNanos) {
                    maybeThrow(Callback.OBSERVER_END);
                }
            };
        }

        @Override
        public Object newCtx() {
            maybeThrow(Callback.NEW_CTX);
            return new Object();
        }

        @Override
        public void initDownstreamModules(HttpModules modules) {
            modules.add(new HttpModuleFactory() {
                @Override
                public String name() {
                    return "throwing";
                }

                @Override
                public HttpModule newModule() {
                    maybeThrow(Callback.MODULE_FACTORY);
                    return new HttpModule() {
                        @Override
                        public CompletionStage<Void> requestHeaderFilter(Session session) {
                            maybeThrow(Callback.MODULE_REQUEST_HEADER_FILTER);
                            return Stages.done();
                        }

                        @Override
                        public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
                            maybeThrow(Callback.MODULE_REQUEST_BODY_FILTER);
                        }

                        @Override
                        public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
                            if (response.status() == 200) {
                                maybeThrow(Callback.MODULE_RESPONSE_HEADER_FILTER);
                            }
                        }

                        @Override
                        public void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
                            maybeThrow(Callback.MODULE_RESPONSE_BODY_FILTER);
                        }

                        @Override
                        public byte[] responseTrailerFilter(Session session, HttpHeaders trailers) {
                            maybeThrow(Callback.MODULE_RESPONSE_TRAILER_FILTER);
                            return null;
                        }

                        @Override
                        public void responseDone(Session session) {
                            maybeThrow(Callback.MODULE_RESPONSE_DONE);
                        }
                    };
                }
            });
        }

        @Override
        public CompletionStage<Void> earlyRequestFilter(Session session, Object ctx) {
            maybeThrow(Callback.EARLY_REQUEST_FILTER);
            return Stages.done();
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Object ctx) {
            maybeThrow(Callback.REQUEST_FILTER);
            return Stages.completedFalse();
        }

        @Override
        public CompletionStage<Boolean> proxyUpstreamFilter(Session session, Object ctx) {
            maybeThrow(Callback.PROXY_UPSTREAM_FILTER);
            return Stages.completedTrue();
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Object ctx) {
            maybeThrow(Callback.UPSTREAM_PEER);
            boolean refused = failing.path.equals("refused");
            String address = refused ? "127.0.0.1:" + TestOrigin.closedPort() : origin.address();
            // Completed on another thread: the engine resumes from a whenComplete, where an exception
            // thrown by what follows (the observer's onAttemptStart) once got lost and hung the request.
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> HttpPeer.of(address, false, ""));
        }

        @Override
        public void connectedToUpstream(Session session, boolean reused, HttpPeer peer, Object ctx) {
            maybeThrow(Callback.CONNECTED_TO_UPSTREAM);
        }

        @Override
        public ProxyError failToConnect(Session session, HttpPeer peer, Object ctx, ProxyError error) {
            maybeThrow(Callback.FAIL_TO_CONNECT);
            return error;
        }

        @Override
        public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, Object ctx) {
            maybeThrow(Callback.UPSTREAM_REQUEST_FILTER);
            return Stages.done();
        }

        @Override
        public CompletionStage<Void> requestBodyFilter(Session session, BodyChunk body, boolean endOfStream, Object ctx) {
            maybeThrow(Callback.REQUEST_BODY_FILTER);
            return Stages.done();
        }

        @Override
        public void upstreamResponseFilter(Session session, ResponseHeader upstreamResponse, Object ctx) {
            maybeThrow(Callback.UPSTREAM_RESPONSE_FILTER);
        }

        @Override
        public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, Object ctx) {
            maybeThrow(Callback.RESPONSE_FILTER);
            return Stages.done();
        }

        @Override
        public Duration upstreamResponseBodyFilter(Session session, BodyChunk body, boolean endOfStream, Object ctx) {
            maybeThrow(Callback.UPSTREAM_RESPONSE_BODY_FILTER);
            return null;
        }

        @Override
        public Duration responseBodyFilter(Session session, BodyChunk body, boolean endOfStream, Object ctx) {
            maybeThrow(Callback.RESPONSE_BODY_FILTER);
            return null;
        }

        @Override
        public void upstreamResponseTrailerFilter(Session session, HttpHeaders trailers, Object ctx) {
            maybeThrow(Callback.UPSTREAM_RESPONSE_TRAILER_FILTER);
        }

        @Override
        public void responseTrailerFilter(Session session, HttpHeaders trailers, Object ctx) {
            maybeThrow(Callback.RESPONSE_TRAILER_FILTER);
        }

        @Override
        public ProxyError errorWhileProxy(HttpPeer peer, Session session, ProxyError error, Object ctx,
                                          boolean upstreamReused) {
            maybeThrow(Callback.ERROR_WHILE_PROXY);
            return ProxyHttp.super.errorWhileProxy(peer, session, error, ctx, upstreamReused);
        }

        @Override
        public CompletionStage<FailToProxy> failToProxy(Session session, ProxyError error, Object ctx) {
            maybeThrow(Callback.FAIL_TO_PROXY);
            return ProxyHttp.super.failToProxy(session, error, ctx);
        }

        @Override
        public boolean suppressErrorLog(Session session, Object ctx, ProxyError error) {
            maybeThrow(Callback.SUPPRESS_ERROR_LOG);
            return false;
        }

        @Override
        public String requestSummary(Session session, Object ctx) {
            maybeThrow(Callback.REQUEST_SUMMARY);
            return ProxyHttp.super.requestSummary(session, ctx);
        }

        @Override
        public CompletionStage<Void> logging(Session session, ProxyError error, Object ctx) {
            loggingCalls.incrementAndGet();
            logged.add(new Logged(session.responseStatus(), error));
            maybeThrow(Callback.LOGGING);
            return Stages.done();
        }
    }
}
