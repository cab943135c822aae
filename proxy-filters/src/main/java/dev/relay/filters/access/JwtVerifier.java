package dev.relay.filters.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Key;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a compact JWS token against one version of the keys (nimbus-jose-jwt's
 * {@link DefaultJWTProcessor}): the signature with a key of the type the algorithm needs (so an HS256
 * token is never checked with an RSA public key used as an HMAC secret), the algorithm among those
 * allowed ({@code none} never is), then {@code exp}/{@code nbf} with the clock skew, {@code iss},
 * {@code aud} and the required claims. Immutable and thread-safe; one per version of the key file.
 */
final class JwtVerifier {
    /** The algorithms verified with the JDK alone (EdDSA would need Google Tink). */
    static final List<JWSAlgorithm> ASYMMETRIC = List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    static final List<JWSAlgorithm> HMAC = List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);

    /** An HMAC secret shorter than this is refused: RFC 7518 3.2 asks for at least the hash size. */
    static final int MIN_SECRET_BYTES = 32;

    /** Why a token was refused; the text goes to the client as the {@code error_description}. */
    enum Failure {
        MALFORMED("the token is malformed"),
        UNSUPPORTED("the token is not a signed JWT"),
        BAD_SIGNATURE("the signature does not verify with a known key and allowed algorithm"),
        EXPIRED("the token has expired"),
        NOT_YET_VALID("the token is not valid yet"),
        CLAIMS("the token's claims are not accepted here");

        final String description;

        Failure(String description) {
            this.description = description;
        }
    }

    /** The outcome of a check: the claims, or why not. */
    record Result(@Nullable JWTClaimsSet claims, @Nullable Failure failure) {}

    /** What every version of the keys shares: the claim rules and the clock. */
    record Rules(Set<JWSAlgorithm> algorithms, @Nullable String issuer, @Nullable Set<String> audience,
                 Set<String> requiredClaims, Duration clockSkew, Clock clock) {}

    private final DefaultJWTProcessor<SecurityContext> processor;

    private JwtVerifier(JWSKeySelector<SecurityContext> keys, Rules rules) {
        processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(keys);
        // Plain JWTs and access tokens (RFC 9068 "at+jwt"); the typ header is optional.
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        JWTClaimsSet exact = rules.issuer() == null ? new JWTClaimsSet.Builder().build()
                : new JWTClaimsSet.Builder().issuer(rules.issuer()).build();
        Clock clock = rules.clock();
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(rules.audience(), exact,
                rules.requiredClaims(), null) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        claims.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, rules.clockSkew().toSeconds()));
        processor.setJWTClaimsSetVerifier(claims);
    }

    /** Checks {@code token}, a compact serialization. */
    Result verify(String token) {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            // An unsecured alg=none token (three parts) or a JWE (five) fails here, as does garbage.
            long dots = token.chars().filter(c -> c == '.').count();
            return new Result(null, dots == 2 || dots == 4 ? Failure.UNSUPPORTED : Failure.MALFORMED);
        }
        try {
            return new Result(processor.process(jwt, null), null);
        } catch (ExpiredJWTException e) {
            return new Result(null, Failure.EXPIRED);
        } catch (BadJWTException e) {
            String message = String.valueOf(e.getMessage());
            return new Result(null, message.startsWith("JWT before use time") ? Failure.NOT_YET_VALID : Failure.CLAIMS);
        } catch (BadJWSException e) {
            return new Result(null, Failure.BAD_SIGNATURE);
        } catch (BadJOSEException | JOSEException e) {
            // No key of the right type and id for the header's algorithm, or an algorithm not allowed.
            return new Result(null, Failure.BAD_SIGNATURE);
        }
    }

    /**
     * A verifier over a JWK set file's bytes: public keys are used as they are, private ones reduced to
     * their public part; symmetric ({@code oct}) keys are kept for HS algorithms, when allowed.
     *
     * @throws IllegalArgumentException when the bytes are not a JWK set or hold no key
     */
    static JwtVerifier ofJwks(Path file, byte[] content, Rules rules) {
        JWKSet set;
        try {
            set = JWKSet.parse(new String(content, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new IllegalArgumentException("JWK set " + file + ": not a JWK set (" + e.getMessage() + ")");
        }
        List<JWK> keys = new ArrayList<>();
        for (JWK key : set.getKeys()) {
            keys.add(key.isPrivate() && key.getKeyType() != KeyType.OCT ? key.toPublicJWK() : key);
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("JWK set " + file + ": no keys");
        }
        return new JwtVerifier(new JWSVerificationKeySelector<>(rules.algorithms(), new ImmutableJWKSet<>(new JWKSet(keys))), rules);
    }

    /**
     * A verifier over a secret file's bytes (one trailing line break ignored), for HS algorithms.
     *
     * @throws IllegalArgumentException when the secret is too short for the allowed algorithms
     */
    static JwtVerifier ofSecret(Path file, byte[] content, Rules rules) {
        byte[] secret = content;
        int end = secret.length;
        if (end > 0 && secret[end - 1] == '\n') {
            end--;
            if (end > 0 && secret[end - 1] == '\r') {
                end--;
            }
        }
        secret = Arrays.copyOf(secret, end);
        int needed = minimumSecretBytes(rules.algorithms());
        if (secret.length < needed) {
            throw new IllegalArgumentException("secret " + file + ": " + secret.length + " bytes (expected: at least "
                    + needed + " for " + rules.algorithms() + ")");
        }
        // The one secret whatever the token's kid: a secret file has no key ids to match.
        List<Key> key = List.of(new OctetSequenceKey.Builder(secret).build().toSecretKey());
        Set<JWSAlgorithm> allowed = rules.algorithms();
        JWSKeySelector<SecurityContext> selector = (header, context) -> allowed.contains(header.getAlgorithm()) ? key : List.of();
        return new JwtVerifier(selector, rules);
    }

    /** The secret length HMAC needs: the hash's size, for the largest allowed. */
    static int minimumSecretBytes(Set<JWSAlgorithm> algorithms) {
        return algorithms.contains(JWSAlgorithm.HS512) ? 64 : algorithms.contains(JWSAlgorithm.HS384) ? 48 : MIN_SECRET_BYTES;
    }

    /**
     * The algorithm named {@code name}, if this filter can verify it.
     *
     * @throws IllegalArgumentException naming what is accepted
     */
    static JWSAlgorithm algorithm(String name) {
        for (JWSAlgorithm a : ASYMMETRIC) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        for (JWSAlgorithm a : HMAC) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        String why = name.equals("EdDSA") || name.equals("Ed25519")
                ? " (EdDSA needs Google Tink, which Relay does not ship; expected: "
                : name.equalsIgnoreCase("none") ? " (unsigned tokens are never accepted; expected: " : " (expected: ";
        Set<String> names = new HashSet<>();
        ASYMMETRIC.forEach(a -> names.add(a.getName()));
        HMAC.forEach(a -> names.add(a.getName()));
        throw new IllegalArgumentException("algorithms: '" + name + "'" + why + String.join(", ", names.stream().sorted().toList()) + ")");
    }
}
