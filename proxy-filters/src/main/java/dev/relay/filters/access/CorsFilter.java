package dev.relay.filters.access;

import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.HttpSyntax;
import dev.relay.filters.internal.PlainTextResponses;
import dev.relay.filters.internal.VaryField;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The {@code cors} filter: Cross-Origin Resource Sharing (the Fetch standard's CORS protocol)
 * decided at the proxy.
 *
 * <pre>{@code
 * HttpModuleFactory cors = CorsFilter.builder()
 *         .allowOrigins(List.of("https://app.example", "https://*.example.com"))
 *         .allowMethods(List.of("GET", "POST", "PUT")).allowHeaders(List.of("Content-Type", "Authorization"))
 *         .allowCredentials(true).maxAge(Duration.ofHours(1))
 *         .build();
 * }</pre>
 *
 * <ul>
 *   <li>A preflight ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}) is
 *       answered here and never reaches the origin: 204 with the {@code Access-Control-Allow-*} fields
 *       when the origin, the method and every requested header are allowed, otherwise 403 with a body
 *       that says which.</li>
 *   <li>Any other request goes on; its response gets {@code Access-Control-Allow-Origin} (the origin, or
 *       {@code *} when every origin is allowed and credentials are not), {@code -Allow-Credentials} and
 *       {@code -Expose-Headers} when its {@code Origin} is allowed, and none of them when it is not (the
 *       browser then keeps the response from the page). The filter owns these three fields: the
 *       upstream's are removed, so that it cannot widen the policy.</li>
 *   <li>Unless every origin is allowed, every response gets {@code Vary: Origin}, so that a cache does not
 *       give one origin's answer to another.</li>
 * </ul>
 *
 * <p>{@code *} as the only allowed origin together with credentials is refused (browsers refuse that
 * answer). {@code allowHeaders(List.of("*"))} allows whatever headers a preflight asks for.
 */
public final class CorsFilter implements HttpModuleFactory {
    /** After {@code ip-acl}, before authentication: a preflight carries no credentials. */
    public static final int ORDER = -300;

    private static final String ALLOW_ORIGIN = "Access-Control-Allow-Origin";
    private static final String ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials";
    private static final String EXPOSE_HEADERS = "Access-Control-Expose-Headers";

    private final boolean anyOrigin;
    private final List<OriginPattern> origins;
    private final Set<String> methods;
    private final String methodsValue;
    private final boolean anyHeader;
    /** Lower case, for comparing with a preflight's request. */
    private final Set<String> headers;
    private final String headersValue;
    private final @Nullable String exposeValue;
    private final boolean credentials;
    private final @Nullable String maxAgeSeconds;

    private CorsFilter(Builder b) {
        this.anyOrigin = b.anyOrigin;
        this.origins = List.copyOf(b.origins);
        this.methods = Set.copyOf(b.methods);
        this.methodsValue = String.join(", ", b.methods);
        this.anyHeader = b.anyHeader;
        Set<String> lower = new LinkedHashSet<>();
        b.headers.forEach(h -> lower.add(h.toLowerCase(Locale.ROOT)));
        this.headers = Set.copyOf(lower);
        this.headersValue = String.join(", ", b.headers);
        this.exposeValue = b.expose.isEmpty() ? null : String.join(", ", b.expose);
        this.credentials = b.credentials;
        this.maxAgeSeconds = b.maxAge == null ? null : Long.toString(b.maxAge.toSeconds());
    }

    /** A builder; {@link Builder#allowOrigins} is required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return CorsFilterProvider.NAME;
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public HttpModule newModule() {
        return new CorsModule();
    }

    /** Whether a request from {@code origin} (an {@code Origin} value) may read responses. */
    boolean allowsOrigin(String origin) {
        if (anyOrigin) {
            return true;
        }
        for (OriginPattern pattern : origins) {
            if (pattern.matches(origin)) {
                return true;
            }
        }
        return false;
    }

    /** One request's view: the allowed origin it came from (if any), and whether the filter answered it. */
    private final class CorsModule implements HttpModule {
        private @Nullable String allowedOrigin;
        private boolean answeredPreflight;

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            RequestHeader request = session.requestHeader();
            String origin = request.headers().get("Origin");
            if (origin == null) {
                return Stages.done();
            }
            String requestedMethod = request.headers().get("Access-Control-Request-Method");
            if (request.method().equals("OPTIONS") && requestedMethod != null) {
                answeredPreflight = true;
                return preflight(session, origin, requestedMethod.strip(), request.headers().getAll("Access-Control-Request-Headers"));
            }
            if (allowsOrigin(origin)) {
                allowedOrigin = origin;
            }
            return Stages.done();
        }

        private CompletionStage<Void> preflight(Session session, String origin, String method, List<String> requestedHeaders) {
            if (!allowsOrigin(origin)) {
                return refuse(session, "the origin is not allowed");
            }
            if (!methods.contains(method)) {
                return refuse(session, "the method " + (HttpSyntax.isToken(method) ? method + " " : "") + "is not allowed");
            }
            List<String> asked = new ArrayList<>();
            for (String field : requestedHeaders) {
                for (String name : field.split(",")) {
                    String header = name.strip();
                    if (header.isEmpty()) {
                        continue;
                    }
                    if (!anyHeader && !headers.contains(header.toLowerCase(Locale.ROOT))) {
                        return refuse(session, "the header " + (HttpSyntax.isToken(header) ? header + " " : "") + "is not allowed");
                    }
                    if (HttpSyntax.isToken(header)) {
                        asked.add(header);
                    }
                }
            }
            ResponseHeader ok = ResponseHeader.of(204);
            HttpHeaders out = ok.headers();
            allowOrigin(out, origin);
            out.set("Access-Control-Allow-Methods", methodsValue);
            String allowHeaders = anyHeader ? String.join(", ", asked) : headersValue;
            if (!allowHeaders.isEmpty()) {
                out.set("Access-Control-Allow-Headers", allowHeaders);
            }
            if (maxAgeSeconds != null) {
                out.set("Access-Control-Max-Age", maxAgeSeconds);
            }
            out.add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
            return session.respond(ok, new byte[0]);
        }

