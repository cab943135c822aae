package dev.relay.examples;

import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.server.Server;
import dev.relay.testing.Await;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.TlsCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every service of the server example, each spoken to by a real client on loopback. */
@Timeout(60)
class ServerExampleTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
    private static final String TLS_UPSTREAM = "one.one.one.one";

    @TempDir
    Path dir;

    private TestOrigin plainOrigin;
    private TestOrigin tlsOrigin;
    private Server server;
    private ServerExample example;

    @BeforeEach
    void start() {
        plainOrigin = TestOrigin.builder().name("plain").build().start();
        tlsOrigin = TestOrigin.builder().name("tls").tls(TestCertificates.server(TLS_UPSTREAM)).build().start();
        TestCertificates.Server localhost = TestCertificates.localhost();
        server = Server.create();
        example = new ServerExample(server, ServerExample.Listeners.loopback(dir.resolve("echo.sock")),
                TlsCertificate.of(localhost.privateKey(), localhost.certificateChain()),
                HttpPeer.plain(plainOrigin.address()),
                HttpPeer.tls(tlsOrigin.address(), TLS_UPSTREAM).withOptions(PeerOptions.builder()
                        .trustedCertificates(List.of(TestCertificates.caCertificate())).build()));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        plainOrigin.close();
        tlsOrigin.close();
    }

    @Test
    void theEchoServiceEchoesOverTcpAndTls() throws Exception {
        List<InetSocketAddress> echo = example.echo().boundAddresses();
        assertEquals(2, echo.size());
        try (Socket plain = new Socket()) {
            plain.connect(echo.get(0), 5000);
            assertEquals("hello plain\n", roundTrip(plain, "hello plain\n"));
        }
        try (SSLSocket tls = (SSLSocket) TestCertificates.clientSslContext().getSocketFactory()
                .createSocket("127.0.0.1", echo.get(1).getPort())) {
            tls.startHandshake();
            assertEquals("hello tls\n", roundTrip(tls, "hello tls\n"));
        }
    }

    @Test
    void theHttpEchoAnswersWithTheBodyOnTcpUnixSocketAndTlsWithHttp2() throws Exception {
        int tcp = port(0);
        ExternalTool.Result overTcp = curl("-d", "hello", "http://127.0.0.1:" + tcp + "/");
        assertEquals("hello", overTcp.stdout(), overTcp.stderr());
        ExternalTool.Result noBody = curl("http://127.0.0.1:" + tcp + "/");
        assertEquals("no body!", noBody.stdout(), noBody.stderr());

        ExternalTool.Result overUnix = curl("--unix-socket", dir.resolve("echo.sock").toString(), "-d", "over unix",
                "http://localhost/");
        assertEquals("over unix", overUnix.stdout(), overUnix.stderr());

        int tls = port(1);
        ExternalTool.Result overTls = curl("--http2", "-w", "|%{http_version}", "-d", "over tls",
                "--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", "localhost:" + tls + ":127.0.0.2", "https://localhost:" + tls + "/");
        assertEquals("over tls|2", overTls.stdout(), overTls.stderr());
    }

    // Connection: close lets the origin end each relayed connection, so the stop has nothing to drain.
    @Test
    void theTcpAndTlsProxiesRelayToTheirUpstreams() throws Exception {
        int tcp = example.tcpProxy().boundAddresses().get(0).getPort();
        ExternalTool.Result viaTcp = curl("-i", "-H", "Connection: close",
                "http://127.0.0.1:" + tcp + "/through-tcp");
        assertTrue(viaTcp.stdout().contains("X-Origin: plain"), viaTcp.stdout() + viaTcp.stderr());
        assertEquals("/through-tcp", plainOrigin.requests().get(0).path());

        int tls = example.tlsProxy().boundAddresses().get(0).getPort();
        ExternalTool.Result viaTls = curl("-i", "--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", "localhost:" + tls + ":127.0.0.1", "-H", "Host: " + TLS_UPSTREAM, "-H", "Connection: close",
                "https://localhost:" + tls + "/through-tls");
        assertTrue(viaTls.stdout().contains("X-Origin: tls"), viaTls.stdout() + viaTls.stderr());
        assertEquals(TLS_UPSTREAM, tlsOrigin.requests().get(0).sniHostName(), "TLS again upstream, with the SNI");
    }

    @Test
    void theBackgroundServiceTicksUntilTheServerStops() {
        ServerExample.TickingBackgroundService background = example.background();
        Await.until(() -> background.ticks() >= 1, Duration.ofSeconds(5), () -> "no tick");
        server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        assertFalse(background.isRunning());
        assertTrue(example.echo().boundAddresses().isEmpty(), "the echo listeners are closed");
    }

    private int port(int index) {
        return example.httpEcho().boundAddresses().get(index).getPort();
    }

    private static String roundTrip(Socket socket, String line) throws IOException {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(line.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] echoed = in.readNBytes(line.length());
        return new String(echoed, StandardCharsets.US_ASCII);
    }

    private static ExternalTool.Result curl(String... args) throws Exception {
        List<String> command = ExternalTool.args("curl", "-sS", "--max-time", "10");
        command.addAll(List.of(args));
        return ExternalTool.run(TOOL_TIMEOUT, command.toArray(new String[0]));
    }
}
