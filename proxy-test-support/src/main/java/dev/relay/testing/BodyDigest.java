package dev.relay.testing;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Byte count and SHA-256 of a body, updated chunk by chunk so that no body is ever held whole. */
final class BodyDigest {
    private final MessageDigest sha256 = newSha256();
    private long bytes;

    /** Adds the readable bytes of {@code content}; does not move its indexes or change its ownership. */
    void update(ByteBuf content) {
        int length = content.readableBytes();
        if (length == 0) {
            return;
        }
        if (content.hasArray()) {
            sha256.update(content.array(), content.arrayOffset() + content.readerIndex(), length);
        } else {
            for (ByteBuffer nio : content.nioBuffers()) {
                sha256.update(nio);
            }
        }
        bytes += length;
    }

    long bytes() {
        return bytes;
    }

    /** The hex digest of what was added so far; may be called more than once. */
    String sha256Hex() {
        try {
            return HexFormat.of().formatHex(((MessageDigest) sha256.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
        }
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(newSha256().digest(data));
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
