package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ctx example: the per-request context routes beta users; the instance counts them, the global counter counts all. */
@Timeout(60)
class CtxExampleTest {

    @Test
    void betaFlagRoutesThroughTheContextAndBothCountersCount() throws Exception {
        TestCertificates.Server certificate = TestCertificates.server("one.one.one.one");
        PeerOptions trustTestCa = PeerOptions.builder().trustedCertificates(List.of(TestCertificates.caCertificate())).build();
        try (TestOrigin regular = TestOrigin.builder().name("regular").tls(certificate).build().start();
             TestOrigin beta = TestOrigin.builder().name("beta").tls(certificate).build().start()) {
            CtxExample example = new CtxExample(HttpPeer.tls(regular.address(), "one.one.one.one").withOptions(trustTestCa),
                    HttpPeer.tls(beta.address(), "one.one.one.one").withOptions(trustTestCa));
            Server server = Server.create();
            HttpProxyService proxy = Services.httpProxy(example);
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                URI uri = URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/");
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                long before = CtxExample.requestCount();
                List<Boolean> betaFlags = List.of(false, true, false, true, true);
                for (boolean betaUser : betaFlags) {
                    HttpRequest.Builder request = HttpRequest.newBuilder(uri);
                    if (betaUser) {
                        request.header("beta-flag", "1");
                    }
                    HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    assertEquals(betaUser ? "beta" : "regular", response.headers().firstValue("X-Origin").orElseThrow());
                }
                assertEquals(3, example.betaUserCount());
                assertEquals(5, CtxExample.requestCount() - before);
                assertEquals(2, regular.requests().size());
                assertEquals(3, beta.requests().size());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }
}
