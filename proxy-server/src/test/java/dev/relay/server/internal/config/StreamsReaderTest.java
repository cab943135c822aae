package dev.relay.server.internal.config;

import dev.relay.server.internal.FilterRegistry;
import dev.relay.testing.TestCertificates;
import dev.relay.transport.TlsSettings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamsReaderTest {
    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    private ProxyConfig load(String streams) {
        return load(streams, "proxy.upstreams.db.backends = [ \"127.0.0.1:5433\" ]");
    }

    private ProxyConfig load(String streams, String upstreams) {
        return loader.parseString("""
                proxy.listeners = [ "127.0.0.1:6188" ]
                %s
                proxy.streams = %s
                """.formatted(upstreams, streams), "relay.conf");
    }

    private String problem(String streams) {
        return assertThrows(ConfigProblem.class, () -> load(streams)).getMessage();
    }

    @Test
    void aStreamTakesTheDocumentedDefaults() {
        ProxyConfig config = load("[ { address = \"127.0.0.1:5432\", upstream = db } ]");
        StreamConfig stream = config.streams().get(0);

        assertEquals("stream-0", stream.name());
        assertEquals("db", stream.upstream());
        assertEquals(Duration.ofMinutes(10), stream.idleTimeout());
        assertEquals(Duration.ofSeconds(10), stream.connectTimeout());
        assertEquals(config.server().maxAttempts(), stream.maxAttempts(), "proxy.server.max-attempts");
    }

    @Test
    void aStreamHasItsOwnTimeoutsAndAttempts() {
        StreamConfig stream = load("""
                [ { name = pg, address = "127.0.0.1:5432", upstream = db, idle-timeout = 0,
                    connect-timeout = 2s, max-attempts = 5 } ]""").streams().get(0);

        assertEquals("pg", stream.name());
        assertEquals(Duration.ZERO, stream.idleTimeout());
        assertEquals(Duration.ofSeconds(2), stream.connectTimeout());
        assertEquals(5, stream.maxAttempts());
    }

    @Test
    void anUnknownUpstreamNamesFileLineAndKey() {
        assertEquals("relay.conf:3: key 'proxy.streams[0].upstream': unknown upstream group 'cache' (expected: one of [db])",
                problem("[ { address = \"127.0.0.1:5432\", upstream = cache } ]"));
    }

    private static String tlsBlock(TestCertificates.Server server, String more) {
        return "tls { certificates = [ { cert = \"" + server.certificateChainPem() + "\", key = \""
                + server.privateKeyPem() + "\" } ]" + more + " }";
    }

    @Test
    void aTlsBlockIsReadAsOnAnHttpListener() {
        TestCertificates.Server db = TestCertificates.server("db.test");
        StreamConfig stream = load("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db,
                ", client-auth = require, client-ca = \"" + TestCertificates.caCertificatePem() + "\", min-version = TLSv1.3")
                + " } ]").streams().get(0);

        TlsSettings tls = stream.tls();
        assertNotNull(tls);
        assertEquals(TlsSettings.ClientAuth.REQUIRE, tls.clientAuth());
        assertEquals(TlsSettings.Version.TLS_1_3, tls.minVersion());
        assertEquals(1, tls.certificates().size());
        assertNull(load("[ { address = \"127.0.0.1:5432\", upstream = db } ]").streams().get(0).tls(), "plain TCP");
    }

    @Test
    void aBadTlsBlockNamesFileLineAndKeyAsForAnHttpListener() {
        TestCertificates.Server db = TestCertificates.server("db.test");
        String missing = problem("[ { address = \"127.0.0.1:5432\", upstream = db, tls { certificates = [ { cert = \"/nope/db.pem\", key = \""
                + db.privateKeyPem() + "\" } ] } } ]");
        assertEquals("relay.conf:3: key 'proxy.streams[0].tls.certificates[0].cert': /nope/db.pem: no such file", missing);
        String noCa = problem("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db, ", client-auth = optional") + " } ]");
        assertTrue(noCa.startsWith("relay.conf:3: key 'proxy.streams[0].tls.client-ca': missing"), noCa);
        String unknown = problem("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db, ", alpn = [ h2 ]") + " } ]");
        assertTrue(unknown.startsWith("relay.conf:3: key 'proxy.streams[0].tls.alpn'"), unknown);
    }

    @Test
    void aChangedTlsBlockOfAStreamNeedsARestart() {
        TestCertificates.Server db = TestCertificates.server("db.test");
        ProxyConfig before = load("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db, "") + " } ]");
        ProxyConfig same = load("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db, "") + " } ]");
        ProxyConfig stricter = load("[ { address = \"127.0.0.1:5432\", upstream = db, " + tlsBlock(db, ", min-version = TLSv1.3") + " } ]");

        assertEquals(List.of(), same.restartOnly().changedSince(before.restartOnly()));
        assertEquals(List.of("proxy.streams"), stricter.restartOnly().changedSince(before.restartOnly()));
    }

    @Test
    void anAddressOfAnHttpListenerIsRefused() {
        assertEquals("relay.conf:3: key 'proxy.streams[0].address': '127.0.0.1:6188' is already a listener "
                + "(expected: an address of its own)", problem("[ { address = \"127.0.0.1:6188\", upstream = db } ]"));
    }

    @Test
    void aGroupThatHashesRequestsCannotTakeStreams() {
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> load("[ { address = \"127.0.0.1:5432\", upstream = db } ]",
                "proxy.upstreams.db { backends = [ \"127.0.0.1:5433\" ], selection = ketama, hash-key = uri }"));
        assertEquals(true, p.getMessage().contains("which a stream does not have"), p.getMessage());
        assertEquals(1, load("[ { address = \"127.0.0.1:5432\", upstream = db } ]",
                "proxy.upstreams.db { backends = [ \"127.0.0.1:5433\" ], selection = maglev, hash-key = client-ip }")
                .streams().size());
    }

    @Test
    void unknownKeysAndBadValuesNameTheirKey() {
        assertEquals(true, problem("[ { address = \"127.0.0.1:5432\", upstream = db, idle = 1s } ]")
                .startsWith("relay.conf:3: key 'proxy.streams[0].idle'"));
        assertEquals(true, problem("[ { address = \"127.0.0.1:5432\", upstream = db, connect-timeout = 0s } ]")
                .startsWith("relay.conf:3: key 'proxy.streams[0].connect-timeout'"));
        assertEquals(true, problem("[ { upstream = db } ]").startsWith("relay.conf:3: key 'proxy.streams[0].address': missing"));
    }

    @Test
    void changedStreamsNeedARestart() {
        ProxyConfig before = load("[ { address = \"127.0.0.1:5432\", upstream = db } ]");
        ProxyConfig same = load("[ { address = \"127.0.0.1:5432\", upstream = db, idle-timeout = 10m } ]");
        ProxyConfig moved = load("[ { address = \"127.0.0.1:5434\", upstream = db } ]");

        assertEquals(List.of(), same.restartOnly().changedSince(before.restartOnly()));
        assertEquals(List.of("proxy.streams"), moved.restartOnly().changedSince(before.restartOnly()));
    }
}
