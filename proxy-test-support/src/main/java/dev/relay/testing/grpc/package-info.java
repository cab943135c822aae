/**
 * Real gRPC peers for tests, on grpc-java's shaded Netty transport (so its Netty never meets the
 * proxy's): a server with a hand-written service ({@link dev.relay.testing.grpc.GrpcTestService}: unary,
 * streaming both ways, a slow method for deadlines, a failing one that answers trailers-only, one that
 * waits for its cancellation) over h2c or TLS ({@link dev.relay.testing.grpc.GrpcTestServer}), and a client
 * for it ({@link dev.relay.testing.grpc.GrpcTestClient}).
 *
 * <p>grpc-java is an optional dependency of this module: a module whose tests use this package declares
 * {@code io.grpc:grpc-netty-shaded} and {@code io.grpc:grpc-stub} in test scope.
 */
package dev.relay.testing.grpc;
