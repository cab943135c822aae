package dev.relay.testing;

/**
 * The response a {@link RequestHandler} describes: a status, header fields (sent in the order added, case
 * preserved) and a body. The origin adds {@code X-Origin}, {@code X-Origin-Connection} and the
 * connection-management fields, and sets {@code Content-Length} from the body unless the handler set
 * {@code Content-Length} or {@code Transfer-Encoding} itself (so a test can send a deliberately wrong one).
 *
 * <p>Not thread-safe: it is only valid inside {@link RequestHandler#handle}.
 */
public interface ResponseWriter {

    /**
     * Sets the status code.
     *
     * @param code 200 to 599
     * @return this writer
     */
    ResponseWriter status(int code);

    /**
     * Adds a header field; adding the same name twice sends two fields.
     *
     * @return this writer
     */
    ResponseWriter header(String name, String value);

    /**
     * Sets the body (copied).
     *
     * @return this writer
     */
    ResponseWriter body(byte[] body);

    /**
     * Sets the body to the UTF-8 bytes of {@code body}.
     *
     * @return this writer
     */
    ResponseWriter body(String body);
}
