package dev.relay.server.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.AdminConfig;
import dev.relay.server.internal.config.ProxyConfig.FilterConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.RouteConfig;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Reads the HOCON configuration of the proxy server and validates all of it into a
 * {@link ProxyConfig}; the first problem found is thrown as a {@link ConfigProblem} naming the file,
 * the line and the key. The format is documented in {@code the README (section "Running the proxy server and its configuration")}; the
 * defaults live in this module's {@code reference.conf}.
 *
 * <p>This class only loads the file and runs the section readers, each of which owns the keys of its
 * section (their names, parsing, checks, and which of them a live reload cannot apply):
 * {@link ServerSectionReader}, {@link ListenersReader}, {@link UpstreamsReader} (with
 * {@link HealthCheckReader} and {@link DiscoveryReader}), {@link RoutesReader}, {@link FiltersReader} and {@link StreamsReader}.
 * The parsers they share are on {@link ConfigNode}.
 *
 * <pre>{@code
 * ProxyConfig config = new ConfigLoader(FilterRegistry.load(classLoader)).load(Path.of("relay.conf"));
 * }</pre>
 */
public final class ConfigLoader {
    /** The bundled configuration used when no file is given: demo origins behind a round robin. */
    public static final String DEFAULT_RESOURCE = "relay-default.conf";

    /** The sections of {@code proxy}; each has its reader. */
    private static final Set<String> PROXY_KEYS =
            Set.of("listeners", "upstreams", "upstream-defaults", "routes", "filters", "server", "demo", "admin",
                    "streams");

    private final FilterRegistry filters;
    private final ClassLoader classLoader;

    /** A loader that resolves filter names in {@code filters}; defaults come from this module's class loader. */
    public ConfigLoader(FilterRegistry filters) {
        this(filters, ConfigLoader.class.getClassLoader());
    }

    /** A loader that reads {@code reference.conf} (and the bundled default) through {@code classLoader}. */
    public ConfigLoader(FilterRegistry filters, ClassLoader classLoader) {
        this.filters = requireNonNull(filters, "filters");
        this.classLoader = requireNonNull(classLoader, "classLoader");
    }

    /** Loads and validates {@code file}, over the defaults of {@code reference.conf}. */
    public ProxyConfig load(Path file) {
        requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new ConfigProblem(file.toString(), -1, null,
                    Files.exists(file) ? "not a regular file" : "cannot read the file: no such file", null);
        }
        if (!Files.isReadable(file)) {
            throw new ConfigProblem(file.toString(), -1, null, "cannot read the file: permission denied", null);
        }
        Config parsed;
        try {
            parsed = ConfigFactory.parseFile(file.toFile(), parseOptions());
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, file.toString());
    }

    /** Loads and validates the bundled {@value #DEFAULT_RESOURCE}. */
    public ProxyConfig loadDefault() {
        Config parsed;
        try {
            parsed = ConfigFactory.parseResources(classLoader, DEFAULT_RESOURCE, parseOptions());
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, DEFAULT_RESOURCE);
    }

    /** Validates configuration text, for tests: {@code name} stands for the file name in messages. */
    public ProxyConfig parseString(String hocon, String name) {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon, parseOptions().setOriginDescription(name));
        } catch (ConfigException e) {
            throw ConfigProblem.from(e);
        }
        return validate(parsed, name);
    }

    private static ConfigParseOptions parseOptions() {
        // Whatever the file's extension, it is HOCON (JSON is a subset).
        return ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(ConfigSyntax.CONF);
    }


    private ProxyConfig validate(Config userConfig, String source) {
        ConfigNode proxy = proxyNode(userConfig, source);
        proxy.object();
        proxy.checkKeys(PROXY_KEYS);

        RestartOnlySettings.Recorder restartOnly = new RestartOnlySettings.Recorder();
        ServerSettings server = ServerSectionReader.read(proxy.get("server"), restartOnly);
        ListenersReader listenersReader = new ListenersReader(restartOnly);
        List<ListenerConfig> listeners = listenersReader.listeners(proxy.get("listeners"));
        AdminConfig admin = listenersReader.admin(proxy.get("admin"), listeners);
        UpstreamsReader.Upstreams upstreams = UpstreamsReader.read(proxy, restartOnly);
        FiltersReader filterReader = new FiltersReader(filters, upstreams.names());
        try {
            List<FilterConfig> globalFilters = proxy.has("filters") ? filterReader.filters(proxy.get("filters")) : List.of();
            List<RouteConfig> routes = new RoutesReader(filterReader).routes(proxy.get("routes"), upstreams.names());
            List<StreamConfig> streams = StreamsReader.read(proxy.get("streams"), upstreams.groups(),
                    upstreams.demoOrigins() > 0 ? ProxyConfig.DEMO_UPSTREAM : null, listeners, server.maxAttempts(), restartOnly);
            return new ProxyConfig(source, server, listeners, upstreams.groups(), routes, globalFilters,
                    upstreams.demoOrigins(), admin, restartOnly.build(), streams);
        } catch (RuntimeException e) {
            // The filters created so far are for a configuration that will not run.
            filterReader.releaseCreated();
            throw e;
        }
    }

    /** The {@code proxy} block of {@code userConfig} over reference.conf, substitutions resolved. */
    private ConfigNode proxyNode(Config userConfig, String source) {
        Config resolved;
        try {
            Config reference = ConfigFactory.parseResources(classLoader, "reference.conf", ConfigParseOptions.defaults());
            // Substitutions (${?RELAY_LISTEN}, ${HOME} ...) resolve against the merged tree, then the environment.
            resolved = userConfig.withFallback(reference).resolve();
        } catch (ConfigException e) {
            ConfigProblem problem = ConfigProblem.from(e);
            if (problem.file() == null || !problem.file().endsWith("reference.conf")) {
                // The user's file, or a file it includes: typesafe-config's position is the right one.
                throw problem;
            }
            // typesafe-config blames the default's line when the user's value cannot join it (a "+="
            // onto a string, say); the fault is the user's file, so the problem names it, with the
            // default's position in the detail.
            throw new ConfigProblem(source, -1, null, "does not combine with the defaults: " + e.getMessage(), e);
        }
        // The user's file on its own, only for the positions of errors in blocks that reference.conf
        // also defines; a substitution it cannot resolve alone stays unresolved there.
        Config userResolved;
        try {
            userResolved = userConfig.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
        } catch (ConfigException e) {
            userResolved = ConfigFactory.empty();
        }
        ConfigObject rootObject = resolved.root();
        // Asked of the user's file: reference.conf always has a proxy block, and a problem found in
        // that one would name reference.conf instead of the file that lacks the block.
        if (!userConfig.root().containsKey("proxy")) {
            throw new ConfigProblem(source, -1, "proxy", "missing (expected: a proxy { ... } block)", null);
        }
        return ConfigNode.of("proxy", rootObject.get("proxy"), userResolved.root().get("proxy"));
    }
}
