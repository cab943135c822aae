package dev.relay.server.internal.config;

import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.UnderscoresInHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client limits and retry settings of {@code proxy.server} and of each listener. */
@Timeout(30)
class ResilienceConfigTest {
    private final ConfigLoader loader = new ConfigLoader(FilterRegistry.load(getClass().getClassLoader()));

    private static String conf(String server, String listeners) {
        return """
                proxy {
                  listeners = %s
                  upstreams { web { backends = [ "127.0.0.1:9001" ] } }
                  server {
                %s
                  }
                }
                """.formatted(listeners, server);
    }

    private ProxyConfig parse(String text) {
        return loader.parseString(text, "test.conf");
    }

    private void assertProblem(String text, int line, String key, String detailStart) {
        ConfigProblem p = assertThrows(ConfigProblem.class, () -> parse(text));
        assertEquals(key, p.key(), p.getMessage());
        assertEquals(line, p.line(), p.getMessage());
        assertTrue(p.detail().startsWith(detailStart), p.getMessage());
        assertTrue(p.getMessage().startsWith("test.conf:" + line + ": key '" + key + "': "), p.getMessage());
    }

    @Test
    void theDefaultsAreTheEnginesPingoraLikeOnes() {
        ServerSettings server = parse(conf("", "[ \"127.0.0.1:8080\" ]")).server();
        ProxyOptions engine = ProxyOptions.defaults();
        assertEquals(64 * 1024, server.retryBufferBytes());
        assertNull(server.requestDeadline());
        assertEquals(Duration.ofSeconds(60), server.headerReadTimeout());
        assertEquals(Duration.ofSeconds(60), server.keepAliveTimeout());
        assertEquals(Duration.ofSeconds(60), server.bodyReadTimeout());
        assertEquals(32 * 1024, server.maxHeaderBytes());
        assertEquals(8 * 1024, server.maxRequestLineBytes());
        assertEquals(16, server.maxAttempts());
        assertNull(server.retryBackoff());
        ProxyOptions options = server.proxyOptions();
        assertEquals(engine.retryBufferBytes(), options.retryBufferBytes());
        assertEquals(engine.headerReadTimeout(), options.headerReadTimeout());
        assertEquals(engine.keepAliveTimeout(), options.keepAliveTimeout());
        assertEquals(engine.bodyReadTimeout(), options.bodyReadTimeout());
        assertEquals(engine.maxHeaderBytes(), options.maxHeaderBytes());
        assertEquals(engine.maxRequestLineBytes(), options.maxRequestLineBytes());
        assertEquals(engine.requestDeadline(), options.requestDeadline());
        assertEquals(8 * 1024, options.maxFieldBytes());
        assertEquals(100, options.maxFields());
        assertEquals(UnderscoresInHeaders.DROP, options.underscoresInHeaders());
        assertFalse(options.allowTrace());
        assertEquals(engine.sendTimeout(), options.sendTimeout());
        assertEquals(0, options.maxRequestsInFlight());
    }

    @Test
    void parsesTheRequestRules() {
        ProxyOptions options = parse(conf("""
                max-field-size = 4KiB
                max-fields = 50
                underscores-in-headers = reject
                allow-trace = true
                """, "[ \"127.0.0.1:8080\" ]")).server().proxyOptions();
        assertEquals(4 * 1024, options.maxFieldBytes());
        assertEquals(50, options.maxFields());
        assertEquals(UnderscoresInHeaders.REJECT, options.underscoresInHeaders());
        assertTrue(options.allowTrace());
        assertEquals(UnderscoresInHeaders.ALLOW, parse(conf("underscores-in-headers = allow", "[ \"127.0.0.1:8080\" ]"))
                .server().proxyOptions().underscoresInHeaders());
    }

    @Test
    void reportsBadRequestRulesWithFileLineAndKey() {
        String listener = "[ \"127.0.0.1:8080\" ]";
        assertProblem(conf("max-field-size = 10B", listener), 5, "proxy.server.max-field-size",
                "'10B' (expected: a size from 64 to 16777216 bytes)");
        assertProblem(conf("max-fields = 0", listener), 5, "proxy.server.max-fields", "0 (expected: ");
        assertProblem(conf("underscores-in-headers = keep", listener), 5, "proxy.server.underscores-in-headers",
                "unknown value 'keep' (expected: drop, allow or reject)");
        assertProblem(conf("allow-trace = maybe", listener), 5, "proxy.server.allow-trace",
                "'maybe' (expected: true or false)");
    }

    @Test
    void parsesEveryServerKeyIntoTheEngineOptions() {
        ServerSettings server = parse(conf("""
                retry-buffer = 16KiB
                request-deadline = 30s
                header-read-timeout = 10s
                keepalive-timeout = 5s
                body-read-timeout = 20s
                max-header-size = 64KiB
                max-request-line = 4KiB
                max-attempts = 3
                retry-backoff = 10ms
                send-timeout = 7s
                max-requests-in-flight = 5000
                """, "[ \"127.0.0.1:8080\" ]")).server();
        ProxyOptions options = server.proxyOptions();
        assertEquals(16 * 1024, options.retryBufferBytes());
        assertEquals(Duration.ofSeconds(30), options.requestDeadline());
        assertEquals(Duration.ofSeconds(10), options.headerReadTimeout());
        assertEquals(Duration.ofSeconds(5), options.keepAliveTimeout());
        assertEquals(Duration.ofSeconds(20), options.bodyReadTimeout());
        assertEquals(64 * 1024, options.maxHeaderBytes());
        assertEquals(4 * 1024, options.maxRequestLineBytes());
        assertEquals(3, options.maxAttempts());
        assertEquals(Duration.ofMillis(10), options.retryBackoff());
        assertEquals(Duration.ofSeconds(7), options.sendTimeout());
        assertEquals(5000, options.maxRequestsInFlight());
        // 0 turns replay off; a bare number is bytes.
        assertEquals(0, parse(conf("retry-buffer = 0", "[ \"127.0.0.1:8080\" ]")).server().retryBufferBytes());
        assertEquals(1000, parse(conf("retry-buffer = 1000", "[ \"127.0.0.1:8080\" ]")).server().retryBufferBytes());
    }

