package dev.relay.server.internal.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.relay.core.FilterSettings;
import dev.relay.core.UpstreamGroups;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * {@link FilterSettings} over one block of the HOCON configuration, so that filters never see
 * typesafe-config. Keys are the block's own keys (no path expressions); a value of the wrong type
 * fails with {@link FilterSettings.InvalidSettingException} naming the key, and {@link #origin}
 * gives {@code file:line} for the error message.
 *
 * <pre>{@code
 * // filters = [ { name = headers, response-add { X-Served-By = relay } } ]
 * FilterSettings settings = new ConfigFilterSettings(block, Set.of("name"));
 * settings.getSettings("response-add").orElseThrow().getString("X-Served-By"); // "relay"
 * }</pre>
 */
public final class ConfigFilterSettings implements FilterSettings {
    private final ConfigObject block;
    private final Set<String> keys;
    private final UpstreamGroups groups;
    private final String place;

    /** Settings over {@code block}, hiding {@code reserved} keys (the filter's {@code name}). */
    public ConfigFilterSettings(ConfigObject block, Set<String> reserved) {
        this(block, reserved, UpstreamGroups.none(), "global");
    }

    /**
     * The same, for a filter of a configuration whose upstream groups are {@code groups}, configured at
     * {@code place} ({@code global} or {@code route:NAME}, {@link FilterSettings#place()}).
     */
    public ConfigFilterSettings(ConfigObject block, Set<String> reserved, UpstreamGroups groups, String place) {
        this.groups = requireNonNull(groups, "groups");
        this.place = requireNonNull(place, "place");
        this.block = requireNonNull(block, "block");
        Set<String> visible = new LinkedHashSet<>(block.keySet());
        visible.removeAll(reserved);
        this.keys = Collections.unmodifiableSet(visible);
    }

    @Override
    public UpstreamGroups upstreamGroups() {
        return groups;
    }

    @Override
    public String place() {
        return place;
    }

    @Override
    public Set<String> keys() {
        return keys;
    }

    @Override
    public Optional<String> getString(String key) {
        return read(key, "a text value", v -> switch (v.valueType()) {
            case STRING, NUMBER, BOOLEAN -> String.valueOf(v.unwrapped());
            default -> throw wrongType(key, "a text value", v);
        });
    }

    @Override
    public Optional<Long> getLong(String key) {
        return read(key, "a whole number", v -> v.atKey("v").getLong("v"));
    }

    /** HOCON's own sizes ({@code 512k}, {@code 256MiB}, {@code 10GiB}, a number of bytes). */
    @Override
    public Optional<Long> getBytes(String key) {
        return read(key, "a size such as 512k, 256MiB, 10GiB or a number of bytes", v -> v.atKey("v").getBytes("v"));
    }

    @Override
    public Optional<Boolean> getBoolean(String key) {
        return read(key, "true or false", v -> v.atKey("v").getBoolean("v"));
    }

    @Override
    public Optional<Duration> getDuration(String key) {
        return read(key, "a duration such as 250ms, 10s or 2m", v -> v.atKey("v").getDuration("v"));
    }

    @Override
    public Optional<List<String>> getStringList(String key) {
        return read(key, "a list of text values", v -> List.copyOf(v.atKey("v").getStringList("v")));
    }

    @Override
    public Optional<FilterSettings> getSettings(String key) {
        return read(key, "a block { ... }", v -> {
            if (v.valueType() != ConfigValueType.OBJECT) {
                throw wrongType(key, "a block { ... }", v);
            }
            return new ConfigFilterSettings((ConfigObject) v, Set.of(), groups, place);
        });
    }

    @Override
    public Optional<List<FilterSettings>> getSettingsList(String key) {
        return read(key, "a list of blocks [ { ... } ]", v -> {
            if (v.valueType() != ConfigValueType.LIST) {
                throw wrongType(key, "a list of blocks [ { ... } ]", v);
            }
            ConfigList list = (ConfigList) v;
            List<FilterSettings> blocks = new java.util.ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                ConfigValue entry = list.get(i);
                if (entry.valueType() != ConfigValueType.OBJECT) {
                    throw wrongType(key + "[" + i + "]", "a block { ... }", entry);
                }
                blocks.add(new ConfigFilterSettings((ConfigObject) entry, Set.of(), groups, place));
            }
            return List.copyOf(blocks);
        });
    }

    @Override
    public String origin(String key) {
        ConfigValue v = keys.contains(key) ? block.get(key) : null;
        return ConfigProblem.describe(v != null ? v.origin() : block.origin());
    }

    private <T> Optional<T> read(String key, String expected, Function<ConfigValue, T> convert) {
        requireNonNull(key, "key");
        if (!keys.contains(key)) {
            return Optional.empty();
        }
        ConfigValue v = block.get(key);
        if (v == null || v.valueType() == ConfigValueType.NULL) {
            return Optional.empty();
        }
        try {
            return Optional.of(convert.apply(v));
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, expected, v);
        }
    }

    private static InvalidSettingException wrongType(String key, String expected, ConfigValue v) {
        String got = switch (v.valueType()) {
            case STRING, NUMBER, BOOLEAN -> "'" + v.unwrapped() + "'";
            case LIST -> "a list";
            case OBJECT -> "a block";
            case NULL -> "null";
        };
        return new InvalidSettingException(key, got + " (expected: " + expected + ")");
    }

    @Override
    public String toString() {
        return "ConfigFilterSettings" + keys + " at " + ConfigProblem.describe(block.origin());
    }
}
