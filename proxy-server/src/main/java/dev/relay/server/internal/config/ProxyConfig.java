package dev.relay.server.internal.config;

import dev.relay.core.Backend;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.PeerOptions;
import dev.relay.core.SelectionAlgorithm;
import dev.relay.core.UpstreamObserver;
import dev.relay.lb.HashKey;
import dev.relay.lb.SelectionAlgorithms;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.Http2Settings;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.UnderscoresInHeaders;
import dev.relay.transport.TlsSettings;
import dev.relay.transport.TransportRuntime;

import org.jspecify.annotations.Nullable;

import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A validated configuration, immutable: what {@link ConfigLoader} produces and the server is
 * assembled from. Every part is checked (addresses parsed, names resolved, filters created), so a
 * {@code ProxyConfig} that exists can be run.
 *
 * @param source      the file it came from (or the bundled resource), for logs
 * @param server      the process settings ({@code proxy.server})
 * @param listeners   where to listen, at least one
 * @param upstreams   the upstream groups by name, in file order; empty in demo mode
 * @param routes      the routes in file order (first match wins)
 * @param filters     the filters of every request ({@code proxy.filters})
 * @param demoOrigins how many in-process demo origins to start (demo mode, {@code proxy.demo.origins}),
 *                    0 when the file has its own {@code proxy.upstreams}
 * @param admin       the admin listener; null: none
 * @param restartOnly the settings a live reload cannot apply, as the section readers marked them
 * @param streams     the stream (layer-4 TCP) services ({@code proxy.streams}), in file order
 */
