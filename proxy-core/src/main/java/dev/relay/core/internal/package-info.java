/**
 * Plain implementations of the core value interfaces, for tests and non-Netty use. Not API: the
 * public factories ({@code HttpHeaders.create()}, {@code ResponseHeader.of(int)} ...) hand them out.
 */
package dev.relay.core.internal;
