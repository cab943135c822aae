package dev.relay.transport.internal;

import dev.relay.core.ClientCertificate;
import dev.relay.core.TlsInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Sits right after the listener's TLS handler until the handshake ends: on success it records what
 * the handshake settled ({@link TlsInfo}) on the channel, where the request streams find it, and
 * leaves the pipeline; on failure (a bad or missing client certificate under {@code require}, no
 * common version or cipher, a timeout, plain HTTP sent to a TLS port ...) it logs one DEBUG line and
 * closes. A client's failed handshake is not the operator's problem, so never a stack trace.
 */
final class TlsHandshakeHandler extends ChannelInboundHandlerAdapter {
    /** What the handshake settled, and whether this listener forwards the client certificate. */
    static final AttributeKey<DownstreamTls> DOWNSTREAM_TLS = AttributeKey.valueOf("relay.downstream-tls");

    /** The TLS facts of a connection and its listener's forwarding rule. */
    record DownstreamTls(TlsInfo info, boolean forwardClientCertificate) {}

    /** The listener's client-certificate check; null when it asks for no client certificate. */
    private final @Nullable ClientCertificateVerifier clientVerifier;
    private final boolean forwardClientCertificate;
    private final TlsHandshakeCounters counters;
    private @Nullable String serverName;
    private boolean failed;

    TlsHandshakeHandler(@Nullable ClientCertificateVerifier clientVerifier, boolean forwardClientCertificate,
                        TlsHandshakeCounters counters) {
        this.clientVerifier = clientVerifier;
        this.forwardClientCertificate = forwardClientCertificate;
        this.counters = counters;
    }

    /** The TLS facts of {@code channel}; null on a plain connection or before the handshake ends. */
    static @Nullable DownstreamTls of(Channel channel) {
        return channel.hasAttr(DOWNSTREAM_TLS) ? channel.attr(DOWNSTREAM_TLS).get() : null;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SniCompletionEvent sni) {
            serverName = sni.hostname();
            if (!sni.isSuccess()) {
                fail(ctx, sni.cause());
                return;
            }
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                ctx.channel().attr(DOWNSTREAM_TLS).set(new DownstreamTls(
                        info(ssl.engine().getSession(), ssl.applicationProtocol()), forwardClientCertificate));
                counters.completed();
                ctx.pipeline().remove(this);
            } else {
                fail(ctx, done.cause());
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Before the handshake ends, every error is a failed handshake (the handler leaves after it).
        fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!failed) {
            // The client went away during the handshake.
            failed = true;
            counters.failed();
            debug(ctx, "closed by the client");
        }
        ctx.fireChannelInactive();
    }

    private void fail(ChannelHandlerContext ctx, @Nullable Throwable cause) {
        if (!failed) {
            failed = true;
            counters.failed();
            debug(ctx, describe(cause));
        }
        ctx.close();
    }

    private void debug(ChannelHandlerContext ctx, String why) {
        ProxyEngine.LOG.log(System.Logger.Level.DEBUG, "TLS handshake from {0} (SNI {1}) failed: {2}",
                ctx.channel().remoteAddress(), serverName == null ? "none" : serverName, why);
    }

    private static String describe(@Nullable Throwable cause) {
        if (cause == null) {
            return "unknown";
        }
        // DecoderException wraps the SSLException that says what went wrong.
        Throwable t = cause;
        while (t.getCause() != null && t.getMessage() != null && t.getMessage().startsWith(t.getCause().getClass().getName())) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private TlsInfo info(SSLSession session, @Nullable String alpn) {
        ClientCertificate client = null;
        if (clientVerifier != null) {
            try {
                Certificate[] peer = session.getPeerCertificates();
                if (peer.length > 0 && peer[0] instanceof X509Certificate leaf) {
                    X509Certificate[] chain = java.util.Arrays.stream(peer).filter(X509Certificate.class::isInstance)
                            .toArray(X509Certificate[]::new);
                    client = clientCertificate(leaf, clientVerifier.failure(session, chain));
                }
            } catch (SSLPeerUnverifiedException noCertificate) {
                // The client presented none (allowed under optional).
            }
        }
        return new TlsInfo(session.getProtocol(), session.getCipherSuite(), serverName, alpn, client);
    }

    static ClientCertificate clientCertificate(X509Certificate leaf, @Nullable String failure) {
        String fingerprint;
        try {
            fingerprint = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot fingerprint a client certificate", e);
        }
        return new ClientCertificate(leaf.getSubjectX500Principal().getName(), leaf.getIssuerX500Principal().getName(),
                subjectAlternativeNames(leaf), fingerprint, leaf.getSerialNumber().toString(16).toUpperCase(Locale.ROOT),
                leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant(),
                failure == null ? ClientCertificate.Verification.VERIFIED : ClientCertificate.Verification.FAILED,
                failure);
    }

    private static List<String> subjectAlternativeNames(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            var sans = leaf.getSubjectAlternativeNames();
            if (sans == null) {
                return out;
            }
            for (List<?> san : sans) {
                String type = switch ((Integer) san.get(0)) {
                    case 1 -> "email";
                    case 2 -> "DNS";
                    case 6 -> "URI";
                    case 7 -> "IP";
                    default -> null;
                };
                if (type != null && san.get(1) instanceof String value) {
                    out.add(type + ":" + value);
                }
            }
        } catch (CertificateParsingException e) {
            // An unreadable extension: no names rather than no certificate.
        }
        return out;
    }
}