        private CompletionStage<Void> refuse(Session session, String why) {
            ResponseHeader forbidden = PlainTextResponses.header(403);
            forbidden.headers().add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
            return session.respond(forbidden, ("403 Forbidden: CORS preflight refused: " + why + "\n").getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
            if (answeredPreflight) {
                return;
            }
            HttpHeaders out = response.headers();
            out.remove(ALLOW_ORIGIN);
            out.remove(ALLOW_CREDENTIALS);
            out.remove(EXPOSE_HEADERS);
            if (allowedOrigin != null) {
                allowOrigin(out, allowedOrigin);
                if (exposeValue != null) {
                    out.set(EXPOSE_HEADERS, exposeValue);
                }
            }
            if (!anyOrigin) {
                VaryField.addIfMissing(out, "Origin");
            }
        }
    }

    private void allowOrigin(HttpHeaders out, String origin) {
        // With credentials, "*" is refused at build: the origin is echoed; without, "*" needs no Vary.
        out.set(ALLOW_ORIGIN, anyOrigin ? "*" : origin);
        if (credentials) {
            out.set(ALLOW_CREDENTIALS, "true");
        }
    }

    /** Settings of a {@link CorsFilter}. */
    public static final class Builder {
        private boolean anyOrigin;
        private final List<OriginPattern> origins = new ArrayList<>();
        private List<String> methods = List.of("GET", "HEAD", "POST");
        private boolean anyHeader;
        private List<String> headers = List.of();
        private List<String> expose = List.of();
        private boolean credentials;
        private @Nullable Duration maxAge;

        private Builder() {}

        /**
         * The origins allowed: exact ({@code https://app.example}), subdomain patterns
         * ({@code https://*.example.com}), or {@code *} alone for every origin.
         */
        public Builder allowOrigins(Collection<String> patterns) {
            requireNonNull(patterns, "patterns");
            origins.clear();
            anyOrigin = false;
            if (patterns.contains("*")) {
                if (patterns.size() != 1) {
                    throw new IllegalArgumentException("allow-origins: " + patterns + " (expected: \"*\" alone, or origins)");
                }
                anyOrigin = true;
                return this;
            }
            for (String pattern : patterns) {
                origins.add(OriginPattern.parse(pattern));
            }
            return this;
        }

        /** The methods a preflight may ask for (case-sensitive, as the Fetch standard compares them); default GET, HEAD, POST. */
        public Builder allowMethods(Collection<String> methods) {
            this.methods = tokens("allow-methods", methods);
            return this;
        }

        /** The request headers a preflight may ask for, or {@code *} for any; default none. */
        public Builder allowHeaders(Collection<String> headers) {
            anyHeader = headers.contains("*");
            if (anyHeader && headers.size() != 1) {
                throw new IllegalArgumentException("allow-headers: " + headers + " (expected: \"*\" alone, or header names)");
            }
            this.headers = anyHeader ? List.of() : tokens("allow-headers", headers);
            return this;
        }

        /** Response headers the page may read beyond the safelisted ones; default none. */
        public Builder exposeHeaders(Collection<String> headers) {
            this.expose = tokens("expose-headers", headers);
            return this;
        }

        /** Whether pages may send cookies and read the response ({@code Access-Control-Allow-Credentials}); default false. */
        public Builder allowCredentials(boolean allow) {
            this.credentials = allow;
            return this;
        }

        /** How long a browser may cache a preflight's answer ({@code Access-Control-Max-Age}); default unset. */
        public Builder maxAge(Duration maxAge) {
            if (maxAge.isNegative()) {
                throw new IllegalArgumentException("max-age: " + maxAge + " (expected: zero or more)");
            }
            this.maxAge = maxAge;
            return this;
        }

        /**
         * The filter.
         *
         * @throws IllegalStateException without origins, or with {@code *} and credentials
         */
        public CorsFilter build() {
            if (!anyOrigin && origins.isEmpty()) {
                throw new IllegalStateException("allow-origins: none (expected: origins such as https://app.example, or \"*\")");
            }
            if (anyOrigin && credentials) {
                throw new IllegalStateException("allow-credentials: true with allow-origins = \"*\" (expected: listed origins: "
                        + "browsers refuse credentials with a wildcard origin)");
            }
            return new CorsFilter(this);
        }

        private static List<String> tokens(String what, Collection<String> values) {
            for (String value : values) {
                if (!HttpSyntax.isToken(value)) {
                    throw new IllegalArgumentException(what + ": '" + value + "' (expected: a token, letters, digits and "
                            + "!#$%&'*+-.^_`|~ only)");
                }
            }
            return List.copyOf(new LinkedHashSet<>(values));
        }
    }
}
