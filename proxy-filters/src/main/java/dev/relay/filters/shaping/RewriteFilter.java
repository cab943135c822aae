package dev.relay.filters.shaping;

import dev.relay.core.ErrorSource;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static java.util.Objects.requireNonNull;

/**
 * The {@code rewrite} filter: rules that rewrite the request target, or answer with a redirect, when
 * a regular expression matches the request's path. As a global filter it runs before routing, so a
 * rewrite can send the request to another route.
 *
 * <pre>{@code
 * RewriteFilter rewrite = RewriteFilter.builder()
 *         .rewrite("^/old/(.*)$", "/new/$1")
 *         .redirect("^/blog/(.*)", "https://blog.example/$1", 301)
 *         .build();
 * }</pre>
 *
 * <p><b>Matching.</b> Rules are tried in order on the path as the client sent it (percent-encoded,
 * without the query), with {@link Matcher#find()}: anchor with {@code ^} and {@code $} to match the
 * whole path. The first rule that matches applies and ends the list, unless it is a rewrite with
 * {@code continue}: the rules after it then see the new path. A request whose target is not a path
 * ({@code OPTIONS *}, {@code CONNECT}) is left alone.
 *
 * <p><b>Replacements.</b> As with nginx's {@code rewrite}, the replacement is the whole new path, not a
 * substitution of the part that matched: capture what you keep ({@code ^/old/(.*)$} → {@code /new/$1}).
 * {@code $1}..{@code $9}, {@code ${n}} and {@code ${name}} insert a group of the
 * match ({@code $0} the whole match), {@code \$} a literal {@code $}. The query follows nginx's
 * {@code rewrite}: the request's query is kept; a replacement that has a query of its own gets the
 * request's appended after an {@code &}; a replacement that ends with {@code ?} drops it.
 *
 * <p><b>Checks at load.</b> Every pattern is compiled, every group reference checked against its
 * pattern, a rewrite must start with a literal {@code /} (so the new target is always in origin form:
 * the captured parts come from a path the request line parser accepted) and a redirect with a literal
 * {@code /}, {@code http://} or {@code https://}; literal text must be visible ASCII without
 * {@code #}. On a request, a result that starts with more than one {@code /} (or {@code /\}) has
 * that run merged into one {@code /} ({@link #mergeLeadingSlashes}), so that no match makes a rewrite
 * or a redirect leave the site. A redirect's status is 301, 302 (the default), 303, 307 or 308; its answer carries a
 * {@code Location} and a one-line plain-text body.
 *
 * <p><b>Backtracking.</b> Java's regular expressions backtrack: a pattern with nested quantifiers such
 * as {@code (a+)+$} takes exponential time on a crafted path, on the event loop. Write patterns without
 * them; as a bound on the rest, a path longer than {@code maxPathLength} (4096 characters by default)
 * is answered 414 before any pattern sees it.
 */
public final class RewriteFilter implements HttpModuleFactory {
    /** The name configurations use. */
    public static final String NAME = "rewrite";
    /** The default longest path matched. */
    public static final int DEFAULT_MAX_PATH_LENGTH = 4096;
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

    /** One rule: a rewrite (status 0) or a redirect. */
    private record Rule(Pattern match, Replacement replacement, int status, boolean continueAfter) {
        @Override
        public String toString() {
            return match.pattern() + (status == 0 ? " -> " : " => " + status + " ") + replacement
                    + (continueAfter ? " (continue)" : "");
        }
    }

    private final List<Rule> rules;
    private final int maxPathLength;
    private final HttpModule module = new RewriteModule();

    private RewriteFilter(Builder b) {
        this.rules = List.copyOf(b.rules);
        this.maxPathLength = b.maxPathLength;
    }

    /** A builder without rules. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The module keeps no per-request state: every request shares one. */
    @Override
    public HttpModule newModule() {
        return module;
    }

