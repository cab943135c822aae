/**
 * The implementation of the server product: signal handling, the {@code ServiceLoader} registry of
 * filters, the demo origins of the bundled configuration, and the Guice modules that assemble a
 * server from a parsed configuration. Not an API: anything here may change.
 */
package dev.relay.server.internal;
