/**
 * JMH micro-benchmarks of the hot paths. Build with {@code mvn -f benchmarks/pom.xml package} and
 * run, for example, {@code java -jar benchmarks/target/benchmarks.jar SelectionBenchmark -prof gc};
 * {@code gc.alloc.rate.norm} is the bytes allocated per operation (the target is 0).
 */
package dev.relay.benchmarks;
