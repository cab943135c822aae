package dev.relay.server.internal;

import dev.relay.server.HttpProxyService;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ConfigProblem;
import dev.relay.server.internal.config.ProxyConfig;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.metrics.RelayMetrics;
import dev.relay.server.internal.proxy.RetiredFilters;
import dev.relay.server.internal.proxy.ConfiguredProxy;
import dev.relay.server.internal.proxy.ProxyRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * the like, are reported as such in the log and the answer: the configuration readers mark them
 * ({@link ProxyConfig#restartOnly()}). One reload at a time. Every reload, rejected or not, first
 * reopens the access-log file, so logrotate's {@code postrotate} can send SIGHUP (nginx's
 * {@code -s reopen}).
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
        // Before the new configuration: a reload that names another file switches to it afterwards.
        proxy.reopenAccessLog();
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
        Result result = null;
        try {
            result = apply(next, running);
            return result;
        } finally {
            if (result == null || !result.success()) {
                // Its filters were created and never ran: the caches only it holds are closed.
                RetiredFilters.release(next, proxy.runtime().config());
            }
        }
    }

    /** Binds the new listeners of {@code next}, swaps it in and closes the listeners it dropped. */
    private Result apply(ProxyConfig next, long running) {
        if (next.demoOrigins() > 0) {
            if (demo.addresses().isEmpty()) {
                return new Result(false, running, "demo mode (proxy.demo.origins) needs a restart");
            }
            next = next.withUpstream(demo.upstream());
        }
        // The section readers marked which settings a reload cannot apply; name those that changed.
        List<String> notes = next.restartOnly().changedSince(current.restartOnly());

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
        // TLS of the listeners that stay bound: new handshakes get the new block (and re-read files).
        for (ListenerConfig l : next.listeners()) {
            if (!kept.contains(l.address())) {
                continue;
            }
            try {
                service.updateListenerTls(l.address(), l.listenerOptions().tls());
            } catch (RuntimeException e) {
                added.forEach(service::removeListener);
                return new Result(false, running, l.origin() + ": listener " + l.address() + " TLS: " + e.getMessage());
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
}
