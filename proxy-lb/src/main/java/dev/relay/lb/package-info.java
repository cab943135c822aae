/**
 * Load balancing, after Pingora's {@code pingora-load-balancing}: a {@link dev.relay.lb.Backends}
 * set fed by a {@link dev.relay.lb.ServiceDiscovery} (static, {@link dev.relay.lb.DnsDiscovery DNS},
 * {@link dev.relay.lb.FileDiscovery a watched file}) and carrying per-backend state (drained,
 * healthy, ejected, load), and a {@link dev.relay.lb.LoadBalancer} that picks a ready backend with a
 * {@link dev.relay.core.SelectionAlgorithm}: {@link dev.relay.lb.RoundRobin},
 * {@link dev.relay.lb.Random}, {@link dev.relay.lb.FnvHash}, {@link dev.relay.lb.Ketama}
 * (nginx-compatible), {@link dev.relay.lb.Maglev}, {@link dev.relay.lb.LeastConnections} and
 * {@link dev.relay.lb.PeakEwma}, by configuration name through
 * {@link dev.relay.lb.SelectionAlgorithms}, keyed by a {@link dev.relay.lb.HashKey}.
 *
 * <p>A started load balancer refreshes discovery, runs active {@link dev.relay.lb.HealthCheck}s
 * and applies passive {@link dev.relay.lb.OutlierDetection} from the attempts its
 * {@link dev.relay.lb.LoadBalancer#observer() observer} sees, on an injected
 * {@link dev.relay.lb.TaskScheduler} and {@link dev.relay.lb.Ticker}. Reloadable state is held in
 * immutable snapshots swapped through one atomic reference; selection is lock-free and
 * allocation-free. Depends on the JDK and {@code proxy-core} only (no Netty: health checks and DNS
 * use blocking JDK sockets on their own threads).
 *
 * <pre>{@code
 * LoadBalancer<RoundRobin> upstreams = LoadBalancer.tryFromIterable(RoundRobin.create(), "10.0.0.1:80", "10.0.0.2:80");
 * Backend backend = upstreams.selectOrNull(LoadBalancer.NO_KEY, 256);
 * }</pre>
 *
 * <p>{@code @NullMarked} (JSpecify): everything here is non-null unless a parameter, return value or
 * field is annotated {@code @Nullable}, which its Javadoc then explains.
 */
@NullMarked
package dev.relay.lb;

import org.jspecify.annotations.NullMarked;
