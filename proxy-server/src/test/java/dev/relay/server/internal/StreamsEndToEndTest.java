package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code proxy.streams} and the upstream TLS keys end to end: the configured server in process, real
 * origins on loopback, raw TCP clients, the metrics read from the admin listener.
 */
@Timeout(60)
class StreamsEndToEndTest {
    @TempDir
    Path dir;

    private InProcessRelay relay(String upstreams, String streams) throws IOException {
        return new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = true }
                  upstreams {
                %s
                  }
                  routes = [ { upstream = secure } ]
                  streams = %s
                }
                """.formatted(upstreams, streams));
    }

    private static InetSocketAddress stream(InProcessRelay relay, int index) {
        return relay.injector.getInstance(StreamsModule.StreamServices.class).services().get(index).boundAddresses().get(0);
    }

    private static String rawGet(InetSocketAddress address) throws IOException {
        try (Socket client = new Socket()) {
            client.connect(address, 5000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static String metric(InProcessRelay relay, String series) throws Exception {
        for (String line : relay.adminGet("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return line.substring(series.length() + 1);
            }
        }
        return null;
    }

    @Test
    void relaysToTheGroupFailingOverPastADeadBackendAndCountsIt() throws Exception {
        try (TestOrigin a = TestOrigin.builder().name("a").build().start();
             InProcessRelay relay = relay("""
                         secure.backends = [ "%s" ]
                         tcp.backends = [ "127.0.0.1:%d", "%s" ]
                     """.formatted(a.address(), TestOrigin.closedPort(), a.address()),
                     "[ { name = web-tcp, address = \"127.0.0.1:0\", upstream = tcp } ]")) {
            failOverAndCount(relay);
        }
    }

    private static void failOverAndCount(InProcessRelay relay) throws Exception {
        InetSocketAddress address = stream(relay, 0);

        for (int i = 0; i < 2; i++) {
            String response = rawGet(address);
            assertTrue(response.startsWith("HTTP/1.1 200") && response.contains("origin a"), response);
        }
        dev.relay.testing.Await.until(() -> {
            try {
                return "2.0".equals(metric(relay, "relay_stream_connections_total{end=\"completed\",stream=\"web-tcp\"}"));
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(10), () -> "two completed stream connections in /metrics");
        // Round robin offers the dead backend first to one or both connections; each then fails over.
        double failures = Double.parseDouble(metric(relay, "relay_stream_connect_failures_total{stream=\"web-tcp\"}"));
        assertTrue(failures >= 1 && failures <= 2, "connect failures: " + failures);
        assertTrue(Double.parseDouble(metric(relay, "relay_stream_bytes_total{direction=\"out\",stream=\"web-tcp\"}")) > 100);
        assertEquals("0.0", metric(relay, "relay_stream_connections_open{stream=\"web-tcp\"}"));
    }

    @Test
    void mutualTlsWithACaFileAndAnAlternativeNameForHttpAndStreams() throws Exception {
        // The origin's certificate names only other.internal; the group presents SNI backend.example.
        TestCertificates.Client client = TestCertificates.client("relay-client");
        try (TestOrigin origin = TestOrigin.builder().name("mtls").tls(TestCertificates.server("other.internal"))
                .requireClientCertificate().build().start();
             InProcessRelay relay = relay("""
                    secure {
                      backends = [ "%s" ]
                      tls = true
                      sni = "backend.example"
                      ca-file = "%s"
                      client-cert = "%s"
                      client-key = "%s"
                      verify-name-alternative = "other.internal"
                    }
                """.formatted(origin.address(), TestCertificates.caCertificatePem(), client.certificateChainPem(),
                client.privateKeyPem()), "[ { address = \"127.0.0.1:0\", upstream = secure } ]")) {
            httpAndStreamThroughMutualTls(relay, origin);
        }
    }

    private static void httpAndStreamThroughMutualTls(InProcessRelay relay, TestOrigin origin) throws Exception {

        InetSocketAddress proxy = relay.proxy();
        HttpResponse<String> http = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + proxy.getPort() + "/")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, http.statusCode(), http.body());
        assertEquals("mtls", http.headers().firstValue("X-Origin").orElse(null));

        String response = rawGet(stream(relay, 0));
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertEquals("backend.example", origin.requests().get(0).sniHostName());
    }
}
