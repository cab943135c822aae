package dev.relay.server.internal.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import dev.relay.core.Addresses;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One value of the configuration tree with its display path ({@code proxy.routes[0].upstream}), read
 * with typed getters that fail with a {@link ConfigProblem} naming the file, line and key.
 *
 * <p>Navigation goes through {@link ConfigObject} keys, never typesafe path expressions, so names
 * with dots or other special characters (a quoted upstream name) need no escaping.
 *
 * <p>The parsers that several sections share (durations, timeouts, sizes, addresses, names from a
 * fixed set, one-or-a-list values, unknown keys) live here, so that each section reader only says
 * which of them a key takes and every section words its errors alike.
 */
final class ConfigNode {
    private final String path;
    /** The value in the merged tree (the user's file over reference.conf); null when missing. */
    private final ConfigValue value;
    /**
     * The same value in the user's own file, when it has it. A block that both files define has a
     * merged origin ("merge of relay.conf: 1, reference.conf: 5"), which names no single line;
     * the user's version of it does, so errors about it point there.
     */
    private final ConfigValue userValue;
    /** Where to point when neither has the value: the nearest enclosing block of the user's file. */
    private final ConfigOrigin enclosingOrigin;

    private ConfigNode(String path, ConfigValue value, ConfigValue userValue, ConfigOrigin enclosingOrigin) {
        this.path = path;
        this.value = value;
        this.userValue = userValue;
        this.enclosingOrigin = enclosingOrigin;
    }

    /** The node of {@code value} named {@code path}. */
    static ConfigNode of(String path, ConfigValue value) {
        return new ConfigNode(path, value, null, value == null ? null : value.origin());
    }

    /** The node of {@code value} named {@code path}, whose version in the user's file is {@code userValue}. */
    static ConfigNode of(String path, ConfigValue value, ConfigValue userValue) {
        ConfigOrigin enclosing = userValue != null ? userValue.origin() : value == null ? null : value.origin();
        return new ConfigNode(path, value, userValue, enclosing);
    }

    private ConfigNode child(String childPath, ConfigValue childValue, ConfigValue childUserValue) {
        ConfigOrigin enclosing = userValue != null ? userValue.origin() : origin();
        return new ConfigNode(childPath, childValue, childUserValue, enclosing);
    }

    /** The display path. */
    String path() {
        return path;
    }

    /** The raw value; null when missing. */
    ConfigValue value() {
        return value;
    }

    /** Whether the key is absent (or set to {@code null}, which HOCON treats as "unset"). */
    boolean isMissing() {
        return value == null || value.valueType() == ConfigValueType.NULL;
    }

    /** Where the value is, or its enclosing block when it is missing. */
    ConfigOrigin origin() {
        if (value != null && !isMerged(value.origin())) {
            return value.origin();
        }
        if (userValue != null) {
            return userValue.origin();
        }
        return value != null ? value.origin() : enclosingOrigin;
    }

    private static boolean isMerged(ConfigOrigin origin) {
        return origin.filename() == null && origin.resource() == null && origin.url() == null
                && origin.description().startsWith("merge of ");
    }

    /** {@code file:line} of {@link #origin()}. */
    String where() {
        return ConfigProblem.describe(origin());
    }

    /** A problem with this key. */
    ConfigProblem problem(String detail) {
        return new ConfigProblem(origin(), path, detail);
    }

    /** The child {@code key} of this object (missing when absent). */
    ConfigNode get(String key) {
        ConfigObject object = object();
        return child(path + "." + key, object.get(key), userChild(key));
    }

    private ConfigValue userChild(String key) {
        return userValue instanceof ConfigObject userObject ? userObject.get(key) : null;
    }

    /** Whether this object has {@code key} with a non-null value. */
    boolean has(String key) {
        return !get(key).isMissing();
    }

    /** This value as an object; a problem when it is missing or something else. */
    ConfigObject object() {
        requirePresent("a block { ... }");
        if (value.valueType() != ConfigValueType.OBJECT) {
            throw problem(describeValue() + " (expected: a block { ... })");
        }
        return (ConfigObject) value;
    }

