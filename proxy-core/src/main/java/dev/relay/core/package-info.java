/**
 * The domain ports of Relay: what a user of the framework implements ({@link dev.relay.core.ProxyHttp},
 * {@link dev.relay.core.HttpModule}, {@link dev.relay.core.FilterProvider}) and the immutable values
 * the phases exchange ({@link dev.relay.core.HttpPeer}, {@link dev.relay.core.Backend},
 * {@link dev.relay.core.ProxyError}). This package depends on the JDK only; transports and the
 * server plug in beneath it.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless a parameter, return value or
 * field is annotated {@code @Nullable}, which its Javadoc then explains.
 */
@NullMarked
package dev.relay.core;

import org.jspecify.annotations.NullMarked;
