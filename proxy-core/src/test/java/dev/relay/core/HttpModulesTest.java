package dev.relay.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HttpModulesTest {

    private static HttpModuleFactory factory(String name, int order) {
        return new HttpModuleFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int order() {
                return order;
            }

            @Override
            public HttpModule newModule() {
                return new HttpModule() {};
            }
        };
    }

    private static List<String> names(List<HttpModuleFactory> factories) {
        return factories.stream().map(HttpModuleFactory::name).toList();
    }

    @Test
    void orderedSortsByOrderLowestFirst() {
        HttpModules modules = new HttpModules()
                .add(factory("late", 10))
                .add(factory("early", -5))
                .add(factory("middle", 0));

        assertEquals(List.of("early", "middle", "late"), names(modules.ordered()));
    }

    @Test
    void equalOrdersKeepRegistrationOrder() {
        HttpModules modules = new HttpModules()
                .add(factory("b", 1))
                .add(factory("a", 1))
                .add(factory("first", 0))
                .add(factory("c", 1));

        assertEquals(List.of("first", "b", "a", "c"), names(modules.ordered()));
    }

    @Test
    void theDefaultOrderIsZero() {
        HttpModuleFactory defaultOrder = new HttpModuleFactory() {
            @Override
            public String name() {
                return "default";
            }

            @Override
            public HttpModule newModule() {
                return new HttpModule() {};
            }
        };
        HttpModules modules = new HttpModules().add(factory("after", 1)).add(defaultOrder).add(factory("before", -1));

        assertEquals(List.of("before", "default", "after"), names(modules.ordered()));
    }

    @Test
    void orderedIsAnImmutableSnapshot() {
        HttpModules modules = new HttpModules().add(factory("a", 0));
        List<HttpModuleFactory> snapshot = modules.ordered();

        modules.add(factory("b", -1));

        assertEquals(List.of("a"), names(snapshot));
        assertEquals(List.of("b", "a"), names(modules.ordered()));
        assertThrows(UnsupportedOperationException.class, () -> snapshot.add(factory("c", 0)));
    }

    @Test
    void addRejectsNull() {
        assertThrows(NullPointerException.class, () -> new HttpModules().add(null));
    }
}
