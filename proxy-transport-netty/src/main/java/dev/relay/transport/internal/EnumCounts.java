package dev.relay.transport.internal;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One counter per constant of an enum of reasons, counted from any thread without contention
 * ({@link LongAdder}), read as a map with every reason present (zero included) for the metrics.
 */
final class EnumCounts<E extends Enum<E>> {
    private final Class<E> type;
    private final LongAdder[] counts;

    EnumCounts(Class<E> type) {
        this.type = type;
        this.counts = new LongAdder[type.getEnumConstants().length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void increment(E reason) {
        counts[reason.ordinal()].increment();
    }

    /** The counts now, by reason. */
    Map<E, Long> snapshot() {
        Map<E, Long> all = new EnumMap<>(type);
        for (E reason : type.getEnumConstants()) {
            all.put(reason, counts[reason.ordinal()].sum());
        }
        return all;
    }
}
