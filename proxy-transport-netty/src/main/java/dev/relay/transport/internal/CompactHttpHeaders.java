package dev.relay.transport.internal;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;

/**
 * The header fields of one HTTP/1.1 message, in arrival order, kept where the decoder found them.
 *
 * <p>Netty's {@code DefaultHttpHeaders} is a hash table: a table of 16 buckets and an entry object
 * per field, every name hashed on insertion. A proxied message has a dozen fields or fewer, read a
 * handful of times and then written out in order, so a linear scan (names compared by length first,
 * then ASCII-case-insensitively) costs less to build and as little to search.
 *
 * <p>A decoded field is its offsets into the header block the decoder copied out of the receive
 * buffer, packed in one long ({@link #addRaw}): no object per name or value. Its name and value
 * become objects only when someone asks for them ({@link #nameAt}, {@link #get}...), and are cached
 * then; lookups compare a name with the block's bytes, and {@link Http1Encoder} writes untouched
 * field lines straight from the block. Fields added through the API are kept as the objects given.
 *
 * <p>{@link #copyOf} (the upstream request's copy of the client's fields) shares the arrays until
 * either side changes its fields: both are marked shared, and a change copies them first, so neither
 * ever sees the other's changes. The block is never written, and a cached object is the same text as
 * the offsets it stands for, so caching into a shared array changes nothing either side can see.
 *
 * <p>Fields added through the public methods are validated like Netty's (a name must be a token, a
 * value must not contain CR, LF or NUL), so a filter cannot split a message; the decoder and the
 * upstream copy add fields they have validated already ({@link #addRaw}, {@link #addTrusted}).
 */
public final class CompactHttpHeaders extends HttpHeaders {
    private static final int INITIAL_FIELDS = 12;
    /** Room a copy gets for the fields the upstream side usually adds (forwarding fields, a default Host). */
    private static final int ROOM_IN_COPY = 4;
    // A raw field's place in the block, packed in one long (half the room of four ints): the name's
    // start (24 bits), the name's length (8), from the name's end to the value (8), the value's length (24).
    private static final int NAME_LENGTH_SHIFT = 24;
    private static final int GAP_SHIFT = 32;
    private static final int VALUE_LENGTH_SHIFT = 40;
    private static final int MAX_OFFSET = (1 << 24) - 1;
    private static final int MAX_SHORT = 0xff;
    /** The span of a field that is not in the block (no name is empty): its name and value are in {@link #texts}. */
    private static final long NOT_RAW = 0;
    private static final long[] NO_SPANS = {};

    /** The decoder's copy of the header block; never written. */
    private byte @Nullable [] block;
    /** Per field: where it is in {@link #block}, or {@link #NOT_RAW}. */
    private long[] spans;
    /**
     * Per field: name and value. A field added as objects has them here; a raw field has what was made
     * of it so far (or nulls). Null until the first such field or object; as long as {@code spans} allows.
     */
    private CharSequence @Nullable [] texts;
    private int size;
    /** The arrays are shared with a copy (or its original): copied before any change. */
    private boolean shared;

    /** Empty headers (room is made on the first add). */
    public CompactHttpHeaders() {
        spans = NO_SPANS;
    }

    /** Empty headers for fields of {@code block} (which must not change), with room for {@code fields} of them. */
    CompactHttpHeaders(byte @Nullable [] block, int fields) {
        this.block = block;
        spans = fields <= 0 ? NO_SPANS : new long[fields];
    }

    private CompactHttpHeaders(CompactHttpHeaders original) {
        block = original.block;
        spans = original.spans;
        texts = original.texts;
        size = original.size;
        shared = true;
        original.shared = true;
    }

    // ---------------------------------------------------------------------------------------------
    // Trusted access for the codec

