/**
 * The {@link dev.relay.core.ProxyHttp} that a configuration describes: routing by host and path,
 * upstream groups behind load balancers with failover, and the per-route filters. Not an API.
 */
package dev.relay.server.internal.proxy;
