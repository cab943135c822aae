package dev.relay.core.cache;

import org.jspecify.annotations.Nullable;

import java.time.Instant;
import java.time.LocalDate;
import java.time.Year;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * HTTP-date (RFC 9110 §5.6.7) to epoch milliseconds: the IMF-fixdate every sender uses
 * ({@code Sun, 06 Nov 1994 08:49:37 GMT}, also the one {@link #format} writes) and the two obsolete forms a recipient must still accept,
 * RFC 850 ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}).
 *
 * <p>Hand-written rather than a {@link java.time.format.DateTimeFormatter}: caches read {@code Date},
 * {@code Expires} and {@code Last-Modified} of every response, and {@code Expires: 0} is common; a
 * formatter would throw for each of those. The day name is not checked against the date, as most
 * recipients do not.
 */
final class HttpDates {
    /** What {@link #parse} returns for a value that is not an HTTP-date. */
    static final long INVALID = Long.MIN_VALUE;

    /** RFC 9110 §5.6.7 resolves RFC 850's two-digit years against the present; a year suffices. */
    private static final int CURRENT_YEAR = Year.now(ZoneOffset.UTC).getValue();

    private static final String[] MONTHS = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
    };

    /** IMF-fixdate, the one form a sender writes. */
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private HttpDates() {}

    /** {@code epochMillis} as an IMF-fixdate, to the second. */
    static String format(long epochMillis) {
        return IMF_FIXDATE.format(Instant.ofEpochMilli(epochMillis));
    }

    /** The instant {@code value} names, in epoch milliseconds, or {@link #INVALID}. */
    static long parse(@Nullable String value) {
        if (value == null) {
            return INVALID;
        }
        Cursor c = new Cursor(value.trim());
        return value.indexOf(',') >= 0 ? c.imfOrRfc850() : c.asctime();
    }

    /** A position in one date string; every reader returns -1 (or {@link #INVALID}) when the text does not fit. */
    private static final class Cursor {
        private final String s;
        private int pos;

        Cursor(String s) {
            this.s = s;
        }

        /** {@code Sun, 06 Nov 1994 08:49:37 GMT} or {@code Sunday, 06-Nov-94 08:49:37 GMT}. */
        long imfOrRfc850() {
            if (!dayName() || !expect(',') || !spaces()) {
                return INVALID;
            }
            int day = digits(1, 2);
            int month;
            int year;
            if (pos < s.length() && s.charAt(pos) == '-') {
                pos++;
                month = month();
                if (month < 0 || !expect('-')) {
                    return INVALID;
                }
                int start = pos;
                year = digits(2, 4);
                if (pos - start == 2) {
                    year = twoDigitYear(year);
                } else if (pos - start != 4) {
                    return INVALID;
                }
            } else {
                if (!spaces()) {
                    return INVALID;
                }
                month = month();
                if (month < 0 || !spaces()) {
                    return INVALID;
                }
                year = digits(4, 4);
            }
            if (!spaces()) {
                return INVALID;
            }
            long time = timeOfDay();
            if (time < 0 || !spaces() || !s.regionMatches(true, pos, "GMT", 0, 3) || pos + 3 != s.length()) {
                return INVALID;
            }
            return epochMillis(year, month, day, time);
        }

        /** {@code Sun Nov  6 08:49:37 1994}. */
        long asctime() {
            if (!dayName() || !spaces()) {
                return INVALID;
            }
            int month = month();
            if (month < 0 || !spaces()) {
                return INVALID;
            }
            int day = digits(1, 2);
            if (!spaces()) {
                return INVALID;
            }
            long time = timeOfDay();
            if (time < 0 || !spaces()) {
                return INVALID;
            }
            int year = digits(4, 4);
            if (pos != s.length()) {
                return INVALID;
            }
            return epochMillis(year, month, day, time);
        }

        /** Seconds into the day of {@code HH:MM:SS}, or -1. */
        private long timeOfDay() {
            int hours = digits(2, 2);
            if (hours < 0 || hours > 23 || !expect(':')) {
                return -1;
            }
            int minutes = digits(2, 2);
            if (minutes < 0 || minutes > 59 || !expect(':')) {
                return -1;
            }
            int seconds = digits(2, 2);
            // 60: a leap second, which the grammar allows.
            if (seconds < 0 || seconds > 60) {
                return -1;
            }
            return hours * 3600L + minutes * 60L + seconds;
        }

        /** A day name of letters only (checked for shape, not against the date). */
        private boolean dayName() {
            int start = pos;
            while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                pos++;
            }
            return pos - start >= 3;
        }

        /** The month's number, 1 to 12, of a three-letter name; -1 otherwise. */
        private int month() {
            if (pos + 3 > s.length()) {
                return -1;
            }
            for (int m = 0; m < MONTHS.length; m++) {
                if (s.regionMatches(true, pos, MONTHS[m], 0, 3)) {
                    pos += 3;
                    return m + 1;
                }
            }
            return -1;
        }

        /** A number of {@code min} to {@code max} digits, or -1. */
        private int digits(int min, int max) {
            int start = pos;
            int value = 0;
            while (pos < s.length() && pos - start < max) {
                char c = s.charAt(pos);
                if (c < '0' || c > '9') {
                    break;
                }
                value = value * 10 + (c - '0');
                pos++;
            }
            return pos - start >= min ? value : -1;
        }

        /** One or more spaces (asctime pads a one-digit day with a second space). */
        private boolean spaces() {
            int start = pos;
            while (pos < s.length() && s.charAt(pos) == ' ') {
                pos++;
            }
            return pos > start;
        }

        private boolean expect(char c) {
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }
    }

    /** RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent past one. */
    private static int twoDigitYear(int yy) {
        int year = CURRENT_YEAR / 100 * 100 + yy;
        if (year > CURRENT_YEAR + 50) {
            year -= 100;
        } else if (year <= CURRENT_YEAR - 50) {
            year += 100;
        }
        return year;
    }

    private static long epochMillis(int year, int month, int day, long secondsOfDay) {
        if (year < 0 || day < 1 || day > 31 || day > LocalDate.of(year, month, 1).lengthOfMonth()) {
            return INVALID;
        }
        return (LocalDate.of(year, month, day).toEpochDay() * 86_400 + secondsOfDay) * 1000;
    }
}
