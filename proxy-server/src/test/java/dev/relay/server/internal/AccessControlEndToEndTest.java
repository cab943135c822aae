package dev.relay.server.internal;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.RawHttpConnection.Response;
import dev.relay.testing.RecordedRequest;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The access-control filters in the configured server, in front of a real origin: {@code ip-acl}
 * behind a PROXY-protocol listener, {@code basic-auth} with a bcrypt htpasswd file (and curl),
 * {@code jwt} with a JWK set rewritten while the server runs, and {@code cors} preflights from curl.
 */
@Timeout(60)
class AccessControlEndToEndTest {
    private static final String HOST = "site.test";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private TestOrigin origin;

    @BeforeEach
    void startOrigin() {
        origin = TestOrigin.builder().name("origin").build().start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        origin.close();
    }

    private InProcessRelay start(String listener, String filters) throws Exception {
        InProcessRelay relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ %s ]
                  server { upgrade-socket = none }
                  upstreams { web { backends = [ "%s" ] } }
                  routes = [ { upstream = web, filters = [ %s ] } ]
                }
                """.formatted(listener, origin.address(), filters));
        cleanup.add(relay);
        return relay;
    }

    private static String behindBalancer(InetSocketAddress proxy, String client, String path) throws Exception {
        try (Socket balancer = new Socket()) {
            balancer.connect(proxy, 5000);
            balancer.setSoTimeout(10_000);
            balancer.getOutputStream().write(("PROXY TCP4 " + client + " 192.0.2.1 51234 443\r\n"
                    + "GET " + path + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(balancer.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void ipAclJudgesTheClientThatTheProxyProtocolHeaderNames() throws Exception {
        InProcessRelay relay = start("{ address = \"127.0.0.1:0\", proxy-protocol = true }",
                "{ name = ip-acl, rules = [ \"deny 203.0.113.66\", \"allow 203.0.113.0/24\", \"deny all\" ] }");

        String allowed = behindBalancer(relay.proxy(), "203.0.113.7", "/in");
        String denied = behindBalancer(relay.proxy(), "203.0.113.66", "/out");
        String outside = behindBalancer(relay.proxy(), "198.51.100.7", "/out");

        assertTrue(allowed.startsWith("HTTP/1.1 200"), allowed);
        assertTrue(denied.startsWith("HTTP/1.1 403"), denied);
        assertTrue(denied.contains("this client address is not allowed"), denied);
        assertTrue(outside.startsWith("HTTP/1.1 403"), outside);
        assertEquals(1, origin.requestCount("/in"));
        assertEquals(0, origin.requestCount("/out"), "a refused client never reaches the origin");
    }

    @Test
    void basicAuthAdmitsABcryptUserFromCurlAndRefusesAWrongPassword() throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, "alice:" + BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(6, "s3cret".toCharArray()) + "\n");
        InProcessRelay relay = start("\"127.0.0.1:0\"", "{ name = basic-auth, realm = \"staff\", htpasswd = \"" + htpasswd
                + "\", user-header = X-Auth-User }");
        String url = "http://127.0.0.1:" + relay.proxy().getPort() + "/private";

        String ok = curl("-u", "alice:s3cret", "-H", "X-Auth-User: root", url);
        String wrong = curl("-u", "alice:guess", url);

        assertTrue(ok.startsWith("HTTP/1.1 200"), ok);
        RecordedRequest seen = origin.awaitRequests(1, WAIT).get(0);
        assertEquals(List.of("alice"), seen.headerValues("X-Auth-User"));
        assertNull(seen.header("Authorization"), "the credentials stay at the proxy");
        assertTrue(wrong.startsWith("HTTP/1.1 401"), wrong);
        assertTrue(wrong.toLowerCase(Locale.ROOT).contains("www-authenticate: basic realm=\"staff\", charset=\"utf-8\""), wrong);
        assertEquals(1, origin.requests().size());
    }

    @Test
    void jwtFollowsItsJwkSetWhenTheFileIsRewritten() throws Exception {
        KeyPair first = ec();
        KeyPair second = ec();
        Path jwks = dir.resolve("jwks.json");
        writeJwks(jwks, first, "k1");
        InProcessRelay relay = start("\"127.0.0.1:0\"", "{ name = jwt, jwks = \"" + jwks + "\", issuer = \"https://idp.test\", "
                + "claims-to-headers { sub = X-User } }");
        String oldToken = token(first, "k1", "alice");
        String newToken = token(second, "k2", "bob");

        assertEquals(200, withToken(relay, oldToken).status());
        Response refused = withToken(relay, newToken);
        assertEquals(401, refused.status());
        assertTrue(refused.header("WWW-Authenticate").contains("error=\"invalid_token\""), refused.header("WWW-Authenticate"));
        assertEquals("alice", origin.awaitRequests(1, WAIT).get(0).header("X-User"));

        writeJwks(jwks, second, "k2");
        // The file is looked at, off the event loop, at most once a second while requests arrive.
        Await.until(() -> status(relay, newToken) == 200, WAIT, () -> "the rewritten JWK set is in use");
        assertEquals(401, withToken(relay, oldToken).status(), "the removed key no longer verifies");
        assertEquals(401, RawHttpConnection.get(relay.proxy(), HOST, "/").status());
    }

    @Test
    void corsPreflightFromCurlIsAnsweredAtTheProxy() throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        InProcessRelay relay = start("\"127.0.0.1:0\"", "{ name = cors, allow-origins = [ \"https://*.example.com\" ], "
                + "allow-methods = [ GET, PUT ], allow-headers = [ Content-Type ], max-age = 1h }");
        String url = "http://127.0.0.1:" + relay.proxy().getPort() + "/api/items";

        String allowed = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com", "-H", "Access-Control-Request-Method: PUT",
                "-H", "Access-Control-Request-Headers: content-type", url);
        String refused = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.org", "-H", "Access-Control-Request-Method: PUT", url);
        String actual = curl("-H", "Origin: https://app.example.com", url);

        String lower = allowed.toLowerCase(Locale.ROOT);
        assertTrue(allowed.startsWith("HTTP/1.1 204"), allowed);
        assertTrue(lower.contains("access-control-allow-origin: https://app.example.com"), allowed);
        assertTrue(lower.contains("access-control-allow-methods: get, put"), allowed);
        assertTrue(lower.contains("access-control-max-age: 3600"), allowed);
        assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
        assertTrue(actual.startsWith("HTTP/1.1 200"), actual);
        assertTrue(actual.toLowerCase(Locale.ROOT).contains("access-control-allow-origin: https://app.example.com"), actual);
        List<RecordedRequest> seen = origin.awaitRequests(1, WAIT);
        assertEquals(1, seen.size());
        assertEquals("GET", seen.get(0).method(), "preflights never reach the origin");
    }

    private Response withToken(InProcessRelay relay, String token) throws Exception {
        return RawHttpConnection.get(relay.proxy(), HOST, "/", Map.of("Authorization", "Bearer " + token));
    }

    private int status(InProcessRelay relay, String token) {
        try {
            return withToken(relay, token).status();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static KeyPair ec() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    /** Writes the set to a temporary file and renames it over the old one, as a deployment would. */
    private void writeJwks(Path file, KeyPair pair, String kid) throws Exception {
        Path next = dir.resolve("jwks.json.next");
        Files.writeString(next, new JWKSet(new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic()).keyID(kid).build()).toString());
        Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String token(KeyPair pair, String kid, String subject) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).issuer("https://idp.test")
                .expirationTime(Date.from(Instant.now().plusSeconds(600))).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(), claims);
        jwt.sign(new ECDSASigner((ECPrivateKey) pair.getPrivate()));
        return jwt.serialize();
    }

    private static String curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "10"));
        command.addAll(List.of(args));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(curl.waitFor(15, TimeUnit.SECONDS), "curl did not finish");
        return new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static boolean onPath(String program) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(entry, program))) {
                return true;
            }
        }
        return false;
    }
}
