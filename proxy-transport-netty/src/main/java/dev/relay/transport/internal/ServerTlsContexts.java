package dev.relay.transport.internal;

import dev.relay.transport.TlsAccept;
import dev.relay.transport.TlsCertificate;
import dev.relay.transport.TlsSettings;
import dev.relay.transport.TlsSettings.CertificateEntry;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;

/**
 * The server TLS of one listener under one {@link TlsSettings}: an {@link SslContext} per
 * certificate, and the choice among them per handshake ({@link #map}, Netty's {@code SniHandler}
 * asks with the SNI name). BoringSSL through netty-tcnative when it loads, the JDK's TLS otherwise.
 *
 * <p>The served certificates are one immutable list swapped whole when a watched file changes, so a
 * handshake never sees half a change and connections already open keep the context they started
 * with. Session-ticket keys belong to the listener ({@link SessionTicketKeys}) and are given to
 * every context built, so resumption survives certificate changes and reloads.
 */
public final class ServerTlsContexts implements AsyncMapping<String, SslContext>, AutoCloseable {
    /** Offered with ALPN by a listener without HTTP/2. */
    static final List<String> ALPN_PROTOCOLS = List.of(ApplicationProtocolNames.HTTP_1_1);
    /**
     * Offered with ALPN by a listener with HTTP/2: {@code h2} first (the server picks in its own
     * order); the pipeline is chosen on {@code SslHandler.applicationProtocol()} after the handshake.
     */
    static final List<String> H2_ALPN_PROTOCOLS = List.of(ApplicationProtocolNames.HTTP_2,
            ApplicationProtocolNames.HTTP_1_1);
    /**
     * TLS 1.3's suites (all AEAD), then TLS 1.2 with forward secrecy (ECDHE) and AEAD only; in JSSE
     * names, which Netty maps to OpenSSL's.
     */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    /** Contexts kept for certificates a {@link TlsAccept} returned; beyond this the oldest is rebuilt on use. */
    private static final int SELECTED_CONTEXTS = 64;

    private record Served(TlsCertificate certificate, SslContext context) {}

