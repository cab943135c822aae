package dev.relay.lb;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.core.HttpPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Passive health: ejection from observed failures, back-off, probation, and the caps. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class OutlierDetectionTest {
    private final FakeScheduler clock = new FakeScheduler();
    private final List<String> events = new ArrayList<>();
    private final HealthListener listener = new HealthListener() {
        @Override
        public void ejected(Backend backend, Duration duration, String reason) {
            events.add("ejected " + backend + " for " + duration.toSeconds() + "s");
        }

        @Override
        public void reinstated(Backend backend) {
            events.add("reinstated " + backend);
        }
    };

    private LoadBalancer<RoundRobin> lb(List<Backend> backends, OutlierDetection settings) {
        return LoadBalancer.builder(RoundRobin.create()).staticBackends(backends).outlierDetection(settings)
                .ticker(clock).scheduler(clock).listener(listener).build();
    }

    private static void report(LoadBalancer<?> lb, Backend b, AttemptOutcome outcome, int times) {
        for (int i = 0; i < times; i++) {
            lb.observer().onAttemptStart(HttpPeer.plain(b));
            lb.observer().onAttemptEnd(HttpPeer.plain(b), outcome, 1_000_000);
        }
    }

    private static final OutlierDetection THREE_STRIKES = OutlierDetection.builder().consecutiveFailures(3)
            .failureRatePercent(0).baseEjectionTime(Duration.ofSeconds(10)).maxEjectionTime(Duration.ofSeconds(35))
            .maxEjectionPercent(50).build();

    @Test
    void consecutiveFailuresEjectABackendUntilItsProbeSucceeds() {
        List<Backend> backends = TestBackends.of(4);
        Backend bad = backends.get(1);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);

        report(lb, bad, AttemptOutcome.CONNECT_FAILURE, 2);
        report(lb, bad, AttemptOutcome.SUCCESS, 1);
        report(lb, bad, AttemptOutcome.TIMEOUT, 2);
        assertFalse(lb.backends().isEjected(bad), "a success ends the streak");
        report(lb, bad, AttemptOutcome.SERVER_ERROR, 1);
        assertTrue(lb.backends().isEjected(bad));
        assertFalse(lb.backends().ready(bad));
        for (int i = 0; i < 40; i++) {
            assertFalse(lb.selectOrNull(LoadBalancer.NO_KEY, 8).equals(bad));
        }

        clock.advance(Duration.ofSeconds(9));
        assertTrue(lb.backends().isEjected(bad));
        clock.advance(Duration.ofSeconds(1));
        assertFalse(lb.backends().isEjected(bad), "the ejection is over: on probation, ready");
        assertTrue(lb.backends().ready(bad));

        report(lb, bad, AttemptOutcome.SUCCESS, 1);
        assertEquals(List.of("ejected " + bad + " for 10s", "reinstated " + bad), events);
    }

    @Test
    void aFailedProbeEjectsAgainForLongerUpToTheMaximum() {
        List<Backend> backends = TestBackends.of(4);
        Backend bad = backends.get(2);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);

        report(lb, bad, AttemptOutcome.FAILURE, 3);
        for (int previous : new int[] {10, 20, 35}) {
            clock.advance(Duration.ofSeconds(previous - 1));
            assertTrue(lb.backends().isEjected(bad));
            clock.advance(Duration.ofSeconds(1));
            assertFalse(lb.backends().isEjected(bad));
            report(lb, bad, AttemptOutcome.CONNECT_FAILURE, 1); // the probe fails: ejected at once, no threshold
            assertTrue(lb.backends().isEjected(bad));
        }
        assertEquals(List.of("ejected " + bad + " for 10s", "ejected " + bad + " for 20s",
                "ejected " + bad + " for 35s", "ejected " + bad + " for 35s"), events);
    }

    @Test
    void theEjectionCountDecaysWhileTheBackendServesWell() {
        List<Backend> backends = TestBackends.of(4);
        Backend bad = backends.get(0);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);
        report(lb, bad, AttemptOutcome.FAILURE, 3);
        clock.advance(Duration.ofSeconds(10));
        report(lb, bad, AttemptOutcome.SUCCESS, 1);
        clock.advance(Duration.ofSeconds(25)); // two base times in service: the count is back to 0
        report(lb, bad, AttemptOutcome.FAILURE, 3);
        assertEquals("ejected " + bad + " for 10s", events.get(2));
    }

    @Test
    void cancelledAttemptsCountNeitherWay() {
        List<Backend> backends = TestBackends.of(4);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);
        report(lb, backends.get(0), AttemptOutcome.FAILURE, 2);
        report(lb, backends.get(0), AttemptOutcome.CANCELLED, 5);
        assertFalse(lb.backends().isEjected(backends.get(0)));
        report(lb, backends.get(0), AttemptOutcome.FAILURE, 1);
        assertTrue(lb.backends().isEjected(backends.get(0)));
    }

    @Test
    void aHighFailureRateEjects() {
        List<Backend> backends = TestBackends.of(4);
        Backend flaky = backends.get(3);
        LoadBalancer<RoundRobin> lb = lb(backends, OutlierDetection.builder().consecutiveFailures(0)
                .failureRatePercent(50).minimumRequests(20).window(Duration.ofSeconds(10)).maxEjectionPercent(50).build());
        for (int i = 0; i < 9; i++) {
            report(lb, flaky, AttemptOutcome.SUCCESS, 1);
            report(lb, flaky, AttemptOutcome.SERVER_ERROR, 1);
        }
        assertFalse(lb.backends().isEjected(flaky), "18 attempts: below the minimum");
        clock.advance(Duration.ofSeconds(11)); // a new window: the old attempts no longer count
        for (int i = 0; i < 9; i++) {
            report(lb, flaky, AttemptOutcome.SUCCESS, 1);
            report(lb, flaky, AttemptOutcome.SERVER_ERROR, 1);
        }
        report(lb, flaky, AttemptOutcome.SUCCESS, 2);
        assertFalse(lb.backends().isEjected(flaky), "9 of 20 failed: below 50%");
        report(lb, flaky, AttemptOutcome.SERVER_ERROR, 1);
        assertFalse(lb.backends().isEjected(flaky), "10 of 21");
        report(lb, flaky, AttemptOutcome.SERVER_ERROR, 1);
        assertTrue(lb.backends().isEjected(flaky), "11 of 22: 50%");
    }

    @Test
    void neverEjectsMoreThanTheMaximumPercentage() {
        List<Backend> backends = TestBackends.of(10);
        LoadBalancer<RoundRobin> lb = lb(backends, OutlierDetection.builder().consecutiveFailures(1).failureRatePercent(0)
                .maxEjectionPercent(20).build());
        for (Backend b : backends) {
            report(lb, b, AttemptOutcome.CONNECT_FAILURE, 5);
        }
        long ejected = backends.stream().filter(b -> lb.backends().isEjected(b)).count();
        assertEquals(2, ejected);
    }

    @Test
    void ejectsAtLeastOneBackendWhateverThePercentageButNeverTheLastReadyOne() {
        List<Backend> two = TestBackends.of(2);
        LoadBalancer<RoundRobin> lb = lb(two, OutlierDetection.builder().consecutiveFailures(1).failureRatePercent(0).build());
        report(lb, two.get(0), AttemptOutcome.CONNECT_FAILURE, 1);
        assertTrue(lb.backends().isEjected(two.get(0)), "10% of 2 is 0, but one backend may always be ejected");
        report(lb, two.get(1), AttemptOutcome.CONNECT_FAILURE, 10);
        assertFalse(lb.backends().isEjected(two.get(1)));

        List<Backend> drained = TestBackends.of(3);
        LoadBalancer<RoundRobin> other = lb(drained, OutlierDetection.builder().consecutiveFailures(1).failureRatePercent(0)
                .maxEjectionPercent(100).build());
        other.backends().setEnabled(drained.get(0), false);
        other.backends().setEnabled(drained.get(1), false);
        report(other, drained.get(2), AttemptOutcome.CONNECT_FAILURE, 3);
        assertFalse(other.backends().isEjected(drained.get(2)), "the only ready backend stays");
    }

    @Test
    void ejectionIsIndependentOfDrainAndHealth() {
        List<Backend> backends = TestBackends.of(4);
        Backend b = backends.get(0);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);
        report(lb, b, AttemptOutcome.FAILURE, 3);
        lb.backends().setEnabled(b, false);
        lb.backends().setEnabled(b, true);
        assertTrue(lb.backends().isEjected(b), "re-enabling does not end an ejection");
        assertTrue(lb.backends().isHealthy(b), "ejection is not an active-health verdict");
    }

    @Test
    void closingCancelsTheEndOfEjections() {
        List<Backend> backends = TestBackends.of(4);
        LoadBalancer<RoundRobin> lb = lb(backends, THREE_STRIKES);
        report(lb, backends.get(0), AttemptOutcome.FAILURE, 3);
        assertEquals(1, clock.pending());
        lb.close();
        assertEquals(0, clock.pending());
        assertEquals(0, lb.pendingTasks());
    }

    @Test
    void settingsRejectContradictions() {
        assertThrows(IllegalStateException.class, () -> OutlierDetection.builder()
                .baseEjectionTime(Duration.ofMinutes(10)).maxEjectionTime(Duration.ofMinutes(1)).build());
        assertThrows(IllegalArgumentException.class, () -> OutlierDetection.builder().maxEjectionPercent(101));
        assertThrows(IllegalArgumentException.class, () -> OutlierDetection.builder().window(Duration.ZERO));
    }
}
