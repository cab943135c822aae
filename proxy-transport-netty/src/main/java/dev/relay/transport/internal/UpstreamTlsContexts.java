package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.PeerOptions;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client TLS contexts, one per distinct verification set-up, built once and shared: BoringSSL
 * (netty-tcnative) when it loads, the JDK's TLS otherwise.
 */
final class UpstreamTlsContexts {
    private record Key(boolean verifyCert, boolean verifyHostname, Alpn alpn, List<X509Certificate> roots) {}

    private final ConcurrentHashMap<Key, SslContext> contexts = new ConcurrentHashMap<>();
    private final SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;

    SslContext forOptions(PeerOptions options) {
        Key key = new Key(options.verifyCert(), options.verifyHostname(), options.alpn(), options.trustedCertificates());
        SslContext context = contexts.get(key);
        if (context == null) {
            context = contexts.computeIfAbsent(key, UpstreamTlsContexts::build0);
        }
        return context;
    }

    private static SslContext build0(Key key) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    // Hostname checking follows the peer's option; null turns it off.
                    .endpointIdentificationAlgorithm(key.verifyHostname() ? "HTTPS" : null);
            if (!key.verifyCert()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (!key.roots().isEmpty()) {
                builder.trustManager(key.roots().toArray(new X509Certificate[0]));
            }
            // Upstreams speak HTTP/1.1 (H2_OR_H1 falls back to it); offer it explicitly.
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    List.of(ApplicationProtocolNames.HTTP_1_1)));
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the upstream TLS context for " + key, e);
        }
    }

    String providerName() {
        return provider.name();
    }
}
