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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classification behind the error-log policy: which type a socket failure is, which reason and which level. */
class ClientErrorsTest {

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
        assertEquals(ClientErrors.Reason.CLOSED, ClientErrors.reason(e));
        assertEquals(Level.DEBUG, ClientErrors.clientLevel(e));
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
    void aStatusTheProxyAnsweredForTheClientIsCountedUnderItsReason(int status, ClientErrors.Reason expected) {
        ProxyError e = ProxyError.httpStatus(status, ErrorSource.DOWNSTREAM);
        assertTrue(ClientErrors.isClientError(e));
        assertEquals(expected, ClientErrors.reason(e));
        assertEquals(Level.INFO, ClientErrors.clientLevel(e));
    }

    @Test
    void aSlowClientIsATimeoutAndAMalformedHeaderIsMalformed() {
        assertEquals(ClientErrors.Reason.TIMEOUT,
                ClientErrors.reason(ProxyError.downstream(ErrorType.READ_TIMEDOUT, "body", null)));
        assertEquals(ClientErrors.Reason.TIMEOUT,
                ClientErrors.reason(ProxyError.downstream(ErrorType.WRITE_TIMEDOUT, "send", null)));
        assertEquals(ClientErrors.Reason.MALFORMED,
                ClientErrors.reason(ProxyError.downstream(ErrorType.INVALID_HTTP_HEADER, "h2", null)));
    }

    @Test
    void operatorLevelIsWarningForTheOriginAndErrorOnlyForWhatSomeoneMustFix() {
        assertEquals(Level.WARNING, ClientErrors.operatorLevel(
                Errors.connectFailure(new ConnectException("Connection refused"), "connect")));
        assertEquals(Level.WARNING, ClientErrors.operatorLevel(
                ProxyError.upstream(ErrorType.H1_ERROR, "invalid response", null)));
        assertEquals(Level.WARNING, ClientErrors.operatorLevel(
                ProxyError.of(ErrorType.DEADLINE_EXCEEDED, ErrorSource.INTERNAL, "deadline", null)));
        assertEquals(Level.DEBUG, ClientErrors.operatorLevel(ProxyError.httpStatus(403)), "a filter's decision");
        assertEquals(Level.WARNING, ClientErrors.operatorLevel(ProxyError.httpStatus(503)));
        assertEquals(Level.ERROR, ClientErrors.operatorLevel(
                ProxyError.internal("requestFilter", new IllegalStateException("bug"))));
        assertEquals(Level.ERROR, ClientErrors.operatorLevel(
                ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL, "no peer", null)));
        assertFalse(ClientErrors.isClientError(ProxyError.httpStatus(403)));
    }

    @Test
    void aBugOnTheClientsConnectionIsNotTheClientsErrorButAnError() {
        ProxyError bug = Errors.io(new NullPointerException("handler bug"), ErrorSource.DOWNSTREAM, "client connection");
        assertEquals(ErrorType.INTERNAL, bug.type());
        assertFalse(ClientErrors.isClientError(bug));
        assertEquals(Level.ERROR, ClientErrors.operatorLevel(bug));
    }

    @Test
    void aLineCarriesTheCauseMessageButNeverItsClassOrChain() {
        ProxyError e = Http1DownstreamStream.malformedRequest(
                new Http1ParseException("invalid Content-Length: '3, 3'"));
        assertEquals("H1_ERROR (downstream): malformed request: invalid Content-Length: '3, 3'",
                ClientErrors.describe(e));
        ProxyError version = Http1DownstreamStream.malformedRequest(
                new Http1ParseException(505, "HTTP version not supported: 'HTTP/2.0'"));
        assertSame(ErrorSource.DOWNSTREAM, version.source());
        assertEquals("HTTP_STATUS 505 (downstream): malformed request: HTTP version not supported: 'HTTP/2.0'",
                ClientErrors.describe(version));
    }
}
