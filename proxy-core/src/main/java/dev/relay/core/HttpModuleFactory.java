package dev.relay.core;

/** Creates the per-request instances of one {@link HttpModule}; shared by all requests, thread-safe. */
public interface HttpModuleFactory {

    /** The name used in logs and configuration. */
    String name();

    /** Lower orders run first on the request and on the response. */
    default int order() {
        return 0;
    }

    /** A fresh module for one request. */
    HttpModule newModule();

    /**
     * Tells the factory that no configuration uses it any more: a reload replaced (or rejected) the
     * configuration that held it, or the server stopped. The server calls it once the new configuration
     * is current, so requests still in flight may go on using what the factory holds. A factory that
     * holds something beyond its configuration (an open disk tier, a connection to a shared store)
     * lets go of it here, unless another live factory shares it. Called at most once per factory by
     * the server; the default does nothing.
     */
    default void release() {}
}
