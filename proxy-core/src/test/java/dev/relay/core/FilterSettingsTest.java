package dev.relay.core;

import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link FilterSettings#of(Map)}: the map-backed settings that tests and code build filters with. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class FilterSettingsTest {

    private static FilterSettings one(Object value) {
        return FilterSettings.of(Map.of("k", value));
    }

    private static InvalidSettingException invalid(org.junit.jupiter.api.function.Executable getter) {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, getter);
        assertEquals("k", e.key());
        return e;
    }

    @Test
    void everyGetterGivesEmptyForAMissingKey() {
        FilterSettings s = FilterSettings.of(Map.of());

        assertEquals(Optional.empty(), s.getString("k"));
        assertEquals(Optional.empty(), s.getLong("k"));
        assertEquals(Optional.empty(), s.getBoolean("k"));
        assertEquals(Optional.empty(), s.getDuration("k"));
        assertEquals(Optional.empty(), s.getStringList("k"));
        assertEquals(Optional.empty(), s.getSettings("k"));
    }

    @Test
    void keysKeepTheMapsOrder() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("zeta", 1);
        values.put("alpha", 2);
        values.put("mid", 3);

        assertEquals(List.of("zeta", "alpha", "mid"), List.copyOf(FilterSettings.of(values).keys()));
    }

    @Test
    void laterChangesToTheSourceMapAreNotSeen() {
        Map<String, Object> values = new LinkedHashMap<>(Map.of("k", "v"));
        FilterSettings s = FilterSettings.of(values);

        values.put("k", "changed");
        values.put("other", 1);

        assertEquals(Optional.of("v"), s.getString("k"));
        assertEquals(Set.of("k"), s.keys());
    }

    @Test
    void getStringAcceptsScalarsAsText() {
        assertEquals(Optional.of("text"), one("text").getString("k"));
        assertEquals(Optional.of("42"), one(42).getString("k"));
        assertEquals(Optional.of("true"), one(true).getString("k"));
    }

    @Test
    void getStringRejectsAListOrABlock() {
        assertEquals("k: expected a text value, got [a]", invalid(() -> one(List.of("a")).getString("k")).getMessage());
        invalid(() -> one(Map.of("x", 1)).getString("k"));
    }

    @Test
    void getLongAcceptsNumbersAndNumericText() {
        assertEquals(Optional.of(42L), one(42).getLong("k"));
        assertEquals(Optional.of(1L << 40), one(1L << 40).getLong("k"));
        assertEquals(Optional.of(-7L), one(" -7 ").getLong("k"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ten", "1.5", "", "10s"})
    void getLongRejectsTextThatIsNotAnInteger(String text) {
        assertEquals("k: expected an integer, got '" + text + "'", invalid(() -> one(text).getLong("k")).getMessage());
    }

    @ParameterizedTest
    @CsvSource({"true, true", "YES, true", "On, true", "false, false", "no, false", "OFF, false", "' true ', true"})
    void getBooleanAcceptsTheUsualSpellings(String text, boolean expected) {
        assertEquals(Optional.of(expected), one(text).getBoolean("k"));
    }

    @Test
    void getBooleanTakesABooleanAsItIsAndRejectsAnythingElse() {
        assertEquals(Optional.of(false), one(false).getBoolean("k"));
        assertEquals("k: expected true or false, got '1'", invalid(() -> one(1).getBoolean("k")).getMessage());
        invalid(() -> one("maybe").getBoolean("k"));
    }

    @ParameterizedTest
    @CsvSource({"250ms, PT0.25S", "10s, PT10S", "5m, PT5M", "' 3 S ', PT3S", "PT1H, PT1H", "2 ms, PT0.002S"})
    void getDurationParsesUnitsAndIsoDurations(String text, String expected) {
        assertEquals(Optional.of(Duration.parse(expected)), one(text).getDuration("k"));
    }

    @Test
    void getDurationTakesANumberAsMillisecondsAndADurationAsItIs() {
        assertEquals(Optional.of(Duration.ofMillis(1500)), one(1500).getDuration("k"));
        assertEquals(Optional.of(Duration.ofHours(2)), one(Duration.ofHours(2)).getDuration("k"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"soon", "10 seconds", "ms", "1.5s", "1h"})
    void getDurationRejectsWhatItCannotRead(String text) {
        assertEquals("k: expected a duration such as 250ms, 10s or 5m, got '" + text + "'",
                invalid(() -> one(text).getDuration("k")).getMessage());
    }

    @ParameterizedTest
    @CsvSource({"512, 512", "512B, 512", "512k, 524288", "512K, 524288", "1Ki, 1024", "256MiB, 268435456",
            "256m, 268435456", "10GiB, 10737418240", "' 2 G ', 2147483648", "1.5k, 1536", "100kB, 100000",
            "2MB, 2000000", "1 gibibyte, 1073741824", "3 kilobytes, 3000", "7 bytes, 7"})
    void getBytesReadsSizesAsHoconDoes(String text, long expected) {
        assertEquals(Optional.of(expected), one(text).getBytes("k"));
    }

    @Test
    void getBytesTakesAWholeNumberAsBytes() {
        assertEquals(Optional.of(4096L), one(4096).getBytes("k"));
        assertEquals(Optional.empty(), FilterSettings.of(Map.of()).getBytes("k"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"lots", "10 parsecs", "MiB", "", "10KB", "99999999999E"})
    void getBytesRejectsWhatIsNotASize(String text) {
        assertEquals("k: '" + text + "' (expected: a size such as 512k, 256MiB, 10GiB or a number of bytes)",
                invalid(() -> one(text).getBytes("k")).getMessage());
    }

    @Test
    void theDefaultGetBytesParsesTheTextOfGetString() {
        FilterSettings textOnly = new FilterSettings() {
            public Set<String> keys() { return Set.of("k"); }
            public Optional<String> getString(String key) { return Optional.of("4MiB"); }
            public Optional<Long> getLong(String key) { return Optional.empty(); }
            public Optional<Boolean> getBoolean(String key) { return Optional.empty(); }
            public Optional<Duration> getDuration(String key) { return Optional.empty(); }
            public Optional<List<String>> getStringList(String key) { return Optional.empty(); }
            public Optional<FilterSettings> getSettings(String key) { return Optional.empty(); }
            public Optional<List<FilterSettings>> getSettingsList(String key) { return Optional.empty(); }
            public String origin(String key) { return key; }
        };

        assertEquals(Optional.of(4L << 20), textOnly.getBytes("k"));
    }

    @Test
    void getStringListGivesAnImmutableListOfTexts() {
        List<String> list = one(List.of("a", 2, true)).getStringList("k").orElseThrow();

        assertEquals(List.of("a", "2", "true"), list);
        assertThrows(UnsupportedOperationException.class, () -> list.add("x"));
    }

    @Test
    void getStringListRejectsAScalar() {
        assertEquals("k: expected a list, got a", invalid(() -> one("a").getStringList("k")).getMessage());
    }

    @Test
    void getSettingsGivesTheNestedBlock() {
        FilterSettings nested = one(Map.of("timeout", "5s", "retries", 3)).getSettings("k").orElseThrow();

        assertEquals(Set.of("timeout", "retries"), nested.keys());
        assertEquals(Optional.of(Duration.ofSeconds(5)), nested.getDuration("timeout"));
        assertEquals(Optional.of(3L), nested.getLong("retries"));
    }

    @Test
    void getSettingsRejectsAScalar() {
        assertEquals("k: expected a block { ... }, got 3", invalid(() -> one(3).getSettings("k")).getMessage());
    }

    @Test
    void getSettingsListGivesEachBlockAndNamesAnEntryThatIsNotOne() {
        List<FilterSettings> blocks = one(List.of(Map.of("match", "^/a"), Map.of("match", "^/b", "status", 301)))
                .getSettingsList("k").orElseThrow();

        assertEquals(2, blocks.size());
        assertEquals(Optional.of("^/b"), blocks.get(1).getString("match"));
        assertEquals(Optional.of(301L), blocks.get(1).getLong("status"));
        assertEquals("k[1]", assertThrows(InvalidSettingException.class,
                () -> one(List.of(Map.of(), "plain")).getSettingsList("k")).key());
        assertEquals("k", invalid(() -> one("plain").getSettingsList("k")).key());
        assertEquals(Optional.empty(), FilterSettings.of(Map.of()).getSettingsList("k"));
    }

    @Test
    void nestedBlocksKeepTheUpstreamGroupsAndThePlace() {
        UpstreamGroups groups = new UpstreamGroups() {
            public Set<String> names() { return Set.of("shadow"); }
            public java.util.concurrent.CompletionStage<ResponseHeader> sendDiscardingBody(String group, RequestHeader request,
                    byte[] body, java.time.Duration timeout) {
                throw new AssertionError("not sent");
            }
        };
        FilterSettings settings = new dev.relay.core.internal.MapFilterSettings(
                Map.of("list", List.of(Map.of("a", 1)), "block", Map.of("b", 2)), groups, "route:api");

        FilterSettings entry = settings.getSettingsList("list").orElseThrow().get(0);
        FilterSettings block = settings.getSettings("block").orElseThrow();
        for (FilterSettings nested : List.of(entry, block)) {
            assertEquals(Set.of("shadow"), nested.upstreamGroups().names());
            assertEquals("route:api", nested.place());
        }
        assertEquals("global", FilterSettings.of(Map.of("block", Map.of())).getSettings("block").orElseThrow().place());
    }

    @Test
    void requireKnownKeysNamesTheFirstUnknownKeyAndTheBlock() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("upstream", "shadow");
        values.put("sampel", 0.1);
        FilterSettings settings = FilterSettings.of(values);

        FilterSettings.requireKnownKeys(settings, "mirror", List.of("upstream", "sampel"));
        InvalidSettingException top = assertThrows(InvalidSettingException.class,
                () -> FilterSettings.requireKnownKeys(settings, "mirror", List.of("upstream", "sample")));
        assertEquals("sampel", top.key());
        assertEquals("sampel: unknown setting of the mirror filter (expected one of: upstream, sample)", top.getMessage());
        InvalidSettingException nested = assertThrows(InvalidSettingException.class,
                () -> FilterSettings.requireKnownKeys(settings, "cache", "disk.", Set.of("upstream")));
        assertEquals("disk.sampel", nested.key());
        assertEquals("disk.sampel: unknown setting of the cache filter's disk block (expected one of: upstream)", nested.getMessage());
    }

    @Test
    void originNamesTheKey() {
        assertEquals("setting 'k'", one("v").origin("k"));
    }

    @Test
    void invalidSettingExceptionIsAnIllegalArgumentNamingTheKey() {
        InvalidSettingException e = new InvalidSettingException("rate", "must be positive");

        assertEquals("rate", e.key());
        assertEquals("rate: must be positive", e.getMessage());
        assertEquals(IllegalArgumentException.class, e.getClass().getSuperclass());
    }
}
