package dev.relay.filters.access;

import dev.relay.core.CidrBlock;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.PlainTextResponses;
import org.jspecify.annotations.Nullable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The {@code ip-acl} filter: answers 403 to a client whose address the rules deny, nginx's
 * {@code allow}/{@code deny}. Rules are checked in the order written and the first that matches
 * decides; a client no rule matches is served (as in nginx, so end with {@code deny all} to serve
 * only what is allowed).
 *
 * <pre>{@code
 * HttpModuleFactory acl = IpAclFilter.builder()
 *         .deny("10.1.0.0/16").allow("10.0.0.0/8").allow("::1").denyAll()
 *         .build();
 * }</pre>
 *
 * <p>The client address is {@link Session#clientAddress()}: on a listener with PROXY protocol, the
 * address the header gave. A client of a Unix-domain socket listener has no IP: only {@code unix:}
 * rules ({@link Builder#allowUnix()}) and {@code all} rules match it, as in nginx.
 *
 * <p>IPv4 clients are matched without allocating ({@link CidrBlock#contains(InetAddress)}); the module
 * is stateless and shared by all requests.
 */
public final class IpAclFilter implements HttpModuleFactory {
    /** Runs first: nothing else should spend work on a client that is refused. */
    public static final int ORDER = -400;

    private static final byte[] FORBIDDEN = "403 Forbidden: this client address is not allowed\n".getBytes(StandardCharsets.US_ASCII);

    private final Rule[] rules;
    private final HttpModule module = new IpAclModule();

    private IpAclFilter(List<Rule> rules) {
        this.rules = rules.toArray(new Rule[0]);
    }

    /** A builder with no rules. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return IpAclFilterProvider.NAME;
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public HttpModule newModule() {
        return module;
    }

    /** Whether {@code client} is served: the first matching rule's verdict, or true when none matches. */
    public boolean allows(@Nullable SocketAddress client) {
        InetAddress ip = client instanceof InetSocketAddress inet ? inet.getAddress() : null;
        for (Rule rule : rules) {
            if (rule.matches(ip)) {
                return rule.allow;
            }
        }
        return true;
    }

    /** The rules, as nginx would write them ({@code deny 10.1.0.0/16; allow all}). */
    @Override
    public String toString() {
        List<String> out = new ArrayList<>(rules.length);
        for (Rule rule : rules) {
            out.add(rule.toString());
        }
        return "ip-acl" + out;
    }

    private final class IpAclModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            if (allows(session.clientAddress())) {
                return Stages.done();
            }
            return PlainTextResponses.respond(session, 403, FORBIDDEN);
        }
    }

    /** What a rule matches: a block of addresses, every client, or the clients of Unix sockets. */
    private enum Scope { BLOCK, ALL, UNIX }

    private record Rule(boolean allow, Scope scope, @Nullable CidrBlock block) {
        /** {@code ip} null: a client without an IP address (a Unix-domain socket). */
        boolean matches(@Nullable InetAddress ip) {
            return switch (scope) {
                case ALL -> true;
                case UNIX -> ip == null;
                case BLOCK -> ip != null && requireNonNull(block).contains(ip);
            };
        }

        @Override
        public String toString() {
            String what = switch (scope) {
                case ALL -> "all";
                case UNIX -> "unix:";
                case BLOCK -> String.valueOf(block);
            };
            return (allow ? "allow " : "deny ") + what;
        }
    }

    /** Builds the ordered rules; each call appends one. */
    public static final class Builder {
        private final List<Rule> rules = new ArrayList<>();

        private Builder() {}

        /** Serves clients in {@code cidr} ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address). */
        public Builder allow(String cidr) {
            rules.add(new Rule(true, Scope.BLOCK, block(cidr)));
            return this;
        }

        /** Refuses clients in {@code cidr}. */
        public Builder deny(String cidr) {
            rules.add(new Rule(false, Scope.BLOCK, block(cidr)));
            return this;
        }

        /** Serves every client this far down the rules ({@code allow all}). */
        public Builder allowAll() {
            rules.add(new Rule(true, Scope.ALL, null));
            return this;
        }

        /** Refuses every client this far down the rules ({@code deny all}). */
        public Builder denyAll() {
            rules.add(new Rule(false, Scope.ALL, null));
            return this;
        }

        /** Serves the clients of Unix-domain socket listeners ({@code allow unix:}). */
        public Builder allowUnix() {
            rules.add(new Rule(true, Scope.UNIX, null));
            return this;
        }

        /** Refuses the clients of Unix-domain socket listeners ({@code deny unix:}). */
        public Builder denyUnix() {
            rules.add(new Rule(false, Scope.UNIX, null));
            return this;
        }

        /**
         * Appends one rule in nginx's words: {@code allow 10.0.0.0/8}, {@code deny all},
         * {@code allow unix:}.
         *
         * @throws IllegalArgumentException naming the rule and what was expected
         */
        public Builder rule(String rule) {
            requireNonNull(rule, "rule");
            String[] words = rule.trim().split("\\s+");
            if (words.length != 2 || !words[0].equals("allow") && !words[0].equals("deny")) {
                throw new IllegalArgumentException("rule: '" + rule + "' (expected: allow or deny, then a CIDR block, "
                        + "an address, all or unix:)");
            }
            boolean allow = words[0].equals("allow");
            switch (words[1]) {
                case "all" -> rules.add(new Rule(allow, Scope.ALL, null));
                case "unix:" -> rules.add(new Rule(allow, Scope.UNIX, null));
                default -> rules.add(new Rule(allow, Scope.BLOCK, block(words[1])));
            }
            return this;
        }

        /**
         * The filter.
         *
         * @throws IllegalStateException when there are no rules (a filter that serves everyone is a mistake)
         */
        public IpAclFilter build() {
            if (rules.isEmpty()) {
                throw new IllegalStateException("rules: none (expected: at least one allow or deny rule)");
            }
            return new IpAclFilter(rules);
        }

        private static CidrBlock block(String cidr) {
            requireNonNull(cidr, "cidr");
            try {
                return CidrBlock.parse(cidr);
            } catch (IllegalArgumentException e) {
                // CidrBlock's message is "CIDR: '...' (expected: ...)"; keep its explanation.
                throw new IllegalArgumentException("rule: " + e.getMessage().substring(e.getMessage().indexOf('\'')), e);
            }
        }
    }
}
