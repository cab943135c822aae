package dev.relay.server.internal.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The cached timestamps are the {@link DateTimeFormatter}'s text, in any zone, at any millisecond. */
@Timeout(30)
class LogTimestampsTest {
    private static final List<ZoneId> ZONES = List.of(ZoneOffset.UTC, ZoneId.of("Europe/Berlin"), ZoneId.of("Asia/Kolkata"),
            ZoneId.of("America/St_Johns"), ZoneId.of("Australia/Lord_Howe"),
            // +00:19:32 before 1937: an offset with seconds.
            ZoneId.of("Europe/Amsterdam"));

    @Test
    void printsWhatTheFormattersPrint() {
        Random random = new Random(7);
        List<Long> instants = new ArrayList<>(List.of(0L, 999L, 1000L, 1005L, 1050L, 1500L, 1120L, 1123L, -1L, -1001L,
                Instant.parse("1935-06-01T12:00:00.250Z").toEpochMilli(),
                // Either side of the autumn change in Berlin: 02:59:59.999 happens twice.
                Instant.parse("2026-10-25T00:59:59.999Z").toEpochMilli(), Instant.parse("2026-10-25T01:00:00.010Z").toEpochMilli()));
        long now = System.currentTimeMillis();
        for (int i = 0; i < 3000; i++) {
            instants.add(now + random.nextInt(20_000));   // consecutive lines: mostly the same second
            instants.add(-2_208_988_800_000L + (long) (random.nextDouble() * 6_000_000_000_000L));
        }
        for (ZoneId zone : ZONES) {
            DateTimeFormatter combined = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(zone);
            DateTimeFormatter iso = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(zone);
            LogTimestamps timestamps = new LogTimestamps(zone);
            for (long millis : instants) {
                LogLineBuffer out = new LogLineBuffer(8);
                timestamps.combined(millis, out);
                out.ascii('|');
                timestamps.iso(millis, out);
                Instant instant = Instant.ofEpochMilli(millis);
                assertEquals(combined.format(instant) + "|" + iso.format(instant),
                        new String(out.array(), 0, out.length(), StandardCharsets.UTF_8), zone + " " + millis);
            }
        }
    }
}
