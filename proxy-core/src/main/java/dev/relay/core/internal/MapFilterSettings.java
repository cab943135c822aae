package dev.relay.core.internal;

import dev.relay.core.FilterSettings;
import dev.relay.core.UpstreamGroups;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link FilterSettings} over a map of plain values. A nested block ({@link #getSettings},
 * {@link #getSettingsList}) has the same upstream groups and place as its parent.
 */
public final class MapFilterSettings implements FilterSettings {
    private final Map<String, Object> values;
    private final UpstreamGroups groups;
    private final String place;

    public MapFilterSettings(Map<String, ?> values) {
        this(values, UpstreamGroups.none());
    }

    public MapFilterSettings(Map<String, ?> values, UpstreamGroups groups) {
        this(values, groups, "global");
    }

    /** Settings configured at {@code place} ({@link FilterSettings#place()}). */
    public MapFilterSettings(Map<String, ?> values, UpstreamGroups groups, String place) {
        this.values = new LinkedHashMap<>(values);
        this.groups = java.util.Objects.requireNonNull(groups, "groups");
        this.place = java.util.Objects.requireNonNull(place, "place");
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
        return values.keySet();
    }

    @Override
    public Optional<String> getString(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Map || v instanceof List) {
            throw new InvalidSettingException(key, "expected a text value, got " + v);
        }
        return Optional.of(v.toString());
    }

    @Override
    public Optional<Long> getLong(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Number n) {
            return Optional.of(n.longValue());
        }
        try {
            return Optional.of(Long.parseLong(v.toString().trim()));
        } catch (NumberFormatException e) {
            throw new InvalidSettingException(key, "expected an integer, got '" + v + "'");
        }
    }

    /** A number is a count of bytes; text is parsed as HOCON sizes ({@link ByteSizes}). */
    @Override
    public Optional<Long> getBytes(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Number n) {
            if (n instanceof Double || n instanceof Float) {
                throw new InvalidSettingException(key, "'" + v + "' (expected: a whole number of bytes, or a size such as 256MiB)");
            }
            return Optional.of(n.longValue());
        }
        if (v instanceof Map || v instanceof List) {
            throw new InvalidSettingException(key, "expected a size such as 256MiB, got " + v);
        }
        return Optional.of(ByteSizes.parse(key, v.toString()));
    }

    @Override
    public Optional<Boolean> getBoolean(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Boolean b) {
            return Optional.of(b);
        }
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("yes") || s.equalsIgnoreCase("on")) {
            return Optional.of(true);
        }
        if (s.equalsIgnoreCase("false") || s.equalsIgnoreCase("no") || s.equalsIgnoreCase("off")) {
            return Optional.of(false);
        }
        throw new InvalidSettingException(key, "expected true or false, got '" + v + "'");
    }

    @Override
    public Optional<Duration> getDuration(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Duration d) {
            return Optional.of(d);
        }
        if (v instanceof Number n) {
            return Optional.of(Duration.ofMillis(n.longValue()));
        }
        String s = v.toString().trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Optional.of(Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2).trim())));
            }
            if (s.endsWith("s")) {
                return Optional.of(Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1).trim())));
            }
            if (s.endsWith("m")) {
                return Optional.of(Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1).trim())));
            }
            return Optional.of(Duration.parse(v.toString().trim()));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new InvalidSettingException(key, "expected a duration such as 250ms, 10s or 5m, got '" + v + "'");
        }
    }

    @Override
    public Optional<List<String>> getStringList(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof List<?> list)) {
            throw new InvalidSettingException(key, "expected a list, got " + v);
        }
        List<String> out = new ArrayList<>(list.size());
        for (Object o : list) {
            out.add(String.valueOf(o));
        }
        return Optional.of(List.copyOf(out));
    }

    @Override
    public Optional<FilterSettings> getSettings(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new InvalidSettingException(key, "expected a block { ... }, got " + v);
        }
        return Optional.of(nested(map));
    }

    @Override
    public Optional<List<FilterSettings>> getSettingsList(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof List<?> list)) {
            throw new InvalidSettingException(key, "expected a list of blocks [ { ... } ], got " + v);
        }
        List<FilterSettings> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> map)) {
                throw new InvalidSettingException(key + "[" + i + "]", "expected a block { ... }, got " + list.get(i));
            }
            out.add(nested(map));
        }
        return Optional.of(List.copyOf(out));
    }

    /** A block inside this one: its own values, this one's groups and place. */
    private MapFilterSettings nested(Map<?, ?> map) {
        Map<String, Object> values = new LinkedHashMap<>();
        map.forEach((k, val) -> values.put(String.valueOf(k), val));
        return new MapFilterSettings(values, groups, place);
    }

    @Override
    public String origin(String key) {
        return "setting '" + key + "'";
    }
}
