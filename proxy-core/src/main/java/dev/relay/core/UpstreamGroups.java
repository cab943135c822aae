package dev.relay.core;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * The upstream groups of the server a filter runs in, for a filter that sends requests of its own to
 * them (the {@code mirror} filter sends copies of requests to a shadow group). A {@link FilterProvider}
 * gets it from {@link FilterSettings#upstreamGroups()}: {@link #names()} to check a setting that names a
 * group when the configuration loads, {@link #sendDiscardingBody} on each request.
 *
 * <p>The configured server implements it over its groups' load balancers and an upstream client of its
 * own; code that builds a proxy by hand implements it over whatever it balances with. Thread-safe.
 *
 * <pre>{@code
 * String group = settings.getString("upstream").orElseThrow();
 * if (!settings.upstreamGroups().names().contains(group)) {
 *     throw new FilterSettings.InvalidSettingException("upstream", "no upstream group '" + group + "'");
 * }
 * }</pre>
 */
public interface UpstreamGroups {

    /** No groups: what filters see outside a server (settings built in code, tests). */
    static UpstreamGroups none() {
        return NoUpstreamGroups.INSTANCE;
    }

    /** The names of the groups of the configuration being loaded (or running). */
    Set<String> names();

    /**
     * Sends {@code request} with {@code body} once to one backend of group {@code group}, the one its load
     * balancer picks among the ready ones, and reads the response body and drops it. Never retried, never
     * blocks: the stage completes with the response header, or fails with a {@link ProxyError} (no such
     * group or no ready backend: {@link ErrorType#NO_PEER}; connect, TLS, timeouts: theirs). It may
     * complete on any thread.
     *
     * @param request the request header as it should arrive (its {@code Host} included); the callee
     *                sends a copy without connection-specific fields
     * @param body    the whole request body, empty for none; not to be changed by the caller afterwards
     * @param timeout the most the exchange may take as a whole, connect to the last response byte; past
     *                it the callee aborts it (its connection closes) and the stage fails with
     *                {@link ErrorType#DEADLINE_EXCEEDED}. A backend that trickles its answer, or streams
     *                without end, would otherwise hold the exchange for ever.
     */
    CompletionStage<ResponseHeader> sendDiscardingBody(String group, RequestHeader request, byte[] body,
                                                       Duration timeout);
}

/** {@link UpstreamGroups#none()}. */
enum NoUpstreamGroups implements UpstreamGroups {
    INSTANCE;

    @Override
    public Set<String> names() {
        return Set.of();
    }

    @Override
    public CompletionStage<ResponseHeader> sendDiscardingBody(String group, RequestHeader request, byte[] body,
                                                              Duration timeout) {
        requireNonNull(group, "group");
        return Stages.failed(ProxyError.of(ErrorType.NO_PEER, ErrorSource.INTERNAL,
                "no upstream group '" + group + "' (no server gave this filter its groups)", null));
    }
}