    /**
     * Applies the rules to {@code request}: rewrites its target in place, and returns the redirect to
     * answer with, or null.
     *
     * @throws ProxyError 414 when the path is longer than the cap
     */
    @Nullable Redirect apply(RequestHeader request) {
        String uri = request.uri();
        if (uri.isEmpty() || uri.charAt(0) != '/') {
            return null;
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? null : uri.substring(q + 1);
        if (path.length() > maxPathLength) {
            throw ProxyError.httpStatus(414, ErrorSource.DOWNSTREAM)
                    .setContext("path longer than the rewrite filter's max-path-length " + maxPathLength);
        }
        for (Rule rule : rules) {
            Matcher m = rule.match.matcher(path);
            if (!m.find()) {
                continue;
            }
            String target = withQuery(mergeLeadingSlashes(rule.replacement.expand(m)), query);
            if (rule.status != 0) {
                return new Redirect(rule.status, target);
            }
            request.setUri(target);
            if (!rule.continueAfter) {
                return null;
            }
            q = target.indexOf('?');
            path = q < 0 ? target : target.substring(0, q);
            query = q < 0 ? null : target.substring(q + 1);
        }
        return null;
    }

    /**
     * {@code expanded} with a leading run of {@code /} and {@code \} made one {@code /}. A path that starts
     * {@code //} is a network-path reference: as a {@code Location} a browser goes to the host after it
     * (and treats {@code \} as {@code /}), and as a request target it names no path at all. The literal
     * {@code /} a replacement must start with does not prevent it: {@code ^/old/(.*)} to {@code /$1} makes
     * {@code //evil.com} of {@code /old//evil.com}. Merging keeps the request served, as nginx's
     * {@code merge_slashes} (on by default) would have merged those slashes before matching; a URL
     * ({@code https://...}) does not start with {@code /} and is left as it is.
     */
    static String mergeLeadingSlashes(String expanded) {
        int start = 0;
        while (start < expanded.length() && (expanded.charAt(start) == '/' || expanded.charAt(start) == '\\')) {
            start++;
        }
        if (start <= 1 && (start == 0 || expanded.charAt(0) == '/')) {
            return expanded;
        }
        return "/" + expanded.substring(start);
    }

    /** nginx's rule: the old query kept, appended to a new one with {@code &}, dropped after a final {@code ?}. */
    static String withQuery(String replaced, @Nullable String query) {
        if (replaced.endsWith("?")) {
            return replaced.substring(0, replaced.length() - 1);
        }
        if (query == null) {
            return replaced;
        }
        return replaced + (replaced.indexOf('?') < 0 ? '?' : '&') + query;
    }

    /** A redirect to answer with. */
    record Redirect(int status, String location) {}

    @Override
    public String toString() {
        return NAME + rules;
    }

    private final class RewriteModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            Redirect redirect;
            try {
                redirect = apply(session.requestHeader());
            } catch (ProxyError e) {
                return Stages.failed(e);
            }
            if (redirect == null) {
                return Stages.done();
            }
            ResponseHeader header = ResponseHeader.of(redirect.status());
            header.headers().set("Location", redirect.location());
            header.headers().set("Content-Type", "text/plain; charset=utf-8");
            byte[] body = ("Redirecting to " + redirect.location() + "\n").getBytes(StandardCharsets.UTF_8);
            // Not waited for: the engine sees that a response started, skips routing and the upstream, and
            // ends the request once the write completes.
            session.respond(header, body);
            return Stages.done();
        }
    }

    /** Builds a {@link RewriteFilter}; rules apply in the order added. */
    public static final class Builder {
        private final List<Rule> rules = new ArrayList<>();
        private int maxPathLength = DEFAULT_MAX_PATH_LENGTH;

        private Builder() {}

        /** A rewrite that ends the rules when it matches: {@code rewrite("^/old/(.*)$", "/new/$1")}. */
        public Builder rewrite(String match, String replace) {
            return rewrite(match, replace, false);
        }

        /** A rewrite; with {@code continueAfter}, the next rules still apply, to the new path. */
        public Builder rewrite(String match, String replace, boolean continueAfter) {
            Pattern pattern = pattern(match);
            Replacement replacement = Replacement.compile("replace", requireNonNull(replace, "replace"), pattern);
            if (!replacement.startsWithLiteral("/")) {
                throw new InvalidSettingException("replace", "'" + replace + "' (expected: a path starting with a "
                        + "literal /, so that the new target is a path whatever the match)");
            }
            checkLiteral("replace", replace, replacement);
            rules.add(new Rule(pattern, replacement, 0, continueAfter));
            return this;
        }

        /** A redirect: answers {@code status} (301, 302, 303, 307 or 308) with {@code Location: location}. */
        public Builder redirect(String match, String location, int status) {
            Pattern pattern = pattern(match);
            Replacement replacement = Replacement.compile("redirect", requireNonNull(location, "location"), pattern);
            if (!replacement.startsWithLiteral("/") && !replacement.startsWithLiteral("http://")
                    && !replacement.startsWithLiteral("https://")) {
                throw new InvalidSettingException("redirect", "'" + location + "' (expected: a path starting with a "
                        + "literal /, or a URL starting with http:// or https://)");
            }
            checkLiteral("redirect", location, replacement);
            if (!REDIRECTS.contains(status)) {
                throw new InvalidSettingException("status", status + " (expected: 301, 302, 303, 307 or 308)");
            }
            rules.add(new Rule(pattern, replacement, status, false));
            return this;
        }

        /** Paths longer than this are answered 414 without matching (4096); 1 to 65536. */
        public Builder maxPathLength(int maxPathLength) {
            if (maxPathLength < 1 || maxPathLength > 65536) {
                throw new InvalidSettingException("max-path-length", maxPathLength + " (expected: 1..65536)");
            }
            this.maxPathLength = maxPathLength;
            return this;
        }

        private static Pattern pattern(String match) {
            requireNonNull(match, "match");
            try {
                return Pattern.compile(match);
            } catch (PatternSyntaxException e) {
                throw new InvalidSettingException("match", "'" + match + "' is not a regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }

        private static void checkLiteral(String key, String text, Replacement replacement) {
            String literal = replacement.literalText();
            for (int i = 0; i < literal.length(); i++) {
                char c = literal.charAt(i);
                if (c <= ' ' || c >= 0x7f || c == '#') {
                    throw new InvalidSettingException(key, "'" + text + "' has " + (c == '#' ? "a #" : "character U+"
                            + String.format("%04X", (int) c)) + " (expected: visible ASCII without #; percent-encode the rest)");
                }
            }
        }

        /** The filter. */
        public RewriteFilter build() {
            if (rules.isEmpty()) {
                throw new InvalidSettingException("rules", "none (expected: at least one rule)");
            }
            return new RewriteFilter(this);
        }
    }
}
