package dev.relay.filters.access;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.HttpSyntax;
import dev.relay.filters.internal.PlainTextResponses;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The {@code jwt} filter: a request must carry a signed JWT (RFC 7519) that verifies with a key of a
 * JWK set file, or with an HMAC secret file, and whose claims are accepted; otherwise it gets 401 with
 * {@code WWW-Authenticate: Bearer} (RFC 6750: {@code error="invalid_token"} and a short
 * {@code error_description} when a token was given). Chosen claims go upstream as request fields.
 *
 * <pre>{@code
 * HttpModuleFactory jwt = JwtFilter.builder()
 *         .jwks(Path.of("/etc/relay/jwks.json"))
 *         .issuer("https://idp.example").audience(List.of("api"))
 *         .claimToHeader("sub", "X-User").claimToHeader("scope", "X-Scope")
 *         .build();
 * }</pre>
 *
 * <p>The token is read from {@code Authorization: Bearer ...} by default, or from another field
 * ({@link Builder#header}, with or without the {@code Bearer} prefix), or a cookie
 * ({@link Builder#cookie}). Algorithms: RS256/384/512, PS256/384/512 and ES256/384/512 with the JWK
 * set, HS256/384/512 with a secret (EdDSA would need Google Tink; {@code none} is never accepted).
 * {@code exp} is required unless {@link Builder#requiredClaims} says otherwise; {@code exp} and
 * {@code nbf} are checked with {@link Builder#clockSkew} (default 60 s).
 *
 * <p>Verification runs on the event loop: an RSA-2048 or P-256 signature check costs tens of
 * microseconds, less than handing the request to another thread and back would. The key file is
 * looked at (off the event loop) at most once a second while requests arrive and read again when it
 * changed; a new file that does not parse keeps the previous keys, and the problem is logged.
 *
 * <p>Each claim field named in {@link Builder#claimToHeader} is removed from every request first, so a
 * client cannot send its own; a claim that is missing, an object, or not printable ASCII sets nothing.
 * Arrays are joined with {@code ", "}.
 */
public final class JwtFilter implements HttpModuleFactory {
    /** After {@code ip-acl} and {@code cors}, before the filters that could answer from elsewhere (a cache). */
    public static final int ORDER = -200;

    private static final byte[] UNAUTHORIZED = "401 Unauthorized: a valid bearer token is required\n".getBytes(StandardCharsets.US_ASCII);

    private final WatchedFile<JwtVerifier> verifier;
    private final @Nullable String realm;
    private final String tokenHeader;
    private final boolean authorizationScheme;
    private final @Nullable String cookie;
    private final boolean forwardToken;
    private final Map<String, String> claimsToHeaders;
    private final HttpModule module = new JwtModule();

    private JwtFilter(Builder b, WatchedFile<JwtVerifier> verifier) {
        this.verifier = verifier;
        this.realm = b.realm;
        this.tokenHeader = b.header;
        this.authorizationScheme = b.header.equalsIgnoreCase("Authorization");
        this.cookie = b.cookie;
        this.forwardToken = b.forwardToken;
        this.claimsToHeaders = Map.copyOf(b.claimsToHeaders);
    }

    /** A builder: give it {@link Builder#jwks} or {@link Builder#secretFile}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return JwtFilterProvider.NAME;
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public HttpModule newModule() {
        return module;
    }

    /** Checks {@code token} against the current keys. */
    JwtVerifier.Result verify(String token) {
        return verifier.current().verify(token);
    }

    /** Looks at the key file now (tests; the filter itself does so in the background). */
    void checkFile() {
        verifier.check();
    }

    @Override
    public String toString() {
        return "jwt(" + verifier.file() + ")";
    }

    private final class JwtModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            HttpHeaders headers = session.requestHeader().headers();
            for (String field : claimsToHeaders.values()) {
                headers.remove(field);
            }
            String token = token(headers);
            if (token == null) {
                return challenge(session, null);
            }
            JwtVerifier.Result result = verify(token);
            if (result.claims() == null) {
                return challenge(session, result.failure());
            }
            if (!forwardToken && cookie == null) {
                headers.remove(tokenHeader);
            }
            claimsToHeaders.forEach((claim, field) -> {
                String value = claimText(result.claims(), claim);
                if (value != null) {
                    headers.set(field, value);
                }
            });
            return Stages.done();
        }
    }

    private @Nullable String token(HttpHeaders headers) {
        if (cookie != null) {
            return HttpSyntax.cookieValue(headers.getAll("Cookie"), cookie);
        }
        String value = headers.get(tokenHeader);
        if (value == null) {
            return null;
        }
        boolean bearer = value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7);
        if (authorizationScheme && !bearer) {
            return null;
        }
        String token = (bearer ? value.substring(7) : value).strip();
        return token.isEmpty() ? null : token;
    }

    /** A claim as a field value, or null when it has none that can be written as one. */
    static @Nullable String claimText(JWTClaimsSet claims, String claim) {
        Object value = claims.getClaim(claim);
        String text;
        if (value == null || value instanceof Map) {
            return null;
        } else if (value instanceof Date date) {
            text = Long.toString(date.getTime() / 1000);
        } else if (value instanceof Collection<?> list) {
            List<String> parts = new ArrayList<>(list.size());
            for (Object item : list) {
                if (item == null || item instanceof Map || item instanceof Collection) {
                    return null;
                }
                parts.add(String.valueOf(item));
            }
            text = String.join(", ", parts);
        } else {
            text = String.valueOf(value);
        }
        return text.isEmpty() || !HttpSyntax.isPlainFieldValue(text) ? null : text;
    }

    private CompletionStage<Void> challenge(Session session, JwtVerifier.@Nullable Failure failure) {
        StringBuilder challenge = new StringBuilder("Bearer");
        String separator = " ";
        if (realm != null) {
            challenge.append(" realm=\"").append(realm).append('"');
            separator = ", ";
        }
        if (failure != null) {
            challenge.append(separator).append("error=\"invalid_token\", error_description=\"").append(failure.description).append('"');
        }
        ResponseHeader unauthorized = PlainTextResponses.header(401);
        unauthorized.headers().set("WWW-Authenticate", challenge.toString());
        return session.respond(unauthorized, UNAUTHORIZED);
    }

    /** Settings of a {@link JwtFilter}; {@link #build()} reads the key file. */
    public static final class Builder {
        private @Nullable Path jwks;
        private @Nullable Path secretFile;
        private final Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
        private @Nullable String issuer;
        private @Nullable Set<String> audience;
        private Set<String> requiredClaims = Set.of("exp");
        private Duration clockSkew = Duration.ofSeconds(60);
        private String header = "Authorization";
        private @Nullable String cookie;
        private boolean forwardToken = true;
        private @Nullable String realm;
        private final Map<String, String> claimsToHeaders = new LinkedHashMap<>();
        private Clock clock = Clock.systemUTC();
        private Executor fileChecks = AccessExecutors.fileChecks();
        private LongSupplier nanoTime = System::nanoTime;

        private Builder() {}

        /** A JWK set file (RFC 7517 {@code {"keys": [...]}}) with the verification keys. */
        public Builder jwks(Path file) {
            this.jwks = requireNonNull(file, "file");
            return this;
        }

        /** A file whose bytes are the HMAC secret (at least 32; a trailing line break is ignored). */
        public Builder secretFile(Path file) {
            this.secretFile = requireNonNull(file, "file");
            return this;
        }

        /**
         * The accepted {@code alg} values; default RS*, PS* and ES* with a JWK set, HS256 with a secret
         * (HS384 and HS512, when listed, need a secret of 48 and 64 bytes).
         */
        public Builder algorithms(Collection<String> names) {
            algorithms.clear();
            for (String name : requireNonNull(names, "names")) {
                algorithms.add(JwtVerifier.algorithm(name));
            }
            return this;
        }

        /** The {@code iss} a token must have; default any. */
        public Builder issuer(String issuer) {
            this.issuer = requireNonNull(issuer, "issuer");
            return this;
        }

        /** The {@code aud} values of which a token must name one; default any. */
        public Builder audience(Collection<String> audience) {
            if (audience.isEmpty()) {
                throw new IllegalArgumentException("audience: [] (expected: at least one value, or no audience check)");
            }
            this.audience = Set.copyOf(audience);
            return this;
        }

        /** Claims a token must have; default {@code exp} (a token that never expires is refused). */
        public Builder requiredClaims(Collection<String> claims) {
            this.requiredClaims = Set.copyOf(claims);
            return this;
        }

        /** How far {@code exp} and {@code nbf} may be off; default 60 s. */
        public Builder clockSkew(Duration skew) {
            if (skew.isNegative()) {
                throw new IllegalArgumentException("clock-skew: " + skew + " (expected: zero or more)");
            }
            this.clockSkew = skew;
            return this;
        }

        /** The field the token is in; default {@code Authorization} (with the {@code Bearer} scheme). */
        public Builder header(String name) {
            this.header = HttpSyntax.headerName("header", requireNonNull(name, "name"));
            return this;
        }

        /** Reads the token from the cookie {@code name} instead of a header field. */
        public Builder cookie(String name) {
            if (!HttpSyntax.isToken(requireNonNull(name, "name"))) {
                throw new IllegalArgumentException("cookie: '" + name + "' (expected: a cookie name, a token)");
            }
            this.cookie = name;
            return this;
        }

        /** Whether the token's field goes upstream; default true. (A cookie always does.) */
        public Builder forwardToken(boolean forward) {
            this.forwardToken = forward;
            return this;
        }

        /** A realm for the {@code WWW-Authenticate} challenge; default none. */
        public Builder realm(String realm) {
            this.realm = AccessSettings.checkRealm(requireNonNull(realm, "realm"));
            return this;
        }

        /** Sends the claim {@code claim} upstream in the request field {@code header}. */
        public Builder claimToHeader(String claim, String header) {
            requireNonNull(claim, "claim");
            HttpSyntax.headerName("claims-to-headers." + claim, requireNonNull(header, "header"));
            if (header.equalsIgnoreCase(this.header) || header.equalsIgnoreCase("Authorization") || header.equalsIgnoreCase("Cookie")) {
                throw new IllegalArgumentException("claims-to-headers." + claim + ": '" + header
                        + "' (expected: a field other than the one the token comes in)");
            }
            claimsToHeaders.put(claim, header);
            return this;
        }

        /** The clock of {@code exp}/{@code nbf}; for tests. */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Where the key file is looked at and read again; default a shared background thread. */
        public Builder fileChecks(Executor executor) {
            this.fileChecks = requireNonNull(executor, "executor");
            return this;
        }

        /** The clock of the file checks ({@link System#nanoTime()}); for tests. */
        public Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        /**
         * Reads the key file and makes the filter.
         *
         * @throws IllegalStateException when neither or both of jwks and secret-file are set, or the
         *         algorithms do not fit the kind of key
         * @throws IllegalArgumentException when the key file cannot be read or parsed
         */
        public JwtFilter build() {
            if ((jwks == null) == (secretFile == null)) {
                throw new IllegalStateException("jwks: " + (jwks == null ? "missing" : "set with secret-file")
                        + " (expected: either jwks or secret-file)");
            }
            boolean hmac = secretFile != null;
            Set<JWSAlgorithm> allowed = new LinkedHashSet<>(algorithms);
            if (allowed.isEmpty()) {
                allowed.addAll(hmac ? HMAC_DEFAULT : JwtVerifier.ASYMMETRIC);
            } else if (hmac && !JwtVerifier.HMAC.containsAll(allowed)) {
                throw new IllegalStateException("algorithms: " + allowed + " (expected: only HS256, HS384 or HS512 with secret-file)");
            }
            JwtVerifier.Rules rules = new JwtVerifier.Rules(Set.copyOf(allowed), issuer, audience, requiredClaims, clockSkew, clock);
            WatchedFile<JwtVerifier> verifier = hmac
                    ? WatchedFile.load(secretFile, "JWT secret", (file, bytes) -> JwtVerifier.ofSecret(file, bytes, rules),
                            fileChecks, nanoTime, AccessExecutors.FILE_CHECK_INTERVAL)
                    : WatchedFile.load(requireNonNull(jwks), "JWK set", (file, bytes) -> JwtVerifier.ofJwks(file, bytes, rules),
                            fileChecks, nanoTime, AccessExecutors.FILE_CHECK_INTERVAL);
            return new JwtFilter(this, verifier);
        }

        /** HS256 only by default: HS384/HS512 need longer secrets, and are allowed when listed. */
        private static final List<JWSAlgorithm> HMAC_DEFAULT = List.of(JWSAlgorithm.HS256);
    }
}