    /** The entries of this object, in the order of their lines in the file. */
    Map<String, ConfigNode> entries() {
        ConfigObject object = object();
        Map<String, ConfigNode> out = new LinkedHashMap<>();
        // typesafe-config's objects do not keep the file order; order them by line so that
        // "first declared" means what the user sees.
        List<String> keys = new ArrayList<>(object.keySet());
        keys.sort((a, b) -> {
            int la = object.get(a).origin().lineNumber();
            int lb = object.get(b).origin().lineNumber();
            return la != lb ? Integer.compare(la, lb) : a.compareTo(b);
        });
        for (String key : keys) {
            out.put(key, child(path + "." + key, object.get(key), userChild(key)));
        }
        return out;
    }

    /** The elements of this list. */
    List<ConfigNode> list() {
        requirePresent("a list [ ... ]");
        if (value.valueType() != ConfigValueType.LIST) {
            throw problem(describeValue() + " (expected: a list [ ... ])");
        }
        ConfigList list = (ConfigList) value;
        // Lists are never merged: the user's list, when there is one, is this one.
        List<ConfigNode> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            out.add(child(path + "[" + i + "]", list.get(i), null));
        }
        return out;
    }

    /** Whether this value is a list. */
    boolean isList() {
        return value != null && value.valueType() == ConfigValueType.LIST;
    }

    /** Whether this value is an object. */
    boolean isObject() {
        return value != null && value.valueType() == ConfigValueType.OBJECT;
    }

    /** A text value; numbers and booleans are taken as their text (HOCON does the same). */
    String string() {
        requirePresent("a value");
        return switch (value.valueType()) {
            case STRING, NUMBER, BOOLEAN -> String.valueOf(value.unwrapped());
            default -> throw problem(describeValue() + " (expected: a text value)");
        };
    }

    /** A whole number in {@code [min, max]}. */
    int integer(int min, int max) {
        requirePresent("a number");
        long n;
        try {
            n = value.atKey("v").getLong("v");
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw problem(describeValue() + " (expected: a whole number)");
        }
        if (n < min || n > max) {
            throw problem(n + " (expected: " + range(min, max) + ")");
        }
        return (int) n;
    }

    /** {@code true} or {@code false} ({@code yes}/{@code no}, {@code on}/{@code off} as HOCON allows). */
    boolean bool() {
        requirePresent("true or false");
        try {
            return value.atKey("v").getBoolean("v");
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw problem(describeValue() + " (expected: true or false)");
        }
    }

    /** A duration ({@code 10s}, {@code 250ms}, {@code 2m}; a bare number is milliseconds). */
    Duration duration() {
        requirePresent("a duration");
        try {
            return value.atKey("v").getDuration("v");
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw problem(describeValue() + " (expected: a duration such as 250ms, 10s or 2m)");
        }
    }

    /**
     * A size in bytes: a HOCON memory size ({@code 64KiB}, {@code 1MiB}, {@code 512B}; a bare number
     * is bytes), at most {@code max}.
     */
    long bytes(long min, long max) {
        requirePresent("a size such as 64KiB");
        long n;
        try {
            n = value.atKey("v").getMemorySize("v").toBytes();
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw problem(describeValue() + " (expected: a size such as 512B, 64KiB or 1MiB)");
        } catch (IllegalArgumentException e) {
            throw problem(describeValue() + " (expected: a size from " + min + " to " + max + " bytes)");
        }
        if (n < min || n > max) {
            throw problem(describeValue() + " (expected: a size from " + min + " to " + max + " bytes)");
        }
        return n;
    }

    /**
     * A duration in {@code (0, max]}; {@code fallback} when missing. For settings that must be
     * something (an interval, an ejection time) and a sane one.
     */
    Duration positiveDuration(Duration fallback, Duration max) {
        if (isMissing()) {
            return fallback;
        }
        Duration d = duration();
        if (d.isNegative() || d.isZero() || d.compareTo(max) > 0) {
            throw problem(describeValue() + " (expected: > 0 and <= " + ConfigText.duration(max) + ")");
        }
        return d;
    }

    /** A timeout: missing, {@code null} or {@code none} means no timer (null); 0 only when {@code zeroAllowed}. */
    Duration timeout(boolean zeroAllowed) {
        if (isMissing()) {
            return null;
        }
        if (isString() && string().trim().equalsIgnoreCase("none")) {
            return null;
        }
        Duration d = duration();
        if (d.isNegative() || (d.isZero() && !zeroAllowed)) {
            throw problem(describeValue() + " (expected: " + (zeroAllowed ? ">= 0" : "> 0") + ", or none)");
        }
        return d;
    }

    /**
     * A count limit: a whole number from 1 to {@code max}, or {@code none} (also when missing) for no
     * limit, returned as 0.
     */
    int limitOrNone(int max) {
        if (isMissing() || isString() && string().trim().equalsIgnoreCase("none")) {
            return 0;
        }
        try {
            return integer(1, max);
        } catch (ConfigProblem e) {
            throw problem(describeValue() + " (expected: a whole number from 1 to " + max + ", or none)");
        }
    }

    /**
     * A client-side timeout ({@code header-read-timeout} ...): a positive duration; {@code fallback}
     * when missing. There is no {@code none}: a client that never finishes must not hold a
     * connection forever.
     */
    Duration clientTimeout(Duration fallback) {
        if (isMissing()) {
            return fallback;
        }
        if (isString() && string().trim().equalsIgnoreCase("none")) {
            throw problem("none (expected: a duration > 0 such as 10s; a client timeout cannot be turned off)");
        }
        Duration d = duration();
        if (d.isNegative() || d.isZero()) {
            throw problem(describeValue() + " (expected: > 0)");
        }
        return d;
    }

    /**
     * The {@code host:port} address {@code text} (this value, as the caller shows it in messages) with
     * a port of at least {@code minPort}.
     */
    InetSocketAddress hostPort(String text, int minPort) {
        InetSocketAddress address;
        try {
            address = Addresses.parseHostPort(text);
        } catch (IllegalArgumentException e) {
            throw problem("bad address '" + text + "' (expected: host:port)");
        }
        if (address.getPort() < minPort) {
            throw problem("bad address '" + text + "' (expected: a port in " + minPort + "..65535)");
        }
        return address;
    }

    /**
     * The {@code unix:/path/to.sock} address {@code text} (this value, as the caller shows it), with a
     * relative path resolved against the directory of the configuration file, as an include would
     * be; returned as {@code unix:} and the absolute, normalized path.
     */
    String unixAddress(String text) {
        Path path;
        try {
            path = Addresses.parseUnix(text).getPath();
        } catch (IllegalArgumentException e) {
            throw problem("bad address '" + text + "' (expected: unix:/path/to.sock)");
        }
        path = relativeToFile(path);
        // sun_path holds 108 bytes with the terminating NUL; the kernel refuses longer ones at bind.
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > 107) {
            throw problem("socket path '" + path + "' is too long (expected: at most 107 bytes)");
        }
        return Addresses.UNIX_PREFIX + path;
    }

    /** {@code path} made absolute: a relative one against the directory of this value's file. */
    private Path relativeToFile(Path path) {
        if (path.isAbsolute()) {
            return path.normalize();
        }
        String file = origin() == null ? null : origin().filename();
        Path resolved = file != null && Path.of(file).getParent() != null ? Path.of(file).getParent().resolve(path) : path;
        return resolved.toAbsolutePath().normalize();
    }

    /**
     * The value of {@code byName} that this text names, trimmed and in any case; a {@code -} may
     * stand for a {@code _} ({@code io-uring}, {@code a-and-aaaa}). {@code expected} lists the names
     * for the message.
     */
    <T> T choice(Map<String, T> byName, String expected) {
        String name = string().trim().toLowerCase(Locale.ROOT);
        T chosen = byName.get(name);
        if (chosen == null) {
            chosen = byName.get(name.replace('-', '_'));
        }
        if (chosen == null) {
            throw problem("unknown value '" + string() + "' (expected: " + expected + ")");
        }
        return chosen;
    }

    /**
     * This text as a file path, absolute; a relative one is relative to the configuration file's
     * directory, as an include would be. Whether the file exists is the caller's to check.
     */
    Path filePath() {
        String text = string().trim();
        if (text.isEmpty()) {
            throw problem("empty (expected: a file path)");
        }
        try {
            return relativeToFile(Path.of(text));
        } catch (InvalidPathException e) {
            throw problem("bad path '" + text + "' (expected: a file path)");
        }
    }

    /**
     * This value as the path of a readable regular file; a relative path is relative to the
     * configuration file, as an include would be. {@code expected} says what the file holds, for the
     * message.
     */
    Path readableFile(String expected) {
        Path path = filePath();
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw problem("cannot read '" + path + "': " + (Files.exists(path) ? "not a readable file"
                    : "no such file") + " (expected: " + expected + ")");
        }
        return path;
    }

    /** This text trimmed, or null when missing. */
    String optionalText() {
        return isMissing() ? null : string().trim();
    }

    /** The elements of this list, at least one; a problem {@code empty (expected: <expected>)} when there is none. */
    List<ConfigNode> nonEmptyList(String expected) {
        return nonEmpty(list(), expected);
    }

    /**
     * The elements of this list, or this value alone when it is not a list ({@code method = GET});
     * a problem {@code empty (expected: <expected>)} for an empty list.
     */
    List<ConfigNode> oneOrMore(String expected) {
        return nonEmpty(isList() ? list() : List.of(this), expected);
    }

    private List<ConfigNode> nonEmpty(List<ConfigNode> items, String expected) {
        if (items.isEmpty()) {
            throw problem("empty (expected: " + expected + ")");
        }
        return items;
    }

    /**
     * Runs {@code check}, a validation that a library type does (a builder refusing a value); what it
     * throws becomes a problem with this key, so its wording reaches the user with the position.
     */
    void probe(Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw problem(String.valueOf(e.getMessage()));
        }
    }

    /** Whether this value is a boolean ({@code true}, {@code off} ...). */
    boolean isBoolean() {
        return value != null && value.valueType() == ConfigValueType.BOOLEAN;
    }

    /** Whether this value is text. */
    boolean isString() {
        return value != null && value.valueType() == ConfigValueType.STRING;
    }

    /** Fails when this object has a key outside {@code allowed}, naming the key and the allowed ones. */
    void checkKeys(Collection<String> allowed) {
        for (Map.Entry<String, ConfigNode> e : entries().entrySet()) {
            if (!allowed.contains(e.getKey())) {
                throw e.getValue().problem("unknown key (expected one of: " + String.join(", ", new TreeSet<>(allowed)) + ")");
            }
        }
    }

    /** "text 'foo'", "a list", "a block" ...: the value as an error message shows it. */
    String describeValue() {
        if (value == null) {
            return "missing";
        }
        return switch (value.valueType()) {
            case STRING, NUMBER, BOOLEAN -> "'" + value.unwrapped() + "'";
            case LIST -> "a list";
            case OBJECT -> "a block";
            case NULL -> "null";
        };
    }

    private void requirePresent(String expected) {
        if (isMissing()) {
            throw problem("missing (expected: " + expected + ")");
        }
    }

    private static String range(int min, int max) {
        if (max == Integer.MAX_VALUE) {
            return ">= " + min;
        }
        return min + ".." + max;
    }

    /** The keys of {@code set} joined for messages ({@code a, b or c}). */
    static String oneOf(Set<String> set) {
        List<String> names = new ArrayList<>(new TreeSet<>(set));
        if (names.isEmpty()) {
            return "none defined";
        }
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }
}
