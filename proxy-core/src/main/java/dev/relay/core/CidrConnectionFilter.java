package dev.relay.core;

import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * {@link ConnectionFilter#cidrs}: a value, so that two filters from the same configuration are equal
 * (a reload compares listener settings to tell what changed).
 */
record CidrConnectionFilter(List<CidrBlock> allow, List<CidrBlock> deny) implements ConnectionFilter {

    @Override
    public CompletionStage<Boolean> shouldAccept(SocketAddress client) {
        for (CidrBlock block : deny) {
            if (block.contains(client)) {
                return Stages.completedFalse();
            }
        }
        if (allow.isEmpty()) {
            return Stages.completedTrue();
        }
        for (CidrBlock block : allow) {
            if (block.contains(client)) {
                return Stages.completedTrue();
            }
        }
        return Stages.completedFalse();
    }

    @Override
    public String toString() {
        return "cidrs{allow=" + allow + ", deny=" + deny + '}';
    }
}
