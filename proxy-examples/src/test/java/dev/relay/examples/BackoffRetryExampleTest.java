package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.core.HttpPeer;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.testing.Await;
import dev.relay.testing.TestOrigin;
import dev.relay.transport.ProxyOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The backoff_retry example: waits 10 ms, 100 ms, 1 s ... between connect attempts, and gets through once the origin is up. */
@Timeout(60)
class BackoffRetryExampleTest {
    private final ch.qos.logback.classic.Logger log =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BackoffRetryExample.class);
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void capture() {
        captured.start();
        log.addAppender(captured);
    }

    @AfterEach
    void release() {
        log.detachAppender(captured);
    }

    @Test
    void backoffGrowsTenfoldUpToTenSeconds() {
        assertEquals(List.of(10L, 100L, 1000L, 10_000L, 10_000L, 10_000L),
                List.of(1, 2, 3, 4, 5, 40).stream().map(r -> BackoffRetryExample.backoff(r).toMillis()).toList());
    }

    @Test
    void retriesWithGrowingPausesUntilTheOriginAcceptsConnections() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("late").build().start()) {
            origin.pause();
            Server server = Server.create();
            HttpProxyService proxy = Services.httpProxy(new BackoffRetryExample(HttpPeer.plain(origin.address())),
                    ProxyOptions.builder().maxAttempts(6).build());
            proxy.addTcp("127.0.0.1:0");
            server.addService(proxy);
            server.start();
            try {
                CompletableFuture<HttpResponse<String>> response = client.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                // Three refused connects, then the 1 s pause: the origin comes back during it.
                Await.until(() -> sleeps().contains("sleeping for 1000 ms"), Duration.ofSeconds(10), this::describe);
                origin.resume();

                assertEquals(200, response.get().statusCode());
                assertEquals("late", response.get().headers().firstValue("X-Origin").orElseThrow());
                assertEquals(List.of("sleeping for 10 ms", "sleeping for 100 ms", "sleeping for 1000 ms"),
                        sleeps().subList(0, 3));
                assertEquals(1, origin.requests().size());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }

    @Test
    void givesUpWith502AfterTheLastAttempt() throws Exception {
        Server server = Server.create();
        HttpProxyService proxy = Services.httpProxy(
                new BackoffRetryExample(HttpPeer.plain("127.0.0.1:" + TestOrigin.closedPort())),
                ProxyOptions.builder().maxAttempts(3).build());
        proxy.addTcp("127.0.0.1:0");
        server.addService(proxy);
        server.start();
        try {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.boundAddresses().get(0).getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, response.statusCode());
            assertEquals(List.of("sleeping for 10 ms", "sleeping for 100 ms"), sleeps());
        } finally {
            server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
    }

    private List<String> sleeps() {
        // AppenderBase appends under the appender's lock: read the list under it too.
        synchronized (captured) {
            return captured.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.startsWith("sleeping for")).toList();
        }
    }

    private String describe() {
        return "log so far: " + sleeps();
    }
}
