package dev.relay.transport;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyHttp;
import dev.relay.core.UpstreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seams of the engine (docs/architecture.md, "The phase engine"), checked on the transport's
 * main sources:
 * <ul>
 *   <li>{@code ProxyCall.java}, the phase driver, references no HTTP codec type
 *       ({@code io.netty.handler.codec.http}): it talks to both sides through the stream interfaces;</li>
 *   <li>no other file calls a method of {@link ProxyHttp}, {@link HttpModule} or {@link HttpModuleFactory}:
 *       the driver alone knows the phase order and contains user failures; but {@code CachePhases.java}
 *       runs the cache phases (and only those), {@code ErrorLog.java} asks whether and how to log a
 *       failed request ({@code suppressErrorLog}, {@code requestSummary}), and {@code ProxyEngine.java}
 *       has the proxy register its modules once per service ({@code initDownstreamModules});</li>
 *   <li>{@link UpstreamObserver} methods are called by {@code UpstreamAttempt.java} alone, which pairs
 *       each attempt's start with its end;</li>
 *   <li>{@link dev.relay.core.StreamProxy}'s phases are called by {@code StreamCall.java} alone, the
 *       stream driver, which calls nothing else of the user's.</li>
 * </ul>
 * Comments and string literals are ignored.
 */
@Timeout(20)
class EngineSeamsTest {
    private static final String DRIVER = "ProxyCall.java";
    private static final String ATTEMPT = "UpstreamAttempt.java";
    /** The stream proxy's driver: the one caller of {@link dev.relay.core.StreamProxy}'s phases. */
    private static final String STREAM_DRIVER = "StreamCall.java";
    /** Files other than the driver that may call some user callbacks, and which. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "CachePhases.java", Set.of("cacheKeyCallback", "isPurge", "cacheVaryFilter",
                    "cacheHitFilter", "cacheMissFilter", "responseCacheFilter", "shouldServeStale"),
            "ErrorLog.java", Set.of("suppressErrorLog", "requestSummary"),
            "ProxyEngine.java", Set.of("initDownstreamModules"));
    private static final Pattern CODEC = Pattern.compile("\\bio\\.netty\\.handler\\.codec\\.http\\b");

    @Test
    void onlyTheDriverCallsUserCallbacksAndItKnowsNoProtocol() throws IOException {
        Path sources = Path.of("src/main/java");
        assertTrue(Files.isRegularFile(sources.resolve("dev/relay/transport/internal/" + DRIVER)),
                "run from the module directory: no " + DRIVER + " under " + sources.toAbsolutePath());
        List<String> violations = violations(sources);
        assertTrue(violations.isEmpty(), "engine seam violations:\n  " + String.join("\n  ", violations));
    }

    @Test
    void everyRuleCatchesItsViolation(@TempDir Path dir) throws IOException {
        write(dir, "a/ProxyCall.java", "import io.netty.handler.codec.http.HttpRequest;\n"
                + "class ProxyCall { void f() { proxy.requestFilter(s, c); } }");
        write(dir, "a/Pump.java", "class Pump { void f() { /* proxy.responseBodyFilter(x) */ "
                + "String s = \"module.responseDone(s)\"; module.responseDone(session); "
                + "observer.onAttemptStart(peer); } }");
        write(dir, "a/Clean.java", "class Clean { void f() { stream.writeBody(b, true, null); } }");
        write(dir, "a/StreamCall.java", "class StreamCall { void f() { proxy.upstreamPeer(s, c); proxy.requestFilter(s, c); } }");
        write(dir, "a/Relay.java", "class Relay { void f() { proxy.streamDone(s, summary, c); } }");
        write(dir, "a/UpstreamAttempt.java", "class UpstreamAttempt { void f() { observer.onAttemptEnd(p, o, 1); "
                + "proxy.upstreamPeer(s, c); } }");

        List<String> violations = violations(dir);

        assertEquals(List.of(
                "a/ProxyCall.java references io.netty.handler.codec.http",
                "a/Pump.java calls a user callback: [onAttemptStart, responseDone]",
                "a/Relay.java calls a user callback: [streamDone]",
                "a/StreamCall.java calls a user callback: [requestFilter]",
                "a/UpstreamAttempt.java calls a user callback: [upstreamPeer]"), violations);
    }

    private static List<String> violations(Path root) throws IOException {
        Set<String> phases = methodNames(ProxyHttp.class, HttpModule.class, HttpModuleFactory.class);
        // Not callbacks: a factory's descriptive accessors, and its release(), which only the server calls
        // when a configuration is retired (the engine's release() calls are ByteBufs').
        phases.removeAll(Set.of("name", "order", "release"));
        Set<String> streamPhases = methodNames(dev.relay.core.StreamProxy.class);
        phases.addAll(streamPhases);
        Set<String> observer = methodNames(UpstreamObserver.class);
        observer.remove("andThen"); // composes observers, calls nothing
        Pattern phaseCall = callPattern(phases);
        Pattern observerCall = callPattern(observer);
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).sorted().collect(Collectors.toList())) {
                String code = stripCommentsAndStrings(Files.readString(file, StandardCharsets.UTF_8));
                String name = root.relativize(file).toString().replace('\\', '/');
                if (file.getFileName().toString().equals(DRIVER)) {
                    if (CODEC.matcher(code).find()) {
                        out.add(name + " references io.netty.handler.codec.http");
                    }
                    continue;
                }
                Set<String> called = calls(phaseCall, code);
                called.removeAll(ALLOWED.getOrDefault(file.getFileName().toString(), Set.of()));
                if (file.getFileName().toString().equals(STREAM_DRIVER)) {
                    called.removeAll(streamPhases);
                }
                if (!file.getFileName().toString().equals(ATTEMPT)) {
                    called.addAll(calls(observerCall, code));
                }
                if (!called.isEmpty()) {
                    out.add(name + " calls a user callback: " + called);
                }
            }
        }
        return out;
    }

    private static Set<String> methodNames(Class<?>... types) {
        Set<String> names = new TreeSet<>();
        for (Class<?> type : types) {
            for (Method m : type.getDeclaredMethods()) {
                if (!m.isSynthetic() && !java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                    names.add(m.getName());
                }
            }
        }
        return names;
    }

    private static Pattern callPattern(Set<String> names) {
        return Pattern.compile("\\.\\s*(" + String.join("|", names) + ")\\s*\\(");
    }

    private static Set<String> calls(Pattern pattern, String code) {
        Set<String> found = new TreeSet<>();
        var m = pattern.matcher(code);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** Blanks out comments, string and char literals, keeping everything else. */
    private static String stripCommentsAndStrings(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < src.length() && src.charAt(i + 1) == '/') {
                while (i < src.length() && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < src.length() && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? src.length() : end + 2;
            } else if (c == '"' || c == '\'') {
                if (c == '"' && src.startsWith("\"\"\"", i)) {
                    int end = src.indexOf("\"\"\"", i + 3);
                    i = end < 0 ? src.length() : end + 3;
                    continue;
                }
                i++;
                while (i < src.length() && src.charAt(i) != c) {
                    i += src.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void write(Path root, String relative, String content) {
        try {
            Path file = root.resolve(relative);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
