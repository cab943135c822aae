package dev.relay.transport.internal;

import dev.relay.core.HttpModule;
import dev.relay.core.ProxyError;
import io.netty.channel.embedded.EmbeddedChannel;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(10)
class CallModulesTest {
    /** The storage alone: no phase of this driver ever runs. */
    private static final class Slots extends CallModules {
        Slots() {
            super(new EmbeddedChannel().eventLoop());
        }

        @Override
        boolean dropIfStale(int step, @Nullable UpstreamAttempt scope) {
            throw new AssertionError("no phase runs");
        }

        @Override
        void resume(int step, @Nullable Object value, @Nullable UpstreamAttempt scope) {
            throw new AssertionError("no phase runs");
        }

        @Override
        void failStep(ProxyError e, int step, @Nullable UpstreamAttempt scope) {
            throw new AssertionError("no phase runs");
        }

        @Override
        void failRequest(ProxyError e) {
            throw new AssertionError("no phase runs");
        }
    }

    private static HttpModule newModule() {
        return new HttpModule() {};
    }

    @Test
    void hasNoModulesUntilPrepared() {
        Slots slots = new Slots();
        assertEquals(0, slots.moduleCount());
        slots.prepareModules(0);
        assertEquals(0, slots.moduleCount());
    }

    @Test
    void keepsASingleModule() {
        Slots slots = new Slots();
        slots.prepareModules(1);
        assertNull(slots.module(0), "not made yet");
        assertEquals(0, slots.moduleCount(), "none runs until the first is made");
        HttpModule only = newModule();
        slots.setModule(0, only);
        assertEquals(1, slots.moduleCount());
        assertSame(only, slots.module(0));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> slots.setModule(1, newModule()));
    }

    @Test
    void keepsSeveralModulesInOrder() {
        Slots slots = new Slots();
        slots.prepareModules(3);
        HttpModule[] made = {newModule(), newModule(), newModule()};
        for (int i = 0; i < made.length; i++) {
            slots.setModule(i, made[i]);
        }
        assertEquals(3, slots.moduleCount());
        for (int i = 0; i < made.length; i++) {
            assertSame(made[i], slots.module(i));
        }
    }

    @Test
    void aModuleNotMadeIsNull() {
        // A factory failed after the first module was made: the rest stay null, and the driver skips them.
        Slots slots = new Slots();
        slots.prepareModules(3);
        assertEquals(0, slots.moduleCount(), "the first factory failed: none runs");
        HttpModule first = newModule();
        slots.setModule(0, first);
        assertEquals(3, slots.moduleCount(), "each runs, or is skipped as null");
        assertSame(first, slots.module(0));
        assertNull(slots.module(1));
        assertNull(slots.module(2));
    }
}
