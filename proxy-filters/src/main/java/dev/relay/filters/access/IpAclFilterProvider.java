package dev.relay.filters.access;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.SettingErrors;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The {@code ip-acl} filter ({@link IpAclFilter}) from a configuration block, in one of two forms:
 *
 * <pre>{@code
 * # nginx's allow/deny: in order, the first rule that matches decides, no match serves
 * { name = ip-acl, rules = [ "deny 10.1.0.0/16", "allow 10.0.0.0/8", "allow unix:", "deny all" ] }
 * # the listener's allow/deny lists: deny wins, then allow; with allow, nobody else
 * { name = ip-acl, allow = [ "10.0.0.0/8", "::1" ], deny = [ "10.1.0.0/16" ] }
 * }</pre>
 *
 * A block with both forms, or with no rule, is refused; so is a rule that is not
 * {@code allow|deny <CIDR | address | all | unix:>}, naming the entry ({@code rules[2]}).
 */
public final class IpAclFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "ip-acl";

    static final String RULES = "rules";
    static final String ALLOW = "allow";
    static final String DENY = "deny";
    private static final List<String> KEYS = List.of(RULES, ALLOW, DENY);

    /** Used by {@link java.util.ServiceLoader}. */
    public IpAclFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        IpAclFilter.Builder builder = IpAclFilter.builder();
        List<String> rules = settings.getStringList(RULES).orElse(null);
        List<String> allow = settings.getStringList(ALLOW).orElse(List.of());
        List<String> deny = settings.getStringList(DENY).orElse(List.of());
        if (rules != null) {
            if (settings.keys().contains(ALLOW) || settings.keys().contains(DENY)) {
                throw new InvalidSettingException(RULES, "set together with allow/deny (expected: either ordered rules, "
                        + "or allow and deny lists)");
            }
            for (int i = 0; i < rules.size(); i++) {
                String rule = rules.get(i);
                SettingErrors.apply(RULES + "[" + i + "]", () -> builder.rule(rule));
            }
        } else {
            entries(builder, DENY, deny, false);
            entries(builder, ALLOW, allow, true);
            if (!allow.isEmpty()) {
                builder.denyAll();
            }
        }
        try {
            return builder.build();
        } catch (IllegalStateException e) {
            throw new InvalidSettingException(rules != null ? RULES : ALLOW, "no rule (expected: rules = [ \"allow 10.0.0.0/8\", "
                    + "\"deny all\" ], or allow/deny lists with at least one entry)");
        }
    }

    /** The listener-style lists, entry by entry so that a bad one is named. */
    private static void entries(IpAclFilter.Builder builder, String key, List<String> entries, boolean allow) {
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i).trim();
            if (entry.equals("all")) {
                throw new InvalidSettingException(key + "[" + i + "]", "'all' (expected: a CIDR block, an address or unix:; "
                        + "use rules = [ ... ] for an ordered list with all)");
            }
            SettingErrors.apply(key + "[" + i + "]", () -> builder.rule((allow ? "allow " : "deny ") + entry));
        }
    }
}
