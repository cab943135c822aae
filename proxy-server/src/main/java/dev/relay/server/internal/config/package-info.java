/**
 * The HOCON configuration of the proxy server: the loader (typesafe-config, defaults from
 * {@code reference.conf}), the immutable model it produces ({@link dev.relay.server.internal.config.ProxyConfig}),
 * and the errors it reports, each naming the file, the line and the key. Not an API.
 */
package dev.relay.server.internal.config;
