package dev.relay.lb;

import dev.relay.core.AttemptOutcome;
import dev.relay.core.Backend;
import dev.relay.lb.internal.BackendSet;
import dev.relay.lb.internal.BackendState;

import java.time.Duration;

/**
 * Passive health: turns the attempt outcomes the engine reports into ejections, following
 * {@link OutlierDetection}. The per-attempt path is a few atomic updates; the ejection decision (rare)
 * takes this object's lock to count the ejected backends against the cap. The end of an ejection is
 * a task on the load balancer's scheduler that moves the backend to probation.
 */
final class OutlierDetector {
    private static final System.Logger LOG = HealthCheckRunner.LOG;

    private final OutlierDetection settings;
    private final Backends backends;
    private final Ticker ticker;
    private final BackgroundTasks tasks;
    private final HealthListener listener;

    OutlierDetector(OutlierDetection settings, Backends backends, Ticker ticker, BackgroundTasks tasks, HealthListener listener) {
        this.settings = settings;
        this.backends = backends;
        this.ticker = ticker;
        this.tasks = tasks;
        this.listener = listener;
    }

    OutlierDetection settings() {
        return settings;
    }

    /** Counts one attempt outcome (never {@code CANCELLED}) for {@code backend}, whose state is {@code state}. */
    void record(Backend backend, BackendState state, AttemptOutcome outcome, long now) {
        int ejection = state.ejection();
        if (outcome == AttemptOutcome.SUCCESS) {
            state.passiveSuccess(now, settings.windowNanos);
            if (ejection == BackendState.PROBING && state.casEjection(BackendState.PROBING, BackendState.IN_SERVICE)) {
                synchronized (this) {
                    state.setReinstatedAt(now);
                }
                LOG.log(System.Logger.Level.INFO, "backend {0} is back in service: its probe request succeeded", backend);
                try {
                    listener.reinstated(backend);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "health listener failed for " + backend, e);
                }
            }
            return;
        }
        if (ejection == BackendState.EJECTED) {
            return; // attempts started before the ejection: it is already decided
        }
        if (ejection == BackendState.PROBING) {
            eject(backend, state, "its probe request failed (" + outcome + ")", now);
            return;
        }
        int streak = state.passiveFailure(now, settings.windowNanos);
        if (settings.consecutiveFailures > 0 && streak >= settings.consecutiveFailures) {
            eject(backend, state, streak + " consecutive failures (last: " + outcome + ")", now);
            return;
        }
        if (settings.failureRatePercent > 0) {
            int requests = state.windowRequests();
            int failures = state.windowFailures();
            if (requests >= settings.minimumRequests && (long) failures * 100 >= (long) settings.failureRatePercent * requests) {
                eject(backend, state, failures + " failures in " + requests + " attempts", now);
            }
        }
    }

    private void eject(Backend backend, BackendState state, String reason, long now) {
        long nanos;
        synchronized (this) {
            if (tasks.isClosed()) {
                return;
            }
            int from = state.ejection();
            if (from == BackendState.EJECTED) {
                return;
            }
            BackendSet set = backends.snapshot();
            if (set.stateOf(backend) != state) {
                return; // removed from the set meanwhile
            }
            if (from == BackendState.IN_SERVICE && !withinCap(set, state)) {
                LOG.log(System.Logger.Level.DEBUG, "not ejecting {0} ({1}): the ejection cap of {2}% is reached or it is the last ready backend",
                        backend, reason, settings.maxEjectionPercent);
                state.resetPassiveCounters(now);
                return;
            }
            if (from == BackendState.IN_SERVICE && state.ejections() > 0 && state.lastReinstatedAt() != Long.MIN_VALUE) {
                // The ejection count decays: one step per base ejection time spent in service.
                long inService = Math.max(0, now - state.lastReinstatedAt());
                long decay = inService / settings.baseEjectionNanos;
                state.setEjections((int) Math.max(0, state.ejections() - decay));
            }
            if (!state.casEjection(from, BackendState.EJECTED)) {
                return;
            }
            state.setEjections(state.ejections() + 1);
            nanos = settings.ejectionNanos(state.ejections());
            state.resetPassiveCounters(now);
        }
        Duration duration = Duration.ofNanos(nanos);
        tasks.schedule(() -> {
            if (state.casEjection(BackendState.EJECTED, BackendState.PROBING)) {
                LOG.log(System.Logger.Level.INFO, "backend {0}: ejection over, the next request probes it", backend);
            }
        }, duration);
        LOG.log(System.Logger.Level.WARNING, "ejecting backend {0} for {1}: {2}", backend, duration, reason);
        try {
            listener.ejected(backend, duration, reason);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "health listener failed for " + backend, e);
        }
    }

    // Guarded by this: at most maxEjectionPercent of the set (at least one backend) ejected or on
    // probation, and at least one other backend ready.
    private boolean withinCap(BackendSet set, BackendState candidate) {
        int size = set.size();
        int allowed = settings.maxEjectionPercent == 0 ? 0 : Math.max(1, size * settings.maxEjectionPercent / 100);
        int ejected = 0;
        boolean otherReady = false;
        for (BackendState s : set.states()) {
            if (s.ejection() != BackendState.IN_SERVICE) {
                ejected++;
            } else if (s != candidate && s.isReady()) {
                otherReady = true;
            }
        }
        return otherReady && ejected < allowed;
    }
}
