package dev.relay.filters.access;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys from the JDK, tokens signed with nimbus, checked by the filter, one family and one failure at a time. */
@Timeout(30)
class JwtFilterTest {
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef-a-32-byte-plus-secret".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    /** Two RSA pairs for the whole class: generating one takes a good part of a second. */
    private static final KeyPair[] RSA = new KeyPair[2];
    private static int rsaIndex;

    private static KeyPair rsa() throws Exception {
        synchronized (RSA) {
            int index = rsaIndex++ % RSA.length;
            if (RSA[index] == null) {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048);
                RSA[index] = generator.generateKeyPair();
            }
            return RSA[index];
        }
    }

    private static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair();
    }

    private static RSAKey rsaJwk(KeyPair pair, String kid) {
        return new RSAKey.Builder((RSAPublicKey) pair.getPublic()).keyID(kid).build();
    }

    private static ECKey ecJwk(KeyPair pair, Curve curve, String kid) {
        return new ECKey.Builder(curve, (ECPublicKey) pair.getPublic()).keyID(kid).build();
    }

    private Path jwks(JWK... keys) throws Exception {
        Path file = dir.resolve("jwks.json");
        Files.writeString(file, new JWKSet(List.of(keys)).toString());
        return file;
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().subject("alice").issuer("https://idp.example").audience("api")
                .expirationTime(Date.from(NOW.plusSeconds(300))).issueTime(Date.from(NOW));
    }

    private static String sign(JWSSigner signer, JWSAlgorithm algorithm, String kid, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private JwtFilter.Builder builder() {
        return JwtFilter.builder().clock(CLOCK).fileChecks(Runnable::run);
    }

    private static JwtVerifier.Failure failure(JwtFilter filter, String token) {
        JwtVerifier.Result result = filter.verify(token);
        assertNull(result.claims(), "the token was accepted");
        return result.failure();
    }

    private static void accepted(JwtFilter filter, String token) {
        JwtVerifier.Result result = filter.verify(token);
        assertNull(result.failure(), () -> "refused: " + result.failure());
        assertEquals("alice", result.claims().getSubject());
    }

    @Test
    void rsaAndRsaPssTokensVerifyWithTheJwkSet() throws Exception {
        KeyPair pair = rsa();
        JwtFilter filter = builder().jwks(jwks(rsaJwk(pair, "r1"))).build();
        RSASSASigner signer = new RSASSASigner((RSAPrivateKey) pair.getPrivate());
        for (JWSAlgorithm algorithm : List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
                JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512)) {
            accepted(filter, sign(signer, algorithm, "r1", claims().build()));
        }
    }

    @Test
    void ecdsaTokensVerifyOnTheirCurve() throws Exception {
        KeyPair p256 = ec("secp256r1");
        KeyPair p384 = ec("secp384r1");
        KeyPair p521 = ec("secp521r1");
        JwtFilter filter = builder().jwks(jwks(ecJwk(p256, Curve.P_256, "e256"), ecJwk(p384, Curve.P_384, "e384"),
                ecJwk(p521, Curve.P_521, "e521"))).build();
        accepted(filter, sign(new ECDSASigner((ECPrivateKey) p256.getPrivate()), JWSAlgorithm.ES256, "e256", claims().build()));
        accepted(filter, sign(new ECDSASigner((ECPrivateKey) p384.getPrivate()), JWSAlgorithm.ES384, "e384", claims().build()));
        accepted(filter, sign(new ECDSASigner((ECPrivateKey) p521.getPrivate()), JWSAlgorithm.ES512, "e521", claims().build()));
    }

    @Test
    void hmacTokensVerifyWithTheSecretFile() throws Exception {
        Path secret = dir.resolve("jwt.secret");
        Files.write(secret, (new String(SECRET, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII));
        JwtFilter filter = builder().secretFile(secret).build();
        accepted(filter, sign(new MACSigner(SECRET), JWSAlgorithm.HS256, "any", claims().build()));
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE,
                failure(filter, sign(new MACSigner(SECRET), JWSAlgorithm.HS384, "any", claims().build())),
                "HS384 is not allowed unless listed");
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE,
                failure(filter, sign(new MACSigner("another-secret-of-at-least-32-bytes!!"), JWSAlgorithm.HS256, "any", claims().build())));
    }

    @Test
    void expiryAndNotBeforeAreCheckedWithTheClockSkew() throws Exception {
        KeyPair pair = rsa();
        JwtFilter filter = builder().jwks(jwks(rsaJwk(pair, "r1"))).clockSkew(Duration.ofSeconds(30)).build();
        RSASSASigner signer = new RSASSASigner((RSAPrivateKey) pair.getPrivate());

        assertEquals(JwtVerifier.Failure.EXPIRED, failure(filter,
                sign(signer, JWSAlgorithm.RS256, "r1", claims().expirationTime(Date.from(NOW.minusSeconds(31))).build())));
        accepted(filter, sign(signer, JWSAlgorithm.RS256, "r1", claims().expirationTime(Date.from(NOW.minusSeconds(20))).build()));
        assertEquals(JwtVerifier.Failure.NOT_YET_VALID, failure(filter,
                sign(signer, JWSAlgorithm.RS256, "r1", claims().notBeforeTime(Date.from(NOW.plusSeconds(60))).build())));
        assertEquals(JwtVerifier.Failure.CLAIMS, failure(filter,
                sign(signer, JWSAlgorithm.RS256, "r1", claims().expirationTime(null).build())), "exp is required by default");
    }

    @Test
    void issuerAudienceAndRequiredClaimsAreChecked() throws Exception {
        KeyPair pair = rsa();
        JwtFilter filter = builder().jwks(jwks(rsaJwk(pair, "r1"))).issuer("https://idp.example").audience(List.of("api", "web"))
                .requiredClaims(List.of("exp", "sub")).build();
        RSASSASigner signer = new RSASSASigner((RSAPrivateKey) pair.getPrivate());

        accepted(filter, sign(signer, JWSAlgorithm.RS256, "r1", claims().build()));
        assertEquals(JwtVerifier.Failure.CLAIMS, failure(filter, sign(signer, JWSAlgorithm.RS256, "r1", claims().issuer("https://evil.example").build())));
        assertEquals(JwtVerifier.Failure.CLAIMS, failure(filter, sign(signer, JWSAlgorithm.RS256, "r1", claims().audience("other").build())));
        assertEquals(JwtVerifier.Failure.CLAIMS, failure(filter, sign(signer, JWSAlgorithm.RS256, "r1", claims().subject(null).build())));
    }

    @Test
    void aSignatureByAnotherKeyIsRefused() throws Exception {
        KeyPair known = rsa();
        KeyPair other = rsa();
        JwtFilter filter = builder().jwks(jwks(rsaJwk(known, "r1"))).build();
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE,
                failure(filter, sign(new RSASSASigner((RSAPrivateKey) other.getPrivate()), JWSAlgorithm.RS256, "r1", claims().build())));
        String good = sign(new RSASSASigner((RSAPrivateKey) known.getPrivate()), JWSAlgorithm.RS256, "r1", claims().build());
        String[] parts = good.split("\\.");
        String tampered = parts[0] + "." + Base64URL.encode(claims().subject("root").build().toString()) + "." + parts[2];
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE, failure(filter, tampered));
    }

    @Test
    void unsignedTokensAndAlgorithmConfusionAreRefused() throws Exception {
        KeyPair pair = rsa();
        RSAKey publicJwk = rsaJwk(pair, "r1");
        JwtFilter filter = builder().jwks(jwks(publicJwk)).algorithms(List.of("RS256", "HS256")).build();

        assertEquals(JwtVerifier.Failure.UNSUPPORTED, failure(filter, new PlainJWT(claims().build()).serialize()));
        // The classic attack: HMAC keyed with the RSA public key the verifier holds, in two encodings.
        for (byte[] key : List.of(pair.getPublic().getEncoded(), publicJwk.toJSONString().getBytes(StandardCharsets.UTF_8))) {
            String forged = sign(new MACSigner(key), JWSAlgorithm.HS256, "r1", claims().build());
            assertEquals(JwtVerifier.Failure.BAD_SIGNATURE, failure(filter, forged));
        }
        assertEquals(JwtVerifier.Failure.UNSUPPORTED, failure(filter, "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), "a JWE");
        assertEquals(JwtVerifier.Failure.MALFORMED, failure(filter, "not-a-token"));
    }

    @Test
    void aRewrittenJwkSetRotatesTheKeysAndABadOneKeepsThem() throws Exception {
        KeyPair first = rsa();
        KeyPair second = ec("secp256r1");
        Path file = jwks(rsaJwk(first, "old"));
        JwtFilter filter = builder().jwks(file).build();
        String oldToken = sign(new RSASSASigner((RSAPrivateKey) first.getPrivate()), JWSAlgorithm.RS256, "old", claims().build());
        String newToken = sign(new ECDSASigner((ECPrivateKey) second.getPrivate()), JWSAlgorithm.ES256, "new", claims().build());
        accepted(filter, oldToken);
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE, failure(filter, newToken));

        Files.writeString(file, new JWKSet(ecJwk(second, Curve.P_256, "new")).toString());
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        filter.checkFile();
        accepted(filter, newToken);
        assertEquals(JwtVerifier.Failure.BAD_SIGNATURE, failure(filter, oldToken));

        Files.writeString(file, "{\"keys\": [ {\"kty\": \"RSA\"");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
        filter.checkFile();
        accepted(filter, newToken);
    }

    @Test
    void theModuleAnswers401WithABearerChallengeAndSendsClaimsUpstream() throws Exception {
        KeyPair pair = rsa();
        JwtFilter filter = builder().jwks(jwks(rsaJwk(pair, "r1"))).realm("api")
                .claimToHeader("sub", "X-User").claimToHeader("roles", "X-Roles").claimToHeader("note", "X-Note").build();
        RSASSASigner signer = new RSASSASigner((RSAPrivateKey) pair.getPrivate());

        Exchange none = Exchange.of("GET", "/").header("X-User", "root");
        none.run(filter);
        assertEquals(401, none.status());
        assertEquals("Bearer realm=\"api\"", none.response().headers().get("WWW-Authenticate"));
        assertFalse(none.request.headers().contains("X-User"), "a client cannot send its own claim fields");

        Exchange expired = Exchange.of("GET", "/").header("Authorization", "Bearer "
                + sign(signer, JWSAlgorithm.RS256, "r1", claims().expirationTime(Date.from(NOW.minusSeconds(3600))).build()));
        expired.run(filter);
        assertEquals(401, expired.status());
        assertEquals("Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token has expired\"",
                expired.response().headers().get("WWW-Authenticate"));

        String token = sign(signer, JWSAlgorithm.RS256, "r1",
                claims().claim("roles", List.of("admin", "ops")).claim("note", "line\r\nX-Injected: 1").build());
        Exchange ok = Exchange.of("GET", "/").header("Authorization", "bearer " + token).header("X-User", "root");
        ok.run(filter);
        assertNull(ok.response());
        assertEquals(List.of("alice"), ok.request.headers().getAll("X-User"));
        assertEquals("admin, ops", ok.request.headers().get("X-Roles"));
        assertFalse(ok.request.headers().contains("X-Note"), "a value that would split the header is not written");
        assertEquals("bearer " + token, ok.request.headers().get("Authorization"), "the token goes upstream by default");
    }

    @Test
    void theTokenMayComeFromAnotherHeaderOrACookie() throws Exception {
        KeyPair pair = rsa();
        Path keys = jwks(rsaJwk(pair, "r1"));
        String token = sign(new RSASSASigner((RSAPrivateKey) pair.getPrivate()), JWSAlgorithm.RS256, "r1", claims().build());

        JwtFilter byHeader = builder().jwks(keys).header("X-Token").forwardToken(false).build();
        Exchange header = Exchange.of("GET", "/").header("X-Token", token);
        header.run(byHeader);
        assertNull(header.response());
        assertFalse(header.request.headers().contains("X-Token"));

        JwtFilter byCookie = builder().jwks(keys).cookie("session").build();
        Exchange cookie = Exchange.of("GET", "/").header("Cookie", "theme=dark; session=" + token + "; lang=en");
        cookie.run(byCookie);
        assertNull(cookie.response());
        Exchange bearerOnly = Exchange.of("GET", "/").header("Authorization", "Bearer " + token);
        bearerOnly.run(byCookie);
        assertEquals(401, bearerOnly.status());
    }

    @Test
    void settingsAreCheckedAtLoadNamingTheKey() throws Exception {
        Path keys = jwks(rsaJwk(rsa(), "r1"));
        Path shortSecret = dir.resolve("short.secret");
        Files.writeString(shortSecret, "too-short");
        JwtFilterProvider provider = new JwtFilterProvider();

        assertEquals("jwks", invalid(provider, Map.of()).key());
        assertEquals("secret-file", invalid(provider, ordered("jwks", keys.toString(), "secret-file", keys.toString())).key());
        InvalidSettingException eddsa = invalid(provider, ordered("jwks", keys.toString(), "algorithms", List.of("RS256", "EdDSA")));
        assertEquals("algorithms[1]", eddsa.key());
        assertTrue(eddsa.getMessage().contains("Tink"), eddsa.getMessage());
        assertEquals("algorithms[0]", invalid(provider, ordered("jwks", keys.toString(), "algorithms", List.of("none"))).key());
        InvalidSettingException tooShort = invalid(provider, Map.of("secret-file", shortSecret.toString()));
        assertEquals("secret-file", tooShort.key());
        assertTrue(tooShort.getMessage().contains("9 bytes (expected: at least 32"), tooShort.getMessage());
        assertEquals("algorithms", invalid(provider, ordered("secret-file", keys.toString(), "algorithms", List.of("RS256"))).key());
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, "[]");
        assertEquals("jwks", invalid(provider, Map.of("jwks", garbage.toString())).key());
        assertEquals("cookie", invalid(provider, ordered("jwks", keys.toString(), "header", "X-Token", "cookie", "s")).key());
        assertEquals("claims-to-headers.sub", invalid(provider, ordered("jwks", keys.toString(),
                "claims-to-headers", Map.of("sub", "Bad Header"))).key());
        assertEquals("claims-to-headers.sub", invalid(provider, ordered("jwks", keys.toString(),
                "claims-to-headers", Map.of("sub", "Authorization"))).key());

        JwtFilter made = (JwtFilter) provider.create(FilterSettings.of(ordered("jwks", keys.toString(), "issuer", "https://idp.example",
                "audience", "api", "clock-skew", "5s", "claims-to-headers", Map.of("sub", "X-User"))));
        assertEquals(JwtFilter.ORDER, made.order());
    }

    private static InvalidSettingException invalid(JwtFilterProvider provider, Map<String, ?> settings) {
        return assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(settings)));
    }

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
