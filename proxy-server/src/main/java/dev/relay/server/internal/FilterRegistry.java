package dev.relay.server.internal;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.UpstreamGroups;
import dev.relay.server.internal.proxy.GroupRequests;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The filters a configuration may name: every {@link FilterProvider} that {@link ServiceLoader} finds
 * on the classpath (a jar with {@code META-INF/services/dev.relay.core.FilterProvider}), by
 * {@link FilterProvider#name()}. Immutable once loaded.
 */
public final class FilterRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(FilterRegistry.class);

    private final Map<String, FilterProvider> providers;
    private final GroupRequests groupRequests = new GroupRequests();

    private FilterRegistry(Map<String, FilterProvider> providers) {
        this.providers = Collections.unmodifiableMap(new LinkedHashMap<>(providers));
    }

    /**
     * The providers visible to {@code classLoader}. When two share a name the first found wins and
     * the other is reported in the log; a provider that cannot be instantiated is reported and skipped.
     */
    public static FilterRegistry load(ClassLoader classLoader) {
        Map<String, FilterProvider> found = new LinkedHashMap<>();
        Iterator<FilterProvider> it = ServiceLoader.load(FilterProvider.class, classLoader).iterator();
        while (true) {
            FilterProvider provider;
            try {
                if (!it.hasNext()) {
                    break;
                }
                provider = it.next();
            } catch (ServiceConfigurationError e) {
                LOG.warn("skipping a filter provider that cannot be loaded: {}", e.getMessage());
                continue;
            }
            String name = provider.name();
            FilterProvider previous = found.putIfAbsent(name, provider);
            if (previous != null) {
                LOG.warn("filter '{}' is provided twice: using {}, ignoring {}", name,
                        previous.getClass().getName(), provider.getClass().getName());
            }
        }
        return new FilterRegistry(found);
    }

    /** A registry of exactly {@code providers}, for tests and embedding. */
    public static FilterRegistry of(Collection<? extends FilterProvider> providers) {
        Map<String, FilterProvider> map = new LinkedHashMap<>();
        for (FilterProvider p : providers) {
            map.putIfAbsent(requireNonNull(p, "provider").name(), p);
        }
        return new FilterRegistry(map);
    }

    /** The provider named {@code name}. */
    public Optional<FilterProvider> find(String name) {
        return Optional.ofNullable(providers.get(name));
    }

    /**
     * What the filters of a configuration whose upstream groups are named {@code names} see of them
     * ({@link FilterSettings#upstreamGroups()}): requests they send go through {@link #groupRequests()}.
     */
    public UpstreamGroups upstreamGroups(Set<String> names) {
        return groupRequests.forConfiguration(names);
    }

    /**
     * The link from the filters this registry's configurations create to the server's upstream groups,
     * bound when the server is assembled and started. The registry carries it because it is the one
     * object the configuration loader (which creates filters before any server exists) and the server
     * assembly share.
     */
    public GroupRequests groupRequests() {
        return groupRequests;
    }

    /** The names available. */
    public Set<String> names() {
        return providers.keySet();
    }

    @Override
    public String toString() {
        return "FilterRegistry" + providers.keySet();
    }
}
