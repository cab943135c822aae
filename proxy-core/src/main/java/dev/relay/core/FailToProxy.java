package dev.relay.core;

/**
 * What {@link ProxyHttp#failToProxy} did about a failed request.
 *
 * @param errorCode the status sent to the client, or 0 when nothing was sent (the client is gone,
 *                  or a response had already started)
 * @param canReuseDownstream whether the client connection may carry another request
 */
public record FailToProxy(int errorCode, boolean canReuseDownstream) {}
