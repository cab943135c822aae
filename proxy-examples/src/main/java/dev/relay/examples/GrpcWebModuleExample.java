package dev.relay.examples;

import dev.relay.core.Alpn;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.filters.GrpcWebBridge;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code grpc_web_module} example: the gRPC-web bridge registered as a downstream module in
 * {@link #initDownstreamModules}, so that a browser's gRPC-web call (HTTP/1.1 or HTTP/2, trailers at the
 * end of the body) reaches a gRPC server as gRPC (HTTP/2, real trailers) and its answer comes back as
 * gRPC-web. The proxy itself only names the gRPC server.
 *
 * <p>Two differences from the original. Pingora's proxy switches the module on for each request in
 * {@code early_request_filter} ({@code GrpcWebBridge::init}); Relay's bridge switches itself on for a
 * request whose {@code Content-Type} is gRPC-web (a phase cannot reach a module's per-request state), so
 * there is no {@code earlyRequestFilter} here. And the peer asks for HTTP/2 by ALPN: gRPC needs it, and
 * Relay, like Pingora, offers only HTTP/1.1 to an upstream unless told.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.GrpcWebModuleExample my-grpc-server:443
 * printf '\0\0\0\0\5hello' | curl -s --data-binary @- -H 'content-type: application/grpc-web+proto' \
 *     127.0.0.1:6194/my.package.Service/Method | xxd
 * </pre>
 */
public final class GrpcWebModuleExample implements ProxyHttp<@Nullable Void> {
    private final HttpPeer grpcServer;

    /** Bridges gRPC-web clients to {@code grpcServer}, which must speak HTTP/2 (see {@link #grpcPeer}). */
    public GrpcWebModuleExample(HttpPeer grpcServer) {
        this.grpcServer = requireNonNull(grpcServer, "grpcServer");
    }

    /** A TLS peer at {@code address} with {@code sni}, offering only HTTP/2 by ALPN, as a gRPC server wants. */
    public static HttpPeer grpcPeer(String address, String sni, PeerOptions options) {
        return HttpPeer.tls(address, sni).withOptions(options.toBuilder().alpn(Alpn.H2).build());
    }

    @Override
    public @Nullable Void newCtx() {
        return null;
    }

    @Override
    public void initDownstreamModules(HttpModules modules) {
        modules.add(GrpcWebBridge.factory());
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, @Nullable Void ctx) {
        return CompletableFuture.completedFuture(grpcServer);
    }

    /** Listens on 0.0.0.0:6194 and bridges to the gRPC server given ({@code host:port}, TLS; 1.1.1.1:443 by default). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        String address = args.length > 0 ? args[0] : "1.1.1.1:443";
        String sni = args.length > 0 ? address.substring(0, address.lastIndexOf(':')) : "one.one.one.one";
        HttpProxyService proxy = Services.httpProxy(new GrpcWebModuleExample(grpcPeer(address, sni, PeerOptions.defaults())));
        proxy.addTcp("0.0.0.0:6194");
        server.addService(proxy);
        server.runForever();
    }
}
