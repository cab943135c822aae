package dev.relay.server.internal.config;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.relay.server.internal.FilterRegistry;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz test of {@link ConfigLoader}: whatever the text of a configuration file, loading it gives a
 * {@link ProxyConfig} or a {@link ConfigProblem} that names the file and where in it (a line or a
 * key) — never another exception (a reader that forgot a check: a NumberFormatException, an
 * IllegalArgumentException from a builder, a ClassCastException on an unexpected value type) and
 * never a hang (the timeout below is libFuzzer's per-input limit when fuzzing).
 *
 * <p>Text with {@code include} is left out: an include reads another file or a URL, as the operator
 * asked, which is not the parser's behaviour under test and not something to do at random here.
 * The inputs replayed in the normal run ({@code ConfigLoaderFuzzTestInputs/configText/}) are the
 * bundled default and configurations like those of the reader tests, valid and not; the dictionary
 * holds the keys of {@code reference.conf}, so that mutations reach the section readers.
 */
class ConfigLoaderFuzzTest {
    private static final String FILE = "fuzz.conf";
    private static final ConfigLoader LOADER =
            new ConfigLoader(FilterRegistry.load(ConfigLoaderFuzzTest.class.getClassLoader()));

    @FuzzTest(maxDuration = "30s")
    @DictionaryFile(resourcePath = "config-keys.dict")
    @Timeout(10)
    void configText(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        if (text.contains("include")) {
            return;
        }
        try {
            ProxyConfig config = LOADER.parseString(text, FILE);
            assertNotNull(config);
            assertEquals(FILE, config.source());
        } catch (ConfigProblem problem) {
            assertNotNull(problem.detail(), "a problem says what is wrong");
            assertEquals(FILE, problem.file(), "a problem names the file: " + problem.getMessage());
            // Only typesafe-config's own errors may be about the file as a whole (it does not always
            // know the user's line); the readers always name the key.
            assertTrue(problem.line() > 0 || problem.key() != null
                            || problem.getCause() instanceof com.typesafe.config.ConfigException,
                    "a problem names a line or a key: " + problem.getMessage());
        }
    }
}
