package dev.relay.examples;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.transport.UpstreamClient;
import dev.relay.transport.UpstreamResponse;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The proxy's upstream side used as a plain HTTP client, as Pingora's {@code client} example does with
 * its connector: one TLS peer that may speak HTTP/2 or HTTP/1.1 (the origin chooses by ALPN), a
 * {@code GET /} with a {@code Host}, the response header printed, the body collected, and the page's
 * {@code <title>} shown when it has one. The connection goes back to the client's pool when the response
 * is complete, and closes with the client. {@link #main} bounds everything it waits for: connect, TLS,
 * each read and the request as a whole.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ClientExample            # 1.1.1.1:443, one.one.one.one
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ClientExample ADDRESS HOST
 * </pre>
 */
public final class ClientExample {
    private static final Pattern TITLE = Pattern.compile("<title>(.*?)</title>", Pattern.DOTALL);

    /** What the example fetched: the response and the page's title, empty when it has none (not HTML). */
    public record Page(UpstreamResponse response, Optional<String> title) {}

    /** What {@link #main} allows a step: connect, TLS handshake, a silence while reading. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);
    /** What {@link #main} allows the request as a whole. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private ClientExample() {}

    /**
     * Fetches {@code https://host/} from {@code address} (SNI and {@code Host}: {@code host}) with
     * {@code options} (ALPN h2-or-h1 is set here; trusted roots, timeouts ... come from the caller).
     *
     * @throws ProxyError when the request fails; a page without a title is no failure (an empty title)
     */
    public static Page fetch(UpstreamClient client, String address, String host, PeerOptions options) {
        requireNonNull(client, "client");
        HttpPeer peer = HttpPeer.tls(address, host).withOptions(options.toBuilder().alpn(Alpn.H2_OR_H1).build());
        RequestHeader request = RequestHeader.of("GET", "/").insertHeader("Host", host);
        UpstreamResponse response;
        try {
            response = client.send(peer, request, new byte[0]).toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof ProxyError error ? error : e;
        }
        Matcher title = TITLE.matcher(response.bodyText());
        return new Page(response, title.find() ? Optional.of(title.group(1).trim()) : Optional.empty());
    }

    /** Fetches {@code https://one.one.one.one/} from 1.1.1.1:443, or from the address and host given. */
    public static void main(String[] args) {
        String address = args.length > 0 ? args[0] : "1.1.1.1:443";
        String host = args.length > 1 ? args[1] : "one.one.one.one";
        // The defaults wait without end for a silent origin: a command-line tool must not hang.
        PeerOptions options = PeerOptions.builder().connectTimeout(STEP_TIMEOUT).totalConnectionTimeout(STEP_TIMEOUT)
                .readTimeout(STEP_TIMEOUT).writeTimeout(STEP_TIMEOUT).build();
        try (UpstreamClient client = UpstreamClient.builder().requestTimeout(REQUEST_TIMEOUT).build()) {
            Page page = fetch(client, address, host, options);
            System.out.println(page.response().status());
            page.response().header().headers().forEach((name, value) -> System.out.println(name + ": " + value));
            System.out.println("Page Title: " + page.title().orElse("(none: the body is no HTML page with a title)"));
        }
    }
}
