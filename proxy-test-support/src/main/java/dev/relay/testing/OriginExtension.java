package dev.relay.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Runs a {@link TestOrigin} for a test class: started before all its tests, closed after them, its
 * recorded requests and connection count {@linkplain TestOrigin#reset() reset} before each test.
 *
 * <pre>{@code
 * class ForwardingTest {
 *     @RegisterExtension
 *     static final OriginExtension origin = OriginExtension.plain("a");
 *
 *     @Test
 *     void forwardsTheHostHeader() {
 *         // ... send through the proxy to origin.address() ...
 *         assertEquals("a.example", origin.awaitRequests(1, Duration.ofSeconds(5)).get(0).header("Host"));
 *     }
 * }
 * }</pre>
 *
 * <p>Registered on an instance field instead, it starts and closes an origin around each test. Nested
 * test classes share their enclosing class's origin.
 */
public final class OriginExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {

    private final TestOrigin.Builder builder;
    private volatile TestOrigin origin;
    /** The unique id of the context that started {@link #origin}: only that context closes it. */
    private volatile String ownerContextId;

    private OriginExtension(TestOrigin.Builder builder) {
        this.builder = requireNonNull(builder, "builder");
    }

    /** A plain-HTTP origin named {@code name} with the default routes. */
    public static OriginExtension plain(String name) {
        return new OriginExtension(TestOrigin.builder().name(name));
    }

    /** A TLS origin named {@code name} with the default routes and {@link TestCertificates#localhost()}. */
    public static OriginExtension tls(String name) {
        return new OriginExtension(TestOrigin.builder().name(name).tls(TestCertificates.localhost()));
    }

    /**
     * An origin built from {@code builder} (custom handlers, TLS, ...). The builder is read when the
     * origin starts.
     */
    public static OriginExtension of(TestOrigin.Builder builder) {
        return new OriginExtension(builder);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        startIfNeeded(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        // Instance-field registration gets no beforeAll: then the origin lives for one test.
        startIfNeeded(context);
        origin.reset();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeIfOwner(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeIfOwner(context);
    }

    private void startIfNeeded(ExtensionContext context) {
        if (origin == null) {
            origin = builder.build().start();
            ownerContextId = context.getUniqueId();
        }
    }

    private void closeIfOwner(ExtensionContext context) {
        TestOrigin running = origin;
        if (running != null && context.getUniqueId().equals(ownerContextId)) {
            origin = null;
            ownerContextId = null;
            running.close();
        }
    }

    /**
     * The running origin.
     *
     * @throws IllegalStateException outside the tests of the class that registered this extension
     */
    public TestOrigin origin() {
        TestOrigin running = origin;
        if (running == null) {
            throw new IllegalStateException("the origin runs only during the tests of the class that registers "
                    + "this extension");
        }
        return running;
    }

    /** {@link TestOrigin#port()}. */
    public int port() {
        return origin().port();
    }

    /** {@link TestOrigin#address()}: {@code "127.0.0.1:PORT"}. */
    public String address() {
        return origin().address();
    }

    /** {@link TestOrigin#uri(String)}. */
    public URI uri(String pathAndQuery) {
        return origin().uri(pathAndQuery);
    }

    /** {@link TestOrigin#requests()}. */
    public List<RecordedRequest> requests() {
        return origin().requests();
    }

    /** {@link TestOrigin#awaitRequests(int, Duration)}. */
    public List<RecordedRequest> awaitRequests(int count, Duration timeout) {
        return origin().awaitRequests(count, timeout);
    }

    /** {@link TestOrigin#connectionsAccepted()}. */
    public int connectionsAccepted() {
        return origin().connectionsAccepted();
    }
}
