/**
 * Zero-downtime upgrade: the running process hands its listening sockets to a new process over a
 * Unix socket (SCM_RIGHTS, as Pingora does), then drains and exits; plus the pid file and systemd
 * readiness notifications that go with it. Not an API.
 */
package dev.relay.server.internal.upgrade;
