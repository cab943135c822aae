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
}
