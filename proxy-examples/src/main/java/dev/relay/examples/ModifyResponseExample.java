package dev.relay.examples;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code modify_response} example ({@code Json2Yaml}): the upstream's JSON answer
 * ({@code {"ip": "..."}} from ip.jsontest.com) reaches the client as YAML ({@code ip: ...}).
 * {@link #responseFilter} removes {@code Content-Length}, since the new body's length is not known when
 * the header leaves (the response then goes chunked on HTTP/1.1, by DATA frames on HTTP/2);
 * {@link #responseBodyFilter} keeps every chunk in the request's context and sends nothing until the
 * last, which it replaces by the whole body converted.
 *
 * <p>The conversion reads a flat JSON object (string, number, boolean and null members), which is what
 * the original's {@code Resp} struct accepts; a body that is not one goes out unchanged (the original
 * panics). Pingora's example also sets {@code Transfer-Encoding: Chunked} itself: Relay frames the
 * response for the client's protocol and does not need it.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.ModifyResponseExample
 * curl 127.0.0.1:6191
 * </pre>
 */
public final class ModifyResponseExample implements ProxyHttp<ModifyResponseExample.MyCtx> {
    private static final Logger LOG = LoggerFactory.getLogger(ModifyResponseExample.class);
    /** The upstream's name: its {@code Host}. */
    public static final String HOST = "ip.jsontest.com";
    /** Text YAML reads as that string when unquoted (no indicator first, no ": " or " #" inside). */
    private static final Pattern PLAIN_YAML_SCALAR = Pattern.compile("[A-Za-z0-9_./][A-Za-z0-9_./:-]*");
    /** Plain text that YAML would read as something other than a string: a number, a boolean, null. */
    private static final Pattern YAML_NON_STRING = Pattern.compile(
            "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\\.(inf|Inf|INF)"
                    + "|\\.(nan|NaN|NAN)|(?i:true|false|null|yes|no|on|off|y|n)|~");

    /** The response body read so far. */
    public static final class MyCtx {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    }

    private final HttpPeer upstream;

    /** Converts the answers of {@code upstream} (plain HTTP, asked with {@code Host: ip.jsontest.com}). */
    public ModifyResponseExample(HttpPeer upstream) {
        this.upstream = requireNonNull(upstream, "upstream");
    }

    @Override
    public MyCtx newCtx() {
        return new MyCtx();
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, MyCtx ctx) {
        return CompletableFuture.completedFuture(upstream);
    }

    @Override
    public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, MyCtx ctx) {
        upstreamRequest.insertHeader("Host", HOST);
        return Stages.done();
    }

    @Override
    public CompletionStage<Void> responseFilter(Session session, ResponseHeader upstreamResponse, MyCtx ctx) {
        upstreamResponse.removeHeader("Content-Length");
        return Stages.done();
    }

    @Override
    public @Nullable Duration responseBodyFilter(Session session, BodyChunk body, boolean endOfStream, MyCtx ctx) {
        // The chunk is valid only during this call: copy its bytes, then send none of them.
        ctx.buffer.writeBytes(body.toByteArray());
        body.clear();
        // No body at all (HEAD, 204, 304): nothing to convert.
        if (endOfStream && ctx.buffer.size() > 0) {
            byte[] json = ctx.buffer.toByteArray();
            String yaml = jsonToYaml(new String(json, StandardCharsets.UTF_8));
            if (yaml == null) {
                LOG.warn("the upstream's body is not a flat JSON object; sent unchanged");
                body.replace(json);
            } else {
                body.replace(yaml.getBytes(StandardCharsets.UTF_8));
            }
        }
        return null;
    }

    /**
     * {@code json}, a flat JSON object, as YAML: one {@code key: value} line per member, in order; numbers,
     * booleans and null as written; strings
     * plain when YAML reads them back as the same string, double-quoted otherwise. Null when {@code json}
     * is not a flat JSON object.
     */
    static @Nullable String jsonToYaml(String json) {
        Map<String, Object> members = FlatJson.parseObject(json);
        if (members == null) {
            return null;
        }
        StringBuilder yaml = new StringBuilder();
        for (Map.Entry<String, Object> member : members.entrySet()) {
            yaml.append(yamlString(member.getKey())).append(": ");
            Object value = member.getValue();
            yaml.append(value instanceof FlatJson.Literal literal ? literal.text() : yamlString((String) value)).append('\n');
        }
        return yaml.toString();
    }

    private static String yamlString(String text) {
        if (PLAIN_YAML_SCALAR.matcher(text).matches() && !YAML_NON_STRING.matcher(text).matches()) {
            return text;
        }
        // A JSON string literal is a valid YAML double-quoted scalar.
        return FlatJson.quote(text);
    }

    /** A parser of flat JSON objects: enough for the example's {@code {"ip": "..."}}, not a JSON library. */
    private static final class FlatJson {
        /** A number, {@code true}, {@code false} or {@code null}, as written: the same in YAML. */
        record Literal(String text) {}

        private final String text;
        private int at;

        private FlatJson(String text) {
            this.text = text;
        }

        static @Nullable Map<String, Object> parseObject(String text) {
            FlatJson parser = new FlatJson(text);
            try {
                parser.skipSpace();
                Map<String, Object> members = parser.object();
                parser.skipSpace();
                return parser.at == text.length() ? members : null;
            } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
                return null;
            }
        }

        static String quote(String text) {
            StringBuilder out = new StringBuilder(text.length() + 2).append('"');
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\t' -> out.append("\\t");
                    case '\r' -> out.append("\\r");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            return out.append('"').toString();
        }

        private Map<String, Object> object() {
            Map<String, Object> members = new LinkedHashMap<>();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                at++;
                return members;
            }
            while (true) {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                members.put(key, value());
                skipSpace();
                if (peek() == '}') {
                    at++;
                    return members;
                }
                expect(',');
            }
        }

        private Object value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            for (String literal : new String[] {"true", "false", "null"}) {
                if (text.startsWith(literal, at)) {
                    at += literal.length();
                    return new Literal(literal);
                }
            }
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            String number = text.substring(start, at);
            if (number.isEmpty()) {
                throw new IllegalArgumentException("a value at " + start);
            }
            Double.parseDouble(number); // NumberFormatException is an IllegalArgumentException
            return new Literal(number);
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    case '"', '\\', '/' -> out.append(escaped);
                    default -> throw new IllegalArgumentException("escape \\" + escaped);
                }
            }
        }

        private char peek() {
            return text.charAt(at);
        }

        private void expect(char c) {
            if (text.charAt(at) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + at);
            }
            at++;
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }
    }

    /** Listens on 127.0.0.1:6191 and converts the answers of ip.jsontest.com (at a fixed address, as Pingora's). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        HttpPeer upstream = HttpPeer.plain(args.length > 0 ? args[0] : "142.251.2.121:80");
        HttpProxyService proxy = Services.httpProxy(new ModifyResponseExample(upstream));
        proxy.addTcp("127.0.0.1:6191");
        server.addService(proxy);
        server.runForever();
    }
}
