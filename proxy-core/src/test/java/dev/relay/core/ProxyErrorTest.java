package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ProxyErrorTest {
    private static final Set<ErrorType> CONNECT_PHASE = EnumSet.of(ErrorType.CONNECT_TIMEDOUT,
            ErrorType.CONNECT_REFUSED, ErrorType.CONNECT_NO_ROUTE, ErrorType.CONNECT_ERROR,
            ErrorType.TLS_HANDSHAKE_FAILURE, ErrorType.TLS_HANDSHAKE_TIMEDOUT, ErrorType.INVALID_CERT);
    private static final Set<ErrorType> TIMERS = EnumSet.of(ErrorType.CONNECT_TIMEDOUT,
            ErrorType.TLS_HANDSHAKE_TIMEDOUT, ErrorType.READ_TIMEDOUT, ErrorType.WRITE_TIMEDOUT,
            ErrorType.DEADLINE_EXCEEDED);
    /** Client-side failures after which there is nobody (or no way) to answer. */
    private static final Set<ErrorType> CLIENT_GONE = EnumSet.of(ErrorType.READ_ERROR, ErrorType.WRITE_ERROR,
            ErrorType.CONNECTION_CLOSED, ErrorType.WRITE_TIMEDOUT);

    // ---- the error-to-status table (ProxyHttp#failToProxy's default) -----------------------------

    @ParameterizedTest
    @EnumSource(value = ErrorType.class, mode = EnumSource.Mode.EXCLUDE, names = "HTTP_STATUS")
    void upstreamErrorsAnswerGatewayTimeoutForTimersAndBadGatewayOtherwise(ErrorType type) {
        int expected = TIMERS.contains(type) ? 504 : 502;

        assertEquals(expected, ProxyError.upstream(type, "ctx", null).defaultStatus(), type.name());
    }

    @ParameterizedTest
    @EnumSource(value = ErrorType.class, mode = EnumSource.Mode.EXCLUDE, names = "HTTP_STATUS")
    void downstreamErrorsAnswerRequestTimeoutNothingOrBadRequest(ErrorType type) {
        int expected = type == ErrorType.READ_TIMEDOUT ? 408 : CLIENT_GONE.contains(type) ? 0 : 400;

        assertEquals(expected, ProxyError.downstream(type, "ctx", null).defaultStatus(), type.name());
    }

    @ParameterizedTest
    @EnumSource(value = ErrorType.class, mode = EnumSource.Mode.EXCLUDE, names = "HTTP_STATUS")
    void internalErrorsAnswerServerErrorExceptNoPeerPassedDeadlineAndOverload(ErrorType type) {
        int expected = switch (type) {
            case NO_PEER -> 502;
            case DEADLINE_EXCEEDED -> 504;
            case OVERLOADED -> 503;
            default -> 500;
        };

        assertEquals(expected, ProxyError.of(type, ErrorSource.INTERNAL, "ctx", null).defaultStatus(), type.name());
    }

    @Test
    void connectRefusedAndConnectTimeoutUpstreamAreBadGatewayAndGatewayTimeout() {
        assertEquals(502, ProxyError.upstream(ErrorType.CONNECT_REFUSED, null, null).defaultStatus());
        assertEquals(504, ProxyError.upstream(ErrorType.CONNECT_TIMEDOUT, null, null).defaultStatus());
        assertEquals(504, ProxyError.upstream(ErrorType.READ_TIMEDOUT, null, null).defaultStatus());
    }

    @Test
    void aClientTooSlowToSendItsBodyGetsRequestTimeoutAndAClosedClientGetsNoResponse() {
        assertEquals(408, ProxyError.downstream(ErrorType.READ_TIMEDOUT, null, null).defaultStatus());
        assertEquals(0, ProxyError.downstream(ErrorType.CONNECTION_CLOSED, null, null).defaultStatus());
        assertEquals(400, ProxyError.downstream(ErrorType.H1_ERROR, null, null).defaultStatus());
    }

    @Test
    void internalFactoryIsAServerError() {
        ProxyError e = ProxyError.internal("filter", new IllegalStateException("bug"));

        assertEquals(ErrorType.INTERNAL, e.type());
        assertEquals(ErrorSource.INTERNAL, e.source());
        assertEquals(500, e.defaultStatus());
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 204, 403, 429, 503, 999})
    void httpStatusErrorsAnswerTheirOwnStatus(int status) {
        ProxyError e = ProxyError.httpStatus(status);

        assertEquals(status, e.defaultStatus());
        assertEquals(status, e.httpStatus());
        assertEquals(ErrorType.HTTP_STATUS, e.type());
        assertEquals(ErrorSource.INTERNAL, e.source());
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 405, 414, 431, 505})
    void aStatusAnsweredForTheClientsFaultBlamesTheDownstream(int status) {
        ProxyError e = ProxyError.httpStatus(status, ErrorSource.DOWNSTREAM).setContext("request line");

        assertEquals(status, e.defaultStatus());
        assertEquals(ErrorSource.DOWNSTREAM, e.source());
        assertEquals("HTTP_STATUS " + status + " (downstream) context: request line", e.getMessage());
        assertThrows(NullPointerException.class, () -> ProxyError.httpStatus(status, null));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 99, 1000})
    void httpStatusRejectsAnImpossibleStatus(int status) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyError.httpStatus(status));

        assertEquals("status: " + status + " (expected: 100..999)", e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(ErrorType.class)
    void onlyHttpStatusErrorsCarryAStatus(ErrorType type) {
        assertEquals(0, ProxyError.upstream(type, null, null).httpStatus());
    }

    // ---- classification and retry flags ---------------------------------------------------------

    @ParameterizedTest
    @EnumSource(ErrorType.class)
    void connectPhaseAndTimerClassification(ErrorType type) {
        assertEquals(CONNECT_PHASE.contains(type), type.isConnectError(), "isConnectError " + type);
        assertEquals(TIMERS.contains(type), type.isTimeout(), "isTimeout " + type);
    }

    @ParameterizedTest
    @EnumSource(ErrorType.class)
    void onlyConnectPhaseErrorsAreRetryableByDefault(ErrorType type) {
        for (ErrorSource source : ErrorSource.values()) {
            ProxyError e = ProxyError.of(type, source, null, null);
            RetryType expected = CONNECT_PHASE.contains(type) ? RetryType.YES : RetryType.NO;

            assertEquals(expected, e.retryType(), type + " " + source);
            assertEquals(expected == RetryType.YES, e.isRetry(), type + " " + source);
        }
    }

    @Test
    void httpStatusErrorsAreNotRetryable() {
        assertEquals(RetryType.NO, ProxyError.httpStatus(503).retryType());
    }

    @Test
    void setRetryOverridesTheDefaultBothWays() {
        ProxyError readError = ProxyError.upstream(ErrorType.READ_ERROR, null, null);
        ProxyError refused = ProxyError.upstream(ErrorType.CONNECT_REFUSED, null, null);

        assertSame(readError, readError.setRetry(true));
        assertTrue(readError.isRetry());
        assertEquals(RetryType.YES, readError.retryType());
        refused.setRetry(false);
        assertFalse(refused.isRetry());
        assertEquals(RetryType.NO, refused.retryType());
    }

    @Test
    void reusedOnlyIsNotAnUnconditionalRetry() {
        ProxyError e = ProxyError.upstream(ErrorType.CONNECTION_CLOSED, null, null)
                .setRetryType(RetryType.REUSED_ONLY);

        assertEquals(RetryType.REUSED_ONLY, e.retryType());
        assertFalse(e.isRetry());
    }

    @Test
    void setRetryTypeRejectsNull() {
        ProxyError e = ProxyError.upstream(ErrorType.READ_ERROR, null, null);

        assertThrows(NullPointerException.class, () -> e.setRetryType(null));
        assertEquals(RetryType.NO, e.retryType());
    }

    @Test
    void factoriesRejectAMissingTypeOrSource() {
        assertThrows(NullPointerException.class, () -> ProxyError.of(null, ErrorSource.UPSTREAM, null, null));
        assertThrows(NullPointerException.class, () -> ProxyError.of(ErrorType.READ_ERROR, null, null, null));
    }

    @Test
    void factoriesKeepSourceContextAndCause() {
        IOException cause = new IOException("reset");
        ProxyError up = ProxyError.upstream(ErrorType.READ_ERROR, "reading the response", cause);
        ProxyError down = ProxyError.downstream(ErrorType.WRITE_ERROR, "writing", null);

        assertEquals(ErrorSource.UPSTREAM, up.source());
        assertEquals(ErrorType.READ_ERROR, up.type());
        assertEquals("reading the response", up.context());
        assertSame(cause, up.getCause());
        assertEquals(ErrorSource.DOWNSTREAM, down.source());
        assertNull(down.getCause());
        assertNull(down.peer());
    }

    @Test
    void contextAndPeerCanBeRecordedLater() {
        HttpPeer peer = HttpPeer.of("127.0.0.1:8080", false, "");
        ProxyError e = ProxyError.upstream(ErrorType.CONNECT_REFUSED, null, null);

        assertSame(e, e.setContext("connecting"));
        assertSame(e, e.setPeer(peer));
        assertEquals("connecting", e.context());
        assertSame(peer, e.peer());
    }

    @Test
    void hasNoStackTraceOfItsOwn() {
        assertEquals(0, ProxyError.internal("x", null).getStackTrace().length);
    }

    @Test
    void messageNamesTypeSourceContextPeerAndCause() {
        ProxyError e = ProxyError.upstream(ErrorType.CONNECT_REFUSED, "connecting", new IOException("refused"))
                .setPeer(HttpPeer.of("127.0.0.1:8080", false, ""));

        assertEquals("CONNECT_REFUSED (upstream) context: connecting peer: http://127.0.0.1:8080"
                + " cause: java.io.IOException: refused", e.getMessage());
        assertEquals("HTTP_STATUS 403 (internal)", ProxyError.httpStatus(403).getMessage());
    }

    // ---- from(Throwable, context) ----------------------------------------------------------------

    @Test
    void fromReturnsAProxyErrorItself() {
        ProxyError e = ProxyError.upstream(ErrorType.READ_TIMEDOUT, "reading", null);

        assertSame(e, ProxyError.from(e, "other context"));
        assertEquals("reading", e.context());
    }

    @Test
    void fromUnwrapsCompletionAndExecutionExceptions() {
        ProxyError e = ProxyError.upstream(ErrorType.CONNECT_REFUSED, null, null);

        assertSame(e, ProxyError.from(new CompletionException(e), "ctx"));
        assertSame(e, ProxyError.from(new ExecutionException(e), "ctx"));
        assertSame(e, ProxyError.from(new CompletionException(new ExecutionException(e)), "ctx"));
    }

    @Test
    void fromWrapsAnyOtherExceptionAsInternalWithTheContext() {
        IllegalStateException bug = new IllegalStateException("bug");

        ProxyError e = ProxyError.from(bug, "requestFilter");

        assertEquals(ErrorType.INTERNAL, e.type());
        assertEquals(ErrorSource.INTERNAL, e.source());
        assertEquals("requestFilter", e.context());
        assertSame(bug, e.getCause());
        assertEquals(500, e.defaultStatus());
        assertFalse(e.isRetry());
    }

    @Test
    void fromWrapsTheUnwrappedCauseOfACompletionException() {
        IllegalStateException bug = new IllegalStateException("bug");

        assertSame(bug, ProxyError.from(new CompletionException(bug), "ctx").getCause());
    }

    @Test
    void fromKeepsACompletionExceptionWithoutCauseAsTheCause() {
        CompletionException empty = new CompletionException("no cause", null);

        assertSame(empty, ProxyError.from(empty, "ctx").getCause());
    }

    @Test
    void fromDoesNotLookInsideOtherWrappers() {
        ProxyError inner = ProxyError.upstream(ErrorType.READ_ERROR, null, null);
        RuntimeException wrapper = new RuntimeException(inner);

        ProxyError e = ProxyError.from(wrapper, "ctx");

        assertEquals(ErrorType.INTERNAL, e.type());
        assertSame(wrapper, e.getCause());
    }
}
