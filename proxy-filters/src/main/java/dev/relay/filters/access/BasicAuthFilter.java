package dev.relay.filters.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.HttpSyntax;
import dev.relay.filters.internal.PlainTextResponses;
import org.jspecify.annotations.Nullable;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The {@code basic-auth} filter: HTTP Basic authentication (RFC 7617) against an htpasswd file of
 * bcrypt hashes ({@code htpasswd -B}). A request without valid credentials gets 401 with
 * {@code WWW-Authenticate: Basic realm="...", charset="UTF-8"}; an accepted one goes upstream without
 * its {@code Authorization} field (unless {@link Builder#forwardCredentials}) and, when
 * {@link Builder#userHeader} is set, with the user's name in that field (a client's own field of that
 * name is removed first, whatever the outcome).
 *
 * <pre>{@code
 * HttpModuleFactory auth = BasicAuthFilter.builder(Path.of("/etc/relay/htpasswd"))
 *         .realm("staff").userHeader("X-Auth-User").build();
 * }</pre>
 *
 * <p>bcrypt costs 50 to 250 ms of CPU by design, so it never runs on the event loop: it runs on a
 * small bounded executor (half the cores; a full queue answers 503 with {@code Retry-After}), and a
 * successful check is remembered for {@link Builder#cacheTtl} under a salted SHA-256 of the
 * credentials, so steady traffic costs one hash and one lookup. A failed check is remembered the same
 * way for {@link #FAILURE_TTL}, so a repeated wrong guess costs no bcrypt, and one client address
 * has at most {@link PendingChecks#PER_CLIENT} checks waiting or running (beyond: 429 with
 * {@code Retry-After}), so one client's guesses cannot fill the shared pool. A user the file does not
 * name is checked against a decoy hash of the file's usual cost ({@link Htpasswd#decoy()}), so a wrong
 * name takes as long as a wrong password and timing does not tell which names exist. The file is looked
 * at (off the event loop) at most once a second while requests arrive and read again when it changed,
 * which also forgets every remembered check; a file that no longer parses keeps the previous version
 * (logged).
 */
public final class BasicAuthFilter implements HttpModuleFactory {
    /** After {@code ip-acl} and {@code cors}, before the filters that could answer from elsewhere (a cache). */
    public static final int ORDER = -200;

    private static final byte[] UNAUTHORIZED = "401 Unauthorized: valid credentials are required\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BUSY = "503 Service Unavailable: too many password checks in progress\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_BUSY = "429 Too Many Requests: too many password checks from this address\n"
            .getBytes(StandardCharsets.US_ASCII);
    /**
     * How long a failed check is remembered: long enough that a client repeating a wrong guess costs
     * no bcrypt, short enough to hold little (a file change forgets it anyway, and a right password is
     * another key).
     */
    static final Duration FAILURE_TTL = Duration.ofSeconds(30);
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(BasicAuthFilter::sha256);

    /** One version of the file with the checks that succeeded, and those that failed, against it. */
    private record Users(Htpasswd file, @Nullable Cache<ByteBuffer, String> verified, Cache<ByteBuffer, Boolean> failed) {}

    private final WatchedFile<Users> users;
    private final String challenge;
    private final boolean forwardCredentials;
    private final @Nullable String userHeader;
    private final Executor passwordChecks;
    private final PendingChecks pendingChecks;
    /** Salts the credential digests, so that a heap dump does not hold unsalted fast hashes of passwords. */
    private final byte[] salt = new byte[16];
    private final HttpModule module = new BasicAuthModule();

    private BasicAuthFilter(Builder b) {
        new SecureRandom().nextBytes(salt);
        this.challenge = "Basic realm=\"" + b.realm + "\", charset=\"UTF-8\"";
        this.forwardCredentials = b.forwardCredentials;
        this.userHeader = b.userHeader;
        this.passwordChecks = b.passwordChecks;
        this.pendingChecks = b.pendingChecks;
        Duration ttl = b.cacheTtl;
        Ticker ticker = b.nanoTime::getAsLong;
        this.users = WatchedFile.load(b.htpasswd, "htpasswd", (file, content) -> {
            Htpasswd parsed = Htpasswd.parse(file, content);
            Cache<ByteBuffer, String> cache = ttl.isZero() ? null
                    : Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(10_000).ticker(ticker).build();
            Cache<ByteBuffer, Boolean> failed = Caffeine.newBuilder().expireAfterWrite(FAILURE_TTL)
                    .maximumSize(10_000).ticker(ticker).build();
            return new Users(parsed, cache, failed);
        }, b.fileChecks, b.nanoTime, AccessExecutors.FILE_CHECK_INTERVAL);
    }

    /**
     * A builder for {@code htpasswd}, read when {@link Builder#build()} is called.
     */
    public static Builder builder(Path htpasswd) {
        return new Builder(htpasswd);
    }

    @Override
    public String name() {
        return BasicAuthFilterProvider.NAME;
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public HttpModule newModule() {
        return module;
    }

    /** The users of the current version of the file. */
    int userCount() {
        return users.current().file().size();
    }

    /** Looks at the file now (tests; the filter itself does so in the background). */
    void checkFile() {
        users.check();
    }

    @Override
    public String toString() {
        return "basic-auth(" + users.file() + ")";
    }

    private final class BasicAuthModule implements HttpModule {
        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            RequestHeader request = session.requestHeader();
            if (userHeader != null) {
                request.headers().remove(userHeader);
            }
            byte[] credentials = credentials(request.headers().get("Authorization"));
            int colon = credentials == null ? -1 : indexOf(credentials, (byte) ':');
            if (colon <= 0) {
                return challenge(session);
            }
            String user = new String(credentials, 0, colon, StandardCharsets.UTF_8);
            Users current = users.current();
            ByteBuffer key = digest(credentials);
            if (current.verified() != null && user.equals(current.verified().getIfPresent(key))) {
                return admit(session, user);
            }
            if (current.failed().getIfPresent(key) != null) {
                return challenge(session);
            }
            Htpasswd.PasswordHash known = current.file().hashOf(user);
            Htpasswd.PasswordHash hash = known != null ? known : current.file().decoy();
            byte[] password = Arrays.copyOfRange(credentials, colon + 1, credentials.length);
            if (!hash.isSlow()) {
                return matched(session, current, key, user, hash.matches(password));
            }
            SocketAddress client = session.clientAddress();
            if (!pendingChecks.tryAcquire(client)) {
                return refuse(session, 429, CLIENT_BUSY);
            }
            CompletableFuture<Boolean> check;
            try {
                check = CompletableFuture.supplyAsync(() -> hash.matches(password), passwordChecks);
            } catch (RejectedExecutionException e) {
                pendingChecks.release(client);
                return refuse(session, 503, BUSY);
            }
            // The header is changed, or the answer written, on the event loop.
            return check.handleAsync((ok, failure) -> {
                pendingChecks.release(client);
                return matched(session, current, key, user, failure == null && ok);
            }, session.eventLoop()).thenCompose(Function.identity());
        }

        private CompletionStage<Void> matched(Session session, Users current, ByteBuffer key, String user, boolean ok) {
            if (!ok) {
                current.failed().put(key, Boolean.TRUE);
                return challenge(session);
            }
            if (current.verified() != null) {
                current.verified().put(key, user);
            }
            return admit(session, user);
        }

        private CompletionStage<Void> refuse(Session session, int status, byte[] body) {
            ResponseHeader busy = PlainTextResponses.header(status);
            busy.headers().set("Retry-After", "1");
            return session.respond(busy, body);
        }

        private CompletionStage<Void> admit(Session session, String user) {
            RequestHeader request = session.requestHeader();
            if (!forwardCredentials) {
                request.headers().remove("Authorization");
            }
            if (userHeader != null && HttpSyntax.isPlainFieldValue(user)) {
                request.headers().set(userHeader, user);
            }
            return Stages.done();
        }

        private CompletionStage<Void> challenge(Session session) {
            ResponseHeader unauthorized = PlainTextResponses.header(401);
            unauthorized.headers().set("WWW-Authenticate", challenge);
            return session.respond(unauthorized, UNAUTHORIZED);
        }
    }

    /** The decoded {@code user:password} of a {@code Basic} authorization, or null when there is none. */
    static byte @Nullable [] credentials(@Nullable String authorization) {
        if (authorization == null || authorization.length() < 6 || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(authorization.substring(6).strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private ByteBuffer digest(byte[] credentials) {
        MessageDigest sha256 = SHA256.get();
        sha256.update(salt);
        return ByteBuffer.wrap(sha256.digest(credentials));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    /** Settings of a {@link BasicAuthFilter}; {@link #build()} reads the file. */
    public static final class Builder {
        private final Path htpasswd;
        private String realm = "relay";
        private boolean forwardCredentials;
        private @Nullable String userHeader;
        private Duration cacheTtl = Duration.ofMinutes(1);
        private Executor passwordChecks = AccessExecutors.passwordChecks();
        private Executor fileChecks = AccessExecutors.fileChecks();
        private LongSupplier nanoTime = System::nanoTime;
        private PendingChecks pendingChecks = AccessExecutors.pendingChecks();

        private Builder(Path htpasswd) {
            this.htpasswd = requireNonNull(htpasswd, "htpasswd");
        }

        /** The realm of the {@code WWW-Authenticate} challenge; default {@code relay}. */
        public Builder realm(String realm) {
            this.realm = AccessSettings.checkRealm(requireNonNull(realm, "realm"));
            return this;
        }

        /** Whether the {@code Authorization} field goes upstream too; default false (it is removed). */
        public Builder forwardCredentials(boolean forward) {
            this.forwardCredentials = forward;
            return this;
        }

        /** A request field that carries the authenticated user's name upstream; default none. */
        public Builder userHeader(String name) {
            this.userHeader = HttpSyntax.headerName("user-header", requireNonNull(name, "name"));
            return this;
        }

        /** How long a successful check is remembered; default one minute, zero to check every request. */
        public Builder cacheTtl(Duration ttl) {
            requireNonNull(ttl, "ttl");
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("cache-ttl: " + ttl + " (expected: zero or more)");
            }
            this.cacheTtl = ttl;
            return this;
        }

        /** Where bcrypt runs; default a shared pool of half the cores with a bounded queue. */
        public Builder passwordChecks(Executor executor) {
            this.passwordChecks = requireNonNull(executor, "executor");
            return this;
        }

        /** Where the file is looked at and read again; default a shared background thread. */
        public Builder fileChecks(Executor executor) {
            this.fileChecks = requireNonNull(executor, "executor");
            return this;
        }

        /** The per-client bound on waiting checks; default the one shared with the pool (tests). */
        Builder pendingChecks(PendingChecks pending) {
            this.pendingChecks = requireNonNull(pending, "pending");
            return this;
        }

        /** The clock of the cache and of the file checks ({@link System#nanoTime()}); for tests. */
        public Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        /**
         * Reads the file and makes the filter.
         *
         * @throws IllegalArgumentException when the file cannot be read or has a bad line (file and line named)
         */
        public BasicAuthFilter build() {
            return new BasicAuthFilter(this);
        }
    }
}
