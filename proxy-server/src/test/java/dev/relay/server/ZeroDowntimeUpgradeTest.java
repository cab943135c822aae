package dev.relay.server;

import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public upgrade API's failure paths; the handover itself is GracefulUpgradeExampleTest's (proxy-examples). */
@Timeout(60)
class ZeroDowntimeUpgradeTest {

    @TempDir
    Path dir;

    private static final ProxyHttp<Void> UNUSED = new ProxyHttp<>() {
        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
            throw new IllegalStateException("no request is sent");
        }
    };

    @Test
    void aTakeOverWithNoProcessToTakeFromFailsTheStartAndBindsNothing() {
        HttpProxyService proxy = HttpProxyService.create(UNUSED);
        proxy.addTcp("127.0.0.1:0");
        Server server = Server.create();
        ZeroDowntimeUpgrade.TakeOver takeOver = server.addService(
                ZeroDowntimeUpgrade.takeOver(dir.resolve("nobody.sock"), Duration.ofMillis(200), proxy));
        server.addService(proxy);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, server::start);
        assertTrue(e.getMessage().contains("nobody.sock"), e.getMessage());
        assertTrue(proxy.boundAddresses().isEmpty());
        assertTrue(takeOver.handedOver().toCompletableFuture().isDone(), "a deferred upgrade listener is released");
        assertThrows(IllegalStateException.class, takeOver::complete);
    }

    @Test
    void completeBeforeTheServerStartedIsRefused() {
        HttpProxyService proxy = HttpProxyService.create(UNUSED);
        ZeroDowntimeUpgrade.TakeOver takeOver = ZeroDowntimeUpgrade.takeOver(dir.resolve("u.sock"), Duration.ofSeconds(1), proxy);
        IllegalStateException e = assertThrows(IllegalStateException.class, takeOver::complete);
        assertTrue(e.getMessage().contains("expected: after the server started"), e.getMessage());
    }
}
