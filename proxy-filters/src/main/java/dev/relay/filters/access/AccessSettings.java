package dev.relay.filters.access;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.filters.internal.HttpSyntax;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/** The setting readers the four access filters share: one small method per kind of value. */
final class AccessSettings {
    private AccessSettings() {}

    /** A setting written either as one text ({@code "*"}) or as a list of texts; empty when absent. */
    static List<String> textOrList(FilterSettings settings, String key) {
        try {
            return settings.getString(key).map(List::of).orElse(List.of());
        } catch (InvalidSettingException notText) {
            return settings.getStringList(key).orElse(List.of());
        }
    }

    /** An absolute path to a readable regular file, required. */
    static Path readableFile(FilterSettings settings, String key) {
        String text = settings.getString(key).orElseThrow(() -> new InvalidSettingException(key, "missing (expected: an absolute file path)"));
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw new InvalidSettingException(key, "'" + text + "' (expected: an absolute file path)");
        }
        if (!path.isAbsolute()) {
            throw new InvalidSettingException(key, "'" + text + "' (expected: an absolute file path: filters do not know "
                    + "the configuration file's directory)");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new InvalidSettingException(key, "'" + text + "' (expected: a readable file)");
        }
        return path;
    }

    /** A realm for a {@code WWW-Authenticate} quoted string: printable ASCII without quote or backslash. */
    static String checkRealm(String realm) {
        if (realm.isEmpty() || !HttpSyntax.isPlainFieldValue(realm) || realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0
                || realm.indexOf('\t') >= 0) {
            throw new IllegalArgumentException("realm: '" + realm + "' (expected: printable ASCII text without quotes or backslashes)");
        }
        return realm;
    }
}
