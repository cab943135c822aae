package dev.relay.examples;

import dev.relay.core.Addresses;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.StreamProxy;
import dev.relay.core.StreamSession;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Service;
import dev.relay.server.StreamProxyService;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.StreamOptions;
import dev.relay.transport.TlsCertificate;
import dev.relay.transport.TlsSettings;
import dev.relay.transport.TransportRuntime;
import dev.relay.core.Stages;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * One server process running several services, Pingora's {@code server} example
 * ({@code pingora/examples/server.rs} with its {@code app} and {@code service} modules):
 *
 * <table>
 *   <caption>The services (Pingora's ports)</caption>
 *   <tr><th>port</th><th>service</th><th>try it</th></tr>
 *   <tr><td>6142</td><td>TCP echo ({@link EchoService})</td><td>{@code nc 127.0.0.1 6142}</td></tr>
 *   <tr><td>6143</td><td>TLS echo</td><td>{@code openssl s_client -connect 127.0.0.1:6143}</td></tr>
 *   <tr><td>6145</td><td>HTTP echo ({@link HttpEchoApp})</td><td>{@code curl http://127.0.0.1:6145 -d 'hello'}</td></tr>
 *   <tr><td>/tmp/echo.sock</td><td>HTTP echo on a Unix socket</td>
 *       <td>{@code curl --unix-socket /tmp/echo.sock http://localhost/ -d 'hello'}</td></tr>
 *   <tr><td>6148</td><td>HTTPS echo (h2 or HTTP/1.1), certificate chosen by a {@code TlsAccept}
 *       callback like Pingora's {@code DynamicCert}</td><td>{@code curl https://127.0.0.1:6148 -k -d 'hello'}</td></tr>
 *   <tr><td>6141</td><td>TCP proxy to 1.1.1.1:80 ({@link FixedUpstream})</td>
 *       <td>{@code curl http://127.0.0.1:6141 -H 'host: 1.1.1.1'}</td></tr>
 *   <tr><td>6144</td><td>TLS proxy: TLS terminated here, TLS again to 1.1.1.1:443 with SNI one.one.one.one</td>
 *       <td>{@code curl https://127.0.0.1:6144 -k -H 'host: one.one.one.one'}</td></tr>
 *   <tr><td>-</td><td>a background service ticking every second ({@link TickingBackgroundService})</td><td></td></tr>
 * </table>
 *
 * <p>Differences from Pingora, where Relay's API has no equal:
 * <ul>
 *   <li>Relay has no byte-stream "server app" on its event loops (its stream services always relay to
 *       an upstream), so the echo service is a {@link Service} of its own on JDK sockets, one thread
 *       per connection: the way to add any custom listener to a {@link Server}.</li>
 *   <li>Pingora caps the HTTPS echo at TLS 1.2 for the demo; Relay's {@link TlsSettings} set the
 *       lowest version only, so it negotiates TLS 1.3 where the client can.</li>
 *   <li>Pingora's Prometheus endpoint (port 6150) is, in Relay, the configured server's admin
 *       listener ({@code /metrics}, see the README), which is not part of the programmatic API.</li>
 * </ul>
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ServerExample server.pem server.key
 * </pre>
 */
public final class ServerExample {
    /** How much of a request body the HTTP echo reads; more gets 413. */
    static final int MAX_ECHO_BODY = 1 << 20;

    /** Where each service listens. */
    public record Listeners(String echoTcp, String echoTls, String httpTcp, Path httpUnix, String httpTls,
                            String tcpProxy, String tlsProxy) {

        /** Checks the components. */
        public Listeners {
            requireNonNull(echoTcp, "echoTcp");
            requireNonNull(echoTls, "echoTls");
            requireNonNull(httpTcp, "httpTcp");
            requireNonNull(httpUnix, "httpUnix");
            requireNonNull(httpTls, "httpTls");
            requireNonNull(tcpProxy, "tcpProxy");
            requireNonNull(tlsProxy, "tlsProxy");
        }

        /** Pingora's addresses. */
        public static Listeners pingoras() {
            return new Listeners("127.0.0.1:6142", "0.0.0.0:6143", "0.0.0.0:6145", Path.of("/tmp/echo.sock"),
                    "0.0.0.0:6148", "0.0.0.0:6141", "0.0.0.0:6144");
        }

        /**
         * Every TCP listener on loopback with a free port, the HTTP echo's Unix socket at
         * {@code httpUnix}. The HTTPS echo listens on 127.0.0.2: an {@link HttpProxyService} knows its
         * listeners by their configured address and refuses a second with the same text, so its plain and
         * TLS listeners need two.
         */
        public static Listeners loopback(Path httpUnix) {
            return new Listeners("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", httpUnix, "127.0.0.2:0",
                    "127.0.0.1:0", "127.0.0.1:0");
        }
    }

    private final EchoService echo;
    private final HttpProxyService httpEcho;
    private final StreamProxyService tcpProxy;
    private final StreamProxyService tlsProxy;
    private final TickingBackgroundService background;

    /**
     * Adds the example's services to {@code server}: listening on {@code listeners}, serving
     * {@code certificate} on every TLS listener, the TCP proxy relaying to {@code tcpProxyTo} and the
     * TLS proxy to {@code tlsProxyTo} (a TLS peer).
     */
    public ServerExample(Server server, Listeners listeners, TlsCertificate certificate, HttpPeer tcpProxyTo,
                         HttpPeer tlsProxyTo) {
        requireNonNull(certificate, "certificate");
        TlsSettings tls = TlsSettings.builder().certificate(certificate).build();

        echo = new EchoService("echo");
        echo.addTcp(listeners.echoTcp());
        echo.addTls(listeners.echoTls(), certificate);

        // Pingora's DynamicCert: the certificate comes from a per-handshake callback.
        TlsSettings dynamic = TlsSettings.builder()
                .certificateSelector(serverName -> CompletableFuture.completedFuture(certificate))
                .build();
        httpEcho = HttpProxyService.create("echo http", new HttpEchoApp(), ProxyOptions.defaults());
        httpEcho.addTcp(listeners.httpTcp());
        httpEcho.addUnix(listeners.httpUnix().toString(), ListenerOptions.inherit());
        httpEcho.addTls(listeners.httpTls(), dynamic);

        tcpProxy = StreamProxyService.create("proxy", new FixedUpstream(tcpProxyTo), StreamOptions.defaults());
        tcpProxy.addTcp(listeners.tcpProxy());
        tlsProxy = StreamProxyService.create("proxy tls", new FixedUpstream(tlsProxyTo), StreamOptions.defaults());
        tlsProxy.addTls(listeners.tlsProxy(), tls);

        background = new TickingBackgroundService(Duration.ofSeconds(1));

        server.addService(echo);
        server.addService(httpEcho);
        server.addService(tcpProxy);
        server.addService(tlsProxy);
        server.addService(background);
    }

    /** The TCP and TLS echo service. */
    public EchoService echo() {
        return echo;
    }

    /** The HTTP echo on TCP, the Unix socket and TLS. */
    public HttpProxyService httpEcho() {
        return httpEcho;
    }

    /** The TCP proxy. */
    public StreamProxyService tcpProxy() {
        return tcpProxy;
    }

    /** The TLS proxy. */
    public StreamProxyService tlsProxy() {
        return tlsProxy;
    }

    /** The background service. */
    public TickingBackgroundService background() {
        return background;
    }

    /**
     * Answers every request with its own body (or {@code no body!}), Pingora's {@code HttpEchoApp}; it
     * never contacts an upstream.
     */
    public static final class HttpEchoApp implements ProxyHttp<Void> {
        private static final byte[] NO_BODY = "no body!".getBytes(StandardCharsets.US_ASCII);

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<Boolean> requestFilter(Session session, Void ctx) {
            return session.readRequestBody(MAX_ECHO_BODY).thenCompose(body -> {
                ResponseHeader header = ResponseHeader.of(200);
                header.headers().set("Content-Type", "text/html");
                return session.respond(header, body.length == 0 ? NO_BODY : body);
            }).thenApply(v -> true);
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
            throw new IllegalStateException("requestFilter answers every request");
        }
    }

    /** Relays every connection to one peer, Pingora's {@code ProxyApp}; a TLS peer gets TLS (and its SNI). */
    public static final class FixedUpstream implements StreamProxy<Void> {
        private final CompletionStage<HttpPeer> peer;

        /** Relays to {@code peer}. */
        public FixedUpstream(HttpPeer peer) {
            this.peer = CompletableFuture.completedFuture(requireNonNull(peer, "peer"));
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(StreamSession session, Void ctx) {
            return peer;
        }
    }

    /**
     * Pingora's {@code ExampleBackgroundService}: work done every {@code period} until the server
     * stops, on a thread of its own (never an event loop).
     */
    public static final class TickingBackgroundService implements Service {
        private final Duration period;
        private final AtomicLong ticks = new AtomicLong();
        private volatile @Nullable ScheduledExecutorService timer;

        /** Ticks every {@code period}, the first time at start. */
        public TickingBackgroundService(Duration period) {
            this.period = requireNonNull(period, "period");
        }

        /** How often it has ticked. */
        public long ticks() {
            return ticks.get();
        }

        /** Whether it runs. */
        public boolean isRunning() {
            ScheduledExecutorService t = timer;
            return t != null && !t.isShutdown();
        }

        @Override
        public String name() {
            return "example";
        }

        @Override
        public void start(TransportRuntime runtime) {
            ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "example-background");
                thread.setDaemon(true);
                return thread;
            });
            // "Do some work": here, count.
            t.scheduleAtFixedRate(ticks::incrementAndGet, 0, period.toMillis(), TimeUnit.MILLISECONDS);
            timer = t;
        }

        @Override
        public CompletionStage<Void> stop(Duration gracePeriod) {
            close();
            return Stages.done();
        }

        @Override
        public void close() {
            ScheduledExecutorService t = timer;
            if (t != null) {
                t.shutdownNow();
            }
        }
    }

    /**
     * Pingora's example server, with Pingora's ports; {@code args}: the PEM certificate chain and
     * private key that the TLS listeners serve.
     */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: ServerExample server-cert.pem server-key.pem");
            System.exit(2);
        }
        Server server = Server.create();
        server.bootstrap();
        new ServerExample(server, Listeners.pingoras(), TlsCertificate.fromPemFiles(Path.of(args[0]), Path.of(args[1])),
                HttpPeer.plain("1.1.1.1:80"), HttpPeer.tls("1.1.1.1:443", "one.one.one.one"));
        server.runForever();
    }

    /** {@code host:port} as a bindable address (an IP literal stays as it is; {@code *} is any address). */
    static java.net.InetSocketAddress bindable(String address) {
        java.net.InetSocketAddress parsed = Addresses.parseHostPort(address);
        return parsed.isUnresolved() ? new java.net.InetSocketAddress(parsed.getHostString(), parsed.getPort()) : parsed;
    }
}
