package dev.relay.filters.shaping;

import dev.relay.core.Addresses;
import dev.relay.core.CidrBlock;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The {@code forwarded} filter: tells the origin who the client is, over which protocol and to which
 * host it spoke, in {@code X-Forwarded-For}, {@code -Proto}, {@code -Host} and {@code -Port}, in RFC
 * 7239's {@code Forwarded}, or in both.
 *
 * <pre>{@code
 * ForwardedFilter forwarded = ForwardedFilter.builder()
 *         .mode(ForwardedFilter.Mode.BOTH)
 *         .trustedProxy(CidrBlock.parse("10.0.0.0/8"))
 *         .by("_relay")
 *         .build();
 * }</pre>
 *
 * <p><b>Trust.</b> A client can write these fields itself. When the direct client (the session's
 * client address, after the PROXY protocol when the listener reads it) is in a trusted block, the
 * fields it sent are kept and this hop is appended: {@code X-Forwarded-For: <theirs>, <client>},
 * {@code Forwarded: <theirs>, for=<client>;...} (their elements, obfuscated identifiers included, as
 * they came), and {@code X-Forwarded-Proto}, {@code -Host} and {@code -Port} stay as the trusted proxy
 * set them (set here when it did not). From any other client every one of these fields, of both
 * families whatever the mode, is removed and written afresh, so nobody can pass a forged client
 * address to the origin. Other fields that origins read a client address from ({@code X-Real-IP},
 * {@code True-Client-IP} and {@code X-Client-IP} by default, {@link Builder#clientIpFields}) are
 * removed from such a client's request too, and kept from a trusted one; this filter never writes
 * them. No trusted block (the default) trusts nobody. A client of a unix-socket
 * listener is trusted when the list holds {@code unix:}, as nginx's {@code set_real_ip_from unix:}.
 *
 * <p><b>Values.</b> The client: its IP address ({@code unix:} in {@code X-Forwarded-For} and
 * {@code unknown} in {@code Forwarded} for a unix-socket client); in {@code Forwarded} an IPv6
 * address is bracketed and quoted ({@code for="[2001:db8::1]"}). The protocol: {@code https} on a TLS
 * connection, else {@code http}. The host: the request's {@code Host} (HTTP/2's {@code :authority}).
 * The port: the port of the listener that accepted the connection. {@code by}, in {@code Forwarded}
 * only, when configured: {@link ByValue#LISTENER the listener's address}, or a fixed obfuscated
 * identifier ({@code _relay}).
 *
 * <p>The session's client address stays the transport's: this filter only writes header fields, and
 * there is no "real IP" step. {@code ip-acl} and a {@code rate-limit} keyed on the client address judge
 * the direct peer (or the source a PROXY protocol header gave), never {@code X-Forwarded-For}; behind a
 * load balancer, have it send the PROXY protocol to carry the client's address.
 */
public final class ForwardedFilter implements HttpModuleFactory {
    /** The name configurations use. */
    public static final String NAME = "forwarded";

    static final String X_FORWARDED_FOR = "X-Forwarded-For";
    static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
    static final String X_FORWARDED_HOST = "X-Forwarded-Host";
    static final String X_FORWARDED_PORT = "X-Forwarded-Port";
    static final String FORWARDED = "Forwarded";
    private static final String UNIX = "unix:";
    /** Fields some origins take a client address from, besides the forwarding families. */
    static final List<String> DEFAULT_CLIENT_IP_FIELDS = List.of("X-Real-IP", "True-Client-IP", "X-Client-IP");

    /** Which fields the filter writes. */
    public enum Mode {
        /** {@code X-Forwarded-For}, {@code -Proto}, {@code -Host}, {@code -Port}. */
        X_FORWARDED("x-forwarded"),
        /** RFC 7239 {@code Forwarded}. */
        FORWARDED("forwarded"),
        /** Both. */
        BOTH("both");

        private final String setting;

        Mode(String setting) {
            this.setting = setting;
        }

        /** The name in configurations. */
        public String setting() {
            return setting;
        }

        boolean xForwarded() {
            return this != FORWARDED;
        }

        boolean forwarded() {
            return this != X_FORWARDED;
        }

        static Mode parse(String key, String text) {
            for (Mode m : values()) {
                if (m.setting.equals(text)) {
                    return m;
                }
            }
            throw new InvalidSettingException(key, "'" + text + "' (expected: x-forwarded, forwarded or both)");
        }
    }

    /** What {@code by=} of {@code Forwarded} says; see {@link Builder#by(String)}. */
    public enum ByValue {
        /** No {@code by=}. */
        NONE,
        /** The address of the listener that accepted the connection. */
        LISTENER,
        /** A fixed obfuscated identifier. */
        IDENTIFIER
    }

    private final Mode mode;
    private final List<CidrBlock> trusted;
    private final boolean trustUnixSockets;
    private final ByValue byValue;
    private final @Nullable String byIdentifier;
    private final List<String> clientIpFields;
    private final HttpModule module = new ForwardedModule();

    private ForwardedFilter(Builder b) {
        this.mode = b.mode;
        this.trusted = List.copyOf(b.trusted);
        this.trustUnixSockets = b.trustUnixSockets;
        this.byValue = b.byValue;
        this.byIdentifier = b.byIdentifier;
        this.clientIpFields = List.copyOf(b.clientIpFields);
    }

    /** A builder: {@link Mode#X_FORWARDED}, nobody trusted, no {@code by=}. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The module keeps no per-request state: every request shares one. */
    @Override
    public HttpModule newModule() {
        return module;
    }

    /** Whether the fields that {@code client} sends are kept (it is a trusted proxy). */
    public boolean trusts(SocketAddress client) {
        if (client instanceof UnixDomainSocketAddress) {
            return trustUnixSockets;
        }
        for (CidrBlock block : trusted) {
            if (block.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /** Rewrites the forwarding fields of {@code request}, received from {@code session}'s client. */
    void apply(Session session, RequestHeader request) {
        HttpHeaders headers = request.headers();
        SocketAddress client = session.clientAddress();
        boolean trustedClient = trusts(client);
        if (!trustedClient) {
            headers.remove(X_FORWARDED_FOR);
            headers.remove(X_FORWARDED_PROTO);
            headers.remove(X_FORWARDED_HOST);
            headers.remove(X_FORWARDED_PORT);
            headers.remove(FORWARDED);
            for (String field : clientIpFields) {
                headers.remove(field);
            }
        }
        String proto = session.isTls() ? "https" : "http";
        String host = headers.get("Host");
        if (mode.xForwarded()) {
            appendList(headers, X_FORWARDED_FOR, xForwardedFor(client));
            setIfAbsent(headers, X_FORWARDED_PROTO, proto);
            if (host != null) {
                setIfAbsent(headers, X_FORWARDED_HOST, host);
            }
            int port = port(session.serverAddress());
            if (port > 0) {
                setIfAbsent(headers, X_FORWARDED_PORT, Integer.toString(port));
            }
        }
        if (mode.forwarded()) {
            appendList(headers, FORWARDED, forwardedElement(client, proto, host, session.serverAddress()));
        }
    }

    /** Appends {@code value} to the list field {@code name}, joining what is there into one field. */
    private static void appendList(HttpHeaders headers, String name, String value) {
        List<String> existing = headers.getAll(name);
        if (existing.isEmpty()) {
            headers.set(name, value);
            return;
        }
        StringBuilder joined = new StringBuilder();
        for (String v : existing) {
            joined.append(v).append(", ");
        }
        headers.set(name, joined.append(value));
    }

    private static void setIfAbsent(HttpHeaders headers, String name, String value) {
        if (!headers.contains(name)) {
            headers.set(name, value);
        }
    }

    private static String xForwardedFor(SocketAddress client) {
        InetAddress address = address(client);
        if (address != null) {
            return Addresses.ipText(address);
        }
        return client instanceof UnixDomainSocketAddress ? UNIX : "unknown";
    }

    /** One RFC 7239 element: {@code for=...;proto=...;host=...} and {@code by=...} when configured. */
    String forwardedElement(SocketAddress client, String proto, @Nullable String host, SocketAddress server) {
        StringBuilder element = new StringBuilder(64);
        if (byValue == ByValue.LISTENER) {
            element.append("by=").append(node(server)).append(';');
        } else if (byValue == ByValue.IDENTIFIER) {
            element.append("by=").append(byIdentifier).append(';');
        }
        element.append("for=").append(node(client)).append(";proto=").append(proto);
        if (host != null) {
            element.append(";host=");
            quotedIfNeeded(host, element);
        }
        return element.toString();
    }

    /** RFC 7239 §6 node: an IPv4 address, a bracketed and quoted IPv6 one, or {@code unknown}. */
    static String node(SocketAddress socket) {
        InetAddress address = address(socket);
        if (address == null) {
            return "unknown";
        }
        String text = Addresses.ipText(address);
        return address instanceof Inet6Address ? "\"[" + text + "]\"" : text;
    }

    private static @Nullable InetAddress address(SocketAddress socket) {
        return socket instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    private static int port(SocketAddress socket) {
        return socket instanceof InetSocketAddress inet ? inet.getPort() : 0;
    }

    /** RFC 7239 §4: a value is a token or a quoted-string (a host with a port has a colon: quoted). */
    static void quotedIfNeeded(String value, StringBuilder out) {
        if (HttpSyntax.isToken(value)) {
            out.append(value);
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return NAME + "(mode: " + mode.setting + ", trusted-proxies: " + trusted
                + (trustUnixSockets ? " + unix:" : "") + ", client-ip-fields: " + clientIpFields + ", by: " + (byValue == ByValue.IDENTIFIER ? byIdentifier
                : byValue.name().toLowerCase(Locale.ROOT)) + ")";
    }

    private final class ForwardedModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            apply(session, session.requestHeader());
            return Stages.done();
        }
    }

    /** Builds a {@link ForwardedFilter}. */
    public static final class Builder {
        private Mode mode = Mode.X_FORWARDED;
        private final List<CidrBlock> trusted = new ArrayList<>();
        private boolean trustUnixSockets;
        private ByValue byValue = ByValue.NONE;
        private @Nullable String byIdentifier;
        private List<String> clientIpFields = DEFAULT_CLIENT_IP_FIELDS;

        private Builder() {}

        /**
         * The other fields an untrusted client's request loses, because an origin may take the client's
         * address from them; {@code X-Real-IP}, {@code True-Client-IP} and {@code X-Client-IP} by default,
         * an empty list for none. A trusted proxy's are kept.
         */
        public Builder clientIpFields(List<String> names) {
            List<String> checked = new ArrayList<>(requireNonNull(names, "names").size());
            for (int i = 0; i < names.size(); i++) {
                checked.add(HttpSyntax.headerName("client-ip-fields[" + i + "]", requireNonNull(names.get(i), "name")));
            }
            this.clientIpFields = List.copyOf(checked);
            return this;
        }

        /** Which fields to write ({@link Mode#X_FORWARDED}). */
        public Builder mode(Mode mode) {
            this.mode = requireNonNull(mode, "mode");
            return this;
        }

        /** Trusts the forwarding fields of clients in {@code block}. */
        public Builder trustedProxy(CidrBlock block) {
            trusted.add(requireNonNull(block, "block"));
            return this;
        }

        /** Trusts the forwarding fields of clients of unix-socket listeners (a local proxy in front). */
        public Builder trustUnixSockets(boolean trust) {
            this.trustUnixSockets = trust;
            return this;
        }

        /**
         * What {@code by=} says in {@code Forwarded}: {@code listener} for the address of the listener
         * that accepted the connection, or an obfuscated identifier (RFC 7239 §6.3: {@code _} then
         * letters, digits, {@code .}, {@code _}, {@code -}), such as {@code _relay}.
         */
        public Builder by(String by) {
            requireNonNull(by, "by");
            if (by.equals("listener")) {
                byValue = ByValue.LISTENER;
                byIdentifier = null;
                return this;
            }
            boolean obfuscated = by.length() > 1 && by.charAt(0) == '_';
            for (int i = 1; i < by.length() && obfuscated; i++) {
                char c = by.charAt(i);
                obfuscated = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.'
                        || c == '_' || c == '-';
            }
            if (!obfuscated) {
                throw new InvalidSettingException("by", "'" + by + "' (expected: listener, or an obfuscated identifier: "
                        + "_ then letters, digits, '.', '_' or '-', as _relay)");
            }
            byValue = ByValue.IDENTIFIER;
            byIdentifier = by;
            return this;
        }

        /** The filter. */
        public ForwardedFilter build() {
            return new ForwardedFilter(this);
        }
    }
}
