package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.transport.TransportRuntime;
import io.netty.channel.epoll.Epoll;

/**
 * Transport: provides the process's {@link TransportRuntime} from {@code proxy.server.threads} and
 * {@code transport}.
 *
 * <p>{@code transport = auto} means io_uring where the kernel has it (about a fifth less CPU per
 * request than epoll in the load harness), unless zero-downtime upgrades are on
 * ({@code upgrade-socket} set, the default): an upgrade hands listening sockets to the next process
 * by descriptor, and Netty's io_uring server channel cannot be created from one
 * ({@link TransportRuntime#canAdoptListeners()}), so then auto means epoll.
 * {@code transport = io_uring} is honoured, without upgrades.
 */
public final class TransportModule extends AbstractModule {

    @Provides
    @Singleton
    TransportRuntime transportRuntime(ProxyConfig config) {
        TransportRuntime.Kind kind = config.server().transport();
        if (kind == TransportRuntime.Kind.AUTO && config.server().upgradeSocket() != null && Epoll.isAvailable()) {
            kind = TransportRuntime.Kind.EPOLL;
        }
        return TransportRuntime.create(kind, config.server().threads());
    }
}
