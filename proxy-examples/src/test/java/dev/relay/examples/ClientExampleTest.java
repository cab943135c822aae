package dev.relay.examples;

import dev.relay.core.ErrorType;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.UpstreamClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client example against a local TLS origin that serves an HTML page, then one that serves none. */
@Timeout(60)
class ClientExampleTest {
    private static final PeerOptions TRUST_TEST_CA = PeerOptions.builder()
            .trustedCertificates(List.of(TestCertificates.caCertificate()))
            .readTimeout(Duration.ofSeconds(10))
            .build();

    @Test
    void fetchesThePageOverTlsAndFindsItsTitle() {
        try (TestOrigin origin = TestOrigin.builder().name("site").tls(TestCertificates.localhost())
                .fallbackHandler((request, response) -> response.header("Content-Type", "text/html")
                        .body("<html><head><title> Relay test page </title></head><body>hi</body></html>"))
                .build().start();
             UpstreamClient client = UpstreamClient.create()) {
            ClientExample.Page page = ClientExample.fetch(client, origin.address(), "localhost", TRUST_TEST_CA);

            assertEquals(200, page.response().status());
            assertEquals(Optional.of("Relay test page"), page.title());
            assertEquals("text/html", page.response().header().headers().get("Content-Type"));
            RecordedRequest seen = origin.requests().get(0);
            assertEquals("localhost", seen.header("Host"));
            assertTrue(seen.tls());

            // The connection went back to the pool: the next fetch reuses it.
            assertTrue(ClientExample.fetch(client, origin.address(), "localhost", TRUST_TEST_CA)
                    .response().connectionReused());
            assertEquals(1, origin.connectionsAccepted());
        }
    }

    @Test
    void aPageWithoutTitleHasAnEmptyTitle() {
        try (TestOrigin origin = TestOrigin.builder().name("plain-text").tls(TestCertificates.localhost()).build().start();
             UpstreamClient client = UpstreamClient.create()) {
            ClientExample.Page page = ClientExample.fetch(client, origin.address(), "localhost", TRUST_TEST_CA);

            assertEquals(200, page.response().status());
            assertEquals(Optional.empty(), page.title());
        }
    }

    @Test
    void aFailedRequestIsTheClientsError() {
        try (UpstreamClient client = UpstreamClient.create()) {
            ProxyError e = assertThrows(ProxyError.class, () -> ClientExample.fetch(client,
                    "127.0.0.1:" + TestOrigin.closedPort(), "localhost", TRUST_TEST_CA));
            assertEquals(ErrorType.CONNECT_REFUSED, e.type());
        }
    }
}
