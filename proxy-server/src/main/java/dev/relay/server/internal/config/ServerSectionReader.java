package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.AccessLogDestination;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.transport.Http2Settings;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TransportRuntime;
import dev.relay.transport.UnderscoresInHeaders;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * Reads {@code proxy.server} into {@link ServerSettings}, one small method per key in the manner of
 * Caffeine's {@code CaffeineSpec}. {@link #KEYS} is the whole section: each key's name, whether a
 * live reload can apply it, and how it is read and checked. Adding a key is one line there and a
 * field here (besides its component of {@link ServerSettings}, its default in {@code reference.conf}
 * and its documentation); the unknown-key check and the reload's restart notes follow from the table.
 *
 * <p>An instance holds what one block's keys read until {@link #read} builds the settings from it.
 */
final class ServerSectionReader {
    /**
     * Reads one key into the reader's field and returns the value, which a restart-only key records
     * for the reload to compare (an assignment {@code r.threads = ...} does both).
     */
    @FunctionalInterface
    private interface KeyReader {
        Object read(ServerSectionReader reader, ConfigNode node);
    }

    /**
     * One key of {@code proxy.server}.
     *
     * @param name        the key
     * @param restartOnly whether only a new process applies it: the event loops, the engine's options
     *                    and the shutdown and upgrade plumbing are set up once, at start
     * @param reader      how it is read
     */
    private record Key(String name, boolean restartOnly, KeyReader reader) {}

    /** Where a key that a file leaves out (reference.conf has every one) gets its value. */
    private static final ProxyOptions ENGINE = ProxyOptions.defaults();

    private static final Map<String, TransportRuntime.Kind> TRANSPORTS = Map.of("auto", TransportRuntime.Kind.AUTO,
            "io_uring", TransportRuntime.Kind.IO_URING, "epoll", TransportRuntime.Kind.EPOLL,
            "nio", TransportRuntime.Kind.NIO);
    private static final Map<String, UnderscoresInHeaders> UNDERSCORE_POLICIES = Map.of("drop",
            UnderscoresInHeaders.DROP, "allow", UnderscoresInHeaders.ALLOW, "reject", UnderscoresInHeaders.REJECT);
    private static final Map<String, AccessLogFormat> ACCESS_LOG_FORMATS =
            Map.of("combined", AccessLogFormat.COMBINED, "json", AccessLogFormat.JSON);

    /** In reading order: of several bad keys, the first one here is reported. */
    private static final List<Key> KEYS = List.of(
            restartOnly("threads", (r, n) -> r.threads = n.integer(0, 4096)),
            restartOnly("grace-period", (r, n) -> r.gracePeriod = nonNegative(n)),
            restartOnly("max-attempts", (r, n) -> r.maxAttempts = n.integer(1, 1000)),
            restartOnly("transport", (r, n) -> r.transport = n.choice(TRANSPORTS, "auto, io_uring, epoll or nio")),
            live("access-log", (r, n) -> r.accessLog = n.bool()),
            live("access-log-format", (r, n) -> r.accessLogFormat = n.choice(ACCESS_LOG_FORMATS, "combined or json")),
            live("access-log-path", (r, n) -> r.accessLogDestination = accessLogDestination(n)),
            restartOnly("shutdown-timeout", (r, n) -> r.shutdownTimeout = nonNegative(n)),
            restartOnly("shutdown-delay", (r, n) -> r.shutdownDelay = n.isMissing() ? Duration.ZERO : nonNegative(n)),
            restartOnly("retry-backoff", (r, n) -> r.retryBackoff = n.timeout(false)),
            restartOnly("max-idle-upstream-connections", (r, n) -> r.maxIdleUpstreamConnections = n.integer(0, 1_000_000)),
            restartOnly("pid-file", (r, n) -> r.pidFile = optionalPath(n)),
            restartOnly("upgrade-socket", (r, n) -> r.upgradeSocket = optionalPath(n)),
            restartOnly("retry-buffer", (r, n) -> r.retryBufferBytes = n.isMissing() ? ENGINE.retryBufferBytes()
                    : (int) n.bytes(0, 64L * 1024 * 1024)),
            restartOnly("request-deadline", (r, n) -> r.requestDeadline = n.timeout(false)),
            restartOnly("header-read-timeout", (r, n) -> r.headerReadTimeout = n.clientTimeout(ENGINE.headerReadTimeout())),
            restartOnly("keepalive-timeout", (r, n) -> r.keepAliveTimeout = n.clientTimeout(ENGINE.keepAliveTimeout())),
            restartOnly("body-read-timeout", (r, n) -> r.bodyReadTimeout = n.clientTimeout(ENGINE.bodyReadTimeout())),
            restartOnly("send-timeout", (r, n) -> r.sendTimeout = n.clientTimeout(ENGINE.sendTimeout())),
            restartOnly("max-requests-in-flight", (r, n) -> r.maxRequestsInFlight = n.limitOrNone(1_000_000)),
            restartOnly("tunnel-idle-timeout", (r, n) -> r.tunnelIdleTimeout = n.clientTimeout(ENGINE.tunnelIdleTimeout())),
            restartOnly("max-header-size", (r, n) -> r.maxHeaderBytes = n.isMissing() ? ENGINE.maxHeaderBytes()
                    : (int) n.bytes(256, 16L * 1024 * 1024)),
            restartOnly("max-request-line", (r, n) -> r.maxRequestLineBytes = n.isMissing() ? ENGINE.maxRequestLineBytes()
                    : (int) n.bytes(64, 16L * 1024 * 1024)),
            restartOnly("max-field-size", (r, n) -> r.maxFieldBytes = n.isMissing() ? ENGINE.maxFieldBytes()
                    : (int) n.bytes(64, 16L * 1024 * 1024)),
            restartOnly("max-fields", (r, n) -> r.maxFields = n.isMissing() ? ENGINE.maxFields() : n.integer(1, 100_000)),
            restartOnly("underscores-in-headers", (r, n) -> r.underscoresInHeaders = n.isMissing()
                    ? ENGINE.underscoresInHeaders() : n.choice(UNDERSCORE_POLICIES, "drop, allow or reject")),
            restartOnly("allow-trace", (r, n) -> r.allowTrace = n.isMissing() ? ENGINE.allowTrace() : n.bool()),
            restartOnly("http2", (r, n) -> r.http2 = Http2Reader.read(n)));

