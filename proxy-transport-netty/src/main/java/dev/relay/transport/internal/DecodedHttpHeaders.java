package dev.relay.transport.internal;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;

/**
 * The fields of a decoded message: Netty's headers, filled by the decoder without validating each
 * name and value again (the decoder checked every byte as it scanned the block), and validating as
 * Netty's do for everything added after {@link #seal()} — what filters and the engine set.
 */
final class DecodedHttpHeaders extends DefaultHttpHeaders {
    private static final DefaultHeaders.NameValidator<CharSequence> NAMES =
            DefaultHttpHeadersFactory.headersFactory().getNameValidator();
    private static final DefaultHeaders.ValueValidator<CharSequence> VALUES =
            DefaultHttpHeadersFactory.headersFactory().getValueValidator();

    private final ValidatedOnceSealed validator;

    /** Empty headers, open for the decoder; {@code fields} sizes the table (the number of fields to come). */
    DecodedHttpHeaders(int fields) {
        this(new ValidatedOnceSealed(), fields);
    }

    private DecodedHttpHeaders(ValidatedOnceSealed validator, int fields) {
        super(validator, validator, fields);
        this.validator = validator;
    }

    /** The decoder is done: whatever is added from now on is validated. */
    DecodedHttpHeaders seal() {
        validator.sealed = true;
        return this;
    }

    /**
     * One per headers object (not per connection), so that a filter on another thread can never
     * see the decoder's window open.
     */
    private static final class ValidatedOnceSealed implements DefaultHeaders.NameValidator<CharSequence>,
            DefaultHeaders.ValueValidator<CharSequence> {
        boolean sealed;

        @Override
        public void validateName(CharSequence name) {
            if (sealed) {
                NAMES.validateName(name);
            }
        }

        @Override
        public void validate(CharSequence value) {
            if (sealed) {
                VALUES.validate(value);
            }
        }
    }
}
