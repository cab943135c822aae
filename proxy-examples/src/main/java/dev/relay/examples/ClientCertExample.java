package dev.relay.examples;

import dev.relay.core.ClientCertificate;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import dev.relay.core.ProxyHttp;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.TlsInfo;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.transport.ProxyOptions;
import dev.relay.transport.TlsCertificate;
import dev.relay.transport.TlsSettings;
import org.jspecify.annotations.Nullable;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * An HTTPS server that requires client certificates, Pingora's {@code client_cert} example (in
 * pingora-core): the listener's {@link TlsSettings} ask for a certificate and refuse the handshake
 * unless it chains to the client CA ({@link TlsSettings.ClientAuth#REQUIRE}); every request then
 * gets, as plain text, the SNI name the client sent and the subject alternative names and common
 * name of its certificate, read from {@link Session#downstreamTls()} (Pingora reads them in a
 * handshake callback and stores them on the connection; Relay's handshake already records them).
 * The answer comes from {@link #requestFilter}: this proxy never contacts an upstream.
 *
 * <p>{@link CertPresentingProxy} is the other half of mutual TLS, the {@code Client} of Pingora's
 * {@code mtls} example: a proxy that presents its own client certificate to an upstream that
 * requires one (and verifies the upstream's certificate against a given CA).
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ClientCertExample \
 *     server-cert.pem server-key.pem client-ca.pem
 * curl -k --cert cert-1.pem --key key-1.pem --resolve myapp.example.com:6196:127.0.0.1 https://myapp.example.com:6196/
 * # with three more arguments, client-cert.pem client-key.pem server-ca.pem, plain HTTP on 127.0.0.1:6197
 * # is forwarded to the server above with that client certificate:
 * curl 127.0.0.1:6197/
 * </pre>
 */
public final class ClientCertExample implements ProxyHttp<Void> {

    /**
     * TLS settings that serve {@code serverChain}/{@code serverKey} and require a client certificate
     * issued by a CA in {@code clientCa} (Pingora's {@code set_verify(PEER | FAIL_IF_NO_PEER_CERT)} and
     * {@code set_ca_file}).
     *
     * @throws IllegalArgumentException when a file cannot be read or used
     */
    public static TlsSettings requireClientCertificates(Path serverChain, Path serverKey, Path clientCa) {
        return TlsSettings.builder()
                .certificate(serverChain, serverKey)
                .clientAuth(TlsSettings.ClientAuth.REQUIRE)
                .clientCa(clientCa)
                .build();
    }

    /** The example's service, named "my app", on a TLS listener at {@code address} with {@code tls}. */
    public static HttpProxyService service(String address, TlsSettings tls) {
        HttpProxyService app = HttpProxyService.create("my app", new ClientCertExample(),
                ProxyOptions.defaults());
        app.addTls(address, tls);
        return app;
    }

    @Override
    public Void newCtx() {
        return null;
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, Void ctx) {
        TlsInfo tls = session.downstreamTls();
        ClientCertificate certificate = tls == null ? null : tls.clientCertificate();
        String sni = tls == null || tls.serverName() == null ? "<none>" : tls.serverName();
        List<String> sans = certificate == null ? List.of() : certificate.subjectAlternativeNames();
        String commonName = certificate == null ? null : commonName(certificate.subject());
        String message = "Your SNI was: " + sni + "\n"
                + "Your SANs were: " + sans + "\n"
                + "Client Common Name (CN): " + (commonName == null ? "<none>" : commonName) + "\n";
        ResponseHeader header = ResponseHeader.of(200);
        header.headers().set("Content-Type", "text/plain");
        return session.respond(header, message.getBytes(StandardCharsets.UTF_8)).thenApply(v -> true);
    }

    /** Never called: {@link #requestFilter} answers every request. */
    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
        throw new IllegalStateException("requestFilter answers every request");
    }

    /** The CN of an RFC 2253 distinguished name; null when it has none. */
    static @Nullable String commonName(String distinguishedName) {
        try {
            for (Rdn rdn : new LdapName(distinguishedName).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    /**
     * A proxy that forwards every request over TLS to one upstream which requires a client
     * certificate, presenting {@code clientKey} and {@code clientChain} and verifying the upstream's
     * certificate (and its name, {@code sni}) against {@code upstreamCa}: Pingora's {@code mtls}
     * client side.
     */
    public static final class CertPresentingProxy implements ProxyHttp<Void> {
        private final HttpPeer upstream;

        /** Forwards to {@code address} ({@code host:port}) with SNI {@code sni}. */
        public CertPresentingProxy(String address, String sni, TlsCertificate clientCertificate,
                                   List<X509Certificate> upstreamCa) {
            PeerOptions options = PeerOptions.builder()
                    .verifyCert(true)
                    .verifyHostname(true)
                    .trustedCertificates(upstreamCa)
                    .clientCertificate(clientCertificate.privateKey(), clientCertificate.chain())
                    .build();
            this.upstream = HttpPeer.tls(requireNonNull(address, "address"), requireNonNull(sni, "sni"))
                    .withOptions(options);
        }

        @Override
        public Void newCtx() {
            return null;
        }

        @Override
        public CompletionStage<HttpPeer> upstreamPeer(Session session, Void ctx) {
            return CompletableFuture.completedFuture(upstream);
        }
    }

    /**
     * Serves HTTPS on 0.0.0.0:6196 with {@code args[0..2]} (server chain, server key, client CA);
     * with {@code args[3..5]} (client chain, client key, CA of the server certificate) also forwards
     * plain HTTP on 127.0.0.1:6197 to it, presenting that client certificate.
     */
    public static void main(String[] args) {
        if (args.length != 3 && args.length != 6) {
            System.err.println("usage: ClientCertExample server-cert.pem server-key.pem client-ca.pem"
                    + " [client-cert.pem client-key.pem server-ca.pem]");
            System.exit(2);
        }
        Server server = Server.create();
        server.bootstrap();
        server.addService(service("0.0.0.0:6196",
                requireClientCertificates(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]))));
        if (args.length == 6) {
            CertPresentingProxy client = new CertPresentingProxy("127.0.0.1:6196", "myapp.example.com",
                    TlsCertificate.fromPemFiles(Path.of(args[3]), Path.of(args[4])),
                    TlsCertificate.readCertificates(Path.of(args[5])));
            HttpProxyService forward = HttpProxyService.create("client", client, ProxyOptions.defaults());
            forward.addTcp("127.0.0.1:6197");
            server.addService(forward);
        }
        server.runForever();
    }
}
