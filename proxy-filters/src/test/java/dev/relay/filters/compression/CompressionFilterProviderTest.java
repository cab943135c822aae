package dev.relay.filters.compression;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressionFilterProviderTest {
    private final CompressionFilterProvider provider = new CompressionFilterProvider();

    private InvalidSettingException rejected(Map<String, ?> settings) {
        return assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(settings)));
    }

    @Test
    void isFoundByTheServiceLoader() {
        assertTrue(ServiceLoader.load(FilterProvider.class).stream()
                .anyMatch(p -> p.get().name().equals("compression")));
    }

    @Test
    void everyKeyIsRead() {
        String description = provider.create(FilterSettings.of(Map.of("encodings", List.of("gzip", "zstd"),
                "gzip-level", 9, "br-level", 11, "zstd-level", 19, "min-length", "2k", "types", List.of("text/*", "+json"),
                "decompress", false, "request-decompress", true, "max-request-size", "1MiB", "max-ratio", 50))).toString();
        assertEquals("compression(encodings [gzip, zstd], levels {zstd=19, br=11, gzip=9}, min-length 2048, types [text/*, +json], decompress false, "
                + "request-decompress up to 1048576 bytes, ratio 50)", description);
    }

    @Test
    void badSettingsNameTheirKey() {
        assertEquals("level", rejected(Map.of("level", 5)).key());
        assertEquals("encodings[1]", rejected(Map.of("encodings", List.of("gzip", "lz4"))).key());
        assertEquals("encodings", rejected(Map.of("encodings", List.of("deflate"))).key());
        assertEquals("gzip-level", rejected(Map.of("gzip-level", 10)).key());
        assertEquals("zstd-level", rejected(Map.of("zstd-level", 22)).key());
        assertEquals("br-level", rejected(Map.of("br-level", -1)).key());
        assertEquals("min-length", rejected(Map.of("min-length", "-5")).key());
        assertEquals("types", rejected(Map.of("types", List.of("text"))).key());
        // A wildcard anywhere but the whole subtype would match nothing: refused, not silently accepted.
        for (String pattern : List.of("*/*", "*/json", "text/ht*", "+*")) {
            assertEquals("types", rejected(Map.of("types", List.of(pattern))).key(), pattern);
        }
        assertEquals("max-ratio", rejected(Map.of("max-ratio", 10)).key());
        assertEquals("max-request-size", rejected(Map.of("request-decompress", true, "max-request-size", "0")).key());
        assertTrue(rejected(Map.of("zstd-level", 22)).getMessage().contains("1 to 19"));
    }
}
