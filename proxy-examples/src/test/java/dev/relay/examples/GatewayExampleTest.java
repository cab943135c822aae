package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.testing.Await;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway example against two TLS origins that send {@code Server} and {@code alt-svc}: login check,
 * routing by path, response header rewrite, one log line and one count per request, the count served
 * by the Prometheus service.
 */
@Timeout(60)
class GatewayExampleTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void authenticatesRoutesRewritesHeadersAndCountsEveryRequest() throws Exception {
        TestCertificates.Server certificate = TestCertificates.server("one.one.one.one");
        PeerOptions trustTestCa = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(GatewayExample.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        try (TestOrigin main = origin("main", certificate); TestOrigin family = origin("family", certificate)) {
            PrometheusRegistry registry = new PrometheusRegistry();
            Counter requests = Counter.builder().name("reg_counter").help("Number of requests").register(registry);
            Server server = Server.create();
            HttpProxyService gateway = Services.httpProxy(new GatewayExample(
                    HttpPeer.tls(main.address(), "one.one.one.one").withOptions(trustTestCa),
                    HttpPeer.tls(family.address(), "one.one.one.one").withOptions(trustTestCa), requests));
            gateway.addTcp("127.0.0.1:0");
            server.addService(gateway);
            HttpProxyService metrics = Services.prometheusHttp(registry);
            metrics.addTcp("127.0.0.1:0");
            server.addService(metrics);
            server.start();
            try {
                String base = "http://127.0.0.1:" + gateway.boundAddresses().get(0).getPort();

                HttpResponse<String> root = get(base + "/", null);
                assertEquals(200, root.statusCode());
                assertEquals("main", root.headers().firstValue("X-Origin").orElseThrow());
                assertEquals(List.of("MyGateway"), root.headers().allValues("Server"));
                assertFalse(root.headers().firstValue("alt-svc").isPresent(), root.headers().toString());

                HttpResponse<String> familyPage = get(base + "/family/", null);
                assertEquals("family", familyPage.headers().firstValue("X-Origin").orElseThrow());
                assertEquals(List.of("MyGateway"), familyPage.headers().allValues("Server"));

                assertEquals(403, get(base + "/login/", "bad").statusCode());
                assertEquals(403, get(base + "/login/", null).statusCode());
                HttpResponse<String> loggedIn = get(base + "/login/", "password");
                assertEquals(200, loggedIn.statusCode());
                assertEquals("main", loggedIn.headers().firstValue("X-Origin").orElseThrow());

                assertEquals(2, main.requests().size(), "the refused logins never went upstream");
                assertEquals(1, family.requests().size());
                // logging runs after the response is written: wait for the fifth.
                Await.until(() -> requests.get() == 5, Duration.ofSeconds(5), () -> "count: " + requests.get());
                List<String> lines;
                synchronized (captured) {
                    lines = captured.list.stream().map(ILoggingEvent::getFormattedMessage)
                            .filter(m -> m.contains(" response code: ")).toList();
                }
                assertEquals(List.of("GET / response code: 200", "GET /family/ response code: 200",
                        "GET /login/ response code: 403", "GET /login/ response code: 403",
                        "GET /login/ response code: 200"),
                        lines.stream().map(l -> l.replaceFirst(", Host: [^ ]*", "")).toList());

                HttpResponse<String> scrape = get("http://127.0.0.1:" + metrics.boundAddresses().get(0).getPort() + "/", null);
                assertTrue(scrape.body().contains("reg_counter_total 5.0"), scrape.body());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        } finally {
            log.detachAppender(captured);
        }
    }

    /** A TLS origin whose pages carry the headers the gateway replaces and removes. */
    private static TestOrigin origin(String name, TestCertificates.Server certificate) {
        return TestOrigin.builder().name(name).tls(certificate)
                .fallbackHandler((request, response) -> response.header("Server", "origin-" + name)
                        .header("alt-svc", "h3=\":443\"; ma=86400").body("page of " + name + "\n"))
                .build().start();
    }

    private HttpResponse<String> get(String uri, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
