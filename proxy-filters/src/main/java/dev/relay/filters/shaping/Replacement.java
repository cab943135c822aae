package dev.relay.filters.shaping;

import dev.relay.core.FilterSettings.InvalidSettingException;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rewrite's replacement, compiled at load time against its pattern: literal text and references to
 * the match's groups. {@code $1} to {@code $9} name a numbered group, {@code ${12}} or {@code ${name}}
 * any group, {@code \$} and {@code \\} a literal {@code $} and {@code \}. A reference to a group the
 * pattern lacks, or a {@code $} that starts no reference, fails at load, not on a request.
 */
final class Replacement {
    private final String text;
    /** Literal text (String) or a group reference (Integer index or String name in a Group). */
    private final Object[] parts;

    private record Group(Object ref) {}

    private Replacement(String text, Object[] parts) {
        this.text = text;
        this.parts = parts;
    }

    /** Compiles {@code text} for {@code pattern}, naming {@code key} in any error. */
    static Replacement compile(String key, String text, Pattern pattern) {
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int groups = pattern.matcher("").groupCount();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                if (i + 1 == text.length()) {
                    throw new InvalidSettingException(key, "'" + text + "' ends with a lone \\ (expected: \\$ or \\\\)");
                }
                literal.append(text.charAt(++i));
            } else if (c == '$') {
                Object ref;
                if (i + 1 < text.length() && Character.isDigit(text.charAt(i + 1))) {
                    ref = text.charAt(++i) - '0';
                } else if (i + 1 < text.length() && text.charAt(i + 1) == '{' && text.indexOf('}', i) > i + 2) {
                    int close = text.indexOf('}', i);
                    String inside = text.substring(i + 2, close);
                    ref = inside.chars().allMatch(Character::isDigit) ? (Object) Integer.parseInt(inside) : inside;
                    i = close;
                } else {
                    throw new InvalidSettingException(key, "'" + text + "' has a $ at " + i + " that names no group "
                            + "(expected: $1..$9, ${n} or ${name}; \\$ for a literal $)");
                }
                check(key, text, pattern, groups, ref);
                if (literal.length() > 0) {
                    parts.add(literal.toString());
                    literal.setLength(0);
                }
                parts.add(new Group(ref));
            } else {
                literal.append(c);
            }
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return new Replacement(text, parts.toArray());
    }

    private static void check(String key, String text, Pattern pattern, int groups, Object ref) {
        if (ref instanceof Integer n && n > groups) {
            throw new InvalidSettingException(key, "'" + text + "' refers to group " + n + " but the pattern '"
                    + pattern.pattern() + "' has " + groups + " (expected: $0.." + "$" + groups + ")");
        }
        if (ref instanceof String name && !pattern.pattern().contains("(?<" + name + ">")) {
            throw new InvalidSettingException(key, "'" + text + "' refers to group '" + name + "' but the pattern '"
                    + pattern.pattern() + "' has no (?<" + name + ">...) (expected: a named group of the pattern)");
        }
    }

    /** Whether the replacement starts with literal text that starts with {@code prefix} (ignoring case). */
    boolean startsWithLiteral(String prefix) {
        return parts.length > 0 && parts[0] instanceof String s && s.regionMatches(true, 0, prefix, 0, prefix.length());
    }

    /** The literal text, joined, for checking its characters. */
    String literalText() {
        StringBuilder out = new StringBuilder();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.append(s);
            }
        }
        return out.toString();
    }

    /** The replacement with the groups of {@code match} (a group that did not take part is empty). */
    String expand(Matcher match) {
        StringBuilder out = new StringBuilder(text.length() + 32);
        for (Object p : parts) {
            if (p instanceof Group g) {
                String value = g.ref() instanceof Integer n ? match.group(n) : match.group((String) g.ref());
                if (value != null) {
                    out.append(value);
                }
            } else {
                out.append((String) p);
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}