public record ProxyConfig(String source, ServerSettings server, List<ListenerConfig> listeners,
                          Map<String, UpstreamConfig> upstreams, List<RouteConfig> routes,
                          List<FilterConfig> filters, int demoOrigins, AdminConfig admin,
                          RestartOnlySettings restartOnly, List<StreamConfig> streams) {

    /** The name of the upstream group that demo mode creates over the demo origins. */
    public static final String DEMO_UPSTREAM = "demo";

    public ProxyConfig {
        requireNonNull(source, "source");
        requireNonNull(server, "server");
        listeners = List.copyOf(listeners);
        upstreams = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(upstreams));
        routes = List.copyOf(routes);
        filters = List.copyOf(filters);
        requireNonNull(restartOnly, "restartOnly");
        streams = List.copyOf(streams);
    }

    /** A configuration without stream services. */
    public ProxyConfig(String source, ServerSettings server, List<ListenerConfig> listeners,
                       Map<String, UpstreamConfig> upstreams, List<RouteConfig> routes,
                       List<FilterConfig> filters, int demoOrigins, AdminConfig admin,
                       RestartOnlySettings restartOnly) {
        this(source, server, listeners, upstreams, routes, filters, demoOrigins, admin, restartOnly, List.of());
    }

    /** A configuration built in code, not read from a file: a reload names no setting as restart-only. */
    public ProxyConfig(String source, ServerSettings server, List<ListenerConfig> listeners,
                       Map<String, UpstreamConfig> upstreams, List<RouteConfig> routes,
                       List<FilterConfig> filters, int demoOrigins, AdminConfig admin) {
        this(source, server, listeners, upstreams, routes, filters, demoOrigins, admin, RestartOnlySettings.NONE);
    }

    /** A configuration without an admin listener (tests and embedding). */
    public ProxyConfig(String source, ServerSettings server, List<ListenerConfig> listeners,
                       Map<String, UpstreamConfig> upstreams, List<RouteConfig> routes,
                       List<FilterConfig> filters, int demoOrigins) {
        this(source, server, listeners, upstreams, routes, filters, demoOrigins, null);
    }

    /** A copy with {@code upstream} added (or replacing the one of the same name): demo mode's group. */
    public ProxyConfig withUpstream(UpstreamConfig upstream) {
        Map<String, UpstreamConfig> map = new LinkedHashMap<>(upstreams);
        map.put(upstream.name(), upstream);
        return new ProxyConfig(source, server, listeners, map, routes, filters, demoOrigins, admin, restartOnly, streams);
    }

    /**
     * {@code proxy.server}.
     *
     * @param threads                    worker event loops, 0 = one per core
     * @param gracePeriod                how long SIGTERM lets requests in flight finish
     * @param maxAttempts                upstream attempts per request, the first included
     * @param transport                  the socket implementation
     * @param accessLog                  whether to log one line per request
     * @param accessLogFormat            {@code combined} or {@code json}
     * @param shutdownTimeout            how long the event loops may take to stop after the grace period
     * @param retryBackoff               pause before a retry, doubled on each; null: none
     * @param maxIdleUpstreamConnections idle pooled upstream connections across the process
     * @param pidFile                    where to write the process id; null: nowhere
     * @param upgradeSocket              the Unix socket where the running process hands its listeners
     *                                   to a new one started with {@code --upgrade}; null: no upgrades
     * @param retryBufferBytes           request-body bytes kept to replay on a retry; 0: bodies are not replayed
     * @param requestDeadline            the most a whole request may take; null: no deadline
     * @param headerReadTimeout          time allowed for a whole request header (listeners may override)
     * @param keepAliveTimeout           how long an idle client connection is kept (listeners may override)
     * @param bodyReadTimeout            longest wait for each read of a request body (listeners may override)
     * @param maxHeaderBytes             largest request header section; larger gets 431
     * @param maxRequestLineBytes        longest request line; longer gets 414
     * @param shutdownDelay              how long a graceful stop keeps accepting after /ready turned 503
     * @param tunnelIdleTimeout          how long a WebSocket or CONNECT tunnel may stay without a byte either way
     * @param http2                      HTTP/2 towards clients ({@code proxy.server.http2})
     * @param accessLogDestination       where access-log lines go ({@code proxy.server.access-log-path})
     * @param requestRules               field limits, the underscore policy and TRACE
     */
    public record ServerSettings(int threads, Duration gracePeriod, int maxAttempts,
                                 TransportRuntime.Kind transport, boolean accessLog, AccessLogFormat accessLogFormat,
                                 Duration shutdownTimeout, Duration retryBackoff, int maxIdleUpstreamConnections,
                                 String pidFile, String upgradeSocket, int retryBufferBytes, Duration requestDeadline,
                                 Duration headerReadTimeout, Duration keepAliveTimeout, Duration bodyReadTimeout,
                                 int maxHeaderBytes, int maxRequestLineBytes, Duration shutdownDelay,
                                 Duration tunnelIdleTimeout, Http2Settings http2,
                                 AccessLogDestination accessLogDestination, RequestRules requestRules,
                                 Duration sendTimeout, int maxRequestsInFlight) {

        public ServerSettings {
            requireNonNull(requestRules, "requestRules");
            requireNonNull(sendTimeout, "sendTimeout");
            requireNonNull(accessLogDestination, "accessLogDestination");
            requireNonNull(http2, "http2");
            requireNonNull(tunnelIdleTimeout, "tunnelIdleTimeout");
            requireNonNull(shutdownDelay, "shutdownDelay");
            requireNonNull(headerReadTimeout, "headerReadTimeout");
            requireNonNull(keepAliveTimeout, "keepAliveTimeout");
            requireNonNull(bodyReadTimeout, "bodyReadTimeout");
        }

        /**
         * The settings without HTTP/2's, the send timeout and the in-flight limit, which take the engine's
         * defaults, and with the access log on standard output.
         */
        public ServerSettings(int threads, Duration gracePeriod, int maxAttempts, TransportRuntime.Kind transport,
                              boolean accessLog, AccessLogFormat accessLogFormat, Duration shutdownTimeout,
                              Duration retryBackoff, int maxIdleUpstreamConnections, String pidFile,
                              String upgradeSocket, int retryBufferBytes, Duration requestDeadline,
                              Duration headerReadTimeout, Duration keepAliveTimeout, Duration bodyReadTimeout,
                              int maxHeaderBytes, int maxRequestLineBytes, Duration shutdownDelay,
                              Duration tunnelIdleTimeout) {
            this(threads, gracePeriod, maxAttempts, transport, accessLog, accessLogFormat, shutdownTimeout,
                    retryBackoff, maxIdleUpstreamConnections, pidFile, upgradeSocket, retryBufferBytes,
                    requestDeadline, headerReadTimeout, keepAliveTimeout, bodyReadTimeout, maxHeaderBytes,
                    maxRequestLineBytes, shutdownDelay, tunnelIdleTimeout, Http2Settings.defaults(), AccessLogDestination.STDOUT,
                    RequestRules.DEFAULTS, ProxyOptions.defaults().sendTimeout(),
                    ProxyOptions.defaults().maxRequestsInFlight());
        }

        /** The settings without the tunnel idle timeout, which takes the engine's default. */
        public ServerSettings(int threads, Duration gracePeriod, int maxAttempts, TransportRuntime.Kind transport,
                              boolean accessLog, AccessLogFormat accessLogFormat, Duration shutdownTimeout,
                              Duration retryBackoff, int maxIdleUpstreamConnections, String pidFile,
                              String upgradeSocket, int retryBufferBytes, Duration requestDeadline,
                              Duration headerReadTimeout, Duration keepAliveTimeout, Duration bodyReadTimeout,
                              int maxHeaderBytes, int maxRequestLineBytes, Duration shutdownDelay) {
            this(threads, gracePeriod, maxAttempts, transport, accessLog, accessLogFormat, shutdownTimeout,
                    retryBackoff, maxIdleUpstreamConnections, pidFile, upgradeSocket, retryBufferBytes,
                    requestDeadline, headerReadTimeout, keepAliveTimeout, bodyReadTimeout, maxHeaderBytes,
                    maxRequestLineBytes, shutdownDelay, ProxyOptions.defaults().tunnelIdleTimeout());
        }

        /** The settings that the older tests and embedders give; the rest take their defaults. */
        public ServerSettings(int threads, Duration gracePeriod, int maxAttempts, TransportRuntime.Kind transport,
                              boolean accessLog) {
            this(threads, gracePeriod, maxAttempts, transport, accessLog, AccessLogFormat.COMBINED,
                    Duration.ofSeconds(5), null, 1024, null, null);
        }

        /** The process settings without the client limits, which take the engine's defaults. */
        public ServerSettings(int threads, Duration gracePeriod, int maxAttempts, TransportRuntime.Kind transport,
                              boolean accessLog, AccessLogFormat accessLogFormat, Duration shutdownTimeout,
                              Duration retryBackoff, int maxIdleUpstreamConnections, String pidFile,
                              String upgradeSocket) {
            this(threads, gracePeriod, maxAttempts, transport, accessLog, accessLogFormat, shutdownTimeout,
                    retryBackoff, maxIdleUpstreamConnections, pidFile, upgradeSocket,
                    ProxyOptions.defaults().retryBufferBytes(), ProxyOptions.defaults().requestDeadline(),
                    ProxyOptions.defaults().headerReadTimeout(), ProxyOptions.defaults().keepAliveTimeout(),
                    ProxyOptions.defaults().bodyReadTimeout(), ProxyOptions.defaults().maxHeaderBytes(),
                    ProxyOptions.defaults().maxRequestLineBytes(), Duration.ZERO);
        }

        /** The engine options these settings imply. */
        public ProxyOptions proxyOptions() {
            return proxyOptions(UpstreamObserver.NONE);
        }

        /** The engine options these settings imply, reporting upstream attempts to {@code observer}. */
        public ProxyOptions proxyOptions(UpstreamObserver observer) {
            return ProxyOptions.builder()
                    .maxAttempts(maxAttempts)
                    .retryBackoff(retryBackoff)
                    .maxIdleUpstreamConnections(maxIdleUpstreamConnections)
                    .retryBufferBytes(retryBufferBytes)
                    .requestDeadline(requestDeadline)
                    .headerReadTimeout(headerReadTimeout)
                    .keepAliveTimeout(keepAliveTimeout)
                    .bodyReadTimeout(bodyReadTimeout)
                    .maxHeaderBytes(maxHeaderBytes)
                    .maxRequestLineBytes(maxRequestLineBytes)
                    .maxFieldBytes(requestRules.maxFieldBytes())
                    .maxFields(requestRules.maxFields())
                    .underscoresInHeaders(requestRules.underscoresInHeaders())
                    .allowTrace(requestRules.allowTrace())
                    .tunnelIdleTimeout(tunnelIdleTimeout)
                    .sendTimeout(sendTimeout)
                    .maxRequestsInFlight(maxRequestsInFlight)
                    .http2(http2)
                    .upstreamObserver(observer)
                    .build();
        }
    }

    /**
     * What {@code proxy.server} says about requests beyond the sizes of their line and header section.
     *
     * @param maxFieldBytes        longest request header field line; longer gets 431
     * @param maxFields            most request header fields; more get 431
     * @param underscoresInHeaders what becomes of fields whose name contains {@code _}
     * @param allowTrace           whether TRACE is proxied (else 405)
     */
    public record RequestRules(int maxFieldBytes, int maxFields, UnderscoresInHeaders underscoresInHeaders,
                               boolean allowTrace) {
        /** The engine's defaults. */
        public static final RequestRules DEFAULTS = new RequestRules(ProxyOptions.defaults().maxFieldBytes(),
                ProxyOptions.defaults().maxFields(), ProxyOptions.defaults().underscoresInHeaders(),
                ProxyOptions.defaults().allowTrace());

        public RequestRules {
            requireNonNull(underscoresInHeaders, "underscoresInHeaders");
        }
    }

    /** The access-log line formats. */
    public enum AccessLogFormat {
        /** Apache/nginx "combined", followed by Relay's own fields. */
        COMBINED,
        /** One JSON object per line. */
        JSON
    }

    /**
     * Where access-log lines go ({@code proxy.server.access-log-path}).
     *
     * @param kind standard output, a file, or the SLF4J logger {@code dev.relay.access}
     * @param file the file, absolute; null unless {@code kind} is {@link Kind#FILE}
     */
    public record AccessLogDestination(Kind kind, @Nullable Path file) {
        /** Standard output of the process (file descriptor 1), the default. */
        public static final AccessLogDestination STDOUT = new AccessLogDestination(Kind.STDOUT, null);
        /** The SLF4J logger {@code dev.relay.access}: for those who route the lines with Logback. */
        public static final AccessLogDestination LOGGER = new AccessLogDestination(Kind.LOGGER, null);

        /** The kinds of destination. */
        public enum Kind { STDOUT, FILE, LOGGER }

        public AccessLogDestination {
            requireNonNull(kind, "kind");
            if ((kind == Kind.FILE) != (file != null)) {
                throw new IllegalArgumentException("file: " + file + " (expected: a path exactly for kind FILE, not " + kind + ")");
            }
        }

        /** The file {@code file}, opened for append (created when missing). */
        public static AccessLogDestination file(Path file) {
            return new AccessLogDestination(Kind.FILE, requireNonNull(file, "file"));
        }

        /** As written in the configuration: {@code stdout}, {@code logger} or the path. */
        @Override
        public String toString() {
            return kind == Kind.FILE ? file.toString() : kind.name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * {@code proxy.admin}: the admin listener.
     *
     * @param address {@code host:port}
     * @param origin  {@code file:line}, for start-up errors
     */
    public record AdminConfig(String address, String origin) {}

    /**
     * One listener ({@code proxy.listeners[i]}).
     *
     * @param address           {@code host:port} as written, or {@code unix:} and the absolute socket path
     * @param origin            {@code file:line}, for start-up errors
     * @param headerReadTimeout its own {@code header-read-timeout}; null: the service's
     * @param keepAliveTimeout  its own {@code keepalive-timeout}; null: the service's
     * @param bodyReadTimeout   its own {@code body-read-timeout}; null: the service's
     * @param connection        its PROXY protocol and connection filter
     * @param tls               its TLS termination; null: plain HTTP
     * @param connectAllow      {@code connect.allow}: the {@code host:port} patterns CONNECT may tunnel to; empty: refused
     * @param unixSocketMode    a Unix socket's {@code mode}; null: as the umask gives
     * @param http2             its {@code http2}: false keeps it on HTTP/1.1; null: as {@code proxy.server.http2.enabled}
     */
    public record ListenerConfig(String address, String origin, Duration headerReadTimeout, Duration keepAliveTimeout,
                                 Duration bodyReadTimeout, ConnectionSettings connection, TlsSettings tls,
                                 List<String> connectAllow, Set<PosixFilePermission> unixSocketMode, Boolean http2,
                                 int maxConnections, int maxConnectionsPerClient) {

        public ListenerConfig {
            connectAllow = List.copyOf(connectAllow);
        }

        /** A listener without connection limits. */
        public ListenerConfig(String address, String origin, Duration headerReadTimeout, Duration keepAliveTimeout,
                              Duration bodyReadTimeout, ConnectionSettings connection, TlsSettings tls,
                              List<String> connectAllow, Set<PosixFilePermission> unixSocketMode, Boolean http2) {
            this(address, origin, headerReadTimeout, keepAliveTimeout, bodyReadTimeout, connection, tls, connectAllow,
                    unixSocketMode, http2, 0, 0);
        }

        /** A listener that takes the service's HTTP/2 setting. */
        public ListenerConfig(String address, String origin, Duration headerReadTimeout, Duration keepAliveTimeout,
                              Duration bodyReadTimeout, ConnectionSettings connection, TlsSettings tls,
                              List<String> connectAllow, Set<PosixFilePermission> unixSocketMode) {
            this(address, origin, headerReadTimeout, keepAliveTimeout, bodyReadTimeout, connection, tls, connectAllow,
                    unixSocketMode, null);
        }

        /** A listener with the service's client timeouts. */
        public ListenerConfig(String address, String origin) {
            this(address, origin, null, null, null, ConnectionSettings.NONE, null, List.of(), null);
        }

        /** A plain-HTTP listener with its own client timeouts. */
        public ListenerConfig(String address, String origin, Duration headerReadTimeout, Duration keepAliveTimeout,
                              Duration bodyReadTimeout) {
            this(address, origin, headerReadTimeout, keepAliveTimeout, bodyReadTimeout, ConnectionSettings.NONE, null,
                    List.of(), null);
        }

        /** The transport's view of this listener's own timeouts and its TLS (null: plain HTTP). */
        public ListenerOptions listenerOptions() {
            if (headerReadTimeout == null && keepAliveTimeout == null && bodyReadTimeout == null
                    && connection.equals(ConnectionSettings.NONE) && tls == null && connectAllow.isEmpty()
                    && unixSocketMode == null && http2 == null && maxConnections == 0 && maxConnectionsPerClient == 0) {
                return ListenerOptions.inherit();
            }
            return connection.applyTo(ListenerOptions.builder())
                    .unixSocketMode(unixSocketMode)
                    .headerReadTimeout(headerReadTimeout)
                    .keepAliveTimeout(keepAliveTimeout)
                    .bodyReadTimeout(bodyReadTimeout)
                    .tls(tls)
                    .connectAllow(connectAllow)
                    .http2(http2)
                    .maxConnections(maxConnections)
                    .maxConnectionsPerClient(maxConnectionsPerClient)
                    .build();
        }
    }

    /**
     * The selection algorithms a group may use, by their configuration names (those of
     * {@link SelectionAlgorithms#NAMES}).
     */
    public enum Selection {
        /** Smooth weighted round robin. */
        ROUND_ROBIN,
        /** Weighted random. */
        RANDOM,
        /** FNV-1a hash of the request key, modulo the weighted set. */
        FNV,
        /** Consistent hashing on a ring, nginx's {@code hash ... consistent}. */
        KETAMA,
        /** Maglev consistent hashing (a lookup table). */
        MAGLEV,
        /** Fewest requests in flight, weighted. */
        LEAST_CONNECTIONS,
        /** Lowest peak-EWMA latency times requests in flight. */
        PEAK_EWMA;

        /** The name in the configuration: {@code round-robin}, {@code least-connections} ... */
        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Whether it picks by a request key ({@code hash-key}): fnv, ketama, maglev. */
        public boolean usesKey() {
            return SelectionAlgorithms.usesKey(configName());
        }

        /** A new instance of the algorithm, with its default settings. */
        public SelectionAlgorithm algorithm() {
            return SelectionAlgorithms.forName(configName());
        }

        /** The selection called {@code name} in the configuration, or null when there is none. */
        public static Selection byConfigName(String name) {
            for (Selection s : values()) {
                if (s.configName().equals(name)) {
                    return s;
                }
            }
            return null;
        }
    }

    /**
     * One upstream group ({@code proxy.upstreams.NAME}).
     *
     * @param name             the group's name
     * @param backends         its static backends with their weights; empty when {@code discovery} finds them
     * @param selection        how a backend is picked
     * @param tls              whether to speak TLS to the backends
     * @param sni              the SNI to present; null: each backend's host
     * @param verify           whether to verify the backends' certificates and host names
     * @param hostHeader       the {@code Host} to send upstream; null keeps the client's
     * @param options          timeouts and TLS verification, as the transport takes them
     * @param hashKey          what a hashing selection hashes ({@code hash-key}); null for the others
     * @param discovery        where the backends come from when they are not static; null: {@code backends}
     * @param healthCheck      the active health check; null: none
     * @param outlierDetection passive health; null: off
     */
    public record UpstreamConfig(String name, List<Backend> backends, Selection selection, boolean tls, String sni,
                                 boolean verify, String hostHeader, PeerOptions options, HashKey hashKey,
                                 DiscoveryConfig discovery, HealthCheckConfig healthCheck,
                                 OutlierDetectionConfig outlierDetection) {
        public UpstreamConfig {
            requireNonNull(name, "name");
            backends = List.copyOf(backends);
            requireNonNull(selection, "selection");
            requireNonNull(options, "options");
            if (selection.usesKey() && hashKey == null) {
                throw new IllegalArgumentException("hashKey: null (expected: a key for " + selection.configName() + ")");
            }
            if ((discovery == null) == backends.isEmpty()) {
                throw new IllegalArgumentException("backends: " + backends + " with discovery " + discovery
                        + " (expected: exactly one of backends, discovery)");
            }
        }

        /** A group of static backends without hashing, health checks or passive health. */
        public UpstreamConfig(String name, List<Backend> backends, Selection selection, boolean tls, String sni,
                              boolean verify, String hostHeader, PeerOptions options) {
            this(name, backends, selection, tls, sni, verify, hostHeader, options, null, null, null, null);
        }
    }

    /**
     * One route ({@code proxy.routes[i]}). A route without {@code match} takes every request.
     *
     * @param index      its position in the list
     * @param name       its name in metrics and logs ({@code name}, else {@code route-INDEX})
     * @param hosts      host patterns ({@code example.com}, {@code *.example.com}); empty: any host
     * @param pathPrefix the path prefix, matched on segment boundaries; null: any path
     * @param upstream   the name of the upstream group
     * @param filters    the filters of requests on this route
     * @param origin     {@code file:line}
     * @param path       the exact path; null: not matched on
     * @param pathRegex  a regular expression the whole path must match; null: not matched on
     * @param methods    the methods matched (upper case); empty: any
     * @param headers    request header fields that must be present with exactly these values
     *                   (names lower case; a value {@code *} only requires presence)
     */
    public record RouteConfig(int index, String name, List<String> hosts, String pathPrefix, String upstream,
                              List<FilterConfig> filters, String origin, String path, java.util.regex.Pattern pathRegex,
                              List<String> methods, Map<String, String> headers, boolean websocket) {
        public RouteConfig {
            requireNonNull(name, "name");
            hosts = List.copyOf(hosts);
            requireNonNull(upstream, "upstream");
            filters = List.copyOf(filters);
            methods = List.copyOf(methods);
            headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        }

        /** A route that lets WebSocket and other upgrades through (its {@code websocket} key unset). */
        public RouteConfig(int index, String name, List<String> hosts, String pathPrefix, String upstream,
                           List<FilterConfig> filters, String origin, String path, java.util.regex.Pattern pathRegex,
                           List<String> methods, Map<String, String> headers) {
            this(index, name, hosts, pathPrefix, upstream, filters, origin, path, pathRegex, methods, headers, true);
        }

        /** A route on host and path prefix only. */
        public RouteConfig(int index, List<String> hosts, String pathPrefix, String upstream,
                           List<FilterConfig> filters, String origin) {
            this(index, "route-" + index, hosts, pathPrefix, upstream, filters, origin, null, null, List.of(), Map.of());
        }
    }

    /**
     * One configured filter, already created by its provider.
     *
     * @param name    the provider's name
     * @param factory the module factory the provider built from the settings
     * @param origin  {@code file:line}
     */
    public record FilterConfig(String name, HttpModuleFactory factory, String origin) {}
}
