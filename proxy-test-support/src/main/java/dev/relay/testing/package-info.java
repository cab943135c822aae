/**
 * Shared test infrastructure for every Relay module: a real HTTP/1.1 origin server that records what it
 * receives ({@link dev.relay.testing.TestOrigin}, started per test class by
 * {@link dev.relay.testing.OriginExtension}) and can be told to misbehave (hang, stall, reset, send garbage,
 * stop accepting, close idle connections), an origin that answers with exact bytes, whole or byte by byte
 * ({@link dev.relay.testing.RawResponseOrigin}), a server that accepts and never answers
 * ({@link dev.relay.testing.SilentServer}), a raw-socket HTTP client ({@link dev.relay.testing.RawHttpConnection}) and its HTTP/2 counterpart that writes
 * arbitrary frames ({@link dev.relay.testing.RawHttp2Connection}),
 * a bounded wait for conditions other threads make true ({@link dev.relay.testing.Await}), a throw-away PKI
 * for TLS tests
 * ({@link dev.relay.testing.TestCertificates}), and leak detection that fails tests on any leaked
 * {@code ByteBuf} ({@link dev.relay.testing.LeakDetection}, {@link dev.relay.testing.LeakDetectionExtension}).
 *
 * <p>This module is a test-scoped dependency of the other modules. Leak detection needs no set-up in a
 * module that depends on it: see {@link dev.relay.testing.LeakDetection} for how it is wired.
 *
 * <p>Everything here is non-null unless a parameter or return value is documented as nullable.
 */
package dev.relay.testing;
