package dev.relay.filters;

import dev.relay.core.FilterProvider;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.filters.internal.HttpSyntax;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The {@code headers} filter: rewrites header fields of the request on its way upstream and of
 * the response on its way to the client.
 *
 * <pre>{@code
 * filters = [{
 *   name = headers
 *   request-set { "X-Forwarded-Proto" = https }
 *   request-add { Via = "1.1 relay" }
 *   request-remove = [ Cookie2 ]
 *   response-set { "Strict-Transport-Security" = "max-age=63072000" }
 *   response-add { "Cache-Status" = relay }
 *   response-remove = [ Server, X-Powered-By ]
 * }]
 * }</pre>
 *
 * <p>Every key is optional. Per message the filter removes, then sets (replacing every field of
 * that name by one), then adds (keeping existing fields), each in the order written. Names match
 * case-insensitively and are written as configured. The request rules apply in
 * {@code requestHeaderFilter} (so later phases and the upstream see the result), the response
 * rules in {@code responseHeaderFilter}.
 *
 * <p>{@link #create} validates everything: an unknown key, a name that is not an HTTP token, a
 * value with a control or non-ASCII character (a line break could split the header), a name
 * both removed and written on the same side, a name set twice, and any rule on
 * {@code Content-Length} or {@code Transfer-Encoding} (the proxy owns message framing) fail with
 * an {@link InvalidSettingException} naming the key (for a field: {@code request-set.X-Name}; for
 * a list entry: {@code response-remove[2]}).
 */
public final class HeadersFilterProvider implements FilterProvider {
    /** The name configurations use. */
    public static final String NAME = "headers";

    static final String REQUEST_SET = "request-set";
    static final String REQUEST_ADD = "request-add";
    static final String REQUEST_REMOVE = "request-remove";
    static final String RESPONSE_SET = "response-set";
    static final String RESPONSE_ADD = "response-add";
    static final String RESPONSE_REMOVE = "response-remove";

    /** The accepted keys, in documentation order. */
    static final List<String> KEYS = List.of(REQUEST_SET, REQUEST_ADD, REQUEST_REMOVE, RESPONSE_SET, RESPONSE_ADD, RESPONSE_REMOVE);

    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding");

    /** Used by {@link java.util.ServiceLoader}. */
    public HeadersFilterProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public HttpModuleFactory create(FilterSettings settings) {
        requireNonNull(settings, "settings");
        FilterSettings.requireKnownKeys(settings, NAME, KEYS);
        HeaderRules request = rules(settings, REQUEST_SET, REQUEST_ADD, REQUEST_REMOVE);
        HeaderRules response = rules(settings, RESPONSE_SET, RESPONSE_ADD, RESPONSE_REMOVE);
        return new HeadersModuleFactory(request, response);
    }

    private static HeaderRules rules(FilterSettings settings, String setKey, String addKey, String removeKey) {
        Map<String, String> set = fields(settings, setKey, true);
        Map<String, String> add = fields(settings, addKey, false);
        List<String> remove = names(settings, removeKey);
        for (String name : remove) {
            rejectConflict(removeKey, name, setKey, set);
            rejectConflict(removeKey, name, addKey, add);
        }
        return new HeaderRules(remove, set, add);
    }

    private static void rejectConflict(String removeKey, String removed, String writeKey, Map<String, String> written) {
        for (String name : written.keySet()) {
            if (name.equalsIgnoreCase(removed)) {
                throw new InvalidSettingException(removeKey, "'" + removed + "' is also in " + writeKey
                        + " (expected: a field is either removed or written, not both)");
            }
        }
    }

    private static Map<String, String> fields(FilterSettings settings, String key, boolean uniqueNames) {
        Optional<FilterSettings> block = settings.getSettings(key);
        Map<String, String> fields = new LinkedHashMap<>();
        if (block.isEmpty()) {
            return fields;
        }
        List<String> seen = new ArrayList<>();
        for (String name : block.get().keys()) {
            String path = key + "." + name;
            checkName(path, name);
            String lower = name.toLowerCase(Locale.ROOT);
            if (uniqueNames && seen.contains(lower)) {
                throw new InvalidSettingException(path, "'" + name + "' is set twice (expected: each field once, names ignore case)");
            }
            seen.add(lower);
            String value;
            try {
                value = block.get().getString(name).orElseThrow(
                        () -> new InvalidSettingException(path, "missing value (expected: a text value)"));
            } catch (InvalidSettingException e) {
                throw e.key().equals(path) ? e : new InvalidSettingException(path, messageOf(e));
            }
            checkValue(path, value);
            fields.put(name, value);
        }
        return fields;
    }

    private static List<String> names(FilterSettings settings, String key) {
        List<String> names = settings.getStringList(key).orElse(List.of());
        List<String> unique = new ArrayList<>(names.size());
        List<String> lower = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            checkName(key + "[" + i + "]", name);
            if (!lower.contains(name.toLowerCase(Locale.ROOT))) {
                lower.add(name.toLowerCase(Locale.ROOT));
                unique.add(name);
            }
        }
        return unique;
    }

    /** RFC 9110 field name: a non-empty token. */
    static void checkName(String key, String name) {
        if (name.isEmpty()) {
            throw new InvalidSettingException(key, "'' (expected: a header field name)");
        }
        if (!HttpSyntax.isToken(name)) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a header field name, letters, digits and !#$%&'*+-.^_`|~ only)");
        }
        if (FRAMING.contains(name.toLowerCase(Locale.ROOT))) {
            throw new InvalidSettingException(key, "'" + name + "' (expected: a field other than Content-Length and "
                    + "Transfer-Encoding, which the proxy sets from the body it forwards)");
        }
    }

    /**
     * RFC 9110 field value, restricted to ASCII: visible characters, spaces and tabs. A CR or LF
     * would split the header (response splitting); other text has no portable encoding on the wire.
     */
    static void checkValue(String key, String value) {
        int refused = HttpSyntax.firstNonPlainIndex(value);
        if (refused >= 0) {
            throw new InvalidSettingException(key, "value contains character U+"
                    + String.format(Locale.ROOT, "%04X", (int) value.charAt(refused))
                    + " (expected: printable ASCII, spaces and tabs; no line breaks)");
        }
        if (!value.equals(value.strip())) {
            throw new InvalidSettingException(key, "'" + value + "' (expected: no leading or trailing whitespace)");
        }
    }

    private static String messageOf(InvalidSettingException e) {
        String prefix = e.key() + ": ";
        String message = e.getMessage();
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }
}
