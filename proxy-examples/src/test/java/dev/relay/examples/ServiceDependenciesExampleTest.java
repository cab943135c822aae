package dev.relay.examples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.relay.examples.ServiceDependenciesExample.ApiService;
import dev.relay.examples.ServiceDependenciesExample.CacheService;
import dev.relay.examples.ServiceDependenciesExample.DatabaseService;
import dev.relay.server.Server;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Three services with dependencies: they start in dependency order, stop in reverse, and the order matters. */
@Timeout(60)
class ServiceDependenciesExampleTest {
    private final ch.qos.logback.classic.Logger log =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(ServiceDependenciesExample.class);
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();

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
    void theApiStartsAfterTheDatabaseAndCacheAreReadyAndStopsFirst() throws Exception {
        DatabaseService database = new DatabaseService(Duration.ofMillis(300));
        CacheService cache = new CacheService(Duration.ofMillis(100));
        ApiService api = new ApiService(database, cache, "127.0.0.1:0");
        Server server = Server.create();
        server.addService(database);
        server.addService(cache);
        server.addService(api);
        server.start();
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + api.boundAddresses().get(0).getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("using database connection postgresql://localhost:5432/mydb\n", response.body());
        } finally {
            server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
        }
        assertEquals(List.of(
                "DatabaseService: starting initialization...",
                "DatabaseService: initialization complete, ready",
                "CacheService: starting...",
                "CacheService: warm-up complete, ready",
                "ApiService: starting (dependencies should be ready)...",
                "ApiService: using database connection postgresql://localhost:5432/mydb",
                "ApiService: ready to serve requests",
                "ApiService: shutting down",
                "CacheService: shutting down",
                "DatabaseService: shutting down"), messages());
    }

    @Test
    void anApiAddedBeforeItsDependenciesFailsTheServerStart() {
        DatabaseService database = new DatabaseService(Duration.ZERO);
        CacheService cache = new CacheService(Duration.ZERO);
        Server server = Server.create();
        server.addService(new ApiService(database, cache, "127.0.0.1:0"));
        server.addService(database);
        server.addService(cache);
        IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
        assertTrue(e.getMessage().contains("not ready"), e.getMessage());
        assertTrue(server.terminationFuture().toCompletableFuture().isDone(), "the failed server has stopped");
        assertTrue(messages().stream().noneMatch(m -> m.startsWith("DatabaseService")),
                "nothing after the failed service started: " + messages());
    }

    private List<String> messages() {
        return captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
