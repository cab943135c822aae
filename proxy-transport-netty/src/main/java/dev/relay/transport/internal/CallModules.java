package dev.relay.transport.internal;

import dev.relay.core.HttpModule;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/**
 * Where a call keeps the {@link HttpModule}s made for it, one per factory in order, without an array
 * for the usual one or none: the configured server registers a single module (its filter chain), and
 * an array of one would cost 24 B per request. Storage only: the driver, {@link ProxyCall}, makes the
 * modules and calls them (this class calls no module method).
 */
abstract class CallModules extends PhaseSteps {
    private static final HttpModule[] NO_MODULES = new HttpModule[0];

    private @Nullable HttpModule firstModule;
    /** The modules after the first, when there are more than one. */
    private HttpModule[] laterModules = NO_MODULES;

    CallModules(EventLoop loop) {
        super(loop);
    }

    /** Makes room for {@code count} modules, all null until {@link #setModule} is called for each. */
    final void prepareModules(int count) {
        if (count > 1) {
            laterModules = new HttpModule[count - 1];
        }
    }

    final void setModule(int index, HttpModule module) {
        if (index == 0) {
            firstModule = module;
        } else {
            laterModules[index - 1] = module;
        }
    }

    /**
     * How many modules there are: none while the first is not made (no count field kept: its factory
     * failed, or the call never started, and then no module runs), else all the factories', each
     * made or null.
     */
    final int moduleCount() {
        return firstModule == null ? 0 : laterModules.length + 1;
    }

    /** The module at {@code index}: null when its factory (or an earlier one) failed to make it. */
    final @Nullable HttpModule module(int index) {
        return index == 0 ? firstModule : laterModules[index - 1];
    }
}
