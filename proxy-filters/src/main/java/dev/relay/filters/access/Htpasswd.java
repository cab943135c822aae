package dev.relay.filters.access;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.IllegalBCryptFormatException;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * One version of an htpasswd file: {@code user:hash} lines ({@code #} comments and blank lines
 * ignored), the hash bcrypt ({@code $2y$}, {@code $2a$}, {@code $2b$}, as {@code htpasswd -B} writes)
 * or, as nginx also accepts, {@code {SHA}} and {@code {SSHA}} (salted) SHA-1. Any other kind (MD5
 * {@code $apr1$}, {@code crypt}, plain text) is refused with the file and line, never guessed at.
 * Immutable.
 */
final class Htpasswd {
    /**
     * Verifies against bcrypt hashes the way {@code htpasswd} and Apache do: a password longer than
     * bcrypt's 72 bytes is cut there (the library refuses it by default, which would lock out a user
     * whose password works everywhere else).
     */
    private static final BCrypt.Verifyer BCRYPT = BCrypt.verifyer(BCrypt.Version.VERSION_2A,
            LongPasswordStrategies.truncate(BCrypt.Version.VERSION_2A));

    /** A stored hash: bcrypt is slow on purpose and runs off the event loop; the SHA-1 kinds are not. */
    sealed interface PasswordHash {
        boolean matches(byte[] password);

        boolean isSlow();
    }

    record Bcrypt(BCrypt.HashData hash) implements PasswordHash {
        @Override
        public boolean matches(byte[] password) {
            return BCRYPT.verify(password, hash).verified;
        }

        @Override
        public boolean isSlow() {
            return true;
        }
    }

    /** {@code {SHA}base64(sha1(password))} or {@code {SSHA}base64(sha1(password + salt) + salt)}. */
    record Sha1(byte[] digest, byte[] salt) implements PasswordHash {
        @Override
        public boolean matches(byte[] password) {
            MessageDigest sha1 = sha1();
            sha1.update(password);
            sha1.update(salt);
            return MessageDigest.isEqual(sha1.digest(), digest);
        }

        @Override
        public boolean isSlow() {
            return false;
        }
    }

    /**
     * What a user the file does not name is checked against: a hash of the same kind and cost as the
     * file's own (see {@link #decoy()}) that no password matches, so that the check costs what a real
     * one does.
     */
    record Decoy(PasswordHash like) implements PasswordHash {
        @Override
        public boolean matches(byte[] password) {
            like.matches(password);
            return false;
        }

        @Override
        public boolean isSlow() {
            return like.isSlow();
        }
    }

    private final Map<String, PasswordHash> users;
    private final PasswordHash decoy;

    private Htpasswd(Map<String, PasswordHash> users) {
        this.users = Map.copyOf(users);
        this.decoy = new Decoy(decoyLike(users));
    }

    /** The hash of {@code user}, or null for a user the file does not name. */
    @Nullable PasswordHash hashOf(String user) {
        return users.get(user);
    }

    /**
     * The hash to check a user the file does not name against, so that a wrong name takes as long as a
     * wrong password (refusing it at once would tell a timing observer which names exist): bcrypt at
     * the cost most of the file's bcrypt users have (the highest of equals), or SHA-1 when the file has
     * no bcrypt user. It never matches.
     */
    PasswordHash decoy() {
        return decoy;
    }

    int size() {
        return users.size();
    }

    /**
     * Parses a file's bytes (UTF-8).
     *
     * @throws IllegalArgumentException naming the file and line of the first bad entry (never the hash)
     */
    static Htpasswd parse(Path file, byte[] content) {
        String[] lines = new String(content, StandardCharsets.UTF_8).split("\r?\n", -1);
        Map<String, PasswordHash> users = new HashMap<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + ":" + (i + 1);
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(where + ": not a user:hash line");
            }
            String user = line.substring(0, colon);
            if (!HttpSyntax.isPlainFieldValue(user)) {
                throw new IllegalArgumentException(where + ": the user name has a control or non-ASCII character");
            }
            // Apache's htpasswd may append ":comment" fields after the hash; the hash itself has no colon.
            String rest = line.substring(colon + 1);
            int end = rest.indexOf(':');
            String hash = end < 0 ? rest : rest.substring(0, end);
            if (users.put(user, hashOf(where, user, hash)) != null) {
                throw new IllegalArgumentException(where + ": user '" + user + "' appears twice");
            }
        }
        return new Htpasswd(users);
    }

    /**
     * A hash nobody's password produces, of the kind and cost of the file's usual one. Made from random
     * bytes rather than by hashing (which would cost one bcrypt per file version); verifying against it
     * runs the full bcrypt all the same, the cost being in the header.
     */
    private static PasswordHash decoyLike(Map<String, PasswordHash> users) {
        Map<Integer, Integer> usersByCost = new HashMap<>();
        for (PasswordHash hash : users.values()) {
            if (hash instanceof Bcrypt bcrypt) {
                usersByCost.merge(bcrypt.hash().cost, 1, Integer::sum);
            }
        }
        SecureRandom random = new SecureRandom();
        if (usersByCost.isEmpty()) {
            byte[] digest = new byte[20];
            random.nextBytes(digest);
            return new Sha1(digest, new byte[0]);
        }
        int cost = usersByCost.entrySet().stream()
                .max(Map.Entry.<Integer, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .orElseThrow().getKey();
        byte[] salt = new byte[16];
        byte[] hash = new byte[23];
        random.nextBytes(salt);
        random.nextBytes(hash);
        return new Bcrypt(new BCrypt.HashData(cost, BCrypt.Version.VERSION_2Y, salt, hash));
    }

    private static PasswordHash hashOf(String where, String user, String hash) {
        String problem = where + ": user '" + user + "': ";
        if (hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$")) {
            try {
                return new Bcrypt(BCrypt.Version.VERSION_2A.parser.parse(hash.getBytes(StandardCharsets.US_ASCII)));
            } catch (IllegalBCryptFormatException | RuntimeException e) {
                throw new IllegalArgumentException(problem + "a malformed bcrypt hash");
            }
        }
        if (hash.startsWith("{SHA}") || hash.startsWith("{SSHA}")) {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(hash.substring(hash.indexOf('}') + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(problem + "a malformed " + hash.substring(0, hash.indexOf('}') + 1) + " hash (bad base64)");
            }
            boolean salted = hash.startsWith("{SSHA}");
            if (salted ? decoded.length <= 20 : decoded.length != 20) {
                throw new IllegalArgumentException(problem + "a malformed " + (salted ? "{SSHA}" : "{SHA}") + " hash (wrong length)");
            }
            return new Sha1(Arrays.copyOf(decoded, 20), Arrays.copyOfRange(decoded, 20, decoded.length));
        }
        String kind = hash.startsWith("$apr1$") ? "an MD5 ($apr1$) hash"
                : hash.startsWith("$1$") || hash.startsWith("$5$") || hash.startsWith("$6$") ? "a crypt(3) hash"
                : hash.startsWith("{PLAIN}") ? "a plain-text password"
                : "an unknown kind of hash (DES crypt or plain text?)";
        throw new IllegalArgumentException(problem + kind + " (expected: bcrypt, as htpasswd -B writes: $2y$, $2a$ or $2b$; "
                + "or {SHA}/{SSHA})");
    }

    private static MessageDigest sha1() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-1", e);
        }
    }
}
