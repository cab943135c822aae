package dev.relay.lb;

import dev.relay.core.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class FileDiscoveryTest {
    @TempDir
    Path dir;

    private final FakeScheduler clock = new FakeScheduler();

    private FileDiscovery discovery(Path file) {
        return FileDiscovery.builder(file).pollInterval(Duration.ofSeconds(2)).executor(Runnable::run).build();
    }

    @Test
    void parsesBackendsWeightsAndComments() throws Exception {
        Path file = dir.resolve("backends");
        Files.writeString(file, "# pool\n10.0.0.1:80\n\n  10.0.0.2:80   weight=3  # heavy\r\n[2001:db8::1]:8443\napi.internal:80\n");
        List<Backend> found = discovery(file).discover().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(List.of(Backend.parse("10.0.0.1:80"), Backend.parse("10.0.0.2:80").withWeight(3),
                Backend.parse("[2001:db8::1]:8443"), Backend.parse("api.internal:80")), found);
    }

    @Test
    void malformedLinesFailNamingFileAndLine() throws Exception {
        Path file = dir.resolve("bad");
        for (String bad : List.of("10.0.0.1\n", "10.0.0.1:80 weight=0\n", "10.0.0.1:80 heavy\n")) {
            Files.writeString(file, "10.0.0.9:80\n" + bad);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> discovery(file).discover().toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains(file + ":2: "), e.getCause().getMessage());
        }
    }

    @Test
    void aStartedLoadBalancerPicksUpChangesAndKeepsItsSetOnBadFiles() throws Exception {
        Path file = dir.resolve("backends");
        Files.writeString(file, "10.0.0.1:80\n10.0.0.2:80\n");
        LoadBalancer<RoundRobin> lb = LoadBalancer.builder(RoundRobin.create()).discovery(discovery(file))
                .ticker(clock).scheduler(clock).build();
        lb.start().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(2, lb.backends().size());
        lb.backends().setEnabled(Backend.parse("10.0.0.2:80"), false);

        Files.writeString(file, "10.0.0.2:80\n10.0.0.3:80\n");
        clock.advance(Duration.ofSeconds(2));
        assertEquals(List.of(Backend.parse("10.0.0.2:80"), Backend.parse("10.0.0.3:80")), lb.backends().list());
        assertFalse(lb.backends().isEnabled(Backend.parse("10.0.0.2:80")), "the survivor keeps its drain");

        for (String broken : List.of("garbage\n", "", "# all commented out\n")) {
            Files.writeString(file, broken);
            clock.advance(Duration.ofSeconds(2));
            assertEquals(2, lb.backends().size(), "'" + broken.trim() + "' keeps the working set");
        }
        Files.delete(file);
        clock.advance(Duration.ofSeconds(2));
        assertEquals(2, lb.backends().size(), "a missing file keeps the working set");
        lb.close();
        assertEquals(0, clock.pending());
    }
}
