package dev.relay.server;

import dev.relay.core.ProxyHttp;
import dev.relay.core.StreamProxy;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.ProxyOptions;

/**
 * Static factories for the built-in {@link Service}s, named as Pingora names them.
 *
 * <pre>{@code
 * HttpProxyService proxy = Services.httpProxy(new MyProxy());
 * proxy.addTcp("0.0.0.0:6188");
 * server.addService(proxy);
 * }</pre>
 */
public final class Services {
    private Services() {}

    /** Pingora's {@code http_proxy_service}: {@link HttpProxyService#create(ProxyHttp)}. */
    public static HttpProxyService httpProxy(ProxyHttp<?> proxy) {
        return HttpProxyService.create(proxy);
    }

    /** {@link HttpProxyService#create(ProxyHttp, ProxyOptions)}. */
    public static HttpProxyService httpProxy(ProxyHttp<?> proxy, ProxyOptions options) {
        return HttpProxyService.create(proxy, options);
    }

    /** Pingora's TCP proxy service: {@link StreamProxyService#create} named {@code "stream"}, default options. */
    public static StreamProxyService streamProxy(StreamProxy<?> proxy) {
        return StreamProxyService.create("stream", proxy, StreamOptions.defaults());
    }

    /** {@link StreamProxyService#create} named {@code "stream"}, with {@code options}. */
    public static StreamProxyService streamProxy(StreamProxy<?> proxy, StreamOptions options) {
        return StreamProxyService.create("stream", proxy, options);
    }
}
