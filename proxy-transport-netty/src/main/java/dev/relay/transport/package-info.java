/**
 * The Netty transport of Relay: {@link dev.relay.transport.TransportRuntime} (event loops, native
 * transport choice), {@link dev.relay.transport.ProxyOptions} (limits, timeouts, retries, pooling)
 * and {@link dev.relay.transport.HttpProxyServer}, which runs a {@link dev.relay.core.ProxyHttp} on
 * listening sockets. Netty types never appear in these signatures; the engine and codecs live in
 * {@code dev.relay.transport.internal}.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless a parameter, return value or
 * field is annotated {@code @Nullable}, which its Javadoc then explains.
 */
@NullMarked
package dev.relay.transport;

import org.jspecify.annotations.NullMarked;
