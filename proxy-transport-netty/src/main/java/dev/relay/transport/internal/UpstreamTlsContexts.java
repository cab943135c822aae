package dev.relay.transport.internal;

import dev.relay.core.Alpn;
import dev.relay.core.HttpPeer;
import dev.relay.core.PeerOptions;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseNotifier;
import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Client TLS contexts, one per distinct verification set-up (roots, hostname check, alternative
 * name, client certificate, ALPN), built once per process and shared: BoringSSL (netty-tcnative) when
 * it loads, the JDK's TLS otherwise. Used by the HTTP upstream connectors (proxy and client) and the
 * stream connector alike; a process has a handful of set-ups, and keeps their contexts for its life.
 *
 * <p>A context is built off the event loops ({@link #ready}): the first one loads the TLS provider
 * (BoringSSL's library, the JDK's security providers: 0.6 to 1 s), and one that trusts the JDK's roots
 * reads them, which an event loop must not wait for. Nothing is loaded before the first TLS peer, so a
 * proxy of plain-HTTP peers never loads any of it (about 14 MiB of RSS and 560 classes). A server that
 * knows its TLS peers ahead builds their contexts while it starts ({@link #prepare}), so that its first
 * requests to them do not wait.
 */
public final class UpstreamTlsContexts {
    private record Key(boolean verifyCert, boolean verifyHostname, Alpn alpn, List<X509Certificate> roots,
                       List<X509Certificate> clientChain, @Nullable PrivateKey clientKey,
                       @Nullable String alternativeName) {}

    private static final ConcurrentHashMap<Key, SslContext> CONTEXTS = new ConcurrentHashMap<>();

    /** Builds contexts one at a time (a second request for the one being built finds it done); no thread while idle. */
    static final ThreadPoolExecutor BUILDER = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), task -> {
                Thread thread = new Thread(task, "relay-tls-contexts");
                thread.setDaemon(true);
                return thread;
            });

    private UpstreamTlsContexts() {}

    /**
     * Builds the context for {@code options} on the background thread, unless it was built.
     *
     * @return completes when it is built, or with the reason it cannot be
     */
    public static CompletableFuture<Void> prepare(PeerOptions options) {
        Key key = keyOf(options);
        if (CONTEXTS.containsKey(key)) {
            return CompletableFuture.completedFuture(null);
        }
        return build(key);
    }

    /** Builds the context of {@code key} on the background thread (a second build finds it done). */
    private static CompletableFuture<Void> build(Key key) {
        CompletableFuture<Void> built = new CompletableFuture<>();
        BUILDER.execute(() -> {
            try {
                CONTEXTS.computeIfAbsent(key, UpstreamTlsContexts::build0);
                built.complete(null);
            } catch (Throwable e) {
                // An Error too (a TLS library that cannot link): whoever waits must hear of it.
                built.completeExceptionally(e);
            }
        });
        return built;
    }

    /** Whether the context for {@code options} is built (for tests and diagnostics). */
    public static boolean isBuilt(PeerOptions options) {
        return CONTEXTS.containsKey(keyOf(options));
    }

    /**
     * Completes on {@code loop} once the context for {@code options} is built: at once when it was,
     * else after a background thread built it (failed with the reason when it cannot be built).
     * {@link #newHandler} then takes it without waiting.
     */
    static Future<Void> ready(PeerOptions options, EventExecutor loop) {
        Key key = keyOf(options);
        if (CONTEXTS.containsKey(key)) {
            return loop.newSucceededFuture(null);
        }
        Promise<Void> built = loop.newPromise();
        build(key).whenComplete((ignored, failure) -> {
            if (failure == null) {
                built.setSuccess(null);
            } else {
                built.setFailure(failure);
            }
        });
        return built;
    }

    /**
     * Connects ({@code connect}) once the TLS context of {@code peer} is built: at once for a plain peer
     * or a set-up built before; a context that cannot be built fails the connection with its cause.
     * The caller's timeouts start when {@code connect} runs.
     */
    static Future<Channel> connectWhenReady(HttpPeer peer, EventLoop loop, Supplier<Future<Channel>> connect) {
        if (!peer.isTls()) {
            return connect.get();
        }
        Future<Void> built = ready(peer.options(), loop);
        if (built.isSuccess()) {
            return connect.get();
        }
        Promise<Channel> promise = loop.newPromise();
        built.addListener(f -> {
            Throwable failure = f.cause();
            if (failure == null) {
                try {
                    PromiseNotifier.cascade(connect.get(), promise);
                    return;
                } catch (RuntimeException e) {
                    // Thrown in a listener it would only be logged: the caller hears of it instead.
                    failure = e;
                }
            }
            promise.tryFailure(Errors.connectFailure(failure, "connect " + peer));
        });
        return promise;
    }

    static SslContext forOptions(PeerOptions options) {
        Key key = keyOf(options);
        SslContext context = CONTEXTS.get(key);
        if (context == null) {
            context = CONTEXTS.computeIfAbsent(key, UpstreamTlsContexts::build0);
        }
        return context;
    }

    private static Key keyOf(PeerOptions options) {
        return new Key(options.verifyCert(), options.verifyHostname(), options.alpn(), options.trustedCertificates(),
                options.clientCertificateChain(), options.clientKey(), options.alternativeName());
    }

    /**
     * A new client-side TLS handler for a connection of {@code channel} to {@code peer}: the peer's SNI
     * (else its address's host) is both the server name sent and the name verified; the peer's total
     * connection timeout bounds the handshake.
     */
    static SslHandler newHandler(HttpPeer peer, Channel channel) {
        SslContext context = forOptions(peer.options());
        SslHandler ssl;
        if (!peer.sni().isEmpty()) {
            ssl = context.newHandler(channel.alloc(), peer.sni(), peer.isUnix() ? -1 : peer.address().getPort());
        } else if (peer.isUnix()) {
            // A socket path names no host: no SNI and no host to verify unless the peer sets one.
            ssl = context.newHandler(channel.alloc());
        } else {
            ssl = context.newHandler(channel.alloc(), peer.address().getHostString(), peer.address().getPort());
        }
        if (peer.options().totalConnectionTimeout() != null) {
            ssl.setHandshakeTimeoutMillis(peer.options().totalConnectionTimeout().toMillis());
        }
        return ssl;
    }

    private static SslContext build0(Key key) {
        try {
            // With an alternative name the trust manager checks the names itself (SNI host or that
            // name); the engine's own check would accept the SNI host only.
            boolean engineChecksHost = key.verifyHostname() && key.alternativeName() == null;
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    // Hostname checking follows the peer's option; null turns it off.
                    .endpointIdentificationAlgorithm(engineChecksHost ? "HTTPS" : null);
            if (!key.verifyCert()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (key.verifyHostname() && key.alternativeName() != null) {
                builder.trustManager(AlternativeNameTrustManager.create(key.roots(), key.alternativeName()));
            } else if (!key.roots().isEmpty()) {
                builder.trustManager(key.roots().toArray(new X509Certificate[0]));
            }
            if (key.clientKey() != null) {
                builder.keyManager(key.clientKey(), key.clientChain().toArray(new X509Certificate[0]));
            }
            // What the peer may speak, preferred first; an origin without ALPN is taken to speak HTTP/1.1.
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    switch (key.alpn()) {
                        case H1 -> List.of(ApplicationProtocolNames.HTTP_1_1);
                        case H2 -> List.of(ApplicationProtocolNames.HTTP_2);
                        case H2_OR_H1 -> List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
                    }));
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the upstream TLS context for " + key, e);
        }
    }
}
