package dev.relay.transport.internal;

import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.RetryType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/1.1 upstream stream on an {@link EmbeddedChannel} with the real decoder and encoder: what
 * it writes, how it turns decoded responses into listener events (interim responses, HEAD, trailers,
 * malformed heads, early closes), which fields it strips, and when its connection goes back to the pool.
 */
@Timeout(10)
class Http1UpstreamStreamTest {
    private static final HttpPeer PEER = HttpPeer.of("127.0.0.1:8080", false, "");

    private EmbeddedChannel channel;
    private UpstreamConnectionPool pool;
    private UpstreamConnection connection;
    private Http1UpstreamStream stream;
    private final Recorder events = new Recorder();

    @BeforeEach
    void connect() {
        channel = new EmbeddedChannel();
        pool = new UpstreamConnectionPool(16, java.time.Duration.ofSeconds(60));
        Http1ResponseDecoder decoder = new Http1ResponseDecoder(8192, 8192, 8192);
        connection = new UpstreamConnection(channel, PEER.reuseKey(), pool, decoder, EngineClock.system());
        channel.pipeline().addLast("decoder", decoder)
                .addLast("encoder", new HttpRequestEncoder())
                .addLast("proxy", connection);
        stream = new Http1UpstreamStream(connection, PEER, pool);
        stream.start(events);
    }

    @AfterEach
    void close() {
        events.releaseAll();
        channel.finishAndReleaseAll();
    }

