package dev.relay.filters;

import dev.relay.core.HttpHeaders;

import java.util.List;
import java.util.Map;

/**
 * The validated rules for one side (request or response), as arrays so applying them is a few
 * loops without allocation. Immutable.
 */
final class HeaderRules {
    private final String[] remove;
    private final String[] setNames;
    private final String[] setValues;
    private final String[] addNames;
    private final String[] addValues;

    HeaderRules(List<String> remove, Map<String, String> set, Map<String, String> add) {
        this.remove = remove.toArray(new String[0]);
        this.setNames = set.keySet().toArray(new String[0]);
        this.setValues = set.values().toArray(new String[0]);
        this.addNames = add.keySet().toArray(new String[0]);
        this.addValues = add.values().toArray(new String[0]);
    }

    boolean isEmpty() {
        return remove.length == 0 && setNames.length == 0 && addNames.length == 0;
    }

    /** Removes, then sets, then adds. */
    void apply(HttpHeaders headers) {
        for (String name : remove) {
            headers.remove(name);
        }
        for (int i = 0; i < setNames.length; i++) {
            headers.set(setNames[i], setValues[i]);
        }
        for (int i = 0; i < addNames.length; i++) {
            headers.add(addNames[i], addValues[i]);
        }
    }

    @Override
    public String toString() {
        return "remove=" + List.of(remove) + " set=" + List.of(setNames) + " add=" + List.of(addNames);
    }
}
