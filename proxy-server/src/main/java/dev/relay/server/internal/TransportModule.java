package dev.relay.server.internal;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.transport.TransportRuntime;

/**
 * Transport: provides the process's {@link TransportRuntime} from {@code proxy.server.threads} and
 * {@code transport}.
 *
 * <p>{@code transport = auto} means io_uring where the kernel has it (about a fifth less CPU per
 * request than epoll in the load harness), else epoll, else NIO, with or without zero-downtime
 * upgrades: an upgrade hands the listening TCP sockets to the next process by descriptor, and both
 * native transports adopt a descriptor ({@link TransportRuntime#canAdoptListeners()}; io_uring through
 * Relay's {@code AdoptedIoUringServerSocketChannel}, since Netty's own io_uring server channel only
 * opens sockets of its own). Adoption was chosen over binding a second socket with SO_REUSEPORT: on
 * close, the connections queued on the old process's socket would be reset (see docs/architecture.md,
 * "Transport: io_uring with upgrades too"). Only NIO has no descriptors to pass: with
 * {@code transport = nio} upgrades are off.
 */
public final class TransportModule extends AbstractModule {

    @Provides
    @Singleton
    TransportRuntime transportRuntime(ProxyConfig config) {
        return TransportRuntime.create(config.server().transport(), config.server().threads());
    }
}
