/**
 * Runnable examples, one class with a {@code main} each: {@link dev.relay.examples.LoadBalancerExample}
 * is the seed (Pingora's load-balancer quick start in Java), {@link dev.relay.examples.FailoverExample}
 * shows failing over to another backend through the attempt loop; the other classes are Pingora's
 * examples in Java, one {@code <Name>Example} each (see the README's Examples table), each with a
 * {@code main} and a constructor or factory that tests use on loopback with ephemeral ports.
 */
package dev.relay.examples;
