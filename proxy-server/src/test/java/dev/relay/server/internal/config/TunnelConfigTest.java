package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tunnel keys: a listener's {@code connect.allow}, a route's {@code websocket}, {@code server.tunnel-idle-timeout}. */
class TunnelConfigTest {

    private static List<ListenerConfig> listeners(String hocon) {
        return new ListenersReader(new RestartOnlySettings.Recorder()).listeners(proxy(hocon).get("listeners"));
    }

    @Test
    void aListenerAllowsConnectToItsPatterns() {
        List<ListenerConfig> listeners = listeners("proxy.listeners = [ \"127.0.0.1:1\", { address = \"127.0.0.1:2\", "
                + "connect { allow = [ \"*.example.com:443\", \"127.0.0.1:*\" ] } } ]");

        assertEquals(List.of(), listeners.get(0).connectAllow());
        assertEquals(List.of("*.example.com:443", "127.0.0.1:*"), listeners.get(1).connectAllow());
        assertEquals(List.of("*.example.com:443", "127.0.0.1:*"), listeners.get(1).listenerOptions().connectAllow());
    }

    @Test
    void aBadConnectPatternNamesFileLineAndKey() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].connect.allow[1]': bad pattern 'example.com' (expected: "
                        + "host:port, where host is a name, an address, *.domain or *, and port a number or *)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:2\", "
                        + "connect { allow = [ \"a.com:1\", \"example.com\" ] } } ]")));
        assertTrue(problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:2\", connect { } } ]"))
                .contains("has no allow list"));
        assertTrue(problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:2\", connect { deny = [] } } ]"))
                .contains("deny"));
    }

    @Test
    void routesPassUpgradesUnlessTheyTurnWebsocketOff() {
        List<ProxyConfig.RouteConfig> routes = new RoutesReader(new FiltersReader(dev.relay.server.internal.FilterRegistry.load(getClass().getClassLoader()))).routes(proxy(
                "proxy.routes = [ { upstream = a, match.path = \"/x\" }, { upstream = a, websocket = false } ]")
                .get("routes"), Set.of("a"));

        assertTrue(routes.get(0).websocket());
        assertFalse(routes.get(1).websocket());
        assertTrue(problem(() -> new RoutesReader(new FiltersReader(dev.relay.server.internal.FilterRegistry.load(getClass().getClassLoader()))).routes(proxy(
                "proxy.routes = [ { upstream = a, websocket = maybe } ]").get("routes"), Set.of("a")))
                .startsWith("relay.conf:1: key 'proxy.routes[0].websocket'"));
    }

    @Test
    void theTunnelIdleTimeoutIsAServerSetting() {
        ProxyConfig.ServerSettings settings = ServerSectionReader.read(
                proxy("proxy.server.tunnel-idle-timeout = 5m").get("server"), new RestartOnlySettings.Recorder());

        assertEquals(Duration.ofMinutes(5), settings.proxyOptions().tunnelIdleTimeout());
    }
}
