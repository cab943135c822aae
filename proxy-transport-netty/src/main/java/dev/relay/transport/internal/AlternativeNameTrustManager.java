package dev.relay.transport.internal;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Verifies an upstream's certificate chain against the trusted roots (the JDK's, or the peer's
 * {@code trustedCertificates}), then accepts it when it names either the host the connection was
 * made for (the SNI) or one alternative name: Pingora's {@code alternative_cn}. The JDK's own
 * endpoint identification can only check one name, so the engine's check is off and this one runs
 * instead. Name matching follows RFC 6125 as the JDK does: DNS subject alternative names (a
 * wildcard only as the whole left-most label), IP addresses for IP literals, the subject's common
 * name only when the certificate has no DNS name.
 */
final class AlternativeNameTrustManager extends PkixTrustManager {
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    private final String alternativeName;

    private AlternativeNameTrustManager(X509ExtendedTrustManager chainCheck, String alternativeName) {
        super(chainCheck, "an upstream trust manager");
        this.alternativeName = alternativeName;
    }

    /** A trust manager over {@code roots} (empty: the JDK's default roots) that also accepts {@code alternativeName}. */
    static AlternativeNameTrustManager create(List<X509Certificate> roots, String alternativeName) {
        return new AlternativeNameTrustManager(pkix(roots.isEmpty() ? null : roots,
                "alternative name " + alternativeName), alternativeName);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        // The engine has no endpoint identification algorithm: this checks the chain only.
        pkix.checkServerTrusted(chain, authType, engine);
        checkNames(chain[0], engine == null ? null : engine.getPeerHost());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
        checkNames(chain[0], null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        checkNames(chain[0], null);
    }

    private void checkNames(X509Certificate certificate, String host) throws CertificateException {
        if ((host != null && names(certificate, host)) || names(certificate, alternativeName)) {
            return;
        }
        throw new CertificateException("the certificate of the upstream names neither '" + host
                + "' nor the alternative name '" + alternativeName + "'");
    }

    /** Whether {@code certificate} is for {@code name}. */
    static boolean names(X509Certificate certificate, String name) throws CertificateParsingException {
        boolean ipLiteral = isIpLiteral(name);
        boolean anyDns = false;
        Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (type == SAN_DNS) {
                    anyDns = true;
                    if (!ipLiteral && dnsMatches(value, name)) {
                        return true;
                    }
                } else if (type == SAN_IP && ipLiteral && ipEquals(value, name)) {
                    return true;
                }
            }
        }
        if (anyDns || ipLiteral) {
            return false;
        }
        String cn = commonName(certificate);
        return cn != null && dnsMatches(cn, name);
    }

    private static boolean dnsMatches(String pattern, String host) {
        String p = trimDot(pattern.toLowerCase(Locale.ROOT));
        String h = trimDot(host.toLowerCase(Locale.ROOT));
        if (!p.startsWith("*.")) {
            return p.equals(h);
        }
        int dot = h.indexOf('.');
        // "*.example.com" covers exactly one label; never a public suffix like "*.com".
        return dot > 0 && p.indexOf('.', 2) > 0 && h.substring(dot).equals(p.substring(1));
    }

    private static String trimDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static boolean isIpLiteral(String name) {
        return name.indexOf(':') >= 0 || name.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    private static boolean ipEquals(String a, String b) {
        try {
            // Literals only: InetAddress.getByName does no lookup for them.
            return java.net.InetAddress.getByName(a).equals(java.net.InetAddress.getByName(b));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String commonName(X509Certificate certificate) {
        try {
            javax.naming.ldap.LdapName dn = new javax.naming.ldap.LdapName(
                    certificate.getSubjectX500Principal().getName());
            for (javax.naming.ldap.Rdn rdn : dn.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            return null;
        }
        return null;
    }
}
