package dev.relay.filters.redis;

import org.jspecify.annotations.Nullable;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * Where a Redis server is and how to log in: {@code redis://[[user]:password@]host[:port][/db]}, the
 * form redis-cli and the common clients accept. The port defaults to 6379 and the database to 0. With a
 * password the client sends {@code AUTH} on every connect ({@code AUTH user password} when a user is given,
 * Redis 6 ACLs; {@code AUTH password} otherwise), and {@code SELECT db} when the database is not 0.
 * User and password may be percent-encoded. TLS ({@code rediss://}) is not supported.
 *
 * <pre>{@code
 * RedisUri uri = RedisUri.parse("redis://:s3cret@10.0.0.5:6380/2");
 * }</pre>
 *
 * <p>Immutable. {@link #toString()} hides the password.
 */
public final class RedisUri {
    /** The port of a URI that names none. */
    public static final int DEFAULT_PORT = 6379;

    private final String host;
    private final int port;
    private final @Nullable String user;
    private final @Nullable String password;
    private final int database;

    private RedisUri(String host, int port, @Nullable String user, @Nullable String password, int database) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    /**
     * Parses {@code redis://[[user]:password@]host[:port][/db]}.
     *
     * @throws IllegalArgumentException naming what is wrong: another scheme, no host, a port or database
     *         out of range, a query or fragment
     */
    public static RedisUri parse(String uri) {
        requireNonNull(uri, "uri");
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("redis uri: " + redacted(uri) + " (expected: redis://[[user]:password@]host[:port][/db]; "
                    + e.getReason() + ")");
        }
        if (!"redis".equalsIgnoreCase(parsed.getScheme())) {
            throw new IllegalArgumentException("redis uri: " + redacted(uri) + " (expected the scheme redis://"
                    + ("rediss".equalsIgnoreCase(parsed.getScheme()) ? "; TLS to Redis is not supported" : "") + ")");
        }
        if (parsed.getHost() == null) {
            throw new IllegalArgumentException("redis uri: " + redacted(uri) + " (expected a host name or address)");
        }
        if (parsed.getRawQuery() != null || parsed.getRawFragment() != null) {
            throw new IllegalArgumentException("redis uri: " + redacted(uri) + " (expected no query and no fragment)");
        }
        int port = parsed.getPort() == -1 ? DEFAULT_PORT : parsed.getPort();
        String user = null;
        String password = null;
        String userInfo = parsed.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            if (colon < 0) {
                // redis://secret@host: a lone userinfo is the password (redis-cli reads it that way).
                password = decode(userInfo);
            } else {
                user = colon == 0 ? null : decode(userInfo.substring(0, colon));
                password = decode(userInfo.substring(colon + 1));
            }
        }
        return new RedisUri(hostOf(parsed), port, user, password, databaseOf(parsed.getPath(), uri));
    }

    /** A server without password on {@code host:port}, database 0. */
    public static RedisUri of(String host, int port) {
        requireNonNull(host, "host");
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("redis address: " + host + ":" + port + " (expected a host and a port 1-65535)");
        }
        return new RedisUri(host, port, null, null, 0);
    }

    private static String hostOf(URI parsed) {
        String host = parsed.getHost();
        // java.net.URI keeps the brackets of an IPv6 literal; the socket address wants the bare address.
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static int databaseOf(@Nullable String path, String uri) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return 0;
        }
        String digits = path.substring(1);
        try {
            int db = Integer.parseInt(digits);
            if (db >= 0) {
                return db;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("redis uri: " + redacted(uri) + " (expected a database number >= 0 after the /, got "
                + digits + ")");
    }

    private static String decode(String part) {
        return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The URI with whatever is between {@code //} and {@code @} replaced, for messages. */
    private static String redacted(String uri) {
        int at = uri.lastIndexOf('@');
        int start = uri.indexOf("//");
        return at > 0 && start >= 0 && start < at ? uri.substring(0, start + 2) + "***" + uri.substring(at) : uri;
    }

    /** The host name or address (an IPv6 literal without brackets). */
    public String host() {
        return host;
    }

    /** The TCP port. */
    public int port() {
        return port;
    }

    /** The ACL user to log in as; null for the default user. */
    public @Nullable String user() {
        return user;
    }

    /** The password; null when the server needs none. */
    public @Nullable String password() {
        return password;
    }

    /** The database number selected on connect. */
    public int database() {
        return database;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof RedisUri other && host.equals(other.host) && port == other.port
                && Objects.equals(user, other.user) && Objects.equals(password, other.password)
                && database == other.database;
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port, user, password, database);
    }

    @Override
    public String toString() {
        String login = password == null ? "" : (user == null ? "" : user) + ":***@";
        String address = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "redis://" + login + address + ":" + port + (database == 0 ? "" : "/" + database);
    }
}
