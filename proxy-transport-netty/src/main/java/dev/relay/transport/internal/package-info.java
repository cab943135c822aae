/**
 * The engine behind {@code HttpProxyServer}: the per-connection handler and per-request state machine
 * that call the {@code ProxyHttp} phases in order, the adapters that show Netty's HTTP objects as core
 * types without copying, the upstream connector and connection pool. Not API.
 */
package dev.relay.transport.internal;
