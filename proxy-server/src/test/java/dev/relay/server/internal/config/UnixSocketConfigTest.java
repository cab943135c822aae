package dev.relay.server.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.relay.core.Backend;
import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code unix:} listener addresses with their {@code mode}, and {@code unix:} backends, as configured. */
class UnixSocketConfigTest {
    @TempDir
    Path dir;

    private static List<ListenerConfig> listeners(ConfigNode proxy) {
        return new ListenersReader(new RestartOnlySettings.Recorder()).listeners(proxy.get("listeners"));
    }

    /** The {@code proxy} node of {@code hocon} written to {@code relay.conf} in {@link #dir}, so that paths are relative to it. */
    private ConfigNode proxyInFile(String hocon) throws Exception {
        Path file = Files.writeString(dir.resolve("relay.conf"), hocon);
        Config user = ConfigFactory.parseFile(file.toFile());
        Config merged = user.withFallback(ConfigFactory.parseResources("reference.conf")).resolve();
        return ConfigNode.of("proxy", merged.root().get("proxy"), user.root().get("proxy"));
    }

    @Test
    void aRelativeSocketPathIsResolvedAgainstTheConfigurationFilesDirectory() throws Exception {
        List<ListenerConfig> listeners = listeners(proxyInFile(
                "proxy.listeners = [ \"unix:run/http.sock\", { address = \"unix:/tmp/x/../abs.sock\", mode = \"0660\" } ]"));

        assertEquals("unix:" + dir.resolve("run/http.sock").toAbsolutePath(), listeners.get(0).address());
        assertNull(listeners.get(0).listenerOptions().unixSocketMode());
        assertEquals("unix:/tmp/abs.sock", listeners.get(1).address());
        assertEquals(PosixFilePermissions.fromString("rw-rw----"), listeners.get(1).listenerOptions().unixSocketMode());
    }

    @Test
    void aModeMayBeWrittenWithoutTheLeadingZero() {
        ListenerConfig listener = listeners(proxy(
                "proxy.listeners = [ { address = \"unix:/tmp/a.sock\", mode = \"600\" } ]")).get(0);
        assertEquals(PosixFilePermissions.fromString("rw-------"), listener.listenerOptions().unixSocketMode());
    }

    @Test
    void aModeOnATcpListenerIsAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].mode': is set on a TCP listener "
                        + "(expected: mode only with address = \"unix:/path\")",
                problem(() -> listeners(proxy("proxy.listeners = [ { address = \"127.0.0.1:1\", mode = \"0660\" } ]"))));
    }

    @Test
    void aModeThatIsNotOctalPermissionBitsIsAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].mode': bad mode '4755' "
                        + "(expected: octal permission bits as a string, as \"0660\")",
                problem(() -> listeners(proxy("proxy.listeners = [ { address = \"unix:/tmp/a.sock\", mode = \"4755\" } ]"))));
        assertEquals("relay.conf:1: key 'proxy.listeners[0].mode': bad mode '0880' "
                        + "(expected: octal permission bits as a string, as \"0660\")",
                problem(() -> listeners(proxy("proxy.listeners = [ { address = \"unix:/tmp/a.sock\", mode = \"0880\" } ]"))));
    }

    @Test
    void anEmptySocketPathIsAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0]': bad address 'unix:' (expected: unix:/path/to.sock)",
                problem(() -> listeners(proxy("proxy.listeners = [ \"unix:\" ]"))));
    }

    @Test
    void aSocketPathLongerThanTheKernelTakesIsAProblem() {
        String path = "/tmp/" + "d".repeat(110) + ".sock";
        assertEquals("relay.conf:1: key 'proxy.listeners[0]': socket path '" + path
                        + "' is too long (expected: at most 107 bytes)",
                problem(() -> listeners(proxy("proxy.listeners = [ \"unix:" + path + "\" ]"))));
    }

    @Test
    void theSameSocketListedTwiceIsAProblem() throws Exception {
        ConfigNode proxy = proxyInFile("proxy.listeners = [ \"unix:a.sock\", \"unix:" + dir.resolve("a.sock") + "\" ]");
        assertEquals(dir.resolve("relay.conf") + ":1: key 'proxy.listeners[1]': 'unix:" + dir.resolve("a.sock")
                + "' is listed twice (expected: each address once)", problem(() -> listeners(proxy)));
    }

    @Test
    void proxyProtocolTrustedOnAUnixListenerIsAProblem() {
        assertEquals("relay.conf:1: key 'proxy.listeners[0].proxy-protocol-trusted': is set on a unix listener, "
                        + "whose peers have no IP address (expected: no proxy-protocol-trusted; the socket's mode says "
                        + "who may connect)",
                problem(() -> listeners(proxy("proxy.listeners = [ { address = \"unix:/tmp/a.sock\", "
                        + "proxy-protocol = true, proxy-protocol-trusted = [ \"10.0.0.0/8\" ] } ]"))));
    }

    @Test
    void aUnixBackendIsResolvedAgainstTheConfigurationFilesDirectory() throws Exception {
        ConfigNode proxy = proxyInFile("""
                proxy.listeners = [ "127.0.0.1:0" ]
                proxy.upstreams.web.backends = [ "127.0.0.1:8080", { address = "unix:app.sock", weight = 2 } ]
                """);
        List<Backend> backends = UpstreamsReader.read(proxy, new RestartOnlySettings.Recorder())
                .groups().get("web").backends();

        assertEquals(List.of(Backend.parse("127.0.0.1:8080"), Backend.unix(dir.resolve("app.sock")).withWeight(2)), backends);
    }
}
