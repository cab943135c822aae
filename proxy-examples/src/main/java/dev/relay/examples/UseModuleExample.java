package dev.relay.examples;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * A third-party module plugged into a proxy, Pingora's {@code use_module} example: {@link BasicAcl}, an
 * {@link HttpModuleFactory} (Pingora's {@code HttpModuleBuilder}) that makes one {@link HttpModule} per
 * request, rejects with 403 every request whose {@code Authorization} header is not
 * {@code basic <credential>}. The proxy registers it once, in {@link #initDownstreamModules}, and
 * otherwise only says where to go; the module runs before {@code requestFilter} for every request,
 * so nothing unauthorised reaches the upstream.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.UseModuleExample
 * curl -v 127.0.0.1:6193 -H "Host: one.one.one.one"                                   # 403
 * curl 127.0.0.1:6193 -H "Host: one.one.one.one" -H "Authorization: basic testcode"   # proxied
 * curl -v 127.0.0.1:6193 -H "Host: one.one.one.one" -H "Authorization: basic wrong"   # 403
 * </pre>
 */
public final class UseModuleExample implements ProxyHttp<Void> {

    /**
     * The module: accepts a request only with {@code Authorization: basic <credential>}. Shared by all
     * requests; each gets its own {@link HttpModule} from {@link #newModule()}.
     */
    public static final class BasicAcl implements HttpModuleFactory {
        private final String expectedHeader;

        /** Lets through requests that carry {@code Authorization: basic <credential>}. */
        public BasicAcl(String credential) {
            // Built once rather than per request: each module compares against the same string.
            this.expectedHeader = "basic " + requireNonNull(credential, "credential");
        }

        @Override
        public String name() {
            return "my-acl";
        }

        @Override
        public HttpModule newModule() {
            return new HttpModule() {
                @Override
                public CompletionStage<Void> requestHeaderFilter(Session session) {
                    String auth = session.requestHeader().headers().get("Authorization");
                    if (auth == null) {
                        return Stages.failed(ProxyError.httpStatus(403).setContext("Auth failed, no auth header"));
                    }
                    if (!auth.equals(expectedHeader)) {
                        return Stages.failed(ProxyError.httpStatus(403).setContext("Auth failed, credential mismatch"));
                    }
                    return Stages.done();
                }
            };
        }
    }

    private final HttpPeer upstream;
    private final String credential;

    /** As in Pingora's example: to 1.1.1.1:443 with TLS and SNI {@code one.one.one.one}, credential {@code testcode}. */
    public UseModuleExample() {
        this(HttpPeer.tls("1.1.1.1:443", "one.one.one.one"), "testcode");
    }

    /** Proxies to {@code upstream}, letting through requests with {@code Authorization: basic <credential>}. */
    public UseModuleExample(HttpPeer upstream, String credential) {
        this.upstream = requireNonNull(upstream, "upstream");
        this.credential = requireNonNull(credential, "credential");
    }

    @Override
    public Void newCtx() {
        return null;
    }

    // Called once, when the service starts.
    @Override
    public void initDownstreamModules(HttpModules modules) {
        modules.add(new BasicAcl(credential));
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        return CompletableFuture.completedFuture(upstream);
    }

    /** Listens on 0.0.0.0:6193. */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        HttpProxyService proxy = HttpProxyService.create(new UseModuleExample());
        proxy.addTcp("0.0.0.0:6193");
        server.addService(proxy);
        server.runForever();
    }
}
