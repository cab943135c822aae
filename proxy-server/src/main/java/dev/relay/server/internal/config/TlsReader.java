package dev.relay.server.internal.config;

import dev.relay.transport.TlsCertificate;
import dev.relay.transport.TlsSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a listener's {@code tls} block into {@link TlsSettings}, reading the PEM files as it goes,
 * so that {@code -t} and a reload reject a missing, unreadable, encrypted or mismatched file with
 * the line of its {@code cert} or {@code key} key and the file's path. Relative paths are relative
 * to the configuration file. All of it applies on a reload (new handshakes get it; the socket stays
 * bound), so nothing here is restart-only.
 */
final class TlsReader {
    private static final Set<String> TLS_KEYS = Set.of("certificates", "client-auth", "client-ca", "min-version",
            "handshake-timeout", "forward-client-cert", "ticket-key-rotation", "certificate-check-interval");
    private static final Set<String> CERTIFICATE_KEYS = Set.of("cert", "key");
    private static final Map<String, TlsSettings.ClientAuth> CLIENT_AUTH = Map.of(
            "none", TlsSettings.ClientAuth.NONE, "optional", TlsSettings.ClientAuth.OPTIONAL,
            "require", TlsSettings.ClientAuth.REQUIRE);
    private static final Map<String, TlsSettings.Version> VERSIONS = Map.of(
            "tlsv1.2", TlsSettings.Version.TLS_1_2, "tlsv1.3", TlsSettings.Version.TLS_1_3);

    private TlsReader() {}

    /** The listener's TLS; null when the block is absent (plain HTTP). */
    static TlsSettings tls(ConfigNode node) {
        if (node.isMissing()) {
            return null;
        }
        node.checkKeys(TLS_KEYS);
        TlsSettings.Builder builder = TlsSettings.builder();
        // Which key named each file, for errors about the file: the builder reads them all at build().
        Map<Path, ConfigNode> files = new HashMap<>();
        ConfigNode certificates = node.get("certificates");
        if (certificates.isMissing()) {
            throw certificates.problem("missing (expected: certificates = [ { cert = \"site.pem\", key = \"site.key\" } ])");
        }
        for (ConfigNode item : certificates.nonEmptyList("at least one { cert = ..., key = ... }")) {
            certificate(item, builder, files);
        }
        TlsSettings.ClientAuth clientAuth = clientAuth(node.get("client-auth"));
        builder.clientAuth(clientAuth);
        ConfigNode clientCa = node.get("client-ca");
        if (clientAuth != TlsSettings.ClientAuth.NONE) {
            if (clientCa.isMissing()) {
                throw clientCa.problem("missing (expected: the PEM file of the CA that issues client certificates, "
                        + "needed with client-auth = " + clientAuth.name().toLowerCase(Locale.ROOT) + ")");
            }
            Path ca = clientCa.filePath();
            files.putIfAbsent(ca, clientCa);
            builder.clientCa(ca);
        }
        if (node.has("min-version")) {
            builder.minVersion(node.get("min-version").choice(VERSIONS, "TLSv1.2 or TLSv1.3"));
        }
        builder.handshakeTimeout(node.get("handshake-timeout").clientTimeout(TlsSettings.DEFAULT_HANDSHAKE_TIMEOUT));
        builder.ticketKeyRotation(durationBetween(node.get("ticket-key-rotation"),
                TlsSettings.DEFAULT_TICKET_KEY_ROTATION, Duration.ofSeconds(1), Duration.ofDays(7)));
        // A floor, so that a typo (1ns, 1ms) does not turn the file check into a busy loop.
        builder.certificateCheckInterval(durationBetween(node.get("certificate-check-interval"),
                TlsSettings.DEFAULT_CERTIFICATE_CHECK_INTERVAL, Duration.ofMillis(100), Duration.ofHours(1)));
        ConfigNode forward = node.get("forward-client-cert");
        boolean forwardClientCert = !forward.isMissing() && forward.bool();
        if (forwardClientCert && clientAuth == TlsSettings.ClientAuth.NONE) {
            throw forward.problem("true (expected: client-auth = optional or require; with none there is no "
                    + "client certificate to forward)");
        }
        builder.forwardClientCertificate(forwardClientCert);
        try {
            return builder.build();
        } catch (TlsCertificate.FileException e) {
            throw files.getOrDefault(e.file(), node).problem(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw node.problem(e.getMessage());
        }
    }

    /** One {@code { cert, key }}; the builder reads both files and checks them against each other. */
    private static void certificate(ConfigNode item, TlsSettings.Builder builder, Map<Path, ConfigNode> files) {
        item.checkKeys(CERTIFICATE_KEYS);
        ConfigNode certNode = item.get("cert");
        ConfigNode keyNode = item.get("key");
        if (certNode.isMissing()) {
            throw certNode.problem("missing (expected: the PEM file of the certificate chain, server certificate first)");
        }
        if (keyNode.isMissing()) {
            throw keyNode.problem("missing (expected: the PEM file of the certificate's private key)");
        }
        Path cert = certNode.filePath();
        Path key = keyNode.filePath();
        files.putIfAbsent(cert, certNode);
        files.putIfAbsent(key, keyNode);
        builder.certificate(cert, key);
    }

    private static TlsSettings.ClientAuth clientAuth(ConfigNode node) {
        return node.isMissing() ? TlsSettings.ClientAuth.NONE : node.choice(CLIENT_AUTH, "none, optional or require");
    }

    /** The duration at {@code node}, {@code fallback} when missing; a problem naming the key outside {@code min..max}. */
    private static Duration durationBetween(ConfigNode node, Duration fallback, Duration min, Duration max) {
        Duration d = node.positiveDuration(fallback, max);
        if (d.compareTo(min) < 0) {
            throw node.problem("'" + node.string() + "' (expected: >= " + ConfigText.duration(min) + " and <= "
                    + ConfigText.duration(max) + ")");
        }
        return d;
    }
}
