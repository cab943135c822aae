package dev.relay.transport;

/**
 * What the proxy does with a request header field whose name contains {@code _}
 * ({@link ProxyOptions#underscoresInHeaders()}). Such a name is a valid token, but CGI-style backends
 * (PHP-FPM, WSGI, many frameworks) map both {@code X-User_Id} and {@code X-User-Id} to
 * {@code HTTP_X_USER_ID}, so a client could pass off its own field as one the proxy sets or
 * checks: dropping them, as nginx does by default, closes that gap.
 */
public enum UnderscoresInHeaders {
    /** The field is removed before any phase sees it (the default, nginx's {@code underscores_in_headers off}). */
    DROP,
    /** The field is kept and forwarded like any other. */
    ALLOW,
    /** The request is refused with 400. */
    REJECT
}
