package dev.relay.server.testing;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;

import java.nio.charset.StandardCharsets;

/**
 * A test filter, {@code test-trailers-as-body}: sends a response's trailer fields at the end of its body,
 * as {@code |name=value} per field, instead of as trailers (what the gRPC-web bridge does with its own
 * framing). No settings; found by {@code ServiceLoader} through this module's test resources.
 */
public final class TrailersAsBodyFilterProvider implements FilterProvider {

    @Override
    public String name() {
        return "test-trailers-as-body";
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        return new HttpModuleFactory() {
            @Override
            public String name() {
                return "test-trailers-as-body";
            }

            @Override
            public HttpModule newModule() {
                return new HttpModule() {
                    @Override
                    public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
                        response.headers().remove("Content-Length");
                    }

                    @Override
                    public byte[] responseTrailerFilter(Session session, HttpHeaders trailers) {
                        StringBuilder fields = new StringBuilder();
                        trailers.forEach((String name, String value) -> fields.append('|').append(name).append('=').append(value));
                        return fields.toString().getBytes(StandardCharsets.US_ASCII);
                    }
                };
            }
        };
    }
}
