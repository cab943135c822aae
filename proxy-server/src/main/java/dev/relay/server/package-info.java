/**
 * The runnable product around the framework, in Pingora's shape: a {@link dev.relay.server.Server}
 * that owns the event loops, runs {@link dev.relay.server.Service}s (above all
 * {@link dev.relay.server.HttpProxyService}, one {@link dev.relay.core.ProxyHttp} on its listeners)
 * and handles the process signals; and {@link dev.relay.server.Main}, the command line that builds
 * a proxy from a HOCON configuration file.
 *
 * <pre>{@code
 * Server server = Server.create();
 * server.bootstrap();
 * HttpProxyService proxy = server.addService(HttpProxyService.create(new MyProxy()));
 * proxy.addTcp("0.0.0.0:6188");
 * server.runForever();
 * }</pre>
 *
 * Everything under {@code dev.relay.server.internal} is implementation: the configuration model
 * and loader, the configured proxy, the Guice modules.
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless a parameter, return value or
 * field is annotated {@code @Nullable}, which its Javadoc then explains.
 */
@NullMarked
package dev.relay.server;

import org.jspecify.annotations.NullMarked;
