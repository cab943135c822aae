package dev.relay.filters.access;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.SettingErrors;

import java.nio.file.Path;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code jwt} filter ({@link JwtFilter}) from a configuration block:
 *
 * <pre>{@code
 * { name = jwt
 *   jwks = "/etc/relay/jwks.json"          # or secret-file = "/etc/relay/jwt.secret" (HS256)
 *   algorithms = [ RS256, ES256 ]          # default: RS*, PS*, ES* (jwks) or HS256 (secret-file)
 *   issuer = "https://idp.example"
 *   audience = [ "api" ]                   # or one text
 *   required-claims = [ exp, sub ]         # default [ exp ]
 *   clock-skew = 60s
 *   header = Authorization                 # or cookie = "session"
 *   forward-token = true
 *   realm = "api"
 *   claims-to-headers { sub = X-User, scope = X-Scope } }
 * }</pre>
 *
 * The key file is read now: a missing or unparsable one fails the load, naming the key.
 */
public final class JwtFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "jwt";

    static final String JWKS = "jwks";
    static final String SECRET_FILE = "secret-file";
    static final String ALGORITHMS = "algorithms";
    static final String ISSUER = "issuer";
    static final String AUDIENCE = "audience";
    static final String REQUIRED_CLAIMS = "required-claims";
    static final String CLOCK_SKEW = "clock-skew";
    static final String HEADER = "header";
    static final String COOKIE = "cookie";
    static final String FORWARD_TOKEN = "forward-token";
    static final String REALM = "realm";
    static final String CLAIMS_TO_HEADERS = "claims-to-headers";
    private static final List<String> KEYS = List.of(JWKS, SECRET_FILE, ALGORITHMS, ISSUER, AUDIENCE, REQUIRED_CLAIMS,
            CLOCK_SKEW, HEADER, COOKIE, FORWARD_TOKEN, REALM, CLAIMS_TO_HEADERS);

    /** Used by {@link java.util.ServiceLoader}. */
    public JwtFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        JwtFilter.Builder builder = JwtFilter.builder();
        boolean jwks = settings.keys().contains(JWKS);
        boolean secret = settings.keys().contains(SECRET_FILE);
        if (jwks == secret) {
            throw new InvalidSettingException(jwks ? SECRET_FILE : JWKS, (jwks ? "set with jwks" : "missing")
                    + " (expected: either jwks, a JWK set file, or secret-file, an HMAC secret)");
        }
        String keyFile = jwks ? JWKS : SECRET_FILE;
        Path path = AccessSettings.readableFile(settings, keyFile);
        if (jwks) {
            builder.jwks(path);
        } else {
            builder.secretFile(path);
        }
        List<String> algorithms = settings.getStringList(ALGORITHMS).orElse(List.of());
        for (int i = 0; i < algorithms.size(); i++) {
            String name = algorithms.get(i);
            SettingErrors.apply(ALGORITHMS + "[" + i + "]", () -> JwtVerifier.algorithm(name));
        }
        if (!algorithms.isEmpty()) {
            builder.algorithms(algorithms);
        }
        settings.getString(ISSUER).ifPresent(builder::issuer);
        List<String> audience = AccessSettings.textOrList(settings, AUDIENCE);
        if (settings.keys().contains(AUDIENCE)) {
            SettingErrors.apply(AUDIENCE, () -> builder.audience(audience));
        }
        settings.getStringList(REQUIRED_CLAIMS).ifPresent(builder::requiredClaims);
        settings.getDuration(CLOCK_SKEW).ifPresent(skew -> SettingErrors.apply(CLOCK_SKEW, () -> builder.clockSkew(skew)));
        if (settings.keys().contains(HEADER) && settings.keys().contains(COOKIE)) {
            throw new InvalidSettingException(COOKIE, "set with header (expected: the token in either a header or a cookie)");
        }
        settings.getString(HEADER).ifPresent(name -> SettingErrors.apply(HEADER, () -> builder.header(name)));
        settings.getString(COOKIE).ifPresent(name -> SettingErrors.apply(COOKIE, () -> builder.cookie(name)));
        settings.getBoolean(FORWARD_TOKEN).ifPresent(builder::forwardToken);
        settings.getString(REALM).ifPresent(realm -> SettingErrors.apply(REALM, () -> builder.realm(realm)));
        settings.getSettings(CLAIMS_TO_HEADERS).ifPresent(block -> {
            for (String claim : block.keys()) {
                String key = CLAIMS_TO_HEADERS + "." + claim;
                String field = block.getString(claim).orElseThrow(() -> new InvalidSettingException(key, "missing (expected: a header field name)"));
                SettingErrors.apply(key, () -> builder.claimToHeader(claim, field));
            }
        });
        try {
            return builder.build();
        } catch (IllegalStateException e) {
            throw new InvalidSettingException(ALGORITHMS, e.getMessage().substring(e.getMessage().indexOf(": ") + 2));
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(keyFile, e.getMessage());
        }
    }
}
