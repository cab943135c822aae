package dev.relay.server.internal.proxy;

import dev.relay.core.HttpModuleFactory;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import org.jspecify.annotations.Nullable;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Tells the filters of a configuration that will run no more requests that they are done
 * ({@link HttpModuleFactory#release()}): a cache filter closes a cache no live filter holds, a rate
 * limit on Redis lets go of its connection. A factory that the next configuration holds too (a
 * provider that handed out the same one for unchanged settings) is not released.
 */
public final class RetiredFilters {
    private RetiredFilters() {}

    /** Releases the filters of {@code retired} that {@code kept} (null: none) does not hold itself. */
    public static void release(ProxyConfig retired, @Nullable ProxyConfig kept) {
        Set<HttpModuleFactory> live = Collections.newSetFromMap(new IdentityHashMap<>());
        if (kept != null) {
            forEachFilter(kept, live::add);
        }
        Set<HttpModuleFactory> released = Collections.newSetFromMap(new IdentityHashMap<>());
        forEachFilter(retired, factory -> {
            if (!live.contains(factory) && released.add(factory)) {
                factory.release();
            }
        });
    }

    private static void forEachFilter(ProxyConfig config, Consumer<HttpModuleFactory> action) {
        for (FilterConfig filter : config.filters()) {
            action.accept(filter.factory());
        }
        config.routes().forEach(route -> route.filters().forEach(filter -> action.accept(filter.factory())));
    }
}
