package dev.relay.server.testing;

import dev.relay.testing.TestOrigin;

/**
 * The origins of this module's tests: the shared {@link TestOrigin}, answering {@code /} and unknown paths
 * with {@code NAME PATH} (for example {@code a /x}), so that a body alone tells which origin served which
 * path, and byte counts in metrics and access logs are known.
 */
public final class Origins {
    private Origins() {}

    /** Starts an origin called {@code name}; the caller closes it. */
    public static TestOrigin start(String name) {
        return TestOrigin.builder()
                .name(name)
                .fallbackHandler((request, response) -> response.body(name + " " + request.path()))
                .build()
                .start();
    }
}