    /**
     * Adds the field whose name is {@code block[nameStart, nameEnd)} and value {@code block[valueStart,
     * valueEnd)}, which the decoder validated: one long, no object (but for a field too odd to pack).
     */
    void addRaw(int nameStart, int nameEnd, int valueStart, int valueEnd) {
        int nameLength = nameEnd - nameStart;
        int gap = valueStart - nameEnd;
        if (valueEnd > MAX_OFFSET || nameLength > MAX_SHORT || gap > MAX_SHORT) {
            // A block over 16 MiB, a name over 255 bytes, more than 254 blanks before a value: as objects.
            addTrusted(new AsciiString(block, nameStart, nameLength, false),
                    new AsciiString(block, valueStart, valueEnd - valueStart, false));
            return;
        }
        makeRoom();
        spans[size++] = nameStart | (long) nameLength << NAME_LENGTH_SHIFT | (long) gap << GAP_SHIFT
                | (long) (valueEnd - valueStart) << VALUE_LENGTH_SHIFT;
    }

    /** Adds a field the caller validated already (a copy of validated fields, a test). */
    public void addTrusted(CharSequence name, CharSequence value) {
        makeRoom();
        CharSequence[] t = texts;
        if (t == null) {
            t = texts = new CharSequence[spans.length * 2];
        }
        spans[size] = NOT_RAW;
        t[size << 1] = name;
        t[(size << 1) + 1] = value;
        size++;
    }

    /** Unshares the arrays and makes room for one more field. */
    private void makeRoom() {
        if (shared) {
            unshare(size + ROOM_IN_COPY);
        } else if (size == spans.length) {
            unshare(size == 0 ? INITIAL_FIELDS : size * 2);
        }
    }

    /** Gives this object arrays of its own, with room for {@code capacity} fields. */
    private void unshare(int capacity) {
        spans = Arrays.copyOf(spans, capacity);
        if (texts != null) {
            texts = Arrays.copyOf(texts, capacity * 2);
        }
        shared = false;
    }

    /** The header block the raw fields are in, or null when there are none. */
    byte @Nullable [] block() {
        return block;
    }

    /** Where the name of field {@code i} starts in {@link #block()}, or -1 when the field is not in the block. */
    int rawNameStart(int i) {
        long span = spans[i];
        return span == NOT_RAW ? -1 : (int) span & MAX_OFFSET;
    }

    /** Where the name of raw field {@code i} ends in {@link #block()} (the colon). */
    int rawNameEnd(int i) {
        long span = spans[i];
        return ((int) span & MAX_OFFSET) + ((int) (span >>> NAME_LENGTH_SHIFT) & MAX_SHORT);
    }

    /** Where the value of raw field {@code i} starts in {@link #block()}. */
    int rawValueStart(int i) {
        return rawNameEnd(i) + ((int) (spans[i] >>> GAP_SHIFT) & MAX_SHORT);
    }

    /** Where the value of raw field {@code i} ends in {@link #block()} (before trailing whitespace and CRLF). */
    int rawValueEnd(int i) {
        return rawValueStart(i) + rawValueLength(i);
    }

    private int rawValueLength(int i) {
        return (int) (spans[i] >>> VALUE_LENGTH_SHIFT);
    }

    /** The name of field {@code i} (0 ≤ i &lt; {@link #size()}): made from the block (once) for a raw field. */
    public CharSequence nameAt(int i) {
        CharSequence cached = texts == null ? null : texts[i << 1];
        if (cached != null) {
            return cached;
        }
        int start = rawNameStart(i);
        return cache(i << 1, new AsciiString(block, start, rawNameEnd(i) - start, false));
    }

    /** The value of field {@code i} (0 ≤ i &lt; {@link #size()}): made from the block (once) for a raw field. */
    public CharSequence valueAt(int i) {
        CharSequence cached = texts == null ? null : texts[(i << 1) + 1];
        if (cached != null) {
            return cached;
        }
        int length = rawValueLength(i);
        return length == 0 ? AsciiString.EMPTY_STRING
                : cache((i << 1) + 1, new AsciiString(block, rawValueStart(i), length, false));
    }

