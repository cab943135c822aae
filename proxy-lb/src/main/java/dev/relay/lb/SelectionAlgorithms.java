package dev.relay.lb;

import dev.relay.core.SelectionAlgorithm;

import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The selection algorithms by their configuration names, for a server that reads
 * {@code selection = ...} from its configuration:
 *
 * <table>
 *   <caption>Configuration names</caption>
 *   <tr><th>name</th><th>algorithm</th><th>needs a {@link HashKey}</th></tr>
 *   <tr><td>{@code round-robin}</td><td>{@link RoundRobin#create()}</td><td>no</td></tr>
 *   <tr><td>{@code random}</td><td>{@link Random#create()}</td><td>no</td></tr>
 *   <tr><td>{@code fnv}</td><td>{@link FnvHash#create()}</td><td>yes</td></tr>
 *   <tr><td>{@code ketama}</td><td>{@link Ketama#create()}</td><td>yes</td></tr>
 *   <tr><td>{@code maglev}</td><td>{@link Maglev#create()}</td><td>yes</td></tr>
 *   <tr><td>{@code least-connections}</td><td>{@link LeastConnections#create()}</td><td>no</td></tr>
 *   <tr><td>{@code peak-ewma}</td><td>{@link PeakEwma#create()}</td><td>no</td></tr>
 * </table>
 *
 * <pre>{@code
 * SelectionAlgorithm algorithm = SelectionAlgorithms.forName(config.getString("selection"));
 * HashKey key = SelectionAlgorithms.usesKey(name) ? HashKey.parse(config.getString("hash-key")) : null;
 * }</pre>
 */
public final class SelectionAlgorithms {
    /** Every configuration name, in the order of the table above. */
    public static final List<String> NAMES =
            List.of("round-robin", "random", "fnv", "ketama", "maglev", "least-connections", "peak-ewma");

    private static final Set<String> HASHING = Set.of("fnv", "ketama", "maglev");

    private SelectionAlgorithms() {}

    /**
     * The algorithm called {@code name}, with its default settings.
     *
     * @throws IllegalArgumentException naming the setting and the accepted names
     */
    public static SelectionAlgorithm forName(String name) {
        requireNonNull(name, "name");
        switch (name) {
            case "round-robin":
                return RoundRobin.create();
            case "random":
                return Random.create();
            case "fnv":
                return FnvHash.create();
            case "ketama":
                return Ketama.create();
            case "maglev":
                return Maglev.create();
            case "least-connections":
                return LeastConnections.create();
            case "peak-ewma":
                return PeakEwma.create();
            default:
                throw new IllegalArgumentException("selection: " + name + " (expected: one of " + String.join(", ", NAMES) + ")");
        }
    }

    /**
     * Whether the algorithm called {@code name} picks by a request key (so a {@code hash-key} is
     * required); the others ignore the key ({@link LoadBalancer#NO_KEY}).
     *
     * @throws IllegalArgumentException when {@code name} is not a selection name
     */
    public static boolean usesKey(String name) {
        forName(name);
        return HASHING.contains(name);
    }

    /** Whether {@code algorithm} picks by a request key (FNV, Ketama, Maglev). */
    public static boolean usesKey(SelectionAlgorithm algorithm) {
        requireNonNull(algorithm, "algorithm");
        return algorithm instanceof FnvHash || algorithm instanceof Ketama || algorithm instanceof Maglev;
    }
}
