package dev.relay.testing;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(30)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OriginExtensionTest {
    private static final AtomicInteger firstPort = new AtomicInteger();
    private static final AtomicReference<TestOrigin> perTestOriginOfTestOne = new AtomicReference<>();

    @RegisterExtension
    static final OriginExtension origin = OriginExtension.plain("ext");

    @RegisterExtension
    final OriginExtension perTest = OriginExtension.plain("per-test");

    private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static void get(OriginExtension target) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(target.uri("/"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
    }

    @Test
    @Order(1)
    void startsTheOriginBeforeTheTests() throws Exception {
        firstPort.set(origin.port());
        perTestOriginOfTestOne.set(perTest.origin());
        get(origin);
        get(origin);

        assertEquals(2, origin.requests().size());
        assertEquals("ext", origin.origin().name());
        assertEquals("127.0.0.1:" + origin.port(), origin.address());
    }

    @Test
    @Order(2)
    void keepsTheOriginAcrossTestsButResetsWhatItRecorded() throws Exception {
        assertEquals(firstPort.get(), origin.port());
        assertEquals(0, origin.requests().size());
        assertEquals(0, origin.connectionsAccepted());

        get(origin);
        assertEquals(1, origin.requests().size());
    }

    @Test
    @Order(3)
    void anInstanceFieldExtensionRunsAnOriginPerTest() throws Exception {
        get(perTest);

        assertEquals(1, perTest.requests().size());
        assertEquals("per-test", perTest.origin().name());
        TestOrigin closed = perTestOriginOfTestOne.get();
        assertNotSame(closed, perTest.origin());
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(closed.socketAddress(), 5_000);
            }
        }, "the origin of the first test was closed after it");
    }

    @Test
    @Order(4)
    void theOriginIsNotAvailableOutsideTheTests() {
        OriginExtension unused = OriginExtension.plain("unused");

        assertThrows(IllegalStateException.class, unused::origin);
    }

    @Nested
    class NestedTests {
        @Test
        void shareTheEnclosingClassOrigin() throws Exception {
            assertEquals(firstPort.get(), origin.port());
            get(origin);
            assertEquals(1, origin.requests().size());
        }
    }
}
