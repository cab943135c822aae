package dev.relay.filters.shaping;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.NestedSettings;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code rewrite} filter of configurations ({@link RewriteFilter}):
 *
 * <pre>{@code
 * filters = [ {
 *   name = rewrite
 *   rules = [
 *     { match = "^/old/(.*)$", replace = "/new/$1" }
 *     { match = "^/v1/", replace = "/api/v1/", continue = true }
 *     { match = "^/blog/(.*)", redirect = "https://blog.example/$1", status = 301 }
 *   ]
 *   max-path-length = 4096
 * } ]
 * }</pre>
 *
 * <p>Each rule has {@code match} and exactly one of {@code replace} (with an optional
 * {@code continue}) and {@code redirect} (with an optional {@code status}, 302 by default). An error
 * names the rule's key: {@code rules[1].replace}.
 */
public final class RewriteFilterProvider implements FilterProvider {
    static final List<String> KEYS = List.of("rules", "max-path-length");
    static final List<String> RULE_KEYS = List.of("match", "replace", "continue", "redirect", "status");

    /** Used by {@link java.util.ServiceLoader}. */
    public RewriteFilterProvider() {}

    @Override
    public String name() {
        return RewriteFilter.NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, RewriteFilter.NAME, KEYS);
        RewriteFilter.Builder b = RewriteFilter.builder();
        settings.getLong("max-path-length").ifPresent(n -> b.maxPathLength((int) Math.max(-1, Math.min(n, Integer.MAX_VALUE))));
        List<FilterSettings> rules = settings.getSettingsList("rules").orElse(List.of());
        for (int i = 0; i < rules.size(); i++) {
            String prefix = "rules[" + i + "].";
            FilterSettings rule = rules.get(i);
            NestedSettings.underPrefix(prefix, () -> {
                rule(b, rule);
                return null;
            });
        }
        return b.build();
    }

    private static void rule(RewriteFilter.Builder b, FilterSettings rule) {
        FilterSettings.requireKnownKeys(rule, RewriteFilter.NAME, RULE_KEYS);
        String match = rule.getString("match").orElseThrow(() -> new InvalidSettingException("match",
                "missing (expected: a regular expression matched against the path)"));
        String replace = rule.getString("replace").orElse(null);
        String redirect = rule.getString("redirect").orElse(null);
        if ((replace == null) == (redirect == null)) {
            throw new InvalidSettingException(replace == null ? "replace" : "redirect", (replace == null ? "missing"
                    : "set together with redirect") + " (expected: exactly one of replace and redirect)");
        }
        if (replace != null) {
            if (rule.keys().contains("status")) {
                throw new InvalidSettingException("status", "set on a rewrite (expected: status only with redirect)");
            }
            b.rewrite(match, replace, rule.getBoolean("continue").orElse(false));
        } else {
            if (rule.keys().contains("continue")) {
                throw new InvalidSettingException("continue", "set on a redirect (expected: continue only with "
                        + "replace: a redirect ends the request)");
            }
            long status = rule.getLong("status").orElse(302L);
            b.redirect(match, redirect, (int) Math.max(-1, Math.min(status, Integer.MAX_VALUE)));
        }
    }
}
