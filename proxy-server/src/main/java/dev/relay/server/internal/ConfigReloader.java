package dev.relay.server.internal;

import dev.relay.server.HttpProxyService;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.internal.proxy.ProxyRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * Live reload (SIGHUP, {@code POST /reload}): re-reads the configuration file, validates all of it,
 * and only then applies it:
 * <ol>
 *   <li>listeners that are new are bound (a failure undoes them and rejects the reload);</li>
 *   <li>routes, upstream groups and filter chains are swapped in one reference
 *       ({@link ConfiguredProxy#swap}): requests in flight finish on the snapshot they started with,
 *       groups whose settings did not change are kept with their load balancer and pooled
 *       connections;</li>
 *   <li>listeners that are gone are closed (their connections finish); unchanged ones stay bound.</li>
 * </ol>
 * An invalid configuration is rejected with the reason, and the running one stays. Settings that
 * only a restart (or an upgrade) can apply, the event loops, the transport, the admin address and
 * the like, are reported as such in the log and the answer. One reload at a time.
 */
public final class ConfigReloader {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    /**
     * The outcome of a reload.
     *
     * @param success    whether the new configuration runs
     * @param generation the configuration generation running now
     * @param message    what happened, or why it was rejected
     */
    public record Result(boolean success, long generation, String message) {}

    private final ConfigLoader loader;
    private final Path file;
    private final ConfiguredProxy proxy;
    private final HttpProxyService service;
    private final DemoOrigins demo;
    private final RelayMetrics metrics;
    private ProxyConfig current;

    /**
     * A reloader.
     *
     * @param file    the configuration file; null: the bundled default
     * @param initial the configuration running now
     */
    public ConfigReloader(ConfigLoader loader, Path file, ProxyConfig initial, ConfiguredProxy proxy,
                          HttpProxyService service, DemoOrigins demo, RelayMetrics metrics) {
        this.loader = requireNonNull(loader, "loader");
        this.file = file;
        this.current = requireNonNull(initial, "initial");
        this.proxy = requireNonNull(proxy, "proxy");
        this.service = requireNonNull(service, "service");
        this.demo = requireNonNull(demo, "demo");
        this.metrics = metrics;
    }

    /** Reloads; {@code trigger} names the cause in the log ({@code SIGHUP}, {@code POST /reload}). */
    public synchronized Result reload(String trigger) {
        Result result = doReload();
        if (metrics != null) {
            metrics.reloaded(result.success());
        }
        if (result.success()) {
            LOG.info("{}: configuration reloaded (generation {}): {}", trigger, result.generation(), result.message());
        } else {
            LOG.error("{}: configuration rejected, the running one stays (generation {}): {}", trigger,
                    result.generation(), result.message());
        }
        return result;
    }

    private Result doReload() {
        long running = proxy.runtime().generation();
        ProxyConfig next;
        try {
            next = file != null ? loader.load(file) : loader.loadDefault();
        } catch (ConfigProblem problem) {
            return new Result(false, running, problem.getMessage());
        }
        if (next.demoOrigins() > 0) {
            if (demo.addresses().isEmpty()) {
                return new Result(false, running, "demo mode (proxy.demo.origins) needs a restart");
            }
            next = next.withUpstream(demo.upstream());
        }
        List<String> notes = new ArrayList<>(restartOnly(current, next));

        // Listeners: bind the new ones first, so a reload that cannot bind changes nothing.
        Map<String, ListenerConfig> wanted = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            wanted.put(l.address(), l);
        }
        List<String> added = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (ListenerConfig l : next.listeners()) {
            if (service.retainListener(l.address())) {
                kept.add(l.address());
            }
        }
        Map<String, ?> bound = service.listeners();
        for (int i = 0; i < next.listeners().size(); i++) {
            ListenerConfig l = next.listeners().get(i);
            if (kept.contains(l.address())) {
                continue;
            }
            try {
                service.addListener(l.address(), l.listenerOptions());
                added.add(l.address());
            } catch (RuntimeException e) {
                added.forEach(service::removeListener);
                return new Result(false, running, l.origin() + ": key 'proxy.listeners[" + i + "].address': " + e.getMessage());
            }
        }
        ProxyRuntime swapped;
        try {
            swapped = proxy.swap(next);
        } catch (RuntimeException e) {
            added.forEach(service::removeListener);
            return new Result(false, running, e.getMessage());
        }
        List<String> removed = new ArrayList<>();
        for (String address : bound.keySet()) {
            if (!wanted.containsKey(address)) {
                service.removeListener(address);
                removed.add(address);
            }
        }
        current = next;
        StringBuilder message = new StringBuilder();
        message.append(swapped.router().routes().size()).append(" route(s), ")
                .append(swapped.groups().size()).append(" upstream group(s)");
        if (!added.isEmpty()) {
            message.append("; listening on ").append(added);
        }
        if (!removed.isEmpty()) {
            message.append("; stopped listening on ").append(removed);
        }
        if (!notes.isEmpty()) {
            message.append("; not applied until a restart or upgrade: ").append(String.join(", ", notes));
        }
        return new Result(true, swapped.generation(), message.toString());
    }

    /** The keys that changed but need a new process. */
    private static List<String> restartOnly(ProxyConfig a, ProxyConfig b) {
        List<String> keys = new ArrayList<>();
        var x = a.server();
        var y = b.server();
        check(keys, "proxy.server.threads", x.threads(), y.threads());
        check(keys, "proxy.server.transport", x.transport(), y.transport());
        check(keys, "proxy.server.grace-period", x.gracePeriod(), y.gracePeriod());
        check(keys, "proxy.server.shutdown-timeout", x.shutdownTimeout(), y.shutdownTimeout());
        check(keys, "proxy.server.shutdown-delay", x.shutdownDelay(), y.shutdownDelay());
        check(keys, "proxy.server.max-attempts", x.maxAttempts(), y.maxAttempts());
        check(keys, "proxy.server.retry-backoff", x.retryBackoff(), y.retryBackoff());
        check(keys, "proxy.server.max-idle-upstream-connections", x.maxIdleUpstreamConnections(), y.maxIdleUpstreamConnections());
        check(keys, "proxy.server.retry-buffer", x.retryBufferBytes(), y.retryBufferBytes());
        check(keys, "proxy.server.request-deadline", x.requestDeadline(), y.requestDeadline());
        check(keys, "proxy.server.header-read-timeout", x.headerReadTimeout(), y.headerReadTimeout());
        check(keys, "proxy.server.keepalive-timeout", x.keepAliveTimeout(), y.keepAliveTimeout());
        check(keys, "proxy.server.body-read-timeout", x.bodyReadTimeout(), y.bodyReadTimeout());
        check(keys, "proxy.server.max-header-size", x.maxHeaderBytes(), y.maxHeaderBytes());
        check(keys, "proxy.server.max-request-line", x.maxRequestLineBytes(), y.maxRequestLineBytes());
        check(keys, "proxy.server.pid-file", x.pidFile(), y.pidFile());
        check(keys, "proxy.server.upgrade-socket", x.upgradeSocket(), y.upgradeSocket());
        check(keys, "proxy.admin.address", a.admin() == null ? null : a.admin().address(),
                b.admin() == null ? null : b.admin().address());
        check(keys, "proxy.demo.origins", a.demoOrigins(), b.demoOrigins());
        // A listener that stays bound keeps the timeouts it was bound with: the transport sets them
        // per socket. (A new address is bound with the new ones.)
        for (int i = 0; i < b.listeners().size(); i++) {
            ListenerConfig after = b.listeners().get(i);
            for (ListenerConfig before : a.listeners()) {
                if (before.address().equals(after.address()) && !before.listenerOptions().equals(after.listenerOptions())) {
                    keys.add("proxy.listeners[" + i + "] timeouts of " + after.address());
                }
            }
        }
        return keys;
    }

    private static void check(List<String> keys, String key, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            keys.add(key);
        }
    }
}
