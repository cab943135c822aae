package dev.relay.server.testing;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;

/**
 * A test filter, {@code test-add-header}: adds {@code header: value} to every response. Both settings
 * are required; found by {@code ServiceLoader} through this module's test resources.
 */
public final class AddHeaderFilterProvider implements FilterProvider {

    @Override
    public String name() {
        return "test-add-header";
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        String header = settings.getString("header")
                .orElseThrow(() -> new FilterSettings.InvalidSettingException("header", "missing (expected: a header name)"));
        String value = settings.getString("value")
                .orElseThrow(() -> new FilterSettings.InvalidSettingException("value", "missing (expected: a text value)"));
        return new HttpModuleFactory() {
            @Override
            public String name() {
                return "test-add-header";
            }

            @Override
            public HttpModule newModule() {
                return new HttpModule() {
                    @Override
                    public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
                        response.headers().add(header, value);
                    }
                };
            }
        };
    }
}
