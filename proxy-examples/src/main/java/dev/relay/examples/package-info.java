/**
 * Runnable examples, one class with a {@code main} each: {@link dev.relay.examples.LoadBalancerExample}
 * is the seed (Pingora's load-balancer quick start in Java), {@link dev.relay.examples.FailoverExample}
 * shows failing over to another backend through the attempt loop.
 */
package dev.relay.examples;
