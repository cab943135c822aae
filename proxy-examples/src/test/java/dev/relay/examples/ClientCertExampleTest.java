package dev.relay.examples;

import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TlsCertificate;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The mutual-TLS server, spoken to by curl with a trusted, an untrusted and no client certificate. */
@Timeout(60)
class ClientCertExampleTest {
    private static final String HOST = "myapp.example.com";
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

    private Server server;
    private int port;

    @BeforeEach
    void startServer() {
        TestCertificates.Server certificate = TestCertificates.server(HOST);
        server = Server.create();
        HttpProxyService app = server.addService(ClientCertExample.service("127.0.0.1:0",
                ClientCertExample.requireClientCertificates(certificate.certificateChainPem(),
                        certificate.privateKeyPem(), TestCertificates.caCertificatePem())));
        server.start();
        port = app.boundAddresses().get(0).getPort();
    }

    @AfterEach
    void stopServer() {
        server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
    }

    @Test
    void answersWithTheSniAndTheNamesOfATrustedClientCertificate() throws Exception {
        TestCertificates.Client alice = TestCertificates.client("alice.clients.example");
        ExternalTool.Result r = curl("--cert", alice.certificatePem().toString(), "--key", alice.privateKeyPem().toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("Your SNI was: " + HOST + "\n"
                + "Your SANs were: [DNS:alice.clients.example]\n"
                + "Client Common Name (CN): alice.clients.example\n", r.stdout());
    }

    @Test
    void refusesTheHandshakeWithoutACertificateOrWithAnUntrustedOne() throws Exception {
        ExternalTool.Result none = curl();
        assertNotEquals(0, none.exitCode(), "no client certificate: " + none.stdout());
        assertEquals("", none.stdout());

        TestCertificates.Client mallory = TestCertificates.untrustedClient("mallory");
        ExternalTool.Result untrusted = curl("--cert", mallory.certificatePem().toString(),
                "--key", mallory.privateKeyPem().toString());
        assertNotEquals(0, untrusted.exitCode(), "untrusted certificate: " + untrusted.stdout());
        assertEquals("", untrusted.stdout());
    }

    @Test
    void theCertPresentingProxyGetsThroughWithItsOwnCertificate() throws Exception {
        TestCertificates.Client proxyCertificate = TestCertificates.client("edge-proxy");
        Server front = Server.create();
        HttpProxyService forward = front.addService(HttpProxyService.create("client",
                new ClientCertExample.CertPresentingProxy("127.0.0.1:" + port, HOST,
                        TlsCertificate.of(proxyCertificate.privateKey(), proxyCertificate.certificateChain()),
                        List.of(TestCertificates.caCertificate())),
                ProxyOptions.defaults()));
        forward.addTcp("127.0.0.1:0");
        front.start();
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + forward.boundAddresses().get(0).getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("Your SNI was: " + HOST + "\n"
                    + "Your SANs were: [DNS:edge-proxy]\n"
                    + "Client Common Name (CN): edge-proxy\n", response.body());
        } finally {
            front.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
    }

    private ExternalTool.Result curl(String... extra) throws Exception {
        List<String> args = ExternalTool.args("curl", "-sS", "--max-time", "10",
                "--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", HOST + ":" + port + ":127.0.0.1");
        args.addAll(List.of(extra));
        args.add("https://" + HOST + ":" + port + "/");
        return ExternalTool.run(TOOL_TIMEOUT, args.toArray(new String[0]));
    }
}
