package dev.relay.filters.access;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class BasicAuthFilterTest {
    @TempDir
    Path dir;

    private final AtomicInteger passwordChecks = new AtomicInteger();
    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    /** bcrypt at the lowest cost, so that the tests stay fast; the cost is in the hash, not the filter. */
    private static String bcrypt(BCrypt.Version version, String password) {
        return BCrypt.with(version).hashToString(4, password.toCharArray());
    }

    private Path htpasswd(String... lines) throws Exception {
        Path file = dir.resolve("htpasswd");
        Files.write(file, List.of(lines));
        return file;
    }

    private BasicAuthFilter.Builder builder(Path file) {
        return BasicAuthFilter.builder(file).passwordChecks(task -> {
            passwordChecks.incrementAndGet();
            pool.execute(task);
        }).fileChecks(Runnable::run);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static Exchange request(String authorization) {
        return Exchange.of("GET", "/private").header("Authorization", authorization);
    }

    @Test
    void aBcryptUserIsAdmittedWithoutItsCredentialsAndWithItsName() throws Exception {
        BasicAuthFilter auth = builder(htpasswd("# staff", "alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"),
                "bob:" + bcrypt(BCrypt.Version.VERSION_2A, "hunter2"), "", "carol:" + bcrypt(BCrypt.Version.VERSION_2B, "pässwörd")))
                .userHeader("X-Auth-User").build();

        Exchange alice = request(basic("alice", "s3cret")).header("X-Auth-User", "root");
        alice.run(auth);
        assertNull(alice.response());
        assertFalse(alice.request.headers().contains("Authorization"), "credentials stay at the proxy");
        assertEquals(List.of("alice"), alice.request.headers().getAll("X-Auth-User"), "the client's own field is replaced");

        Exchange bob = request(basic("bob", "hunter2"));
        bob.run(auth);
        assertNull(bob.response());
        Exchange carol = request(basic("carol", "pässwörd"));
        carol.run(auth);
        assertNull(carol.response(), "UTF-8 passwords, as charset=\"UTF-8\" announces");
        assertEquals(3, passwordChecks.get());
    }

    @Test
    void aWrongOrMissingPasswordGets401WithTheChallenge() throws Exception {
        BasicAuthFilter auth = builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret")))
                .realm("staff area").userHeader("X-Auth-User").build();

        Exchange wrong = request(basic("alice", "guess")).header("X-Auth-User", "alice");
        wrong.run(auth);
        assertEquals(401, wrong.status());
        assertEquals("Basic realm=\"staff area\", charset=\"UTF-8\"", wrong.response().headers().get("WWW-Authenticate"));
        assertTrue(wrong.body().startsWith("401 Unauthorized"), wrong.body());
        assertFalse(wrong.request.headers().contains("X-Auth-User"));

        for (String header : List.of("Bearer abc", "Basic !!!notbase64", "Basic " + Base64.getEncoder().encodeToString("nocolon".getBytes()))) {
            Exchange bad = request(header);
            bad.run(auth);
            assertEquals(401, bad.status(), header);
        }
        Exchange none = Exchange.of("GET", "/");
        none.run(auth);
        assertEquals(401, none.status());
    }

    @Test
    void anUnknownUserCostsABcryptOfTheFilesCostLikeAWrongPassword() throws Exception {
        List<Htpasswd.PasswordHash> checked = new ArrayList<>();
        BasicAuthFilter auth = BasicAuthFilter.builder(htpasswd("alice:" + BCrypt.withDefaults().hashToString(5, "s3cret".toCharArray()),
                        "bob:" + BCrypt.withDefaults().hashToString(5, "hunter2".toCharArray()),
                        "carol:" + bcrypt(BCrypt.Version.VERSION_2Y, "pw")))
                .passwordChecks(task -> {
                    passwordChecks.incrementAndGet();
                    task.run();
                }).fileChecks(Runnable::run).build();

        Exchange mallory = request(basic("mallory", "s3cret"));
        mallory.run(auth);
        assertEquals(401, mallory.status());
        assertEquals(1, passwordChecks.get(), "an unknown name is hashed as a known one is, so timing tells nothing");
        Htpasswd.PasswordHash decoy = Htpasswd.parse(dir.resolve("htpasswd"), Files.readAllBytes(dir.resolve("htpasswd"))).decoy();
        assertTrue(decoy.isSlow());
        assertEquals(5, ((Htpasswd.Bcrypt) ((Htpasswd.Decoy) decoy).like()).hash().cost, "the cost most of the file's users have");
        assertFalse(decoy.matches("s3cret".getBytes(StandardCharsets.UTF_8)));
        Exchange wrong = request(basic("alice", "guess"));
        wrong.run(auth);
        assertEquals(401, wrong.status());
        assertEquals(2, passwordChecks.get());
    }

    @Test
    void aFileWithoutBcryptChecksUnknownUsersInline() throws Exception {
        String sha = "{SHA}" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest("pw1".getBytes()));
        BasicAuthFilter auth = builder(htpasswd("u1:" + sha)).build();
        Exchange mallory = request(basic("mallory", "pw1"));
        mallory.run(auth);
        assertEquals(401, mallory.status());
        assertEquals(0, passwordChecks.get());
    }

    @Test
    void aSuccessfulCheckIsRememberedAndSoIsARepeatedWrongGuess() throws Exception {
        long[] now = {0};
        BasicAuthFilter auth = builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"))).nanoTime(() -> now[0]).build();
        for (int i = 0; i < 3; i++) {
            Exchange again = request(basic("alice", "s3cret"));
            again.run(auth);
            assertNull(again.response());
        }
        assertEquals(1, passwordChecks.get(), "steady traffic costs one bcrypt");
        for (int i = 0; i < 3; i++) {
            Exchange guess = request(basic("alice", "guess"));
            guess.run(auth);
            assertEquals(401, guess.status());
            Exchange unknown = request(basic("mallory", "guess"));
            unknown.run(auth);
            assertEquals(401, unknown.status());
        }
        assertEquals(3, passwordChecks.get(), "a repeated wrong guess, known user or not, costs no bcrypt");
        request(basic("alice", "other guess")).run(auth);
        assertEquals(4, passwordChecks.get(), "another guess is checked");
        now[0] += BasicAuthFilter.FAILURE_TTL.toNanos() + 1;
        request(basic("alice", "guess")).run(auth);
        assertEquals(5, passwordChecks.get(), "a failure is forgotten after FAILURE_TTL");
    }

    @Test
    void oneClientAddressHasABoundedNumberOfChecksWaiting() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        PendingChecks pending = new PendingChecks(2);
        BasicAuthFilter auth = BasicAuthFilter.builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret")))
                .passwordChecks(queued::add).fileChecks(Runnable::run).pendingChecks(pending).build();
        Exchange first = request(basic("alice", "guess1"));
        Exchange second = request(basic("alice", "guess2"));
        java.util.concurrent.CompletionStage<Void> firstDone = first.start(auth);
        second.start(auth);
        Exchange third = request(basic("mallory", "guess3"));
        third.run(auth);
        assertEquals(429, third.status(), "the client already has its share of the pool");
        assertEquals("1", third.response().headers().get("Retry-After"));
        assertEquals(2, queued.size());

        Exchange other = Exchange.from(new java.net.InetSocketAddress("127.0.0.2", 40000))
                .header("Authorization", basic("alice", "s3cret"));
        java.util.concurrent.CompletionStage<Void> otherDone = other.start(auth);
        assertEquals(3, queued.size(), "another address is not held back");

        queued.forEach(Runnable::run);
        firstDone.toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        otherDone.toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(401, first.status());
        assertNull(other.response());
        assertEquals(0, pending.pending(new java.net.InetSocketAddress("127.0.0.1", 1)), "every check ended is released");
        Exchange fourth = request(basic("alice", "guess4"));
        fourth.start(auth);
        assertEquals(4, queued.size(), "the address has room again");
    }

    @Test
    void theRememberedCheckExpiresAfterItsTtl() throws Exception {
        long[] now = {0};
        BasicAuthFilter auth = builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret")))
                .cacheTtl(java.time.Duration.ofSeconds(30)).nanoTime(() -> now[0]).build();
        request(basic("alice", "s3cret")).run(auth);
        now[0] += 29_000_000_000L;
        request(basic("alice", "s3cret")).run(auth);
        assertEquals(1, passwordChecks.get());
        now[0] += 2_000_000_000L;
        request(basic("alice", "s3cret")).run(auth);
        assertEquals(2, passwordChecks.get());
    }

    @Test
    void forwardCredentialsKeepsTheAuthorizationField() throws Exception {
        BasicAuthFilter auth = builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"))).forwardCredentials(true).build();
        Exchange alice = request(basic("alice", "s3cret"));
        alice.run(auth);
        assertEquals(basic("alice", "s3cret"), alice.request.headers().get("Authorization"));
    }

    @Test
    void shaAndSaltedShaHashesAreCheckedOnTheSpot() throws Exception {
        String sha = "{SHA}" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest("pw1".getBytes()));
        byte[] salt = {1, 2, 3, 4};
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        sha1.update("pw2".getBytes());
        sha1.update(salt);
        byte[] digest = sha1.digest();
        byte[] both = new byte[digest.length + salt.length];
        System.arraycopy(digest, 0, both, 0, digest.length);
        System.arraycopy(salt, 0, both, digest.length, salt.length);
        String ssha = "{SSHA}" + Base64.getEncoder().encodeToString(both);
        BasicAuthFilter auth = builder(htpasswd("u1:" + sha, "u2:" + ssha)).build();

        Exchange u1 = request(basic("u1", "pw1"));
        u1.run(auth);
        assertNull(u1.response());
        Exchange u2 = request(basic("u2", "pw2"));
        u2.run(auth);
        assertNull(u2.response());
        Exchange wrong = request(basic("u2", "pw1"));
        wrong.run(auth);
        assertEquals(401, wrong.status());
        assertEquals(0, passwordChecks.get());
    }

    @Test
    void aFullPasswordPoolAnswers503() throws Exception {
        BasicAuthFilter auth = BasicAuthFilter.builder(htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret")))
                .passwordChecks(task -> {
                    throw new RejectedExecutionException("full");
                }).build();
        Exchange busy = request(basic("alice", "s3cret"));
        busy.run(auth);
        assertEquals(503, busy.status());
        assertEquals("1", busy.response().headers().get("Retry-After"));
    }

    @Test
    void aChangedFileIsReadAgainAndForgetsRememberedChecks() throws Exception {
        Path file = htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"));
        BasicAuthFilter auth = builder(file).build();
        request(basic("alice", "s3cret")).run(auth);

        Files.write(file, List.of("bob:" + bcrypt(BCrypt.Version.VERSION_2Y, "hunter2")));
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        auth.checkFile();

        Exchange alice = request(basic("alice", "s3cret"));
        alice.run(auth);
        assertEquals(401, alice.status(), "a removed user's remembered check is gone with the old file");
        Exchange bob = request(basic("bob", "hunter2"));
        bob.run(auth);
        assertNull(bob.response());

        Files.write(file, List.of("bob:$apr1$abc$def"));
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 10000));
        auth.checkFile();
        assertEquals(1, auth.userCount(), "a file that does not parse keeps the previous version");
        Exchange stillBob = request(basic("bob", "hunter2"));
        stillBob.run(auth);
        assertNull(stillBob.response());
    }

    @Test
    void otherHashKindsAreRefusedAtLoadWithFileAndLine() throws Exception {
        Path file = htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"), "# md5 below", "bob:$apr1$xyz$0123456789");
        InvalidSettingException e = assertThrows(InvalidSettingException.class,
                () -> new BasicAuthFilterProvider().create(FilterSettings.of(Map.of("htpasswd", file.toString()))));
        assertEquals("htpasswd", e.key());
        assertTrue(e.getMessage().contains(file + ":3: user 'bob': an MD5 ($apr1$) hash"), e.getMessage());
        assertFalse(e.getMessage().contains("0123456789"), "the hash itself is not repeated");

        Path plain = htpasswd("carol:letmein");
        String message = assertThrows(IllegalArgumentException.class, () -> BasicAuthFilter.builder(plain).build()).getMessage();
        assertTrue(message.contains(":1: user 'carol': an unknown kind of hash"), message);
        Path broken = htpasswd("dave:$2y$04$tooshort");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BasicAuthFilter.builder(broken).build())
                .getMessage().contains("malformed bcrypt hash"));
    }

    @Test
    void badSettingsNameTheirKey() throws Exception {
        Path file = htpasswd("alice:" + bcrypt(BCrypt.Version.VERSION_2Y, "s3cret"));
        BasicAuthFilterProvider provider = new BasicAuthFilterProvider();
        assertEquals("htpasswd", assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(Map.of()))).key());
        assertEquals("htpasswd", assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of("htpasswd", "relative/htpasswd")))).key());
        assertEquals("htpasswd", assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of("htpasswd", dir.resolve("missing").toString())))).key());
        Map<String, Object> badRealm = new LinkedHashMap<>();
        badRealm.put("htpasswd", file.toString());
        badRealm.put("realm", "a \"quoted\" realm");
        InvalidSettingException realm = assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(badRealm)));
        assertEquals("realm", realm.key());
        assertTrue(realm.getMessage().startsWith("realm: 'a \"quoted\" realm' (expected"), realm.getMessage());
        Map<String, Object> badHeader = new LinkedHashMap<>();
        badHeader.put("htpasswd", file.toString());
        badHeader.put("user-header", "X User");
        assertEquals("user-header", assertThrows(InvalidSettingException.class, () -> provider.create(FilterSettings.of(badHeader))).key());
        assertEquals("realmm", assertThrows(InvalidSettingException.class,
                () -> provider.create(FilterSettings.of(Map.of("htpasswd", file.toString(), "realmm", "x")))).key());
        assertEquals(BasicAuthFilter.ORDER, provider.create(FilterSettings.of(Map.of("htpasswd", file.toString()))).order());
    }
}
