package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ListenersReaderTest {

    private static RestartOnlySettings restartOnlyOf(String proxyBlock) {
        RestartOnlySettings.Recorder recorder = new RestartOnlySettings.Recorder();
        ListenersReader reader = new ListenersReader(recorder);
        ConfigNode proxy = proxy("proxy { " + proxyBlock + " }");
        reader.admin(proxy.get("admin"), reader.listeners(proxy.get("listeners")));
        return recorder.build();
    }

    @Test
    void aListenerMayHaveItsOwnClientTimeouts() {
        List<ListenerConfig> listeners = new ListenersReader(new RestartOnlySettings.Recorder()).listeners(
                proxy("proxy.listeners = [ \"127.0.0.1:1\", { address = \"127.0.0.1:2\", keepalive-timeout = 5s } ]")
                        .get("listeners"));

        assertNull(listeners.get(0).keepAliveTimeout());
        assertEquals(Duration.ofSeconds(5), listeners.get(1).keepAliveTimeout());
    }

    @Test
    void anAddressListedTwiceIsAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[1]': '127.0.0.1:1' is listed twice (expected: each address once)",
                problem(() -> new ListenersReader(new RestartOnlySettings.Recorder()).listeners(
                        proxy("proxy.listeners = [ \"127.0.0.1:1\", \"127.0.0.1:1\" ]").get("listeners"))));
    }

    @Test
    void theTimeoutsOfAListenerThatStaysBoundAndTheAdminAddressAreRestartOnly() {
        RestartOnlySettings before = restartOnlyOf("listeners = [ \"127.0.0.1:1\" ], admin.address = \"127.0.0.1:9\"");
        RestartOnlySettings after = restartOnlyOf("listeners = [ { address = \"127.0.0.1:3\", body-read-timeout = 1s }, "
                + "{ address = \"127.0.0.1:1\", body-read-timeout = 1s } ], admin.address = \"127.0.0.1:8\"");

        // 127.0.0.1:3 is new: it is bound with its timeouts.
        assertEquals(List.of("proxy.listeners[1] settings of 127.0.0.1:1", "proxy.admin.address"), after.changedSince(before));
    }
}
