package dev.relay.server.internal;

import com.google.inject.AbstractModule;

import static java.util.Objects.requireNonNull;

/**
 * Binds the {@link FilterRegistry}: the filters found with {@code ServiceLoader}. The configuration
 * loader needed it first (to check filter names and create the filters), so it is loaded once, before
 * the injector, and shared.
 */
public final class FilterModule extends AbstractModule {
    private final FilterRegistry registry;

    /** A module binding {@code registry}. */
    public FilterModule(FilterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    @Override
    protected void configure() {
        bind(FilterRegistry.class).toInstance(registry);
    }
}
