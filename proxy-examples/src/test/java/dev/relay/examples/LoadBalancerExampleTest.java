package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.PeerOptions;
import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seed example's own code against two local TLS origins with certificates for one.one.one.one. */
@Timeout(60)
class LoadBalancerExampleTest {

    @Test
    void alternatesBetweenTwoTlsOriginsWithTheRightSniAndHost() throws Exception {
        TestCertificates.Server certificate = TestCertificates.server("one.one.one.one");
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LoadBalancerExample.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        try (TestOrigin first = TestOrigin.builder().name("first").tls(certificate).build().start();
             TestOrigin second = TestOrigin.builder().name("second").tls(certificate).build().start()) {
            LoadBalancer<RoundRobin> upstreams =
                    LoadBalancer.tryFromIterable(RoundRobin.create(), first.address(), second.address());
            // The example as written, except that it must trust the test CA instead of the public roots.
            PeerOptions trustTestCa = PeerOptions.builder()
                    .trustedCertificates(List.of(TestCertificates.caCertificate())).build();
            Server server = Server.create();
            server.bootstrap();
            HttpProxyService lb = HttpProxyService.create(new LoadBalancerExample(upstreams, "one.one.one.one", trustTestCa));
            lb.addTcp("127.0.0.1:0");
            server.addService(lb);
            server.start();
            try {
                InetSocketAddress address = lb.boundAddresses().get(0);
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                List<String> servedBy = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + address.getPort() + "/")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    servedBy.add(response.headers().firstValue("X-Origin").orElseThrow());
                }
                for (int i = 1; i < servedBy.size(); i++) {
                    assertNotEquals(servedBy.get(i - 1), servedBy.get(i), "requests alternate: " + servedBy);
                }
                for (TestOrigin origin : List.of(first, second)) {
                    List<RecordedRequest> seen = origin.requests();
                    assertEquals(3, seen.size());
                    for (RecordedRequest request : seen) {
                        assertEquals("one.one.one.one", request.sniHostName());
                        assertEquals("one.one.one.one", request.header("Host"));
                    }
                }
                long peerLines = captured.list.stream()
                        .filter(e -> e.getFormattedMessage().startsWith("upstream peer is: ")).count();
                assertEquals(6, peerLines);
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        } finally {
            log.detachAppender(captured);
        }
    }
}
