package dev.relay.transport;

import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.HttpModules;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HttpModule#responseTrailerFilter}: a module may change the upstream's trailer fields, or send
 * them as body bytes in their place (what the gRPC-web bridge does). The origin's {@code /trailers}
 * answers {@code hello} chunked, then the trailer field {@code X-Checksum: 5d41402a}.
 */
@Timeout(30)
class ResponseTrailerModuleTest {
    private static TestOrigin origin;

    @BeforeAll
    static void startOrigin() {
        origin = TestOrigin.builder().name("o").build().start();
    }

    @AfterAll
    static void stopOrigin() {
        origin.close();
    }

    @Test
    void aModuleTurnsTheTrailersIntoTheEndOfTheBody() throws Exception {
        String answer = get((session, trailers) ->
                ("|" + trailers.get("X-Checksum")).getBytes(StandardCharsets.US_ASCII));
        String head = answer.substring(0, answer.indexOf("\r\n\r\n"));
        String body = answer.substring(head.length() + 4);
        assertTrue(head.toLowerCase().contains("transfer-encoding: chunked"), answer);
        assertEquals("hello|5d41402a", dechunk(body), answer);
        assertFalse(answer.contains("X-Checksum:"), "the trailer field itself is not sent: " + answer);
    }

    @Test
    void aModuleThatReturnsNullChangesTheTrailersThatAreSent() throws Exception {
        String answer = get((session, trailers) -> {
            trailers.set("X-Checked", "yes");
            return null;
        });
        assertTrue(answer.endsWith("0\r\nX-Checksum: 5d41402a\r\nX-Checked: yes\r\n\r\n"), answer);
    }

    private static String get(BiFunction<Session, HttpHeaders, byte[]> trailerFilter) throws Exception {
        ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(origin.address()) {
            @Override
            public void initDownstreamModules(HttpModules modules) {
                modules.add(new HttpModuleFactory() {
                    @Override
                    public String name() {
                        return "trailers-as-body";
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
                                return trailerFilter.apply(session, trailers);
                            }
                        };
                    }
                });
            }
        };
        try (ProxyFixture fixture = new ProxyFixture(proxy);
             RawHttpConnection client = new RawHttpConnection(fixture.address.getPort())) {
            client.send("GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String answer = client.readToEnd();
            assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
            assertEquals(null, proxy.nextLogged().error());
            Await.until(() -> fixture.server.activeRequests() == 0, Duration.ofSeconds(5), () -> "request never ended");
            return answer;
        }
    }

    /** The data of a chunked body (no trailer fields expected after the last chunk). */
    private static String dechunk(String body) {
        StringBuilder data = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = body.indexOf("\r\n", at);
            int size = Integer.parseInt(body.substring(at, lineEnd).trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
                assertEquals("\r\n", body.substring(at), "nothing after the last chunk but its empty line");
                return data.toString();
            }
            data.append(body, at, at + size);
            at += size + 2;
        }
    }
}
