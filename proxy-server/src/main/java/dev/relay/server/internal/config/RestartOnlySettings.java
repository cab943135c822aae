package dev.relay.server.internal.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static java.util.Objects.requireNonNull;

/**
 * The settings of one configuration that a live reload cannot apply (the event loops, the transport,
 * the engine's limits, the admin address, the timeouts of a listener that stays bound ...), with their
 * values. The section readers record each of them where they read it, so that a reload learns what
 * needs a restart from the readers rather than from a list of its own that could fall behind.
 */
public final class RestartOnlySettings {
    /** No setting: a configuration built in code rather than read from a file. */
    public static final RestartOnlySettings NONE = new RestartOnlySettings(Map.of());

    /**
     * One recorded setting.
     *
     * @param key   its name in messages ({@code proxy.server.threads})
     * @param value the value read (a {@code Duration}, not its text: {@code 10s} and {@code 10000ms}
     *              are the same); null when unset
     */
    private record Setting(String key, Object value) {}

    /** By identity, in the order the readers recorded them. */
    private final Map<String, Setting> settings;

    private RestartOnlySettings(Map<String, Setting> settings) {
        this.settings = settings;
    }

    /**
     * The keys of the settings that changed since {@code before}, in reading order: what a reload
     * from {@code before} to this configuration leaves for a restart. A setting {@code before} does
     * not have (the timeouts of a listener address that is new) takes effect as it is created, so it
     * is no change.
     */
    public List<String> changedSince(RestartOnlySettings before) {
        requireNonNull(before, "before");
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, Setting> e : settings.entrySet()) {
            Setting old = before.settings.get(e.getKey());
            if (old != null && !Objects.equals(old.value(), e.getValue().value())) {
                keys.add(e.getValue().key());
            }
        }
        return keys;
    }

    /** Collects the restart-only settings of one configuration while the readers read it. */
    static final class Recorder {
        private final Map<String, Setting> settings = new LinkedHashMap<>();

        /** Records {@code value} under {@code key} ({@code proxy.server.threads}), which also names it. */
        void record(String key, Object value) {
            record(key, key, value);
        }

        /**
         * Records {@code value} under {@code identity}, what a later configuration's same setting has
         * too ({@code listener 127.0.0.1:80}), named {@code key} in messages
         * ({@code proxy.listeners[0] timeouts of 127.0.0.1:80}).
         */
        void record(String identity, String key, Object value) {
            settings.put(requireNonNull(identity, "identity"), new Setting(requireNonNull(key, "key"), value));
        }

        RestartOnlySettings build() {
            return new RestartOnlySettings(Collections.unmodifiableMap(new LinkedHashMap<>(settings)));
        }
    }
}
