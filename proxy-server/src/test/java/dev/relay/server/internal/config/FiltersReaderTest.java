package dev.relay.server.internal.config;

import dev.relay.server.internal.FilterRegistry;
import org.junit.jupiter.api.Test;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FiltersReaderTest {
    private final FiltersReader reader = new FiltersReader(FilterRegistry.load(getClass().getClassLoader()));

    @Test
    void aFilterIsCreatedWhenItIsRead() {
        var filters = reader.filters(proxy("proxy.filters = [ { name = test-add-header, header = X-A, value = b } ]")
                .get("filters"));

        assertEquals("test-add-header", filters.get(0).name());
        assertEquals("relay.conf:1", filters.get(0).origin());
    }

    @Test
    void anUnknownFilterNamesTheOnesThereAre() {
        String message = problem(() -> reader.filters(proxy("proxy.filters = [ { name = nope } ]").get("filters")));
        assertTrue(message.startsWith("relay.conf:1: key 'proxy.filters[0].name': unknown filter 'nope' (expected: "), message);
    }

    @Test
    void anAccessFilterSettingItRefusesIsReportedAtItsLine() {
        String message = problem(() -> reader.filters(proxy("""
                proxy.filters = [ { name = ip-acl,
                  rules = [ "allow 10.0.0.0/8", "allow 10.1.2.3/8" ] } ]
                """).get("filters")));
        assertTrue(message.startsWith("relay.conf:2: key 'proxy.filters[0].rules[1]': '10.1.2.3/8' (expected: no address bits"),
                message);

        String cors = problem(() -> reader.filters(proxy("""
                proxy.filters = [ { name = cors, allow-origins = "*",
                  allow-credentials = true } ]
                """).get("filters")));
        assertTrue(cors.startsWith("relay.conf:2: key 'proxy.filters[0].allow-credentials': true with allow-origins"), cors);
    }
}
