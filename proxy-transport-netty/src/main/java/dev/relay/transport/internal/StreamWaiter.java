package dev.relay.transport.internal;

import dev.relay.core.HttpPeer;
import org.jspecify.annotations.Nullable;

/**
 * An acquirer of {@link UpstreamStreams#acquire} that waits for a stream: on a connection being
 * opened, or in a {@link PeerWaitQueue} until a busy one frees up.
 *
 * @param sinceNanos when it started waiting (the time to a stream is its connect time)
 */
record StreamWaiter(HttpPeer peer, @Nullable ClientAddresses addresses, UpstreamStreams.ConnectionChoice choice,
                    UpstreamStreams.Callback callback, long sinceNanos) {}
