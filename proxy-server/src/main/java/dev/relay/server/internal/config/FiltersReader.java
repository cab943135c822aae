package dev.relay.server.internal.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.UpstreamGroups;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Reads a filter list, {@code proxy.filters} or a route's {@code filters}: each entry names a filter
 * on the classpath, whose provider checks the rest of the block and creates the filter now, so a
 * setting it refuses fails the load with the position of that setting. The keys of a filter's block
 * are the provider's, not this reader's, beyond {@code name}.
 *
 * <p>One reader per load: it remembers the filters it created, so that a load that fails later
 * releases them ({@link #releaseCreated()}); a cache filter may hold an open disk directory, a
 * rate limit on Redis a connection.
 */
final class FiltersReader {
    private final FilterRegistry filters;
    private final UpstreamGroups groups;
    private final List<HttpModuleFactory> created = new ArrayList<>();

    /** A reader that resolves filter names in {@code filters}, for a configuration without upstream groups. */
    FiltersReader(FilterRegistry filters) {
        this(filters, Set.of());
    }

    /**
     * A reader that resolves filter names in {@code filters}, for a configuration whose upstream groups
     * are named {@code upstreamNames}: the filters that send requests of their own reach them through
     * {@link FilterRegistry#upstreamGroups}.
     */
    FiltersReader(FilterRegistry filters, Set<String> upstreamNames) {
        this.filters = requireNonNull(filters, "filters");
        this.groups = filters.upstreamGroups(upstreamNames);
    }

    /** The filters of {@code node}, a list of {@code { name = ..., settings ... }} blocks, at the global place. */
    List<FilterConfig> filters(ConfigNode node) {
        return filters(node, "global");
    }

    /**
     * The filters of {@code node}, configured at {@code place}: {@code global} for {@code proxy.filters},
     * {@code route:NAME} for a route's ({@link FilterSettings#place()}).
     */
    List<FilterConfig> filters(ConfigNode node, String place) {
        List<FilterConfig> out = new ArrayList<>();
        for (ConfigNode item : node.list()) {
            ConfigObject block = item.object();
            ConfigNode nameNode = item.get("name");
            String name = nameNode.string().trim();
            FilterProvider provider = filters.find(name).orElseThrow(() -> nameNode.problem("unknown filter '" + name
                    + "' (expected: " + (filters.names().isEmpty() ? "no filter is on the classpath"
                    : ConfigNode.oneOf(filters.names())) + ")"));
            FilterSettings settings = new ConfigFilterSettings(block, Set.of("name"), groups, place);
            HttpModuleFactory factory;
            try {
                factory = provider.create(settings);
            } catch (FilterSettings.InvalidSettingException e) {
                String key = e.key();
                ConfigValue at = locate(block, key);
                String message = e.getMessage();
                if (message != null && message.startsWith(key + ": ")) {
                    message = message.substring(key.length() + 2);
                }
                throw new ConfigProblem(at.origin(), item.path() + "." + key, message);
            } catch (RuntimeException e) {
                throw item.problem("filter '" + name + "' rejected its settings: " + e.getMessage());
            }
            if (factory == null) {
                throw item.problem("filter '" + name + "' created nothing (its provider returned null)");
            }
            created.add(factory);
            out.add(new FilterConfig(name, factory, item.where()));
        }
        return out;
    }

    /** Releases the filters this reader created: the configuration they were for is rejected. */
    void releaseCreated() {
        created.forEach(HttpModuleFactory::release);
        created.clear();
    }

    /**
     * The value that a filter's error key points at ({@code request-set.X-Name},
     * {@code response-remove[2]}), or the deepest enclosing one that exists.
     */
    static ConfigValue locate(ConfigObject block, String key) {
        ConfigValue current = block;
        int i = 0;
        while (i < key.length()) {
            if (key.charAt(i) == '[') {
                int close = key.indexOf(']', i);
                if (close < 0 || !(current instanceof ConfigList list)) {
                    break;
                }
                int index;
                try {
                    index = Integer.parseInt(key.substring(i + 1, close));
                } catch (NumberFormatException e) {
                    break;
                }
                if (index < 0 || index >= list.size()) {
                    break;
                }
                current = list.get(index);
                i = close + 1;
            } else {
                if (key.charAt(i) == '.') {
                    i++;
                }
                if (!(current instanceof ConfigObject object)) {
                    break;
                }
                // The longest key of this object that the rest starts with: names may contain dots.
                String rest = key.substring(i);
                String match = null;
                for (String candidate : object.keySet()) {
                    if (rest.startsWith(candidate) && (rest.length() == candidate.length()
                            || rest.charAt(candidate.length()) == '.' || rest.charAt(candidate.length()) == '[')
                            && (match == null || candidate.length() > match.length())) {
                        match = candidate;
                    }
                }
                if (match == null) {
                    break;
                }
                current = object.get(match);
                i += match.length();
            }
        }
        return current;
    }
}
