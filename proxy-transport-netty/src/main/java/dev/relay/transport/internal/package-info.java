/**
 * The engine behind {@code HttpProxyServer}. {@code ProxyCall} drives the {@code ProxyHttp} phases of
 * one request and knows no protocol: it talks to the client through a {@code DownstreamStream} and to
 * the origin through one {@code UpstreamAttempt} at a time over an {@code UpstreamStream}. The HTTP/1.1
 * implementations ({@code Http1DownstreamStream}, {@code Http1UpstreamStream}, {@code Http1Streams})
 * own the framing; the connector and connection pool sit below them. Not API.
 *
 * <p>{@code @NullMarked} (JSpecify): non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.relay.transport.internal;

import org.jspecify.annotations.NullMarked;
