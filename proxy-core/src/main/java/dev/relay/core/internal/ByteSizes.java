package dev.relay.core.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Parses sizes in bytes as HOCON writes them ({@code 512}, {@code 512k}, {@code 256MiB}, {@code 10GiB},
 * {@code 1.5G}, {@code 100kB}): a number, then optionally a unit. The one-letter and {@code i} units are
 * powers of 1024 ({@code k}, {@code Ki}, {@code KiB}), the {@code B} units without {@code i} powers of
 * 1000 ({@code kB}, {@code MB}), as typesafe-config has them, so a size reads the same in a filter's
 * settings as anywhere in the configuration.
 */
public final class ByteSizes {
    private static final Map<String, BigInteger> UNITS = units();

    private ByteSizes() {}

    /**
     * The bytes {@code text} stands for.
     *
     * @throws InvalidSettingException naming {@code key}, for text that is not a size or is out of the {@code long} range
     */
    public static long parse(String key, String text) {
        String s = text.trim();
        int end = 0;
        while (end < s.length() && (Character.isDigit(s.charAt(end)) || s.charAt(end) == '.' || (end == 0 && s.charAt(0) == '-'))) {
            end++;
        }
        BigInteger factor = UNITS.get(s.substring(end).trim());
        if (end == 0 || factor == null) {
            throw invalid(key, text);
        }
        try {
            return new BigDecimal(s.substring(0, end)).multiply(new BigDecimal(factor)).toBigInteger().longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw invalid(key, text);
        }
    }

    private static InvalidSettingException invalid(String key, String text) {
        return new InvalidSettingException(key, "'" + text + "' (expected: a size such as 512k, 256MiB, 10GiB "
                + "or a number of bytes)");
    }

    /** typesafe-config's units ({@code MemoryUnit}), spelled as it accepts them. */
    private static Map<String, BigInteger> units() {
        Map<String, BigInteger> units = new HashMap<>();
        for (String b : new String[] {"", "B", "b", "byte", "bytes"}) {
            units.put(b, BigInteger.ONE);
        }
        String[] binary = {"kibi", "mebi", "gibi", "tebi", "pebi", "exbi"};
        String[] decimal = {"kilo", "mega", "giga", "tera", "peta", "exa"};
        for (int i = 0; i < binary.length; i++) {
            BigInteger powerOf1024 = BigInteger.valueOf(1024).pow(i + 1);
            String lower = binary[i].substring(0, 1);
            String upper = lower.toUpperCase(Locale.ROOT);
            for (String u : new String[] {lower, upper, upper + "i", upper + "iB", binary[i] + "byte", binary[i] + "bytes"}) {
                units.put(u, powerOf1024);
            }
            BigInteger powerOf1000 = BigInteger.valueOf(1000).pow(i + 1);
            // kB, then MB, GB ... (K is the binary kilo, M the binary mega, as in typesafe-config).
            for (String u : new String[] {(i == 0 ? lower : upper) + "B", decimal[i] + "byte", decimal[i] + "bytes"}) {
                units.put(u, powerOf1000);
            }
        }
        return Map.copyOf(units);
    }
}
