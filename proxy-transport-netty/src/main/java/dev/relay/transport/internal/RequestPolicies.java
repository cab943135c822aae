package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ProxyError;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.UnderscoresInHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Request policies of {@link ProxyOptions} that hold whatever the protocol: methods the proxy answers
 * itself instead of forwarding (CONNECT has its own rules), and the underscore policy for requests
 * that did not come through {@link Http1RequestDecoder}, which applies it while it parses.
 */
final class RequestPolicies {
    private RequestPolicies() {}

    /**
     * Why a request with {@code method} is refused under {@code options}, or null: {@code TRACE} gets 405
     * unless {@link ProxyOptions#allowTrace()}, since an origin would echo back the whole request,
     * credentials the proxy added included (cross-site tracing).
     */
    static @Nullable ProxyError refuseMethod(String method, ProxyOptions options) {
        if (!options.allowTrace() && "TRACE".equals(method)) {
            return ProxyError.httpStatus(405, ErrorSource.DOWNSTREAM)
                    .setContext("TRACE is not allowed (proxy.server.allow-trace)");
        }
        return null;
    }

    /**
     * Applies {@link ProxyOptions#underscoresInHeaders()} to {@code fields}: removes the fields whose name
     * contains {@code _} ({@code DROP}), or returns the 400 that refuses the request ({@code REJECT}); null
     * when the request goes on.
     */
    static @Nullable ProxyError applyUnderscorePolicy(HttpHeaders fields, ProxyOptions options) {
        UnderscoresInHeaders policy = options.underscoresInHeaders();
        if (policy == UnderscoresInHeaders.ALLOW) {
            return null;
        }
        List<CharSequence> named = null;
        for (var it = fields.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            CharSequence name = field.getKey();
            if (contains(name, '_')) {
                if (policy == UnderscoresInHeaders.REJECT) {
                    return ProxyError.httpStatus(400, ErrorSource.DOWNSTREAM)
                            .setContext("a field name with an underscore: " + name);
                }
                if (named == null) {
                    named = new ArrayList<>(2);
                }
                named.add(name);
            }
        }
        if (named != null) {
            named.forEach(fields::remove);
        }
        return null;
    }

    private static boolean contains(CharSequence s, char c) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                return true;
            }
        }
        return false;
    }
}
