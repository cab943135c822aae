package dev.relay.transport.internal;

import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The base of the engine's trust managers: each checks one kind of peer (upstream servers, or a
 * listener's clients) with the JDK's PKIX trust manager over a set of roots, and adds its own rule
 * (an alternative name; a lenient client check). A check for the other kind of peer fails: such a
 * trust manager is never installed where it would be asked. Subclasses override the three checks
 * of their kind.
 */
abstract class PkixTrustManager extends X509ExtendedTrustManager {
    /** The JDK's chain check. */
    final X509ExtendedTrustManager pkix;
    /** What this trust manager is, for the refusal of the other kind's checks. */
    private final String purpose;

    PkixTrustManager(X509ExtendedTrustManager pkix, String purpose) {
        this.pkix = pkix;
        this.purpose = purpose;
    }

    /**
     * The JDK's PKIX trust manager over {@code roots}, or over the JDK's default roots when
     * {@code roots} is null.
     *
     * @param forWhat what the roots are for, in the message of a failure
     */
    static X509ExtendedTrustManager pkix(@Nullable List<X509Certificate> roots, String forWhat) {
        try {
            KeyStore store = null;
            if (roots != null) {
                store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < roots.size(); i++) {
                    store.setCertificateEntry("root-" + i, roots.get(i));
                }
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK's " + factory.getAlgorithm()
                    + " trust manager is not an X509ExtendedTrustManager");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a trust manager for " + forWhat + ": " + e.getMessage(), e);
        }
    }

    private CertificateException notFor(String peers) {
        return new CertificateException(purpose + " does not check " + peers);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw notFor("clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw notFor("clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw notFor("clients");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw notFor("servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw notFor("servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw notFor("servers");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        // For a listener, sent in the CertificateRequest: clients pick a certificate issued by one of these.
        return pkix.getAcceptedIssuers();
    }
}
