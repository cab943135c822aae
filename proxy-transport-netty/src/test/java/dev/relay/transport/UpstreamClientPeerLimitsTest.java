package dev.relay.transport;

import dev.relay.core.Alpn;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.testing.H2Origin;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UpstreamClient.Builder#maxConnectionsPerPeer(int)} and {@link UpstreamClient.Builder#maxPendingPerPeer(int)}
 * against real origins that hold their answers: requests beyond the connections wait and reuse them, the
 * queue beyond its bound fails at once, a waiting request's deadline takes it out of the queue; on HTTP/1.1
 * and on HTTP/2. Each test has an origin of its own, whose connection count is the test's alone.
 */
@Timeout(60)
class UpstreamClientPeerLimitsTest {
    private static final byte[] NO_BODY = new byte[0];
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static UpstreamResponse await(CompletionStage<UpstreamResponse> stage) {
        return stage.toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    }

    private static ProxyError failure(CompletionStage<UpstreamResponse> stage) {
        CompletionException e = assertThrows(CompletionException.class, () -> await(stage));
        return assertInstanceOf(ProxyError.class, e.getCause());
    }

    @Test
    void fiftyConcurrentRequestsShareFourConnectionsAndAllComplete() {
        try (TestOrigin origin = TestOrigin.builder().name("four").build().start();
             UpstreamClient client = UpstreamClient.builder().maxConnectionsPerPeer(4).build()) {
            HttpPeer peer = HttpPeer.plain(origin.address());
            origin.holdResponses();
            List<CompletionStage<UpstreamResponse>> sent = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                sent.add(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));
            }
            origin.awaitHeldResponses(4, WAIT);
            assertEquals(4, origin.heldResponses(), "the other 46 wait in the client, not at the origin");

            origin.releaseResponses();

            for (CompletionStage<UpstreamResponse> response : sent) {
                assertEquals(200, await(response).status());
            }
            assertEquals(4, origin.connectionsAccepted());
            assertEquals(4, client.connectionsOpened());
            assertEquals(46, client.connectionsReused());
            assertEquals(4, client.idleConnections());
        }
    }

    @Test
    void requestBeyondThePendingBoundFailsAtOnceWhileTheOthersWait() {
        try (TestOrigin origin = TestOrigin.builder().name("bounded").build().start();
             UpstreamClient client = UpstreamClient.builder().maxConnectionsPerPeer(1).maxPendingPerPeer(2).build()) {
            HttpPeer peer = HttpPeer.plain(origin.address());
            origin.holdResponses();
            CompletionStage<UpstreamResponse> onTheConnection = client.send(peer, RequestHeader.of("GET", "/small"),
                    NO_BODY);
            origin.awaitHeldResponses(1, WAIT);
            CompletionStage<UpstreamResponse> waiting1 = client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY);
            CompletionStage<UpstreamResponse> waiting2 = client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY);

            ProxyError refused = failure(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY));

            assertEquals(ErrorType.OVERLOADED, refused.type());
            assertTrue(refused.getMessage().contains("maxPendingPerPeer"), refused.getMessage());
            assertFalse(onTheConnection.toCompletableFuture().isDone(), "the refusal did not wait for the origin");
            origin.releaseResponses();
            assertEquals(200, await(onTheConnection).status());
            assertEquals(200, await(waiting1).status());
            assertEquals(200, await(waiting2).status());
            assertEquals(1, origin.connectionsAccepted());
            assertEquals(3, origin.requests().size(), "the refused request never went out");
        }
    }

    @Test
    void waitingRequestFailsAtItsDeadlineAndLeavesTheQueue() {
        try (TestOrigin origin = TestOrigin.builder().name("deadline").build().start();
             UpstreamClient client = UpstreamClient.builder().maxConnectionsPerPeer(1).maxPendingPerPeer(1).build()) {
            HttpPeer peer = HttpPeer.plain(origin.address());
            origin.holdResponses();
            CompletionStage<UpstreamResponse> onTheConnection = client.send(peer, RequestHeader.of("GET", "/small"),
                    NO_BODY);
            origin.awaitHeldResponses(1, WAIT);

            ProxyError late = failure(client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY,
                    Duration.ofMillis(200)));
            // Its place in the queue is free again: the bound of one lets the next one wait.
            CompletionStage<UpstreamResponse> next = client.send(peer, RequestHeader.of("GET", "/small"), NO_BODY);
            origin.releaseResponses();

            assertEquals(ErrorType.DEADLINE_EXCEEDED, late.type());
            assertEquals(200, await(onTheConnection).status());
            assertEquals(200, await(next).status());
            assertTrue(await(next).connectionReused());
            assertEquals(1, origin.connectionsAccepted());
            assertEquals(2, origin.requests().size(), "the request that gave up never went out");
        }
    }

    @Test
    void http2StreamsBeyondTheConnectionsWaitInABoundedQueue() {
        try (H2Origin origin = H2Origin.builder().name("h2-limits").tls(TestCertificates.localhost()).build().start();
             UpstreamClient client = UpstreamClient.builder().maxConnectionsPerPeer(1).maxPendingPerPeer(3).build()) {
            HttpPeer peer = HttpPeer.tls(origin.address(), "localhost").withOptions(PeerOptions.builder()
                    .trustedCertificates(List.of(TestCertificates.caCertificate())).readTimeout(WAIT)
                    .alpn(Alpn.H2).maxH2Streams(2).build());
            List<CompletionStage<UpstreamResponse>> sent = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                // Two streams on the one connection, three queued for one of them to close.
                sent.add(client.send(peer, RequestHeader.of("GET", "/delay/200"), NO_BODY));
            }

            ProxyError refused = failure(client.send(peer, RequestHeader.of("GET", "/delay/200"), NO_BODY));

            assertEquals(ErrorType.OVERLOADED, refused.type());
            for (CompletionStage<UpstreamResponse> response : sent) {
                assertEquals(200, await(response).status());
            }
            assertEquals(1, origin.connectionsAccepted());
            assertEquals(2, origin.maxConcurrentStreamsSeen());
            assertEquals(5, origin.requests().size());
        }
    }
}
