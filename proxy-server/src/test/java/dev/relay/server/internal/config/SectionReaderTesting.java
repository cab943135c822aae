package dev.relay.server.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What the section readers' tests share: a {@code proxy} block read as {@link ConfigLoader} reads it
 * (the text over {@code reference.conf}, named {@code relay.conf} in messages), and the message of
 * the problem a read throws.
 */
final class SectionReaderTesting {
    private SectionReaderTesting() {}

    /** The {@code proxy} node of {@code hocon} over the shipped defaults. */
    static ConfigNode proxy(String hocon) {
        Config user = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription("relay.conf"));
        Config merged = user.withFallback(ConfigFactory.parseResources("reference.conf")).resolve();
        return ConfigNode.of("proxy", merged.root().get("proxy"), user.root().get("proxy"));
    }

    /** The message of the {@link ConfigProblem} that {@code read} throws. */
    static String problem(Supplier<?> read) {
        return assertThrows(ConfigProblem.class, read::get).getMessage();
    }
}
