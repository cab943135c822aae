package io.netty.channel.uring;

import io.netty.util.Version;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Pins the Netty internals that {@link AdoptedIoUringServerSocketChannel} mirrors and builds on, so
 * that a Netty upgrade that changes them fails here, loudly, rather than at the next zero-downtime
 * upgrade in production. What it does with them (accepting, addresses, closing, IPv6, both accept
 * modes) is tested by {@code dev.relay.transport.ListenerHandOverTest}, which the build runs with
 * Netty's multishot accept on and off.
 */
class AdoptedIoUringServerSocketChannelTest {
    private static final String MIRRORED_NETTY_VERSION = "4.2.18.Final";

    @Test
    void mirrorsTheIoUringServerChannelOfTheNettyVersionItWasWrittenFor() {
        String version = Version.identify().get("netty-transport-classes-io_uring").artifactVersion();
        assertEquals(MIRRORED_NETTY_VERSION, version, "Netty's io_uring classes changed version: compare "
                + "AdoptedIoUringServerSocketChannel with this version's IoUringServerSocketChannel (constructor, "
                + "newChildChannel, doBind), mirror what changed, then update MIRRORED_NETTY_VERSION");
    }

    @Test
    void overridesWhatNettysOwnServerChannelOverrides() {
        // A method Netty's class starts to override is behaviour the adopted channel would lack.
        Set<String> netty = declared(IoUringServerSocketChannel.class);
        netty.remove("IoUringServerSocketChannel()");
        Set<String> adopted = declared(AdoptedIoUringServerSocketChannel.class);
        adopted.remove("AdoptedIoUringServerSocketChannel(int)");
        assertEquals(netty, adopted);
        assertEquals(Set.of("config()", "doBind(java.net.SocketAddress)", "localAddress()",
                "newChildChannel(int,java.nio.ByteBuffer)", "remoteAddress()"), adopted);
    }

    @Test
    void buildsOnTheSuperclassConstructorThatTakesASocketAndItsState() throws Exception {
        Constructor<?> constructor = AbstractIoUringServerChannel.class.getDeclaredConstructor(LinuxSocket.class,
                boolean.class);
        assertEquals(Set.of(constructor), Set.of(AbstractIoUringServerChannel.class.getDeclaredConstructors()));
        assertSame(AbstractIoUringServerChannel.class, AdoptedIoUringServerSocketChannel.class.getSuperclass());
        assertEquals(Modifier.FINAL, IoUringServerSocketChannel.class.getModifiers() & Modifier.FINAL,
                "once Netty's class can be extended or built from a descriptor, use that instead");
    }

    /** The methods and constructors {@code type} declares itself (no bridges), as name(parameter types). */
    private static Set<String> declared(Class<?> type) {
        return Stream.concat(Arrays.stream(type.getDeclaredMethods()), Arrays.stream(type.getDeclaredConstructors()))
                .filter(e -> !e.isSynthetic() && !(e instanceof java.lang.reflect.Method m && m.isBridge()))
                .map(AdoptedIoUringServerSocketChannelTest::signature)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static String signature(Executable e) {
        String name = e instanceof Constructor<?> ? e.getDeclaringClass().getSimpleName() : e.getName();
        return name + Arrays.stream(e.getParameterTypes()).map(Class::getTypeName)
                .collect(Collectors.joining(",", "(", ")"));
    }
}
