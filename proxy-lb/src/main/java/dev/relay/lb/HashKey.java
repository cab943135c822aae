package dev.relay.lb;

import dev.relay.core.Addresses;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * What the hashing algorithms ({@link FnvHash}, {@link Ketama}, {@link Maglev}) hash: a part of
 * the request, named as in configuration ({@code hash-key = ...}). The bytes are those nginx
 * hashes for the matching variable, so {@link Ketama} with the same key picks what nginx picks:
 *
 * <table>
 *   <caption>Hash keys</caption>
 *   <tr><th>spec</th><th>bytes</th><th>nginx</th></tr>
 *   <tr><td>{@code uri}</td><td>the request target as received, path and query</td><td>{@code $request_uri}</td></tr>
 *   <tr><td>{@code client-ip}</td><td>the client's IP in text, IPv6 compressed</td><td>{@code $remote_addr}</td></tr>
 *   <tr><td>{@code header:NAME}</td><td>the first value of header NAME (case-insensitive name)</td><td>{@code $http_name}</td></tr>
 *   <tr><td>{@code cookie:NAME}</td><td>the value of cookie NAME (case-sensitive)</td><td>{@code $cookie_NAME}</td></tr>
 * </table>
 *
 * A missing header, cookie or address hashes the empty key, so all such requests share a backend.
 * Computing a key allocates its byte array (one per request); selection itself does not allocate.
 *
 * <pre>{@code
 * HashKey hashKey = HashKey.parse("cookie:session");
 * Backend backend = lb.selectOrNull(hashKey.key(session), 256);
 * }</pre>
 */
public final class HashKey {
    private enum Source { URI, CLIENT_IP, HEADER, COOKIE }

    /** The {@link #clientIp()} key of every Unix-domain socket client, which has no IP address. */
    private static final byte[] UNIX_CLIENT_KEY = "unix".getBytes(StandardCharsets.ISO_8859_1);

    private final Source source;
    private final String name;

    private HashKey(Source source, String name) {
        this.source = source;
        this.name = name;
    }

    /**
     * The key for {@code spec}: {@code uri}, {@code client-ip}, {@code header:NAME} or {@code cookie:NAME}.
     *
     * @throws IllegalArgumentException naming the setting when {@code spec} is none of these
     */
    public static HashKey parse(String spec) {
        requireNonNull(spec, "spec");
        if (spec.equals("uri")) {
            return uri();
        }
        if (spec.equals("client-ip")) {
            return clientIp();
        }
        int colon = spec.indexOf(':');
        if (colon > 0 && colon < spec.length() - 1) {
            String kind = spec.substring(0, colon);
            String name = spec.substring(colon + 1);
            if (kind.equals("header")) {
                return header(name);
            }
            if (kind.equals("cookie")) {
                return cookie(name);
            }
        }
        throw new IllegalArgumentException("hash-key: " + spec + " (expected: uri, client-ip, header:NAME or cookie:NAME)");
    }

    /** The request target ({@code $request_uri}). */
    public static HashKey uri() {
        return new HashKey(Source.URI, "");
    }

    /**
     * The client's IP address in text ({@code $remote_addr}); the constant {@code unix} for a client
     * of a Unix-domain socket listener (they all go to one backend).
     */
    public static HashKey clientIp() {
        return new HashKey(Source.CLIENT_IP, "");
    }

    /** The first value of header {@code name}. */
    public static HashKey header(String name) {
        return new HashKey(Source.HEADER, token(name, "header"));
    }

    /** The value of cookie {@code name}. */
    public static HashKey cookie(String name) {
        return new HashKey(Source.COOKIE, token(name, "cookie"));
    }

    private static String token(String name, String what) {
        requireNonNull(name, what);
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
            throw new IllegalArgumentException("hash-key: " + what + ":" + name + " (expected: a " + what + " name token)");
        }
        return name;
    }

    /** The key of the request of {@code session}. */
    public byte[] key(Session session) {
        requireNonNull(session, "session");
        return key(session.requestHeader(), session.clientAddress());
    }

    /** The key of {@code request} from {@code client} (nullable: unknown). */
    public byte[] key(RequestHeader request, @Nullable SocketAddress client) {
        requireNonNull(request, "request");
        switch (source) {
            case URI:
                return bytes(request.uri());
            case CLIENT_IP:
                return clientIpKey(client);
            case HEADER:
                return bytes(request.headers().get(name));
            case COOKIE:
                return bytes(cookieValue(request.headers().getAll("Cookie"), name));
            default:
                throw new AssertionError(source);
        }
    }

    /**
     * The {@link #clientIp()} key of a connection from {@code client} (nullable: unknown), for a caller
     * that has no request to hand to {@link #key(RequestHeader, SocketAddress)}, such as a stream proxy.
     */
    public static byte[] clientIpKey(@Nullable SocketAddress client) {
        if (client instanceof UnixDomainSocketAddress) {
            // A Unix-socket client has no IP: all of them share one key (one backend).
            return UNIX_CLIENT_KEY.clone();
        }
        return client instanceof InetSocketAddress inet && inet.getAddress() != null
                ? bytes(Addresses.ipText(inet.getAddress())) : LoadBalancer.NO_KEY;
    }

    private static byte[] bytes(@Nullable String text) {
        return text == null || text.isEmpty() ? LoadBalancer.NO_KEY : text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static @Nullable String cookieValue(List<String> cookieHeaders, String name) {
        for (String header : cookieHeaders) {
            int i = 0;
            int n = header.length();
            while (i < n) {
                int end = header.indexOf(';', i);
                if (end < 0) {
                    end = n;
                }
                int eq = header.indexOf('=', i);
                if (eq > 0 && eq < end && header.substring(i, eq).trim().equals(name)) {
                    return header.substring(eq + 1, end).trim();
                }
                i = end + 1;
            }
        }
        return null;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof HashKey other && source == other.source && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return source.hashCode() * 31 + name.hashCode();
    }

    /** The spec, as {@link #parse} accepts it. */
    @Override
    public String toString() {
        switch (source) {
            case URI:
                return "uri";
            case CLIENT_IP:
                return "client-ip";
            case HEADER:
                return "header:" + name;
            default:
                return "cookie:" + name;
        }
    }
}
