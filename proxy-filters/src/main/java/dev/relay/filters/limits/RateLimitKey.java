package dev.relay.filters.limits;

import dev.relay.core.Session;
import org.jspecify.annotations.Nullable;

import static java.util.Objects.requireNonNull;

/**
 * What the {@code rate-limit} filter counts a request against: its key. Requests with equal keys share
 * one limit; a request for which the key finds nothing (a missing header or cookie) is not limited at
 * all, as nginx does not limit a request whose key is empty.
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>spec</th><th>key</th></tr>
 *   <tr><td>{@code client-ip}</td><td>the client's IP address ({@link Session#clientAddress()}, so the
 *       PROXY protocol's source address when the listener takes it): IPv4 whole, IPv6 by its /64 (see
 *       {@link #clientIp(int, int)} for other prefixes); {@code unix} for every client of a Unix-domain
 *       socket listener</td></tr>
 *   <tr><td>{@code header:NAME}</td><td>the first value of header {@code NAME}, exactly as sent</td></tr>
 *   <tr><td>{@code host}</td><td>the {@code Host} (or the authority of an absolute-form target), lower
 *       case, without port or trailing dot</td></tr>
 *   <tr><td>{@code cookie:NAME}</td><td>the value of cookie {@code NAME}</td></tr>
 *   <tr><td>{@code route}</td><td>one key for every request the filter sees: placed on a route, it
 *       limits that route as a whole; in {@code proxy.filters}, all traffic</td></tr>
 * </table>
 *
 * <p>Any {@code Session -> String} function is a key too:
 * {@code RateLimitFilter.builder(session -> session.requestHeader().headers().get("X-Tenant"))}.
 */
@FunctionalInterface
public interface RateLimitKey {

    /** The request's key, or null when it has none (the request is then not limited). Runs on the event loop. */
    @Nullable String keyOf(Session session);

    /**
     * The client's IP address: an IPv4 address whole, an IPv6 address by its /64 (one site's block, which
     * its client can rotate through), an IPv4-mapped IPv6 address as IPv4.
     */
    static RateLimitKey clientIp() {
        return RequestKeys.CLIENT_IP;
    }

    /**
     * The client's network: its IPv4 address cut to {@code ipv4Prefix} bits (1 to 32) and its IPv6 address to
     * {@code ipv6Prefix} bits (1 to 128), so that all the addresses of one network share a limit; written as
     * the network ({@code 2001:db8:1:2::/64}, {@code 192.0.2.0/24}) unless the prefix is the whole address.
     */
    static RateLimitKey clientIp(int ipv4Prefix, int ipv6Prefix) {
        return new RequestKeys.ClientIp(ipv4Prefix, ipv6Prefix);
    }

    /** The first value of header {@code name} (a field-name token). */
    static RateLimitKey header(String name) {
        return new RequestKeys.Header(RequestKeys.token(name, "header"));
    }

    /** The request's host, lower case, without port. */
    static RateLimitKey host() {
        return RequestKeys.HOST;
    }

    /** The value of cookie {@code name} (a token). */
    static RateLimitKey cookie(String name) {
        return new RequestKeys.Cookie(RequestKeys.token(name, "cookie"));
    }

    /** One key for all requests the filter sees. */
    static RateLimitKey route() {
        return RequestKeys.ROUTE;
    }

    /**
     * The key named by {@code spec}: {@code client-ip}, {@code header:NAME}, {@code host},
     * {@code cookie:NAME} or {@code route}.
     *
     * @throws IllegalArgumentException when {@code spec} is none of these, saying what is accepted
     */
    static RateLimitKey parse(String spec) {
        requireNonNull(spec, "spec");
        switch (spec) {
            case "client-ip":
                return clientIp();
            case "host":
                return host();
            case "route":
                return route();
            default:
                break;
        }
        if (spec.startsWith("header:")) {
            return header(spec.substring("header:".length()));
        }
        if (spec.startsWith("cookie:")) {
            return cookie(spec.substring("cookie:".length()));
        }
        throw new IllegalArgumentException("'" + spec + "' (expected: client-ip, header:NAME, host, cookie:NAME or route)");
    }
}
