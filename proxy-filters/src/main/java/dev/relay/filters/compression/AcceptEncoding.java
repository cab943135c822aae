package dev.relay.filters.compression;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Locale;

/**
 * A client's {@code Accept-Encoding} (RFC 9110 §12.5.3): a quality from 0 to 1 per coding, {@code *}
 * for the codings not named, and whether the unencoded representation ({@code identity}) is acceptable.
 * Names ignore case; an element whose {@code q} is malformed is ignored.
 *
 * <p>A request without the field gets no encoding and has encoded responses decoded for it: the RFC
 * allows any coding then, but a client that says nothing (curl without {@code --compressed}, many
 * scripts) rarely decodes anything, which is why nginx and Pingora read it the same way.
 */
final class AcceptEncoding {
    private static final int NOT_NAMED = -1;
    private static final int FULL = 1000;
    /** The quality of each {@link ContentCoding} in thousandths, by ordinal, or {@link #NOT_NAMED}. */
    private final int[] qualities = new int[ContentCoding.values().length];
    private int star = NOT_NAMED;
    private int identity = NOT_NAMED;

    private AcceptEncoding() {
        java.util.Arrays.fill(qualities, NOT_NAMED);
    }

    /** Parses the values of every {@code Accept-Encoding} field of a request (none: the field is absent). */
    static AcceptEncoding parse(List<String> fieldValues) {
        AcceptEncoding accept = new AcceptEncoding();
        for (String value : fieldValues) {
            for (String element : value.split(",")) {
                accept.addElement(element);
            }
        }
        return accept;
    }

    private void addElement(String element) {
        String[] parts = element.split(";");
        String name = parts[0].trim().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
            return;
        }
        int quality = FULL;
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].trim();
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).trim().equalsIgnoreCase("q")) {
                quality = parseQuality(parameter.substring(equals + 1).trim());
                if (quality < 0) {
                    return;
                }
            }
        }
        if (name.equals("*")) {
            star = firstOf(star, quality);
        } else if (name.equals("identity")) {
            identity = firstOf(identity, quality);
        } else {
            ContentCoding coding = ContentCoding.fromToken(name);
            if (coding != null) {
                qualities[coding.ordinal()] = firstOf(qualities[coding.ordinal()], quality);
            }
        }
    }

    /** A coding named twice keeps its first quality. */
    private static int firstOf(int current, int quality) {
        return current == NOT_NAMED ? quality : current;
    }

    /** RFC 9110 §12.4.2 qvalue: 0, 1, 0.d{1,3} or 1.0{1,3}, in thousandths; -1 when malformed. */
    static int parseQuality(String text) {
        if (text.isEmpty() || text.length() > 5 || (text.charAt(0) != '0' && text.charAt(0) != '1')) {
            return -1;
        }
        int whole = text.charAt(0) - '0';
        if (text.length() == 1) {
            return whole * FULL;
        }
        if (text.charAt(1) != '.' || text.length() == 2) {
            return -1;
        }
        int thousandths = 0;
        int scale = 100;
        for (int i = 2; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            thousandths += (c - '0') * scale;
            scale /= 10;
        }
        if (whole == 1 && thousandths != 0) {
            return -1;
        }
        return whole * FULL + thousandths;
    }

    /** The quality of {@code coding} in thousandths: as named, else as {@code *}, else 0. */
    int quality(ContentCoding coding) {
        int named = qualities[coding.ordinal()];
        if (named != NOT_NAMED) {
            return named;
        }
        return star == NOT_NAMED ? 0 : star;
    }

    /** Whether an unencoded response is acceptable: unless {@code identity;q=0}, or {@code *;q=0} without identity. */
    boolean acceptsIdentity() {
        if (identity != NOT_NAMED) {
            return identity > 0;
        }
        return star != 0;
    }

    /**
     * The coding to compress with: of {@code offered} (in order of preference), the one of highest
     * quality above 0, the earlier on a tie; null when the client accepts none of them.
     */
    @Nullable ContentCoding choose(List<ContentCoding> offered) {
        ContentCoding best = null;
        int bestQuality = 0;
        for (ContentCoding coding : offered) {
            int quality = quality(coding);
            if (quality > bestQuality) {
                best = coding;
                bestQuality = quality;
            }
        }
        return best;
    }
}
