package dev.relay.testing;

/**
 * A test-defined response for one path of a {@link TestOrigin}, registered with
 * {@link TestOrigin.Builder#handler(String, RequestHandler)}.
 *
 * <p>The origin calls the handler once the whole request has arrived (and has been recorded), on the
 * connection's event loop: it must not block. Whatever the handler leaves in the {@link ResponseWriter}
 * is sent when it returns. A handler that throws produces a {@code 500} whose body names the exception.
 *
 * <pre>{@code
 * TestOrigin origin = TestOrigin.builder()
 *         .handler("/teapot", (request, response) -> response.status(418)
 *                 .header("Content-Type", "text/plain")
 *                 .body("short and stout\n"))
 *         .build().start();
 * }</pre>
 */
@FunctionalInterface
public interface RequestHandler {

    /**
     * Describes the response to {@code request} by filling {@code response}.
     *
     * @param request  the request, already recorded (body size and SHA-256 included)
     * @param response the response to fill; starts as {@code 200} with no headers and an empty body
     * @throws Exception to make the origin answer {@code 500}
     */
    void handle(RecordedRequest request, ResponseWriter response) throws Exception;
}