    /** Keeps {@code text}, made of a raw field, at {@code slot} of {@link #texts}. */
    private CharSequence cache(int slot, CharSequence text) {
        CharSequence[] t = texts;
        if (t == null) {
            // Private even when the spans are shared: a cache the other side simply does not have.
            t = texts = new CharSequence[spans.length * 2];
        }
        t[slot] = text;
        return text;
    }

    /** Whether the name of field {@code i} is {@code name}, in any case; a raw name is compared in the block. */
    public boolean nameEquals(int i, CharSequence name) {
        if (spans[i] == NOT_RAW) {
            CharSequence n = texts[i << 1];
            return n == name || n.length() == name.length() && AsciiString.contentEqualsIgnoreCase(n, name);
        }
        int length = name.length();
        int start = rawNameStart(i);
        if (rawNameEnd(i) - start != length) {
            return false;
        }
        byte[] a = block;
        for (int k = 0; k < length; k++) {
            char c = name.charAt(k);
            int b = a[start + k] & 0xff;
            if (b != c && lowerAscii((char) b) != lowerAscii(c)) {
                return false;
            }
        }
        return true;
    }

    /** The length of the value of field {@code i}. */
    private int valueLength(int i) {
        return spans[i] == NOT_RAW ? texts[(i << 1) + 1].length() : rawValueLength(i);
    }

    /** The character at {@code k} of the value of field {@code i}, read in the block for a raw field. */
    private char valueChar(int i, int k) {
        return spans[i] == NOT_RAW ? texts[(i << 1) + 1].charAt(k) : (char) (block[rawValueStart(i) + k] & 0xff);
    }

