package dev.relay.core;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The settings of one configured filter, as a {@link FilterProvider} receives them: typed getters
 * over the filter's block in the configuration, independent of the configuration library.
 * A getter that finds a value of the wrong type throws {@link InvalidSettingException} naming the key.
 */
public interface FilterSettings {

    /** Settings over a plain map (values: String, Number, Boolean, List, Map), for tests and code. */
    static FilterSettings of(Map<String, ?> values) {
        return new dev.relay.core.internal.MapFilterSettings(values);
    }

    /** Settings over a plain map, for a filter that reaches {@code groups} ({@link #upstreamGroups()}). */
    static FilterSettings of(Map<String, ?> values, UpstreamGroups groups) {
        return new dev.relay.core.internal.MapFilterSettings(values, groups);
    }

    /**
     * Refuses the first key of {@code settings} that is not in {@code known}, naming it and listing the
     * keys of the filter {@code filter}: a typo must fail the load, not be ignored.
     *
     * <pre>{@code
     * FilterSettings.requireKnownKeys(settings, "mirror", List.of("upstream", "sample"));
     * // mirror { upstrem = shadow } -> "upstrem: unknown setting of the mirror filter (expected one of: upstream, sample)"
     * }</pre>
     *
     * @throws InvalidSettingException naming the unknown key
     */
    static void requireKnownKeys(FilterSettings settings, String filter, Collection<String> known) {
        requireKnownKeys(settings, filter, "", known);
    }

    /**
     * The same for a nested block whose keys are written {@code prefix + key} ({@code "disk."}, with the
     * dot): the message names the block ({@code unknown setting of the cache filter's disk block}).
     * An empty {@code prefix} is the filter's own block.
     */
    static void requireKnownKeys(FilterSettings settings, String filter, String prefix, Collection<String> known) {
        for (String key : settings.keys()) {
            if (!known.contains(key)) {
                String block = prefix.isEmpty() ? "" : "'s " + prefix.substring(0, prefix.length() - 1) + " block";
                throw new InvalidSettingException(prefix + key, "unknown setting of the " + filter + " filter" + block
                        + " (expected one of: " + String.join(", ", known) + ")");
            }
        }
    }

    /** The keys present. */
    Set<String> keys();

    /** A text setting. */
    Optional<String> getString(String key);

    /** An integer setting. */
    Optional<Long> getLong(String key);

    /** A boolean setting. */
    Optional<Boolean> getBoolean(String key);

    /**
     * A size in bytes: a number of bytes, or a number with a unit as HOCON writes sizes ({@code 512k},
     * {@code 256MiB}, {@code 10GiB}; {@code k}, {@code M}, {@code G} and the {@code i} units are powers of
     * 1024, {@code kB}, {@code MB}, {@code GB} powers of 1000). The default reads {@link #getString} and
     * parses it so.
     */
    default Optional<Long> getBytes(String key) {
        return getString(key).map(text -> dev.relay.core.internal.ByteSizes.parse(key, text));
    }

    /** A duration setting ({@code 10s}, {@code 250ms} ...). */
    Optional<Duration> getDuration(String key);

    /** A list of texts. */
    Optional<List<String>> getStringList(String key);

    /** A nested block. */
    Optional<FilterSettings> getSettings(String key);

    /**
     * A list of blocks, such as a filter's rules: {@code rules = [ { match = "^/a" }, { match = "^/b" } ]}.
     * An entry that is not a block fails with an {@link InvalidSettingException} naming {@code key[index]}.
     */
    Optional<List<FilterSettings>> getSettingsList(String key);

    /**
     * The upstream groups of the server this filter is configured in, for filters that send requests of
     * their own; {@link UpstreamGroups#none()} by default (settings built in code).
     */
    default UpstreamGroups upstreamGroups() {
        return UpstreamGroups.none();
    }

    /**
     * Where the filter is configured: {@code global} for the server-wide list ({@code proxy.filters}),
     * {@code route:NAME} for a route's. A filter whose state outlives the process (counters in a shared
     * store) keeps the state of different places apart with it. {@code global} by default (settings
     * built in code).
     */
    default String place() {
        return "global";
    }

    /** Where {@code key} was set (file and line when known), for error messages. */
    String origin(String key);

    /** Thrown for a missing or malformed setting; the server reports it with file, line and key. */
    final class InvalidSettingException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String key;

        /** A problem with {@code key}, explained by {@code message}. */
        public InvalidSettingException(String key, String message) {
            super(key + ": " + message);
            this.key = key;
        }

        /** The key at fault. */
        public String key() {
            return key;
        }
    }
}
