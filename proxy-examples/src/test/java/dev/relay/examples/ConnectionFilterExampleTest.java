package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.HttpPeer;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The connection_filter example: a blocked client's connection is closed unanswered and nothing reaches the origin. */
@Timeout(60)
class ConnectionFilterExampleTest {

    @Test
    void blockAllClosesEveryConnectionOnBothListenersBeforeAnyRequest() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(ConnectionFilterExample.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        try (TestOrigin origin = TestOrigin.builder().name("origin").build().start()) {
            Server server = Server.create();
            HttpProxyService proxy = ConnectionFilterExample.service(
                    new ConnectionFilterExample(HttpPeer.plain(origin.address())),
                    ConnectionFilterExample.IpBlockFilter.blockAll(), "127.0.0.1:0", "127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                for (InetSocketAddress listener : proxy.boundAddresses()) {
                    assertEquals("", exchange(listener, null), "a blocked client gets no answer");
                }
                assertEquals(0, origin.connectionsAccepted(), "nothing went upstream");
                long blocked;
                synchronized (captured) {
                    blocked = captured.list.stream()
                            .filter(e -> e.getFormattedMessage().startsWith("BLOCKING connection from /127.0.0.1:")).count();
                }
                assertEquals(2, blocked);
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        } finally {
            log.detachAppender(captured);
        }
    }

    @Test
    void blockingOneAddressRefusesThatClientAndServesTheOthers() throws Exception {
        InetAddress blockedClient = InetAddress.getByName("127.0.0.2");
        try (TestOrigin origin = TestOrigin.builder().name("origin").build().start()) {
            Server server = Server.create();
            HttpProxyService proxy = ConnectionFilterExample.service(
                    new ConnectionFilterExample(HttpPeer.plain(origin.address())),
                    ConnectionFilterExample.IpBlockFilter.blocking(List.of(blockedClient)), "127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                InetSocketAddress listener = proxy.boundAddresses().get(0);
                String served = exchange(listener, InetAddress.getByName("127.0.0.1"));
                assertTrue(served.startsWith("HTTP/1.1 200"), served);
                assertTrue(served.contains("origin origin"), served);
                assertEquals("", exchange(listener, blockedClient));
                assertEquals(1, origin.requests().size(), "only the allowed client's request went upstream");
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }

    /**
     * Sends one request to {@code listener} from {@code from} (any loopback address when null) and returns
     * what came back until the connection closed: empty when it was refused.
     */
    private static String exchange(InetSocketAddress listener, InetAddress from) throws IOException {
        try (Socket client = new Socket()) {
            if (from != null) {
                client.bind(new InetSocketAddress(from, 0));
            }
            client.connect(listener, 5000);
            client.setSoTimeout(10_000);
            try {
                client.getOutputStream().write("GET /get HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException closedBeforeOrWhileWriting) {
                // The filter closed the connection (possibly with a reset): nothing was answered.
                return "";
            }
        }
    }
}
