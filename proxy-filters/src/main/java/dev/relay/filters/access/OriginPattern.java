package dev.relay.filters.access;

import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * An allowed CORS origin: exact ({@code https://app.example}, {@code http://localhost:3000}) or any
 * subdomain of a domain ({@code https://*.example.com}: {@code https://a.example.com} and
 * {@code https://a.b.example.com}, not {@code https://example.com}). Scheme and port must match as
 * written (an origin without a port has the scheme's default one). Immutable.
 */
final class OriginPattern {
    private final String text;
    /** For a wildcard: {@code https://}; for an exact origin: the whole origin. */
    private final String prefix;
    /** For a wildcard: {@code .example.com} and the port, if any; empty for an exact origin. */
    private final String suffix;
    private final boolean wildcard;

    private OriginPattern(String text, String prefix, String suffix, boolean wildcard) {
        this.text = text;
        this.prefix = prefix;
        this.suffix = suffix;
        this.wildcard = wildcard;
    }

    /**
     * Parses {@code scheme://host[:port]}, the host possibly {@code *.domain}.
     *
     * @throws IllegalArgumentException saying what is expected
     */
    static OriginPattern parse(String text) {
        requireNonNull(text, "text");
        String origin = text.strip().toLowerCase(Locale.ROOT);
        int schemeEnd = origin.indexOf("://");
        String expected = "allow-origins: '" + text + "' (expected: scheme://host[:port], as https://app.example, or "
                + "https://*.example.com for its subdomains, with no path";
        if (origin.equals("null")) {
            throw new IllegalArgumentException(expected + "; the 'null' origin of sandboxed documents and files is never "
                    + "allowed by name: any page can produce it)");
        }
        if (schemeEnd <= 0 || !isScheme(origin.substring(0, schemeEnd))) {
            throw new IllegalArgumentException(expected + ")");
        }
        String authority = origin.substring(schemeEnd + 3);
        int colon = authority.lastIndexOf(':');
        String host = colon < 0 ? authority : authority.substring(0, colon);
        if (colon >= 0 && !isPort(authority.substring(colon + 1))) {
            throw new IllegalArgumentException(expected + ")");
        }
        boolean wildcard = host.startsWith("*.");
        String name = wildcard ? host.substring(2) : host;
        if (!isHostName(name) || wildcard && name.indexOf('.') < 0) {
            throw new IllegalArgumentException(expected + (wildcard ? "; a wildcard covers the subdomains of a domain with "
                    + "at least two labels)" : ")"));
        }
        if (wildcard) {
            return new OriginPattern(text, origin.substring(0, schemeEnd + 3), authority.substring(1), true);
        }
        return new OriginPattern(text, origin, "", false);
    }

    /** Whether the request's {@code Origin} value is allowed by this pattern. */
    boolean matches(String origin) {
        if (!wildcard) {
            return origin.equalsIgnoreCase(prefix);
        }
        int labels = origin.length() - prefix.length() - suffix.length();
        if (labels <= 0 || !origin.regionMatches(true, 0, prefix, 0, prefix.length())
                || !origin.regionMatches(true, origin.length() - suffix.length(), suffix, 0, suffix.length())) {
            return false;
        }
        // What the star covers must be host labels only: "https://evil.com/x.example.com" is no subdomain.
        String covered = origin.substring(prefix.length(), prefix.length() + labels);
        return isHostName(covered.toLowerCase(Locale.ROOT));
    }

    private static boolean isScheme(String scheme) {
        if (!Character.isLetter(scheme.charAt(0))) {
            return false;
        }
        for (int i = 0; i < scheme.length(); i++) {
            char c = scheme.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPort(String port) {
        if (port.isEmpty() || port.length() > 5) {
            return false;
        }
        for (int i = 0; i < port.length(); i++) {
            if (!Character.isDigit(port.charAt(i))) {
                return false;
            }
        }
        int value = Integer.parseInt(port);
        return value > 0 && value <= 65535;
    }

    /** Lower-case letters, digits, hyphens and dots, no empty label (an IPv4 address passes too). */
    private static boolean isHostName(String host) {
        if (host.isEmpty() || host.startsWith(".") || host.endsWith(".") || host.contains("..")) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