    private final TlsSettings settings;
    /** Offered with ALPN; empty: no ALPN at all (a stream listener relays whatever protocol comes). */
    private final List<String> alpn;
    private final SslProvider provider;
    private final SessionTicketKeys ticketKeys;
    private final @Nullable ClientCertificateVerifier clientVerifier;
    private final List<@Nullable CertificateWatcher> watchers = new ArrayList<>();
    private final Map<TlsCertificate, SslContext> selected = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<TlsCertificate, SslContext> eldest) {
                    return size() > SELECTED_CONTEXTS;
                }
            });
    private volatile List<Served> served;
    private final List<ScheduledFuture<?>> tasks = new ArrayList<>();

    /**
     * Builds a context per certificate of {@code settings}.
     *
     * @throws IllegalArgumentException when a certificate cannot be used by the TLS provider
     */
    ServerTlsContexts(TlsSettings settings, List<String> alpn, SessionTicketKeys ticketKeys) {
        this.settings = settings;
        this.alpn = List.copyOf(alpn);
        this.ticketKeys = ticketKeys;
        this.provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        this.clientVerifier = settings.clientAuth() == TlsSettings.ClientAuth.NONE ? null
                : ClientCertificateVerifier.create(settings.clientCa(),
                        settings.clientAuth() == TlsSettings.ClientAuth.OPTIONAL);
        List<Served> initial = new ArrayList<>();
        for (CertificateEntry entry : settings.certificates()) {
            initial.add(new Served(entry.certificate(), newContext(entry.certificate())));
            watchers.add(entry.chainFile() == null ? null : new CertificateWatcher(entry.chainFile(), entry.keyFile()));
        }
        this.served = List.copyOf(initial);
    }

    /** Starts polling the certificate files and rotating ticket keys on {@code maintenance}. */
    void start(TlsMaintenance maintenance) {
        synchronized (tasks) {
            if (watchers.stream().anyMatch(w -> w != null)) {
                tasks.add(maintenance.every(settings.certificateCheckInterval().toNanos(), this::reloadChangedFiles));
            }
            if (provider != SslProvider.JDK) {
                tasks.add(maintenance.every(settings.ticketKeyRotation().toNanos(), this::rotateTicketKeys));
            }
        }
    }

    TlsSettings settings() {
        return settings;
    }

    /** The client-certificate check of these contexts; null when they ask for no client certificate. */
    @Nullable ClientCertificateVerifier clientVerifier() {
        return clientVerifier;
    }

    String providerName() {
        return provider.name();
    }

    /** Picks the context for a ClientHello that named {@code hostname} (null: no SNI). */
    @Override
    public Future<SslContext> map(@Nullable String hostname, Promise<SslContext> promise) {
        TlsAccept selector = settings.certificateSelector();
        if (selector == null) {
            return complete(promise, hostname, null);
        }
        CompletionStage<@Nullable TlsCertificate> stage;
        try {
            stage = selector.certificate(hostname);
        } catch (RuntimeException e) {
            return promise.setFailure(e);
        }
        stage.whenComplete((certificate, failure) -> {
            if (failure != null) {
                promise.tryFailure(failure);
            } else {
                complete(promise, hostname, certificate);
            }
        });
        return promise;
    }

    private Promise<SslContext> complete(Promise<SslContext> promise, @Nullable String hostname,
                                         @Nullable TlsCertificate chosen) {
        try {
            SslContext context = chosen != null ? contextFor(chosen) : select(hostname);
            if (context == null) {
                promise.tryFailure(new SSLHandshakeException("no certificate for " + hostname));
            } else {
                promise.trySuccess(context);
            }
        } catch (RuntimeException e) {
            promise.tryFailure(e);
        }
        return promise;
    }

    /** The first certificate whose names match {@code hostname}, else the first: the default. */
    @Nullable SslContext select(@Nullable String hostname) {
        List<Served> now = served;
        if (now.isEmpty()) {
            return null;
        }
        if (hostname != null) {
            for (Served s : now) {
                if (s.certificate().matches(hostname)) {
                    return s.context();
                }
            }
        }
        return now.get(0).context();
    }

    private SslContext contextFor(TlsCertificate certificate) {
        for (Served s : served) {
            if (s.certificate() == certificate) {
                return s.context();
            }
        }
        SslContext context = selected.get(certificate);
        if (context == null) {
            context = newContext(certificate);
            selected.put(certificate, context);
        }
        return context;
    }

    /**
     * Reloads the certificates whose files changed; a pair that does not load keeps the one served
     * until now and is logged once, then tried again on its next change. Runs on the maintenance
     * thread.
     */
    void reloadChangedFiles() {
        List<Served> next = null;
        for (int i = 0; i < watchers.size(); i++) {
            CertificateWatcher watcher = watchers.get(i);
            if (watcher == null || !watcher.changed()) {
                continue;
            }
            TlsCertificate loaded;
            SslContext context;
            try {
                loaded = TlsCertificate.fromPemFiles(watcher.chainFile(), watcher.keyFile());
                context = newContext(loaded);
            } catch (IllegalArgumentException e) {
                ProxyEngine.LOG.log(System.Logger.Level.WARNING, "TLS certificate {0} changed on disk but cannot be "
                        + "used, the previous one is still served (tried again on the next change): {1}",
                        watcher.chainFile(), e.getMessage());
                continue;
            }
            if (next == null) {
                next = new ArrayList<>(served);
            }
            next.set(i, new Served(loaded, context));
            ProxyEngine.LOG.log(System.Logger.Level.INFO, "TLS certificate {0} reloaded: {1}, valid until {2}",
                    watcher.chainFile(), loaded.names(), loaded.chain().get(0).getNotAfter().toInstant());
        }
        if (next != null) {
            served = List.copyOf(next);
        }
    }

    /** A new ticket key; the previous one still decrypts. Runs on the maintenance thread. */
    void rotateTicketKeys() {
        ticketKeys.rotate();
        for (Served s : served) {
            applyTicketKeys(s.context());
        }
        synchronized (selected) {
            selected.values().forEach(this::applyTicketKeys);
        }
    }

    private void applyTicketKeys(SslContext context) {
        if (context.sessionContext() instanceof OpenSslSessionContext openSsl) {
            openSsl.setTicketKeys(ticketKeys.current());
        }
    }

    private SslContext newContext(TlsCertificate certificate) {
        try {
            SslContextBuilder builder = SslContextBuilder
                    .forServer(certificate.privateKey(), certificate.chain().toArray(new X509Certificate[0]))
                    .sslProvider(provider)
                    .protocols(settings.minVersion() == TlsSettings.Version.TLS_1_3
                            ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"})
                    .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
            if (!alpn.isEmpty()) {
                builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        // A client offering none of ours gets no ALPN answer, and HTTP/1.1.
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        alpn));
            }
            if (clientVerifier != null) {
                builder.trustManager(clientVerifier)
                        .clientAuth(settings.clientAuth() == TlsSettings.ClientAuth.REQUIRE
                                ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            }
            SslContext context = builder.build();
            applyTicketKeys(context);
            return context;
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("the TLS provider (" + provider + ") refuses the certificate "
                    + certificate + ": " + e.getMessage(), e);
        }
    }

    /** Stops the file polling and key rotation of these contexts (a newer set replaces them). */
    @Override
    public void close() {
        synchronized (tasks) {
            tasks.forEach(t -> t.cancel(false));
            tasks.clear();
        }
    }
}