    /** A copy of {@code headers}' fields without validating them again (they were, when they were added). */
    public static CompactHttpHeaders copyOf(HttpHeaders headers) {
        if (headers instanceof CompactHttpHeaders compact) {
            // Copy-on-write: no array until one side changes its fields (most upstream copies never do).
            return new CompactHttpHeaders(compact);
        }
        CompactHttpHeaders copy = new CompactHttpHeaders();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            copy.addTrusted(e.getKey(), e.getValue());
        }
        return copy;
    }

    // ---------------------------------------------------------------------------------------------
    // Lookups

    private int indexOf(CharSequence name, int from) {
        for (int i = from; i < size; i++) {
            if (nameEquals(i, name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : valueString(i);
    }

    /** The value of field {@code i} as a String: for a raw field made straight from the block (no AsciiString) and kept. */
    private String valueString(int i) {
        CharSequence cached = texts == null ? null : texts[(i << 1) + 1];
        if (cached != null) {
            return cached.toString();
        }
        int length = rawValueLength(i);
        return length == 0 ? "" : (String) cache((i << 1) + 1,
                new String(block, rawValueStart(i), length, StandardCharsets.ISO_8859_1));
    }

    /** What {@link #copyRawValue} answers for a value that is not in the block. */
    static final int NOT_RAW_VALUE = -2;

    /**
     * Copies the first value of {@code name} from the block into {@code into} at {@code at}, when it
     * fits (no String made: the access log's way to keep Host, Referer and User-Agent). Returns its
     * length, -1 when there is none, {@link #NOT_RAW_VALUE} when it was added as an object.
     */
    int copyRawValue(CharSequence name, byte[] into, int at) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return -1;
        }
        if (spans[i] == NOT_RAW) {
            return NOT_RAW_VALUE;
        }
        int length = rawValueLength(i);
        if (length <= into.length - at) {
            System.arraycopy(block, rawValueStart(i), into, at, length);
        }
        return length;
    }

    /** The first value of {@code name} as stored (no String made), or null. */
    public CharSequence getCharSequence(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : valueAt(i);
    }

    @Override
    public Integer getInt(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        try {
            return Short.parseShort(v.toString().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        Date date = DateFormatter.parseHttpDate(v);
        return date == null ? null : date.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return Collections.emptyList();
        }
        List<String> values = new ArrayList<>(2);
        do {
            values.add(valueString(i));
            i = indexOf(name, i + 1);
        } while (i >= 0);
        return values;
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
        List<CharSequence> values = new ArrayList<>(2);
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            values.add(valueAt(i));
        }
        return values.iterator();
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> entries = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            entries.add(new AbstractMap.SimpleImmutableEntry<>(nameAt(i).toString(), valueString(i)));
        }
        return entries;
    }

    @Override
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (valueRegionEquals(i, 0, valueLength(i), value, ignoreCase)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        // As Netty's: the value or one of the comma-separated elements of a value, trimmed.
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            int length = valueLength(i);
            for (int start = 0; start <= length; ) {
                int end = elementEnd(i, start, length);
                if (elementEquals(i, start, end, value, ignoreCase)) {
                    return true;
                }
                start = end + 1;
            }
        }
        return false;
    }

    /**
     * Whether every non-empty element of the comma-separated value of field {@code i} is one of
     * {@code words}, in any case: read in place, without a String or a list.
     */
    boolean everyElementIn(int i, AsciiString[] words) {
        int length = valueLength(i);
        for (int start = 0; start <= length; ) {
            int end = elementEnd(i, start, length);
            // Trimmed once, then compared with each word.
            int from = skipOws(i, start, end);
            int to = trimOwsEnd(i, from, end);
            if (to > from && !regionIsOneOf(i, from, to, words)) {
                return false;
            }
            start = end + 1;
        }
        return true;
    }

    private boolean regionIsOneOf(int i, int start, int end, AsciiString[] words) {
        for (AsciiString word : words) {
            if (valueRegionEquals(i, start, end, word, true)) {
                return true;
            }
        }
        return false;
    }

    /** The end of the list element of field {@code i}'s value that starts at {@code from}: a comma or the end. */
    private int elementEnd(int i, int from, int length) {
        int k = from;
        while (k < length && valueChar(i, k) != ',') {
            k++;
        }
        return k;
    }

    /** Where {@code value[start, end)} of field {@code i} starts without the whitespace before it. */
    private int skipOws(int i, int start, int end) {
        while (start < end && isOws(valueChar(i, start))) {
            start++;
        }
        return start;
    }

    /** Where {@code value[start, end)} of field {@code i} ends without the whitespace after it. */
    private int trimOwsEnd(int i, int start, int end) {
        while (end > start && isOws(valueChar(i, end - 1))) {
            end--;
        }
        return end;
    }

    /** Whether {@code value[start, end)} of field {@code i}, without the whitespace around it, is {@code value}. */
    private boolean elementEquals(int i, int start, int end, CharSequence value, boolean ignoreCase) {
        int from = skipOws(i, start, end);
        return valueRegionEquals(i, from, trimOwsEnd(i, from, end), value, ignoreCase);
    }

    private boolean valueRegionEquals(int i, int start, int end, CharSequence value, boolean ignoreCase) {
        int length = end - start;
        if (length != value.length()) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            char a = valueChar(i, start + k);
            char b = value.charAt(k);
            if (a != b && !(ignoreCase && lowerAscii(a) == lowerAscii(b))) {
                return false;
            }
        }
        return true;
    }

    private static char lowerAscii(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return new FieldIterator<>(true);
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new FieldIterator<>(false);
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        // Netty's are case-insensitive and unordered; these keep the first spelling, in order.
        Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> ordered = new LinkedHashSet<>();
        for (int i = 0; i < size; i++) {
            String n = nameAt(i).toString();
            if (names.add(n)) {
                ordered.add(n);
            }
        }
        return ordered;
    }

    // ---------------------------------------------------------------------------------------------
    // Changes (validated)

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        addTrusted(validName(name), validValue(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        CharSequence n = validName(name);
        for (Object v : values) {
            addTrusted(n, validValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers == this) {
            throw new IllegalArgumentException("can't add to itself.");
        }
        if (headers instanceof CompactHttpHeaders compact) {
            for (int i = 0; i < compact.size; i++) {
                addTrusted(compact.nameAt(i), compact.valueAt(i));
            }
            return this;
        }
        return super.add(headers);
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        addTrusted(validName(name), Integer.toString(value));
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        addTrusted(validName(name), Short.toString(value));
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence v = validValue(value);
        CharSequence n = validName(name);
        // As Netty's: the old fields go and the new one comes last, in the new spelling of the name.
        removeFrom(n, 0);
        addTrusted(n, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        CharSequence n = validName(name);
        remove(n);
        for (Object v : values) {
            if (v == null) {
                break;
            }
            addTrusted(n, validValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        if (headers == this) {
            return this;
        }
        clear();
        return add(headers);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        removeFrom(name, 0);
        return this;
    }

    private void removeFrom(CharSequence name, int from) {
        int i = indexOf(name, from);
        if (i < 0) {
            return;
        }
        if (shared) {
            unshare(size + ROOM_IN_COPY);
        }
        long[] s = spans;
        CharSequence[] t = texts;
        int kept = i;
        for (int read = i + 1; read < size; read++) {
            if (nameEquals(read, name)) {
                continue;
            }
            s[kept] = s[read];
            if (t != null) {
                t[kept << 1] = t[read << 1];
                t[(kept << 1) + 1] = t[(read << 1) + 1];
            }
            kept++;
        }
        if (t != null) {
            Arrays.fill(t, kept << 1, size << 1, null);
        }
        size = kept;
    }

    @Override
    public HttpHeaders clear() {
        if (shared) {
            // The other side keeps the arrays; this one starts afresh.
            spans = NO_SPANS;
            texts = null;
            shared = false;
        } else if (texts != null) {
            Arrays.fill(texts, 0, size << 1, null);
        }
        block = null;
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        return copyOf(this);
    }

    private static CharSequence validName(CharSequence name) {
        if (name == null || name.length() == 0) {
            throw new IllegalArgumentException("empty header name");
        }
        int bad = HttpHeaderValidationUtil.validateToken(name);
        if (bad >= 0) {
            throw new IllegalArgumentException("a header name can only contain \"token\" characters, but found invalid "
                    + "character 0x" + Integer.toHexString(name.charAt(bad)) + " at index " + bad + " of header '"
                    + name + "'.");
        }
        return name;
    }

    private static CharSequence validValue(Object value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        CharSequence v;
        if (value instanceof CharSequence cs) {
            v = cs;
        } else if (value instanceof Date date) {
            v = DateFormatter.format(date);
        } else if (value instanceof Calendar calendar) {
            v = DateFormatter.format(calendar.getTime());
        } else {
            v = value.toString();
        }
        int bad = HttpHeaderValidationUtil.validateValidHeaderValue(v);
        if (bad >= 0) {
            throw new IllegalArgumentException("a header value contains prohibited character 0x"
                    + Integer.toHexString(v.charAt(bad)) + " at index " + bad + '.');
        }
        return v;
    }

    /** Iterates the fields in order; {@code remove} is not supported (as for Netty's string iterator). */
    private final class FieldIterator<T extends CharSequence> implements Iterator<Map.Entry<T, T>> {
        private final boolean strings;
        private int next;

        FieldIterator(boolean strings) {
            this.strings = strings;
        }

        @Override
        public boolean hasNext() {
            return next < size;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<T, T> next() {
            if (next >= size) {
                throw new NoSuchElementException();
            }
            int i = next++;
            return strings
                    ? (Map.Entry<T, T>) new AbstractMap.SimpleImmutableEntry<>(nameAt(i).toString(), valueString(i))
                    : (Map.Entry<T, T>) new AbstractMap.SimpleImmutableEntry<>(nameAt(i), valueAt(i));
        }
    }
}
