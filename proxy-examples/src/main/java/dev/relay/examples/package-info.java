/**
 * Runnable examples, one class with a {@code main} each: {@link dev.relay.examples.LoadBalancerExample}
 * is the seed (Pingora's load-balancer quick start in Java), {@link dev.relay.examples.FailoverExample}
 * shows failing over to another backend through the attempt loop, and the {@code *Example} classes named
 * after Pingora's examples ({@link dev.relay.examples.PingoraLoadBalancerExample},
 * {@link dev.relay.examples.GatewayExample}, ...) port them one by one, each saying in its Javadoc how to
 * run it and where Relay's API differs. Each has a test that runs it against local origins.
 */
package dev.relay.examples;
