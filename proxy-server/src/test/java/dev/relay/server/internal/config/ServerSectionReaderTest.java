package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.transport.TransportRuntime;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerSectionReaderTest {

    private static RestartOnlySettings restartOnlyOf(String server) {
        RestartOnlySettings.Recorder recorder = new RestartOnlySettings.Recorder();
        ServerSectionReader.read(proxy("proxy.server { " + server + " }").get("server"), recorder);
        return recorder.build();
    }

    @Test
    void readsEachKeyOverTheShippedDefaults() {
        ServerSettings settings = ServerSectionReader.read(
                proxy("proxy.server { threads = 3, transport = io-uring, shutdown-delay = 2s }").get("server"),
                new RestartOnlySettings.Recorder());

        assertEquals(3, settings.threads());
        assertEquals(TransportRuntime.Kind.IO_URING, settings.transport());
        assertEquals(Duration.ofSeconds(2), settings.shutdownDelay());
        assertEquals(Duration.ofSeconds(30), settings.gracePeriod(), "reference.conf's");
    }

    @Test
    void aBadValueNamesTheFileLineAndKey() {
        assertEquals("relay.conf:2: key 'proxy.server.transport': unknown value 'fast' (expected: auto, io_uring, epoll or nio)",
                problem(() -> ServerSectionReader.read(proxy("proxy.server {\n transport = fast\n}").get("server"),
                        new RestartOnlySettings.Recorder())));
    }

    @Test
    void theKeyTableMarksWhatAReloadCannotApply() {
        RestartOnlySettings before = restartOnlyOf("threads = 2, access-log = true, grace-period = 30s");

        assertEquals(List.of("proxy.server.threads"),
                restartOnlyOf("threads = 4, access-log = true, grace-period = 30s").changedSince(before));
        assertEquals(List.of(), restartOnlyOf("threads = 2, access-log = false, access-log-format = json, "
                + "access-log-path = logger, grace-period = 30000ms").changedSince(before), "the access log is live; 30000ms is 30s");
    }
}
