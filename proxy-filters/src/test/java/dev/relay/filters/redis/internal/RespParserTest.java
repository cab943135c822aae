package dev.relay.filters.redis.internal;

import dev.relay.filters.redis.RedisReply;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RespParserTest {
    private static final String REPLIES = "+OK\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n"
            + "*3\r\n:1\r\n*2\r\n$0\r\n\r\n-ERR inner\r\n+last\r\n-ERR top\r\n";
    private static final List<String> EXPECTED = List.of("+OK", ":-42", "$\"he\r\no\"", "nil", "nil", "*[]",
            "*[:1, *[$\"\", -ERR inner], +last]", "-ERR top");

    @Test
    void parsesEveryReplyTypeInOneBuffer() {
        assertEquals(EXPECTED, parseInSplits(REPLIES.getBytes(StandardCharsets.US_ASCII), Integer.MAX_VALUE));
    }

    @Test
    void parsesTheSameWhateverHowTheBytesAreSplit() {
        byte[] bytes = REPLIES.getBytes(StandardCharsets.US_ASCII);
        for (int chunk = 1; chunk <= bytes.length; chunk++) {
            assertEquals(EXPECTED, parseInSplits(bytes, chunk), "chunks of " + chunk);
        }
    }

    @Test
    void saysHowManyBytesABulkStringNeeds() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.wrap("$1000\r\nabc".getBytes(StandardCharsets.US_ASCII));
        List<RedisReply> out = new ArrayList<>();
        parser.parse(in, out::add);
        assertEquals(List.of(), out);
        assertEquals(0, in.position());
        assertEquals(7 + 1000 + 2, parser.bytesNeeded());
    }

    @Test
    void rejectsBytesThatAreNotResp() {
        RespParser parser = new RespParser();
        assertThrows(RespProtocolException.class,
                () -> parser.parse(ByteBuffer.wrap("HTTP/1.1 400\r\n".getBytes(StandardCharsets.US_ASCII)), r -> true));
        assertThrows(RespProtocolException.class,
                () -> new RespParser().parse(ByteBuffer.wrap(":12x\r\n".getBytes(StandardCharsets.US_ASCII)), r -> true));
        assertThrows(RespProtocolException.class,
                () -> new RespParser().parse(ByteBuffer.wrap("$2\r\nabcd\r\n".getBytes(StandardCharsets.US_ASCII)), r -> true));
    }

    @Test
    void encodesCommandsAsArraysOfBulkStrings() {
        byte[] encoded = RespEncoder.encodeStrings(List.of("SET", "k", "välue"));
        assertEquals("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nvälue\r\n", new String(encoded, StandardCharsets.UTF_8));
    }

    /** Feeds {@code bytes} in chunks through a buffer the way the I/O loop does (compact between reads). */
    private static List<String> parseInSplits(byte[] bytes, int chunk) {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.allocate(bytes.length);
        List<String> out = new ArrayList<>();
        for (int at = 0; at < bytes.length; at += chunk) {
            in.put(bytes, at, Math.min(chunk, bytes.length - at));
            in.flip();
            parser.parse(in, reply -> out.add(reply.toString()));
            in.compact();
        }
        assertEquals(0, in.position(), "bytes left unparsed");
        return out;
    }
}
