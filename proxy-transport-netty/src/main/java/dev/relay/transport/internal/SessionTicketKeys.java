package dev.relay.transport.internal;

import io.netty.handler.ssl.OpenSslSessionTicketKey;

import java.security.SecureRandom;
import java.util.List;

/**
 * The session-ticket keys of one listener: the newest encrypts new tickets, the one before it still
 * decrypts tickets issued during the previous period, so a rotation does not cost every client its
 * resumption. Outlives the listener's contexts (a configuration reload or a certificate change
 * builds new ones that get the same keys). Thread-safe: {@link #rotate()} swaps one immutable list.
 */
final class SessionTicketKeys {
    private final SecureRandom random = new SecureRandom();
    private volatile List<OpenSslSessionTicketKey> keys = List.of(newKey());

    /** The keys, newest first: what {@code OpenSslSessionContext.setTicketKeys} takes. */
    OpenSslSessionTicketKey[] current() {
        return keys.toArray(new OpenSslSessionTicketKey[0]);
    }

    /** Makes a new encryption key; the previous newest one is kept for decryption only. */
    synchronized void rotate() {
        keys = List.of(newKey(), keys.get(0));
    }

    private OpenSslSessionTicketKey newKey() {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }
}
