package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.ProxyError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classification behind the error-log policy: which type a socket failure is, which reason and which level. */
class ErrorLogTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "writevAddresses(..) failed: Broken pipe | WRITE_ERROR",
            "writeAddress(..) failed: Broken pipe | WRITE_ERROR",
            "sendfile(..) failed: Broken pipe | WRITE_ERROR",
            "Broken pipe | WRITE_ERROR",
            "writevAddresses(..) failed: Connection reset by peer | CONNECTION_CLOSED",
            "recvAddress(..) failed: Connection reset by peer | CONNECTION_CLOSED",
            "Connection reset | CONNECTION_CLOSED",
            "read(..) failed: Connection timed out | READ_ERROR",
    })
    void aSocketFailureSaysWhetherItWasAReadAWriteOrAReset(String message, ErrorType expected) {
        ProxyError e = Errors.io(new IOException(message), ErrorSource.DOWNSTREAM, "client connection");
        assertEquals(expected, e.type());
        assertEquals(ErrorSource.DOWNSTREAM, e.source());
        assertEquals(ErrorLog.Reason.CLOSED, ErrorLog.reason(e));
        assertEquals(Level.DEBUG, ErrorLog.clientLevel(e));
    }

    @Test
    void aFailedWriteToAPooledUpstreamConnectionIsStillWorthASecondTryOnAFreshOne() {
        ProxyError e = Errors.io(new IOException("writevAddresses(..) failed: Broken pipe"), ErrorSource.UPSTREAM,
                "writing the request");
        assertEquals(ErrorType.WRITE_ERROR, e.type());
        assertEquals(dev.relay.core.RetryType.REUSED_ONLY, e.retryType());
    }

    @Test
    void aClosedChannelIsAClosedConnection() {
        assertEquals(ErrorType.CONNECTION_CLOSED,
                Errors.io(new ClosedChannelException(), ErrorSource.DOWNSTREAM, "client connection").type());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "400, MALFORMED", "403, MALFORMED", "405, METHOD_NOT_ALLOWED", "408, TIMEOUT", "413, TOO_LARGE",
            "414, TOO_LARGE", "431, TOO_LARGE", "505, UNSUPPORTED_VERSION",
    })
    void aStatusTheProxyAnsweredForTheClientIsCountedUnderItsReason(int status, ErrorLog.Reason expected) {
        ProxyError e = ProxyError.httpStatus(status, ErrorSource.DOWNSTREAM);
        assertTrue(ErrorLog.isClientError(e));
        assertEquals(expected, ErrorLog.reason(e));
        assertEquals(Level.INFO, ErrorLog.clientLevel(e));
    }

    @Test
    void aSlowClientIsATimeoutAndAMalformedHeaderIsMalformed() {
        assertEquals(ErrorLog.Reason.TIMEOUT,
                ErrorLog.reason(ProxyError.downstream(ErrorType.READ_TIMEDOUT, "body", null)));
        assertEquals(ErrorLog.Reason.TIMEOUT,
                ErrorLog.reason(ProxyError.downstream(ErrorType.WRITE_TIMEDOUT, "send", null)));
        assertEquals(ErrorLog.Reason.MALFORMED,
                ErrorLog.reason(ProxyError.downstream(ErrorType.INVALID_HTTP_HEADER, "h2", null)));
    }

    @Test
    void operatorLevelIsWarningForTheOriginAndErrorOnlyForWhatSomeoneMustFix() {
        assertEquals(Level.WARNING, ErrorLog.operatorLevel(
                Errors.connectFailure(new ConnectException("Connection refused"), "connect")));
        assertEquals(Level.WARNING, ErrorLog.operatorLevel(
                ProxyError.upstream(ErrorType.H1_ERROR, "invalid response", null)));
        assertEquals(Level.WARNING, ErrorLog.operatorLevel(
                ProxyError.of(ErrorType.DEADLINE_EXCEEDED, ErrorSource.INTERNAL, "deadline", null)));
        assertEquals(Level.DEBUG, ErrorLog.operatorLevel(ProxyError.httpStatus(403)), "a filter's decision");
        assertEquals(Level.WARNING, ErrorLog.operatorLevel(ProxyError.httpStatus(503)));
        assertEquals(Level.WARNING, ErrorLog.operatorLevel(
                ProxyError.of(ErrorType.OVERLOADED, ErrorSource.INTERNAL, "shed", null)), "rate-limited, never a flood of ERRORs");
        assertEquals(Level.ERROR, ErrorLog.operatorLevel(
                ProxyError.internal("requestFilter", new IllegalStateException("bug"))));
        assertEquals(Level.ERROR, ErrorLog.operatorLevel(
                ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "no peer", null)));
        assertFalse(ErrorLog.isClientError(ProxyError.httpStatus(403)));
    }

    @Test
    void theRequestPoliciesRefusalsAreTheClientsErrors() {
        ProxyError trace = RequestPolicies.refuseMethod("TRACE", dev.relay.transport.ProxyOptions.defaults());
        assertTrue(ErrorLog.isClientError(trace));
        assertEquals(ErrorLog.Reason.METHOD_NOT_ALLOWED, ErrorLog.reason(trace));
        ProxyError underscore = RequestPolicies.applyUnderscorePolicy(
                new io.netty.handler.codec.http.DefaultHttpHeaders().add("X_A", "b"),
                dev.relay.transport.ProxyOptions.builder()
                        .underscoresInHeaders(dev.relay.transport.UnderscoresInHeaders.REJECT).build());
        assertTrue(ErrorLog.isClientError(underscore));
        assertEquals(ErrorLog.Reason.MALFORMED, ErrorLog.reason(underscore));
    }

    @Test
    void theLogRateLimitRefillsALineEveryTenthOfASecondAndHoldsAtMostOneSecondsWorth() {
        ManualEngineClock clock = new ManualEngineClock();
        LogRateLimit limit = new LogRateLimit(clock, 10);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, limit.permit(), "line " + i + " of a full bucket");
        }
        assertEquals(-1, limit.permit());
        assertEquals(-1, limit.permit());

        clock.advance(Duration.ofMillis(100));
        assertEquals(2, limit.permit(), "one more line, after two held back");
        assertEquals(-1, limit.permit());

        clock.advance(Duration.ofHours(1));
        assertEquals(1, limit.permit());
        for (int i = 1; i < 10; i++) {
            assertEquals(0, limit.permit(), "a long pause fills the bucket, no more: line " + i);
        }
        assertEquals(-1, limit.permit());
    }

    @Test
    void aBugOnTheClientsConnectionIsNotTheClientsErrorButAnError() {
        ProxyError bug = Errors.io(new NullPointerException("handler bug"), ErrorSource.DOWNSTREAM, "client connection");
        assertEquals(ErrorType.INTERNAL, bug.type());
        assertFalse(ErrorLog.isClientError(bug));
        assertEquals(Level.ERROR, ErrorLog.operatorLevel(bug));
    }

    @Test
    void aLineCarriesTheCauseMessageButNeverItsClassOrChain() {
        ProxyError e = Http1DownstreamStream.malformedRequest(
                new Http1ParseException("invalid Content-Length: '3, 3'"));
        assertEquals("H1_ERROR (downstream): malformed request: invalid Content-Length: '3, 3'",
                ErrorLog.describe(e));
        ProxyError version = Http1DownstreamStream.malformedRequest(
                new Http1ParseException(505, "HTTP version not supported: 'HTTP/2.0'"));
        assertSame(ErrorSource.DOWNSTREAM, version.source());
        assertEquals("HTTP_STATUS 505 (downstream): malformed request: HTTP version not supported: 'HTTP/2.0'",
                ErrorLog.describe(version));
    }
}
