package dev.relay.lb;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module rules of docs/architecture.md, checked on the sources of the whole repository (the
 * maven-enforcer rules check the dependencies; this checks what the code actually references):
 * <ul>
 *   <li>proxy-core main code imports only {@code java.*}, {@code javax.*}, {@code dev.relay.core*} and
 *       JSpecify's nullness annotations ({@code org.jspecify.annotations}, the one dependency its
 *       enforcer rule allows: annotations without runtime behaviour);
 *   <li>proxy-lb main code references neither Netty, Guice nor typesafe-config;
 *   <li>no main code outside proxy-transport-netty and proxy-test-support references Netty (so no
 *       public signature elsewhere can mention it); test code may, and so may the JMH benchmarks (no
 *       module depends on them; they measure the adapter's hot paths against Netty's own pieces);
 *   <li>only proxy-server main code references Guice or typesafe-config.
 * </ul>
 * "References" means an import, or a fully qualified name in code (comments and string literals
 * are ignored).
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ModuleRulesTest {
    private static final Pattern MODULE = Pattern.compile("<module>\\s*([^<\\s]+)\\s*</module>");
    private static final Pattern IMPORT = Pattern.compile("^\\s*import\\s+(?:static\\s+)?([\\w.]+?)(?:\\.\\*)?\\s*;");
    private static final Pattern NETTY = Pattern.compile("\\bio\\.netty\\.");
    private static final Pattern GUICE_OR_CONFIG = Pattern.compile("\\b(?:com\\.google\\.inject|com\\.typesafe)\\.");

    @Test
    void repositorySourcesFollowTheModuleRules() {
        Path root = repositoryRoot();
        List<SourceFile> sources = sources(root);
        assertTrue(sources.stream().anyMatch(s -> s.module.equals("proxy-core") && s.main),
                "found no proxy-core main sources under " + root);
        assertTrue(sources.stream().anyMatch(s -> s.module.equals("proxy-lb") && s.main),
                "found no proxy-lb main sources under " + root);

        List<String> violations = violations(sources);

        assertTrue(violations.isEmpty(), "module rule violations:\n  " + String.join("\n  ", violations));
    }

    @Test
    void everyRuleCatchesItsViolation(@TempDir Path repo) throws IOException {
        write(repo, "pom.xml", "<project><modules><module>proxy-core</module><module>proxy-lb</module>"
                + "<module>proxy-server</module><module>proxy-filters</module><module>proxy-transport-netty</module>"
                + "<module>proxy-test-support</module><module>benchmarks</module></modules></project>");
        write(repo, "proxy-core/src/main/java/dev/relay/core/Bad.java", String.join("\n",
                "package dev.relay.core;",
                "import java.util.List;",
                "import static java.util.Objects.requireNonNull;",
                "import dev.relay.core.internal.Helper;",
                "import com.fasterxml.jackson.Json;",
                "// io.netty.buffer.ByteBuf is only mentioned in a comment",
                "/* com.google.inject.Inject neither */",
                "class Bad { String s = \"io.netty.channel.Channel\"; io.netty.buffer.ByteBuf buf; }"));
        write(repo, "proxy-core/src/main/java/dev/relay/core/Ok.java", String.join("\n",
                "@NullMarked package dev.relay.core;",
                "import org.jspecify.annotations.NullMarked;",
                "import org.jspecify.annotations.Nullable;"));
        write(repo, "proxy-core/src/main/java/dev/relay/core/AlsoBad.java", "import org.jspecify.other.Thing;");
        write(repo, "proxy-core/src/test/java/dev/relay/core/BadTest.java", "import org.junit.jupiter.api.Test;");
        write(repo, "proxy-lb/src/main/java/dev/relay/lb/Bad.java", "package dev.relay.lb;\nimport com.google.inject.Inject;");
        write(repo, "proxy-lb/src/test/java/dev/relay/lb/BadTest.java", "import io.netty.buffer.ByteBuf;");
        write(repo, "proxy-filters/src/main/java/dev/relay/filters/Bad.java", "import com.typesafe.config.Config;\nimport io.netty.util.AsciiString;");
        write(repo, "proxy-server/src/main/java/dev/relay/server/Ok.java", "import com.google.inject.Guice;\nimport com.typesafe.config.Config;");
        write(repo, "proxy-server/src/main/java/dev/relay/server/Bad.java", "class Bad { io.netty.channel.Channel channel; }");
        write(repo, "proxy-transport-netty/src/main/java/dev/relay/netty/Ok.java", "import io.netty.channel.Channel;");
        write(repo, "proxy-test-support/src/main/java/dev/relay/test/Ok.java", "import io.netty.channel.Channel;");
        write(repo, "benchmarks/src/main/java/dev/relay/benchmarks/Ok.java", "import io.netty.channel.Channel;");

        List<String> violations = violations(sources(repo));

        assertEquals(List.of(
                "proxy-core/src/main/java/dev/relay/core/AlsoBad.java:1: imports org.jspecify.other.Thing (proxy-core depends on java.*, javax.*, dev.relay.core and org.jspecify.annotations only)",
                "proxy-core/src/main/java/dev/relay/core/Bad.java:5: imports com.fasterxml.jackson.Json (proxy-core depends on java.*, javax.*, dev.relay.core and org.jspecify.annotations only)",
                "proxy-core/src/main/java/dev/relay/core/Bad.java:8: references io.netty (Netty is confined to proxy-transport-netty and proxy-test-support)",
                "proxy-filters/src/main/java/dev/relay/filters/Bad.java:1: references com.typesafe (Guice and typesafe-config are confined to proxy-server)",
                "proxy-filters/src/main/java/dev/relay/filters/Bad.java:2: references io.netty (Netty is confined to proxy-transport-netty and proxy-test-support)",
                "proxy-lb/src/main/java/dev/relay/lb/Bad.java:2: references com.google.inject (Guice and typesafe-config are confined to proxy-server)",
                "proxy-server/src/main/java/dev/relay/server/Bad.java:1: references io.netty (Netty is confined to proxy-transport-netty and proxy-test-support)"),
                violations);
    }

    static List<String> violations(List<SourceFile> sources) {
        List<String> out = new ArrayList<>();
        for (SourceFile source : sources) {
            if (!source.main) {
                continue; // test code may use anything its module's test classpath has
            }
            String[] lines = source.code.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i];
                String where = source.path + ":" + (i + 1) + ": ";
                Matcher imported = IMPORT.matcher(line);
                if (source.module.equals("proxy-core") && imported.find()) {
                    String name = imported.group(1);
                    if (!name.startsWith("java.") && !name.startsWith("javax.")
                            && !name.equals("dev.relay.core") && !name.startsWith("dev.relay.core.")
                            && !name.startsWith("org.jspecify.annotations.")) {
                        out.add(where + "imports " + name + " (proxy-core depends on java.*, javax.*, dev.relay.core"
                                + " and org.jspecify.annotations only)");
                        continue;
                    }
                }
                Matcher netty = NETTY.matcher(line);
                // The runnable server may use Netty inside its internal packages (demo origins, socket
                // hand-over), never in its public API: that is the blueprint's rule.
                boolean serverInternal = source.module.equals("proxy-server") && source.path.contains("/internal/");
                if (netty.find() && !serverInternal && !source.module.equals("benchmarks")
                        && !source.module.equals("proxy-transport-netty") && !source.module.equals("proxy-test-support")) {
                    out.add(where + "references io.netty (Netty is confined to proxy-transport-netty and proxy-test-support)");
                }
                Matcher guice = GUICE_OR_CONFIG.matcher(line);
                if (guice.find() && !source.module.equals("proxy-server")) {
                    String found = guice.group().substring(0, guice.group().length() - 1);
                    out.add(where + "references " + found + " (Guice and typesafe-config are confined to proxy-server)");
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** One Java file of a module: main or test, and its code with comments and literals blanked. */
    static final class SourceFile {
        final String module;
        final boolean main;
        final String path;
        final String code;

        SourceFile(String module, boolean main, String path, String code) {
            this.module = module;
            this.main = main;
            this.path = path;
            this.code = code;
        }
    }

    static List<SourceFile> sources(Path root) {
        List<SourceFile> out = new ArrayList<>();
        for (String module : modules(root)) {
            Path src = root.resolve(module).resolve("src");
            if (!Files.isDirectory(src)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(src)) {
                files.filter(f -> f.toString().endsWith(".java") && Files.isRegularFile(f)).sorted().forEach(f -> {
                    Path relative = root.relativize(f);
                    boolean main = f.startsWith(src.resolve("main"));
                    out.add(new SourceFile(module, main, relative.toString().replace('\\', '/'), codeOnly(read(f))));
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    static List<String> modules(Path root) {
        Matcher m = MODULE.matcher(read(root.resolve("pom.xml")));
        List<String> modules = new ArrayList<>();
        while (m.find()) {
            modules.add(m.group(1));
        }
        return modules;
    }

    /** The repository root: the nearest directory above the working directory whose pom.xml lists proxy-core. */
    static Path repositoryRoot() {
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            if (Files.isRegularFile(pom) && MODULE.matcher(read(pom)).results().anyMatch(r -> r.group(1).equals("proxy-core"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no pom.xml listing <module>proxy-core</module> above " + Paths.get("").toAbsolutePath());
    }

    /**
     * Java source with comments, string, text-block and char literals replaced by spaces (line
     * breaks kept, so line numbers stay right): a name mentioned in prose or in a string is not a
     * dependency.
     */
    static String codeOnly(String java) {
        StringBuilder out = new StringBuilder(java.length());
        int n = java.length();
        int i = 0;
        while (i < n) {
            char c = java.charAt(i);
            char next = i + 1 < n ? java.charAt(i + 1) : '\0';
            if (c == '/' && next == '/') {
                while (i < n && java.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (c == '/' && next == '*') {
                int end = java.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                blank(java, i, end, out);
                i = end;
            } else if (java.startsWith("\"\"\"", i)) {
                int end = i + 3;
                while (end < n && !java.startsWith("\"\"\"", end)) {
                    end += java.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 3);
                blank(java, i, end, out);
                i = end;
            } else if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && java.charAt(end) != c && java.charAt(end) != '\n') {
                    end += java.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 1);
                blank(java, i, end, out);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void blank(String text, int from, int to, StringBuilder out) {
        for (int k = from; k < to; k++) {
            out.append(text.charAt(k) == '\n' ? '\n' : ' ');
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path root, String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }
}
