package dev.relay.core;

/**
 * A filter that sends copies of requests to an upstream group ({@code mirror}), and how its copies
 * fared: the server finds such filters in its configuration and exports their {@link #stats()} as
 * metrics, as it does for caches.
 */
public interface MirrorModuleFactory extends HttpModuleFactory {

    /** The group the copies go to. */
    String upstream();

    /** The counts since the filter was created. Cheap: read from counters, no lock. */
    Stats stats();

    /**
     * What became of the requests sampled for mirroring.
     *
     * @param mirrored     copies the shadow answered (whatever the status)
     * @param failed       copies sent that failed (no ready backend, connect, TLS, timeout, reset)
     * @param bodyTooLarge not sent: the request body was over the filter's limit
     * @param overInFlight not sent: the filter had its most copies in flight
     * @param inFlight     copies sent and not answered yet
     */
    record Stats(long mirrored, long failed, long bodyTooLarge, long overInFlight, long inFlight) {}
}
