package dev.relay.server.internal.config;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(10)
class ConfigFilterSettingsTest {
    private final FilterSettings settings = new ConfigFilterSettings(ConfigFactory.parseString("""
            name = headers
            text = hello
            number = 42
            flag = on
            wait = 250ms
            names = [ a, b ]
            nested {
              inner = x
            }
            """, ConfigParseOptions.defaults().setOriginDescription("f.conf")).root(), Set.of("name"));

    @Test
    void readsTypedValues() {
        assertEquals(Set.of("text", "number", "flag", "wait", "names", "nested"), settings.keys());
        assertEquals(Optional.of("hello"), settings.getString("text"));
        assertEquals(Optional.of("42"), settings.getString("number"));
        assertEquals(Optional.of(42L), settings.getLong("number"));
        assertEquals(Optional.of(true), settings.getBoolean("flag"));
        assertEquals(Optional.of(Duration.ofMillis(250)), settings.getDuration("wait"));
        assertEquals(Optional.of(List.of("a", "b")), settings.getStringList("names"));
        assertEquals(Optional.of("x"), settings.getSettings("nested").orElseThrow().getString("inner"));
    }

    @Test
    void hidesReservedAndAbsentKeys() {
        assertEquals(Optional.empty(), settings.getString("name"));
        assertEquals(Optional.empty(), settings.getLong("absent"));
    }

    @Test
    void aWrongTypeNamesTheKey() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> settings.getLong("text"));
        assertEquals("text", e.key());
        assertEquals("text: 'hello' (expected: a whole number)", e.getMessage());
        assertEquals("names", assertThrows(InvalidSettingException.class, () -> settings.getString("names")).key());
        assertEquals("wait", assertThrows(InvalidSettingException.class, () -> settings.getBoolean("wait")).key());
        assertEquals("text", assertThrows(InvalidSettingException.class, () -> settings.getSettings("text")).key());
    }

    @Test
    void readsAListOfBlocksAndNamesAnEntryThatIsNotOne() {
        FilterSettings rules = new ConfigFilterSettings(ConfigFactory.parseString("""
                rules = [ { match = "^/a", replace = "/b" }, { match = "^/c" } ]
                mixed = [ { match = x }, plain ]
                """).root(), Set.of());

        List<FilterSettings> blocks = rules.getSettingsList("rules").orElseThrow();
        assertEquals(2, blocks.size());
        assertEquals(Optional.of("/b"), blocks.get(0).getString("replace"));
        assertEquals(Set.of("match"), blocks.get(1).keys());
        assertEquals("mixed[1]", assertThrows(InvalidSettingException.class, () -> rules.getSettingsList("mixed")).key());
        assertEquals("text", assertThrows(InvalidSettingException.class, () -> settings.getSettingsList("text")).key());
        assertEquals(Optional.empty(), settings.getSettingsList("absent"));
    }

    @Test
    void readsSizesAsHoconDoes() {
        FilterSettings sizes = new ConfigFilterSettings(ConfigFactory.parseString(
                "a = 256MiB, b = 10GiB, c = 512k, d = 4096, e = lots").root(), Set.of());

        assertEquals(Optional.of(256L << 20), sizes.getBytes("a"));
        assertEquals(Optional.of(10L << 30), sizes.getBytes("b"));
        assertEquals(Optional.of(512L << 10), sizes.getBytes("c"));
        assertEquals(Optional.of(4096L), sizes.getBytes("d"));
        assertEquals(Optional.empty(), sizes.getBytes("absent"));
        assertEquals("e: 'lots' (expected: a size such as 512k, 256MiB, 10GiB or a number of bytes)",
                assertThrows(InvalidSettingException.class, () -> sizes.getBytes("e")).getMessage());
    }

    @Test
    void originGivesFileAndLine() {
        assertEquals("f.conf:3", settings.origin("number"));
        assertEquals("f.conf:8", settings.getSettings("nested").orElseThrow().origin("inner"));
    }
}
