package dev.relay.server.internal.metrics;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * The access log's timestamps, formatted once per second and kept as bytes, as nginx caches its
 * {@code $time_local}: a line copies them instead of running a {@link DateTimeFormatter}. The text is
 * exactly the formatter's: {@code 25/Nov/2026:15:07:05 +0000} (combined) and
 * {@code 2026-11-25T15:07:05.297Z} (JSON: ISO-8601 with the offset, the milliseconds without their
 * trailing zeros and none at all on a whole second, as {@link DateTimeFormatter#ISO_OFFSET_DATE_TIME}
 * prints them). One thread only (the writer's).
 */
final class LogTimestamps {
    private final DateTimeFormatter combined;
    private final DateTimeFormatter iso;
    private final ZoneId zone;

    private long combinedSecond = Long.MIN_VALUE;
    private byte[] combinedText = new byte[0];
    private long isoSecond = Long.MIN_VALUE;
    /** The ISO text of the second up to its seconds, and the offset that follows the fraction. */
    private byte[] isoDateTime = new byte[0];
    private byte[] isoOffset = new byte[0];

    /** Timestamps in {@code zone} (the server's: {@link ZoneId#systemDefault()}). */
    LogTimestamps(ZoneId zone) {
        this.zone = requireNonNull(zone, "zone");
        combined = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(zone);
        iso = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(zone);
        // The first format loads the locale data (month names, the zone's rules): about 50 classes and
        // a quarter of a megabyte of objects kept for good. Made here, with the server, they are promoted
        // with what start-up keeps (StartupHeap) instead of being made for the first request's line
        // and copied by every young collection of the first minute.
        combined.format(Instant.EPOCH);
        iso.format(Instant.EPOCH);
        zone.getRules().getOffset(Instant.EPOCH);
    }

    /** Appends {@code epochMillis} as {@code 25/Nov/2026:15:07:05 +0000}. */
    void combined(long epochMillis, LogLineBuffer out) {
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != combinedSecond) {
            combinedText = combined.format(Instant.ofEpochSecond(second)).getBytes(StandardCharsets.UTF_8);
            combinedSecond = second;
        }
        out.raw(combinedText);
    }

    /** Appends {@code epochMillis} as {@code 2026-11-25T15:07:05.297Z}. */
    void iso(long epochMillis, LogLineBuffer out) {
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != isoSecond) {
            Instant instant = Instant.ofEpochSecond(second);
            // A whole second prints no fraction: the offset is what follows the seconds.
            String whole = iso.format(instant);
            String offset = zone.getRules().getOffset(instant).getId();
            isoDateTime = whole.substring(0, whole.length() - offset.length()).getBytes(StandardCharsets.UTF_8);
            isoOffset = offset.getBytes(StandardCharsets.UTF_8);
            isoSecond = second;
        }
        out.raw(isoDateTime);
        int millis = (int) Math.floorMod(epochMillis, 1000);
        if (millis != 0) {
            out.ascii('.');
            if (millis % 10 != 0) {
                out.threeDigits(millis);
            } else if (millis % 100 != 0) {
                out.ascii((char) ('0' + millis / 100)).ascii((char) ('0' + millis / 10 % 10));
            } else {
                out.ascii((char) ('0' + millis / 100));
            }
        }
        out.raw(isoOffset);
    }
}
