package dev.relay.lb.internal;

import dev.relay.core.Backend;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * An immutable snapshot of a backend set: the backends in a canonical order and their
 * {@link BackendState}s at the same indexes. A selector built over {@link #list()} returns indexes
 * that address {@link #backend(int)} and {@link #state(int)} directly, so the selection hot path
 * needs neither hashing nor a map lookup.
 *
 * <p>The order is canonical (resolved addresses first, by address bytes, then unresolved ones by
 * host name; then port, then weight), like Pingora's {@code BTreeSet}: the same set discovered
 * in another order (DNS answers rotate) builds the same selector.
 */
public final class BackendSet {
    private static final AtomicLong VERSIONS = new AtomicLong();

    /** The empty set, version 0. */
    public static final BackendSet EMPTY = new BackendSet(new Backend[0], new BackendState[0], 0);

    /** Canonical order of backends within a snapshot. */
    public static final Comparator<Backend> ORDER = BackendSet::compare;

    private final Backend[] backends;
    private final BackendState[] states;
    private final List<Backend> list;
    private final Map<Backend, Integer> indexes;
    private final long version;

    private BackendSet(Backend[] backends, BackendState[] states, long version) {
        this.backends = backends;
        this.states = states;
        this.list = List.of(backends);
        this.version = version;
        Map<Backend, Integer> map = new HashMap<>(backends.length * 2);
        for (int i = 0; i < backends.length; i++) {
            map.put(backends[i], i);
        }
        this.indexes = map;
    }

    /**
     * The snapshot for {@code discovered}, carrying over the state of every backend that
     * {@code previous} already had; {@code previous} itself when nothing changed (same backends,
     * same metadata), so callers can tell a change by identity.
     */
    public static BackendSet derive(BackendSet previous, Collection<Backend> discovered) {
        requireNonNull(previous, "previous");
        Backend[] sorted = canonical(discovered);
        if (sameBackends(previous.backends, sorted)) {
            return previous;
        }
        BackendState[] states = new BackendState[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            BackendState old = previous.stateOf(sorted[i]);
            states[i] = old != null ? old : new BackendState();
        }
        return new BackendSet(sorted, states, VERSIONS.incrementAndGet());
    }

    /** The backends in canonical order, immutable; indexes match {@link #state(int)}. */
    public List<Backend> list() {
        return list;
    }

    /** The number of backends. */
    public int size() {
        return backends.length;
    }

    /** The backend at {@code index}. */
    public Backend backend(int index) {
        return backends[index];
    }

    /** The state of the backend at {@code index}. */
    public BackendState state(int index) {
        return states[index];
    }

    /**
     * The states, indexed like {@link #list()}: the array itself, for selectors that read load
     * signals on the hot path. Never modify it.
     */
    public BackendState[] states() {
        return states;
    }

    /** The state of {@code backend}, or {@code null} when it is not in this set. */
    public BackendState stateOf(Backend backend) {
        Integer index = indexes.get(backend);
        return index == null ? null : states[index];
    }

    /** Increases with every snapshot that differs from its predecessor; newer sets have larger versions. */
    public long version() {
        return version;
    }

    private static Backend[] canonical(Collection<Backend> discovered) {
        requireNonNull(discovered, "backends");
        LinkedHashSet<Backend> unique = new LinkedHashSet<>();
        int i = 0;
        for (Backend b : discovered) {
            unique.add(requireNonNull(b, "backends[" + i + "]"));
            i++;
        }
        Backend[] sorted = unique.toArray(new Backend[0]);
        Arrays.sort(sorted, ORDER);
        return sorted;
    }

    // Backend equality ignores metadata; a changed metadata (say a per-backend SNI) must still
    // reach the selector, so it counts as a change here.
    private static boolean sameBackends(Backend[] a, Backend[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (!a[i].equals(b[i]) || !a[i].metadata().equals(b[i].metadata())) {
                return false;
            }
        }
        return true;
    }

    private static int compare(Backend a, Backend b) {
        // TCP backends first, then Unix-domain sockets by path: any fixed order keeps selection stable.
        if (a.isUnix() || b.isUnix()) {
            int c = a.isUnix() != b.isUnix() ? (a.isUnix() ? 1 : -1)
                    : a.hostAndPort().compareTo(b.hostAndPort());
            return c != 0 ? c : Integer.compare(a.weight(), b.weight());
        }
        InetSocketAddress x = a.address();
        InetSocketAddress y = b.address();
        InetAddress ix = x.isUnresolved() ? null : x.getAddress();
        InetAddress iy = y.isUnresolved() ? null : y.getAddress();
        int c;
        if (ix != null && iy != null) {
            byte[] bx = ix.getAddress();
            byte[] by = iy.getAddress();
            c = bx.length != by.length ? Integer.compare(bx.length, by.length) : Arrays.compareUnsigned(bx, by);
        } else if (ix != null) {
            c = -1;
        } else if (iy != null) {
            c = 1;
        } else {
            c = x.getHostString().compareTo(y.getHostString());
        }
        if (c == 0) {
            c = Integer.compare(x.getPort(), y.getPort());
        }
        if (c == 0) {
            c = Integer.compare(a.weight(), b.weight());
        }
        return c;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>(backends.length);
        for (int i = 0; i < backends.length; i++) {
            parts.add(backends[i] + " (" + states[i] + ")");
        }
        return parts.toString();
    }
}