    private static RequestHeader clientRequest(String method, String... fields) {
        io.netty.handler.codec.http.HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        for (int i = 0; i < fields.length; i += 2) {
            headers.add(fields[i], fields[i + 1]);
        }
        return new NettyRequestHeader(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), "/p",
                headers));
    }

    private void send(String method, String... fields) {
        RequestHeader upstream = stream.newRequestHeader(clientRequest(method, fields), PEER, false, -1, false);
        stream.writeHeader(upstream);
        stream.writeBody(Unpooled.EMPTY_BUFFER, true, null);
        stream.flush();
    }

    private String written() {
        return OutboundText.drain(channel);
    }

    private void receive(String response) {
        channel.writeInbound(Unpooled.copiedBuffer(response, StandardCharsets.ISO_8859_1));
    }

    @Test
    void copiesTheClientRequestWithoutConnectionSpecificFieldsAndAddsHost() {
        RequestHeader upstream = stream.newRequestHeader(clientRequest("POST",
                "Connection", "keep-alive, X-Hop", "X-Hop", "1", "Keep-Alive", "timeout=5", "TE", "trailers",
                "Upgrade", "websocket", "Proxy-Connection", "keep-alive", "Expect", "100-continue",
                "Transfer-Encoding", "chunked", "X-Kept", "yes"), PEER, true, -1, false);
        stream.writeHeader(upstream);
        stream.flush();

        String head = written();
        assertTrue(head.startsWith("POST /p HTTP/1.1\r\n"), head);
        assertTrue(head.contains("X-Kept: yes\r\n"), head);
        assertTrue(head.toLowerCase().contains("host: 127.0.0.1:8080\r\n"), head);
        assertTrue(head.contains("transfer-encoding: chunked\r\n"), head);
        for (String gone : List.of("X-Hop", "Keep-Alive", "TE:", "Upgrade", "Proxy-Connection", "Expect", "Connection")) {
            assertFalse(head.contains(gone), gone + " must not go upstream: " + head);
        }
    }

    @Test
    void aBufferedBodyIsAnnouncedWithItsExactLength() {
        RequestHeader upstream = stream.newRequestHeader(clientRequest("POST", "Transfer-Encoding", "chunked",
                "Host", "origin.example"), PEER, true, 42, false);

        assertEquals("42", upstream.headers().get("Content-Length"));
        assertNull(upstream.headers().get("Transfer-Encoding"));
        assertEquals("origin.example", upstream.headers().get("Host"), "the client's Host is kept");
    }

    @Test
    void aKeptAliveResponseReturnsTheConnectionToThePool() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                + "Keep-Alive: timeout=5\r\n\r\nhello");

        assertEquals(200, events.header.status());
        assertNull(events.header.headers().get("X-Hop"));
        assertNull(events.header.headers().get("Keep-Alive"));
        assertNull(events.header.headers().get("Connection"));
        assertEquals("hello", events.body());
        assertTrue(events.ended);
        stream.release();
        assertEquals(1, pool.idleConnections());
        assertTrue(channel.isActive());
    }

    @Test
    void interimResponsesAreReportedBeforeTheFinalOne() {
        send("GET");
        receive("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n"
                + "Connection: x-hop\r\nX-Hop: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");

        assertEquals(List.of(100, 103), events.interims.stream().map(ResponseHeader::status).toList());
        ResponseHeader hints = events.interims.get(1);
        assertEquals("</a.css>", hints.headers().get("Link"));
        assertNull(hints.headers().get("X-Hop"), "fields Connection names are hop-by-hop");
        assertEquals(204, events.header.status());
        assertTrue(events.ended);
        assertTrue(events.failures.isEmpty());
    }

    @Test
    void anUnaskedProtocolSwitchFailsTheExchange() {
        send("GET");
        receive("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");

        assertEquals(ErrorType.H1_ERROR, events.failures.get(0).type());
        assertNull(events.header);
    }

    @Test
    void anUpgradeAFilterAddedToAnOrdinaryRequestIsNoSwitch() {
        // Not held for a tunnel (upgrade = false): the Upgrade a filter sets goes out, but a 101 to it
        // fails the exchange instead of leaving it waiting on a switched connection.
        RequestHeader upstream = stream.newRequestHeader(clientRequest("GET"), PEER, false, -1, false);
        upstream.headers().set("Upgrade", "websocket");
        upstream.headers().set("Connection", "upgrade");
        stream.writeHeader(upstream);
        stream.writeBody(Unpooled.EMPTY_BUFFER, true, null);
        stream.flush();
        assertTrue(written().contains("Upgrade: websocket\r\n"));

        receive("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");

        assertEquals(ErrorType.H1_ERROR, events.failures.get(0).type());
        assertNull(events.header);
        assertFalse(stream.switchedProtocols());
    }

    @Test
    void theResponseToHeadHasNoBodyWhateverItsLength() {
        send("HEAD");
        receive("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");

        assertEquals(200, events.header.status());
        assertEquals("", events.body());
        assertTrue(events.ended);
        stream.release();
        assertEquals(1, pool.idleConnections());
    }

    @Test
    void trailersArriveWithTheLastPart() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n");

        assertEquals("hello", events.body());
        assertEquals("1", events.trailers.get("X-Sum"));
        assertNull(events.header.headers().get("Transfer-Encoding"), "framing is the downstream's to redo");
    }

    @Test
    void aHeaderNameWithWhitespaceIsRejected() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nX-Bad Name: v\r\nContent-Length: 0\r\n\r\n");

        assertEquals(ErrorType.INVALID_HTTP_HEADER, events.failures.get(0).type());
    }

    @Test
    void aResponseFramedByCloseIsNotPooled() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\n\r\nsome bytes");
        channel.close();

        assertEquals("some bytes", events.body());
        assertTrue(events.ended);
        stream.release();
        assertEquals(0, pool.idleConnections());
    }

    @Test
    void bytesBeyondTheAnnouncedLengthKeepTheConnectionOutOfThePool() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello0123456789");

        assertEquals("hello", events.body());
        stream.release();
        assertEquals(0, pool.idleConnections());
        assertFalse(channel.isActive());
    }

    @Test
    void aResponseBeforeTheWholeRequestWentOutClosesTheConnection() {
        RequestHeader upstream = stream.newRequestHeader(clientRequest("POST", "Content-Length", "10"), PEER, true, -1, false);
        stream.writeHeader(upstream);
        stream.flush();
        receive("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");

        assertEquals(413, events.header.status());
        stream.release();
        assertEquals(0, pool.idleConnections());
        assertFalse(channel.isActive());
    }

    @Test
    void aCloseBeforeAnyResponseMayBeRetriedOnAReusedConnectionOnly() {
        send("GET");
        channel.close();

        ProxyError failure = events.failures.get(0);
        assertEquals(ErrorType.CONNECTION_CLOSED, failure.type());
        assertEquals(RetryType.REUSED_ONLY, failure.retryType());
    }

    @Test
    void aCloseMidBodyIsAFailureThatIsNotRetried() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
        channel.close();

        assertEquals("only this", events.body());
        assertFalse(events.ended);
        ProxyError failure = events.failures.get(0);
        assertEquals(ErrorType.CONNECTION_CLOSED, failure.type());
        assertFalse(failure.isRetry());
    }

    @Test
    void aBrokenBodyInTheReadThatBroughtItsHeaderFailsWithoutTheHeader() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");

        assertNull(events.header, "nothing of the response reaches the client, so the failure can still be a 502");
        assertEquals(ErrorType.H1_ERROR, events.failures.get(0).type());
        stream.release();
        assertEquals(0, pool.idleConnections(), "a connection whose framing broke is not pooled");
    }

    @Test
    void aBrokenBodyInALaterReadFailsAfterTheHeader() {
        send("GET");
        receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        assertEquals(200, events.header.status(), "a header is reported at the end of the read that brought it");
        assertEquals("hello", events.body());
        receive("zz\r\n");

        assertFalse(events.ended);
        assertEquals(ErrorType.H1_ERROR, events.failures.get(0).type());
    }

    /** Records what the stream reports; holds the body parts until the test releases them. */
    private static final class Recorder implements UpstreamStream.Listener {
        ResponseHeader header;
        final List<ByteBuf> parts = new ArrayList<>();
        boolean ended;
        HttpHeaders trailers;
        final List<ProxyError> failures = new ArrayList<>();
        final List<ResponseHeader> interims = new ArrayList<>();

        @Override
        public void onInterimResponse(ResponseHeader interim) {
            interims.add(interim);
        }

        @Override
        public void onResponseHeader(ResponseHeader header) {
            this.header = header;
        }

        @Override
        public void onResponseBody(ByteBuf data, boolean last, HttpHeaders trailers) {
            parts.add(data);
            ended |= last;
            if (trailers != null) {
                this.trailers = trailers;
            }
        }

        @Override
        public void onFailure(ProxyError error) {
            failures.add(error);
        }

        @Override
        public void onReadTimeout() {
            failures.add(ProxyError.upstream(ErrorType.READ_TIMEDOUT, "read timeout", null));
        }

        @Override
        public void onReadComplete() {
        }

        @Override
        public void onWritabilityChanged(boolean writable) {
        }

        String body() {
            StringBuilder out = new StringBuilder();
            for (ByteBuf part : parts) {
                out.append(part.toString(StandardCharsets.ISO_8859_1));
            }
            return out.toString();
        }

        void releaseAll() {
            parts.forEach(ByteBuf::release);
            parts.clear();
        }
    }
}
