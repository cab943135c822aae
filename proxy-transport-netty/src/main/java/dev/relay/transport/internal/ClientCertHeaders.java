package dev.relay.transport.internal;

import dev.relay.core.ClientCertificate;
import dev.relay.core.TlsInfo;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.regex.Pattern;

/**
 * Forwards the client certificate of a mutual-TLS connection to the origin as request headers, for
 * listeners that ask for it ({@code TlsSettings.forwardClientCertificate}). The same-named headers a
 * client sent are removed first, always on such a listener, and so are look-alikes with {@code _}
 * for {@code -} (CGI-style origins read both as one): an origin that trusts them must only ever see
 * what the proxy verified. Applied to the request as it arrives, so the phases see (and
 * may change) what will be sent.
 */
final class ClientCertHeaders {
    static final String SUBJECT = "X-Client-Cert-Subject";
    static final String FINGERPRINT = "X-Client-Cert-Fingerprint";
    static final String VERIFY = "X-Client-Cert-Verify";
    static final String SAN = "X-Client-Cert-SAN";
    /** Compiled once: {@link #printable} runs for every request of a forwarding listener. */
    private static final Pattern NOT_PRINTABLE = Pattern.compile("[^\\x20-\\x7e]");

    private ClientCertHeaders() {}

    /** Replaces the client-certificate headers of {@code headers} when the connection's listener forwards them. */
    static void apply(TlsHandshakeHandler.@org.jspecify.annotations.Nullable DownstreamTls tls, HttpHeaders headers) {
        if (tls == null || !tls.forwardClientCertificate()) {
            return;
        }
        for (String name : headers.names()) {
            if (isClientCertHeader(name.replace('_', '-'))) {
                headers.remove(name);
            }
        }
        TlsInfo info = tls.info();
        headers.set(VERIFY, printable(info.clientVerify()));
        ClientCertificate cert = info.clientCertificate();
        if (cert != null) {
            headers.set(SUBJECT, printable(cert.subject()));
            headers.set(FINGERPRINT, cert.sha256Fingerprint());
            if (!cert.subjectAlternativeNames().isEmpty()) {
                headers.set(SAN, printable(String.join(", ", cert.subjectAlternativeNames())));
            }
        }
    }

    private static boolean isClientCertHeader(String name) {
        return name.equalsIgnoreCase(SUBJECT) || name.equalsIgnoreCase(FINGERPRINT) || name.equalsIgnoreCase(VERIFY)
                || name.equalsIgnoreCase(SAN);
    }

    /** Header values carry printable ASCII only, whatever a certificate's subject holds. */
    private static String printable(String value) {
        return NOT_PRINTABLE.matcher(value).replaceAll("?");
    }
}