    private static final Set<String> KEY_NAMES = KEYS.stream().map(Key::name).collect(Collectors.toUnmodifiableSet());

    private int threads;
    private Duration gracePeriod;
    private int maxAttempts;
    private TransportRuntime.Kind transport;
    private boolean accessLog;
    private AccessLogFormat accessLogFormat;
    private AccessLogDestination accessLogDestination = AccessLogDestination.STDOUT;
    private Duration shutdownTimeout;
    private Duration shutdownDelay;
    private Duration retryBackoff;
    private int maxIdleUpstreamConnections;
    private String pidFile;
    private String upgradeSocket;
    private int retryBufferBytes;
    private Duration requestDeadline;
    private Duration headerReadTimeout;
    private Duration keepAliveTimeout;
    private Duration bodyReadTimeout;
    private Duration tunnelIdleTimeout;
    private Duration sendTimeout;
    private int maxRequestsInFlight;
    private int maxHeaderBytes;
    private int maxRequestLineBytes;
    private int maxFieldBytes;
    private int maxFields;
    private UnderscoresInHeaders underscoresInHeaders;
    private boolean allowTrace;
    private Http2Settings http2;

    private ServerSectionReader() {}

    /** Reads and checks {@code node} ({@code proxy.server}), recording its restart-only keys in {@code restartOnly}. */
    static ServerSettings read(ConfigNode node, RestartOnlySettings.Recorder restartOnly) {
        requireNonNull(restartOnly, "restartOnly");
        node.checkKeys(KEY_NAMES);
        ServerSectionReader r = new ServerSectionReader();
        for (Key key : KEYS) {
            ConfigNode value = node.get(key.name());
            Object read = key.reader().read(r, value);
            if (key.restartOnly()) {
                restartOnly.record(value.path(), read);
            }
        }
        return new ServerSettings(r.threads, r.gracePeriod, r.maxAttempts, r.transport, r.accessLog, r.accessLogFormat,
                r.shutdownTimeout, r.retryBackoff, r.maxIdleUpstreamConnections, r.pidFile, r.upgradeSocket,
                r.retryBufferBytes, r.requestDeadline, r.headerReadTimeout, r.keepAliveTimeout, r.bodyReadTimeout,
                r.maxHeaderBytes, r.maxRequestLineBytes, r.shutdownDelay, r.tunnelIdleTimeout, r.http2,
                r.accessLogDestination, new ProxyConfig.RequestRules(r.maxFieldBytes, r.maxFields,
                        r.underscoresInHeaders, r.allowTrace), r.sendTimeout, r.maxRequestsInFlight);
    }

    private static Key restartOnly(String name, KeyReader reader) {
        return new Key(name, true, reader);
    }

    /** A key the next request already sees after a reload (the access log's settings). */
    private static Key live(String name, KeyReader reader) {
        return new Key(name, false, reader);
    }

    /**
     * {@code stdout}, {@code logger}, or a file to append to (relative to the configuration file's
     * directory). The file itself may be missing (it is created), its directory may not: a typo there
     * is better refused with the key's position than found when the first line cannot be written.
     */
    private static AccessLogDestination accessLogDestination(ConfigNode node) {
        if (node.isMissing()) {
            return AccessLogDestination.STDOUT;
        }
        String text = node.string().trim();
        if (text.equalsIgnoreCase("stdout")) {
            return AccessLogDestination.STDOUT;
        }
        if (text.equalsIgnoreCase("logger")) {
            return AccessLogDestination.LOGGER;
        }
        Path file = node.filePath();
        if (Files.isDirectory(file)) {
            throw node.problem("'" + file + "' is a directory (expected: stdout, logger or a file path)");
        }
        Path dir = file.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw node.problem("no directory '" + dir + "' for '" + file + "' (expected: stdout, logger or a file path)");
        }
        return AccessLogDestination.file(file);
    }

    private static Duration nonNegative(ConfigNode node) {
        Duration d = node.duration();
        if (d.isNegative()) {
            throw node.problem(d + " (expected: >= 0)");
        }
        return d;
    }

    /** A file path, or null when missing, null or {@code none}. */
    private static String optionalPath(ConfigNode node) {
        if (node.isMissing()) {
            return null;
        }
        String text = node.string().trim();
        if (text.equalsIgnoreCase("none")) {
            return null;
        }
        if (text.isEmpty() || text.indexOf('\0') >= 0) {
            throw node.problem("'" + text + "' (expected: a file path, or none)");
        }
        return text;
    }
}
