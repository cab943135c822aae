package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.Backend;
import dev.relay.core.PeerOptions;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.Await;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.TlsSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pingora's load_balancer example against two local TLS origins and a dead upstream: once the background
 * health check has run, the dead one is never selected, over the HTTP listener and over the TLS one
 * (which speaks HTTP/2).
 */
@Timeout(60)
class PingoraLoadBalancerExampleTest {

    @Test
    void healthCheckKeepsTheDeadUpstreamOutOverHttpAndOverTlsWithHttp2() throws Exception {
        TestCertificates.Server upstreamCertificate = TestCertificates.server("one.one.one.one");
        TestCertificates.Server listenerCertificate = TestCertificates.localhost();
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LoadBalancerExample.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        try (TestOrigin first = TestOrigin.builder().name("first").tls(upstreamCertificate).build().start();
             TestOrigin second = TestOrigin.builder().name("second").tls(upstreamCertificate).build().start()) {
            String dead = "127.0.0.1:" + TestOrigin.closedPort();
            LoadBalancer<RoundRobin> upstreams = PingoraLoadBalancerExample.healthChecked(RoundRobin.create(),
                    first.address(), second.address(), dead);
            PeerOptions trustTestCa = PeerOptions.builder()
                    .trustedCertificates(List.of(TestCertificates.caCertificate())).build();
            TlsSettings tls = TlsSettings.builder()
                    .certificate(listenerCertificate.certificateChainPem(), listenerCertificate.privateKeyPem()).build();
            Server server = Server.create();
            HttpProxyService lb = PingoraLoadBalancerExample.addServices(server,
                    new LoadBalancerExample(upstreams, "one.one.one.one", trustTestCa), upstreams,
                    // Two texts: a service knows its listeners by the address as written.
                    "127.0.0.2:0", "127.0.0.1:0", tls);
            server.start();
            try {
                Backend deadBackend = Backend.parse(dead);
                Await.until(() -> !upstreams.backends().isHealthy(deadBackend), Duration.ofSeconds(10),
                        () -> "the background health check never marked " + dead + " down");
                int httpPort = ((InetSocketAddress) lb.listeners().get("127.0.0.2:0")).getPort();
                int tlsPort = ((InetSocketAddress) lb.listeners().get("127.0.0.1:0")).getPort();

                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpClient https = HttpClient.newBuilder().sslContext(TestCertificates.clientSslContext())
                        .version(HttpClient.Version.HTTP_2).build();
                List<String> servedBy = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    HttpResponse<String> plain = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.2:" + httpPort + "/")).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, plain.statusCode());
                    servedBy.add(plain.headers().firstValue("X-Origin").orElseThrow());
                    HttpResponse<String> secure = https.send(HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1:" + tlsPort + "/")).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, secure.statusCode());
                    assertEquals(HttpClient.Version.HTTP_2, secure.version(), "the TLS listener offers h2");
                    servedBy.add(secure.headers().firstValue("X-Origin").orElseThrow());
                }
                // Round robin over three with one skipped: the dead one's turns go to its successor.
                assertTrue(servedBy.contains("first") && servedBy.contains("second"), servedBy.toString());
                assertEquals(8, first.requests().size() + second.requests().size());
                for (TestOrigin origin : List.of(first, second)) {
                    for (RecordedRequest request : origin.requests()) {
                        assertEquals("one.one.one.one", request.sniHostName());
                        assertEquals("one.one.one.one", request.header("Host"));
                    }
                }
                List<String> picks = captured.list.stream().map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> m.startsWith("upstream peer is: ")).toList();
                assertEquals(8, picks.size(), picks.toString());
                assertFalse(picks.stream().anyMatch(m -> m.contains(dead)), "the dead upstream was selected: " + picks);
                assertTrue(upstreams.backends().isHealthy(Backend.parse(first.address())));
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        } finally {
            log.detachAppender(captured);
        }
    }
}
