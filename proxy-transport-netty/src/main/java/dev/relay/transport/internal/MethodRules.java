package dev.relay.transport.internal;

import dev.relay.core.ProxyError;
import dev.relay.transport.ProxyOptions;
import org.jspecify.annotations.Nullable;

/** Methods the proxy answers itself instead of forwarding, whatever the protocol (CONNECT has its own rules). */
final class MethodRules {
    private MethodRules() {}

    /**
     * Why a request with {@code method} is refused under {@code options}, or null: {@code TRACE} gets 405
     * unless {@link ProxyOptions#allowTrace()}, since an origin would echo back the whole request,
     * credentials the proxy added included (cross-site tracing).
     */
    static @Nullable ProxyError refuse(String method, ProxyOptions options) {
        if (!options.allowTrace() && "TRACE".equals(method)) {
            return ProxyError.httpStatus(405).setContext("TRACE is not allowed (proxy.server.allow-trace)");
        }
        return null;
    }
}
