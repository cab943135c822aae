package dev.relay.server.internal.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;

/**
 * A configuration error that names where it is: {@code FILE:LINE: key 'proxy.upstreams.web.hash-key':
 * unknown value 'ip' (expected: "uri", "client-ip", "header:NAME" or "cookie:NAME" with a token NAME)}.
 * The message is meant for people; the parts are available for tests and tools.
 */
public final class ConfigProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private static final java.util.regex.Pattern LINES_SUFFIX = java.util.regex.Pattern.compile(": \\d+(-\\d+)?$");

    private final String file;
    private final int line;
    private final String key;
    private final String detail;

    /**
     * A problem with {@code key} (nullable: a problem with the file as a whole), found at
     * {@code origin} (nullable: unknown).
     */
    public ConfigProblem(ConfigOrigin origin, String key, String detail) {
        this(fileOf(origin), origin == null ? -1 : origin.lineNumber(), key, detail, null);
    }

    /** A problem at {@code file}:{@code line} ({@code line} -1 when unknown). */
    public ConfigProblem(String file, int line, String key, String detail, Throwable cause) {
        super(format(file, line, key, detail), cause, false, false);
        this.file = file;
        this.line = line;
        this.key = key;
        this.detail = detail;
    }

    /** Converts a typesafe-config exception (parse error, unresolved substitution ...), keeping its origin. */
    public static ConfigProblem from(ConfigException e) {
        ConfigOrigin origin = e.origin();
        String message = e.getMessage();
        // typesafe prefixes the message with the origin's description ("file.conf: 12: ..."): drop it,
        // our own prefix says the same in the fixed form.
        if (origin != null && message != null && message.startsWith(origin.description() + ": ")) {
            message = message.substring(origin.description().length() + 2);
        }
        return new ConfigProblem(fileOf(origin), origin == null ? -1 : origin.lineNumber(), null,
                message == null ? e.getClass().getSimpleName() : message, e);
    }

    /** The file (or bundled resource) at fault; never null. */
    public String file() {
        return file;
    }

    /** The line, or -1 when unknown. */
    public int line() {
        return line;
    }

    /** The full key at fault ({@code proxy.upstreams.web.selection}), or null for a file-level problem. */
    public String key() {
        return key;
    }

    /** What is wrong, in the {@code value (expected: ...)} form. */
    public String detail() {
        return detail;
    }

    /** {@code file:line} of {@code origin}, as used in messages and {@code FilterSettings.origin}. */
    public static String describe(ConfigOrigin origin) {
        String file = fileOf(origin);
        int line = origin == null ? -1 : origin.lineNumber();
        return line > 0 ? file + ":" + line : file;
    }

    static String fileOf(ConfigOrigin origin) {
        if (origin == null) {
            return "<unknown>";
        }
        if (origin.filename() != null) {
            return origin.filename();
        }
        if (origin.resource() != null) {
            return origin.resource();
        }
        if (origin.url() != null) {
            return origin.url().toString();
        }
        // A parsed string's origin is its description, which ends with ": LINE", or ": FIRST-LAST" for
        // a block given more than once.
        return LINES_SUFFIX.matcher(origin.description()).replaceFirst("");
    }

    private static String format(String file, int line, String key, String detail) {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (key != null) {
            sb.append("key '").append(key).append("': ");
        }
        return sb.append(detail).toString();
    }
}
