package dev.relay.examples;

import dev.relay.examples.GracefulUpgradeExample.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two instances of the example in one JVM, the second upgrading from the first over the upgrade
 * socket while a client keeps sending: no request fails, a slow request in flight finishes on the
 * old instance, and the old instance then stops.
 */
@Timeout(60)
class GracefulUpgradeExampleTest {

    @TempDir
    Path dir;

    @Test
    void anUpgradeUnderLoadLosesNoRequestAndTheOldInstanceDrains() throws Exception {
        Path socket = dir.resolve("upgrade.sock");
        GracefulUpgradeExample old = new GracefulUpgradeExample(
                new Settings("127.0.0.1:0", socket, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(10)), false, "old");
        old.start();
        GracefulUpgradeExample next = null;
        try {
            assumeTrue(old.server().runtime().canAdoptListeners(), "upgrades need the io_uring or epoll transport");
            InetSocketAddress address = old.http().boundAddresses().get(0);

            CompletableFuture<Answer> slow = CompletableFuture.supplyAsync(() -> get(address, "/?sleep=1"));
            List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean sending = new AtomicBoolean(true);
            Thread client = new Thread(() -> {
                while (sending.get()) {
                    try {
                        answers.add(get(address, "/"));
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }, "upgrade-test-client");
            client.start();

            // The slow services make the new instance take the sockets only after some traffic went to the old one.
            next = new GracefulUpgradeExample(new Settings("127.0.0.1:0", socket, Duration.ofMillis(200),
                    Duration.ofMillis(300), Duration.ofSeconds(10)), true, "new");
            next.start();
            old.server().terminationFuture().toCompletableFuture().get(20, TimeUnit.SECONDS);
            int answeredBeforeOldStopped = answers.size();
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < until || answers.size() == answeredBeforeOldStopped) {
                Thread.sleep(20);
            }
            sending.set(false);
            client.join(10_000);

            assertEquals(List.of(), failures, "requests failed during the upgrade");
            Answer slowAnswer = slow.get(10, TimeUnit.SECONDS);
            assertEquals(200, slowAnswer.status());
            assertEquals("old", slowAnswer.instance(), "the request in flight finished on the old instance");
            List<Answer> all = List.copyOf(answers);
            assertTrue(all.stream().allMatch(a -> a.status() == 200), all.toString());
            assertTrue(all.stream().anyMatch(a -> a.instance().equals("old")), "the old instance served first");
            assertEquals("new", all.get(all.size() - 1).instance(), "the new instance serves after the upgrade");
            assertTrue(all.subList(answeredBeforeOldStopped, all.size()).stream().allMatch(a -> a.instance().equals("new")));
            assertEquals(List.of(address), next.http().boundAddresses(), "the same socket, taken over");
        } finally {
            if (next != null) {
                next.server().close();
            }
            old.server().close();
        }
    }

    private record Answer(int status, String instance) {}

    /** One request on a connection of its own (Connection: close), as a new client would send it. */
    private static Answer get(InetSocketAddress address, String path) {
        try (Socket socket = new Socket()) {
            socket.connect(address, 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int status = response.startsWith("HTTP/1.1 ") ? Integer.parseInt(response.substring(9, 12)) : -1;
            String instance = "";
            for (String line : response.split("\r\n")) {
                if (line.regionMatches(true, 0, "X-Instance:", 0, 11)) {
                    instance = line.substring(11).trim();
                }
            }
            if (!response.endsWith("hello from graceful_upgrade example\n")) {
                throw new IllegalStateException("incomplete answer: " + response);
            }
            return new Answer(status, instance);
        } catch (IOException e) {
            throw new IllegalStateException(path + ": " + e, e);
        }
    }
}