    @Test
    void eachListenerMayHaveItsOwnClientTimeouts() {
        ProxyConfig config = parse(conf("header-read-timeout = 30s", """
                [
                    { address = "127.0.0.1:8080", header-read-timeout = 10s, keepalive-timeout = 5s, body-read-timeout = 15s }
                    { address = "127.0.0.1:8081" }
                    "127.0.0.1:8082"
                  ]"""));
        ListenerConfig own = config.listeners().get(0);
        assertEquals(ListenerOptions.builder().headerReadTimeout(Duration.ofSeconds(10))
                        .keepAliveTimeout(Duration.ofSeconds(5)).bodyReadTimeout(Duration.ofSeconds(15)).build(),
                own.listenerOptions());
        assertSame(ListenerOptions.inherit(), config.listeners().get(1).listenerOptions());
        assertSame(ListenerOptions.inherit(), config.listeners().get(2).listenerOptions());
        assertEquals(Duration.ofSeconds(30), config.server().headerReadTimeout());
        ProxyConfig limited = parse(conf("", "[ { address = \"127.0.0.1:8080\", max-connections = 1000, "
                + "max-connections-per-client = none } ]"));
        assertEquals(ListenerOptions.builder().maxConnections(1000).build(), limited.listeners().get(0).listenerOptions());
        ProxyConfig partly = parse(conf("", "[ { address = \"127.0.0.1:8080\", keepalive-timeout = 2s } ]"));
        assertEquals(ListenerOptions.builder().keepAliveTimeout(Duration.ofSeconds(2)).build(), partly.listeners().get(0).listenerOptions());
    }

    @Test
    void reportsErrorsWithFileLineAndKey() {
        String listener = "[ \"127.0.0.1:8080\" ]";
        assertProblem(conf("retry-buffer = lots", listener), 5, "proxy.server.retry-buffer",
                "'lots' (expected: a size such as 512B, 64KiB or 1MiB)");
        assertProblem(conf("retry-buffer = 1GiB", listener), 5, "proxy.server.retry-buffer",
                "'1GiB' (expected: a size from 0 to 67108864 bytes)");
        assertProblem(conf("max-header-size = 100B", listener), 5, "proxy.server.max-header-size",
                "'100B' (expected: a size from 256 to 16777216 bytes)");
        assertProblem(conf("max-request-line = 10", listener), 5, "proxy.server.max-request-line",
                "'10' (expected: a size from 64 to 16777216 bytes)");
        assertProblem(conf("request-deadline = 0s", listener), 5, "proxy.server.request-deadline",
                "'0s' (expected: > 0, or none)");
        assertProblem(conf("header-read-timeout = none", listener), 5, "proxy.server.header-read-timeout",
                "none (expected: a duration > 0 such as 10s; a client timeout cannot be turned off)");
        assertProblem(conf("keepalive-timeout = -1s", listener), 5, "proxy.server.keepalive-timeout",
                "'-1s' (expected: > 0)");
        assertProblem(conf("", "[ { address = \"127.0.0.1:8080\", body-read-timeout = 0ms } ]"), 2,
                "proxy.listeners[0].body-read-timeout", "'0ms' (expected: > 0)");
        assertProblem(conf("", "[ { address = \"127.0.0.1:8080\", read-timeout = 1s } ]"), 2,
                "proxy.listeners[0].read-timeout",
                "unknown key (expected one of: address, allow, body-read-timeout, connect, deny, header-read-timeout, "
                        + "http2, keepalive-timeout, max-connections, max-connections-per-client, mode, proxy-protocol, "
                        + "proxy-protocol-trusted, tls)");
        assertProblem(conf("send-timeout = none", listener), 5, "proxy.server.send-timeout",
                "none (expected: a duration > 0 such as 10s; a client timeout cannot be turned off)");
        assertProblem(conf("max-requests-in-flight = 0", listener), 5, "proxy.server.max-requests-in-flight",
                "'0' (expected: a whole number from 1 to 1000000, or none)");
        assertProblem(conf("max-requests-in-flight = many", listener), 5, "proxy.server.max-requests-in-flight",
                "'many' (expected: a whole number from 1 to 1000000, or none)");
        assertProblem(conf("", "[ { address = \"127.0.0.1:8080\", max-connections-per-client = -1 } ]"), 2,
                "proxy.listeners[0].max-connections-per-client",
                "'-1' (expected: a whole number from 1 to 10000000, or none)");
    }

    @Test
    void upstreamIdleCapIsParsedAndValidated() {
        ProxyConfig config = parse("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:9001" ], max-idle-connections = 32 } }
                }
                """);
        assertEquals(32, config.upstreams().get("web").options().maxIdleConnections());
        ProxyConfig defaults = parse(conf("", "[ \"127.0.0.1:0\" ]"));
        assertEquals(0, defaults.upstreams().get("web").options().maxIdleConnections());
        RuntimeException problem = assertThrows(RuntimeException.class, () -> parse("""
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  upstreams { web { backends = [ "127.0.0.1:9001" ], max-idle-connections = -1 } }
                }
                """));
        assertTrue(problem.getMessage().contains("max-idle-connections"), problem.getMessage());
    }
}
