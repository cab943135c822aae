/**
 * Load balancing, after Pingora's {@code pingora-load-balancing}: a {@link dev.relay.lb.Backends}
 * set fed by a {@link dev.relay.lb.ServiceDiscovery} and carrying per-backend enabled/health state,
 * and a {@link dev.relay.lb.LoadBalancer} that picks a ready backend with a
 * {@link dev.relay.core.SelectionAlgorithm} ({@link dev.relay.lb.RoundRobin},
 * {@link dev.relay.lb.Random}). Reloadable state is held in immutable snapshots swapped through one
 * atomic reference; selection is lock-free and allocation-free. Depends on the JDK and
 * {@code proxy-core} only.
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> upstreams = LoadBalancer.tryFromIterable(RoundRobin.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend backend = upstreams.selectOrNull(LoadBalancer.NO_KEY, 256);
 * }</pre>
 *
 * <p>Everything here is non-null unless a parameter or return value is documented as nullable.
 */
package dev.relay.lb;
