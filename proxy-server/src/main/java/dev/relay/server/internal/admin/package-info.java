/**
 * The admin listener ({@code proxy.admin.address}): health and readiness, Prometheus metrics, the
 * upstream groups' state and configuration reload, on a port of its own and an event loop of its
 * own. Not an API.
 */
package dev.relay.server.internal.admin;
