package dev.relay.server.internal;

import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.server.testing.Origins;
import dev.relay.testing.ExternalTool;
import dev.relay.testing.OpensslKeys;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestCertificates;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS listeners of the configured server: the {@code tls} block, its errors, and reloads. */
@Timeout(60)
class TlsServerTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        cleanup.add(c);
        return c;
    }

    private static String conf(String listener, String tls, String backend) {
        return """
                proxy {
                  listeners = [ { address = "%s"
                                  tls { %s } } ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, access-log = false, threads = 1 }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { name = all, upstream = web } ]
                }
                """.formatted(listener, tls, backend);
    }

    private static String certificates(TestCertificates.Server... servers) {
        StringBuilder out = new StringBuilder("certificates = [");
        for (TestCertificates.Server s : servers) {
            // The comma matters: HOCON merges adjacent objects into one.
            out.append(out.length() > 16 ? ", " : " ").append("{ cert = \"").append(s.certificateChainPem()).append("\", key = \"")
                    .append(s.privateKeyPem()).append("\" }");
        }
        return out.append(" ]\n").toString();
    }

    private static ExternalTool.Result curl(InetSocketAddress at, String host, String... extra) throws Exception {
        List<String> args = ExternalTool.args("curl", "-sS", "-v", "--max-time", "10",
                "--cacert", TestCertificates.caCertificatePem().toString(),
                "--resolve", host + ":" + at.getPort() + ":127.0.0.1");
        args.addAll(List.of(extra));
        args.add("https://" + host + ":" + at.getPort() + "/");
        return ExternalTool.run(TOOL_TIMEOUT, args.toArray(new String[0]));
    }

    private static String subject(ExternalTool.Result curl) {
        for (String line : curl.stderr().split("\n")) {
            if (line.contains("subject:")) {
                return line.substring(line.indexOf("subject:") + 8).trim();
            }
        }
        throw new AssertionError("curl -v printed no subject: " + curl.stderr());
    }

    @Test
    void servesTheConfiguredCertificatesBySniAndForwardsTheClientCertificate() throws Exception {
        ExternalTool.assumeInstalled("curl");
        TestOrigin origin = closeLater(Origins.start("a"));
        TestCertificates.Server one = TestCertificates.server("one.test");
        TestCertificates.Server two = TestCertificates.rsaServer("two.test");
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"), conf("127.0.0.1:0",
                certificates(one, two) + "client-auth = optional\nclient-ca = \"" + TestCertificates.caCertificatePem()
                        + "\"\nforward-client-cert = true\nmin-version = TLSv1.2", origin.address())));
        InetSocketAddress at = relay.proxy();
        TestCertificates.Client alice = TestCertificates.client("alice.test");

        ExternalTool.Result toTwo = curl(at, "two.test", "--cert", alice.certificatePem().toString(),
                "--key", alice.privateKeyPem().toString(), "-H", "X-Client-Cert-Subject: CN=forged");
        assertEquals(0, toTwo.exitCode(), toTwo.stderr());
        assertTrue(subject(toTwo).contains("CN=two.test"), toTwo.stderr());
        RecordedRequest seen = origin.awaitRequests(1, Duration.ofSeconds(5)).get(0);
        assertEquals("SUCCESS", seen.header("X-Client-Cert-Verify"));
        assertTrue(seen.header("X-Client-Cert-Subject").startsWith("CN=alice.test"), seen.header("X-Client-Cert-Subject"));

        ExternalTool.Result noSni = ExternalTool.runWithInput(TOOL_TIMEOUT, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "openssl", "s_client", "-connect", "127.0.0.1:" + at.getPort(), "-noservername", "-ign_eof");
        assertTrue(noSni.stdout().contains("subject=O = Relay tests, CN = one.test"), noSni.stdout());
    }

    @Test
    void aReloadGivesTheBoundListenerItsNewTlsBlock() throws Exception {
        ExternalTool.assumeInstalled("curl");
        TestOrigin origin = closeLater(Origins.start("a"));
        TestCertificates.Server one = TestCertificates.server("one.site.test", "site.test");
        TestCertificates.Server two = TestCertificates.server("two.site.test", "site.test");
        InProcessRelay relay = closeLater(new InProcessRelay(dir.resolve("relay.conf"),
                conf("127.0.0.1:0", certificates(one), origin.address())));
        InetSocketAddress at = relay.proxy();
        String fixed = "127.0.0.1:" + at.getPort();
        assertTrue(subject(curl(at, "site.test")).contains("one.site.test"));

        relay.rewrite(conf(fixed, certificates(two), origin.address()));
        var answer = relay.adminPost("/reload");
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(at, relay.proxy());
        ExternalTool.Result after = curl(at, "site.test");
        assertEquals(0, after.exitCode(), after.stderr());
        assertTrue(subject(after).contains("two.site.test"), after.stderr());

        // A broken block is rejected with its position; the running TLS stays.
        relay.rewrite(conf(fixed, "certificates = [ { cert = \"" + dir.resolve("missing.pem") + "\", key = \""
                + one.privateKeyPem() + "\" } ]", origin.address()));
        var rejected = relay.adminPost("/reload");
        assertTrue(rejected.body().contains("proxy.listeners[0].tls.certificates[0].cert"), rejected.body());
        assertTrue(subject(curl(at, "site.test")).contains("two.site.test"));
    }

    private ConfigProblem problemOf(String tls) throws Exception {
        Path file = dir.resolve("relay.conf");
        Files.writeString(file, conf("127.0.0.1:0", tls, "127.0.0.1:1"));
        return assertThrows(ConfigProblem.class,
                () -> new ConfigLoader(FilterRegistry.load(getClass().getClassLoader())).load(file));
    }

    @Test
    void configTestNamesFileLineKeyAndPemFileOfABadCertificate() throws Exception {
        TestCertificates.Server a = TestCertificates.server("a.test");
        TestCertificates.Server b = TestCertificates.server("b.test");
        Path conf = dir.resolve("relay.conf");

        // Relative paths are relative to the configuration file.
        ConfigProblem missing = problemOf("certificates = [ { cert = \"nope.pem\", key = \"" + a.privateKeyPem() + "\" } ]");
        assertEquals("proxy.listeners[0].tls.certificates[0].cert", missing.key());
        assertEquals(conf + ":3: key 'proxy.listeners[0].tls.certificates[0].cert': " + dir.resolve("nope.pem")
                + ": no such file", missing.getMessage());

        ConfigProblem mismatch = problemOf("certificates = [ { cert = \"" + a.certificateChainPem()
                + "\",\n key = \"" + b.privateKeyPem() + "\" } ]");
        assertEquals("proxy.listeners[0].tls.certificates[0].key", mismatch.key());
        assertEquals(4, mismatch.line());
        assertTrue(mismatch.getMessage().contains(b.privateKeyPem() + ": the private key does not match"),
                mismatch.getMessage());

        OpensslKeys.Pair encrypted = OpensslKeys.selfSigned(dir, "enc.test", OpensslKeys.Kind.EC_ENCRYPTED);
        ConfigProblem locked = problemOf("certificates = [ { cert = \"" + encrypted.chain() + "\", key = \""
                + encrypted.key() + "\" } ]");
        assertEquals("proxy.listeners[0].tls.certificates[0].key", locked.key());
        assertTrue(locked.getMessage().contains(encrypted.key() + ": the private key is encrypted"), locked.getMessage());

        ConfigProblem noCa = problemOf(certificates(a) + "client-auth = require");
        assertEquals("proxy.listeners[0].tls.client-ca", noCa.key());
        ConfigProblem version = problemOf(certificates(a) + "min-version = TLSv1.1");
        assertEquals("unknown value 'TLSv1.1' (expected: TLSv1.2 or TLSv1.3)", version.detail());
    }

    @Test
    void configTestNamesTheKeyOfATicketRotationOrCheckIntervalBelowItsFloor() throws Exception {
        TestCertificates.Server a = TestCertificates.server("a.test");
        ConfigProblem rotation = problemOf(certificates(a) + "ticket-key-rotation = 500ms");
        assertEquals("proxy.listeners[0].tls.ticket-key-rotation", rotation.key());
        assertEquals("'500ms' (expected: >= 1s and <= 168h)", rotation.detail());
        // 1 ns would poll the certificate files without pause.
        ConfigProblem interval = problemOf(certificates(a) + "certificate-check-interval = 1ns");
        assertEquals("proxy.listeners[0].tls.certificate-check-interval", interval.key());
        assertEquals("'1ns' (expected: >= 100ms and <= 1h)", interval.detail());
    }
}
