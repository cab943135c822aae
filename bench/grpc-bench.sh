#!/usr/bin/env bash
# grpc-bench.sh - gRPC unary calls per second through Relay against straight to the origin, in one run.
#
# One JVM (benchmarks' GrpcUnaryBench): a grpc-java origin over h2c, Relay in process with an
# alpn = H2 peer for it (PROXY_THREADS event loops), and a grpc-java client keeping CONCURRENCY
# unary calls of PAYLOAD bytes in flight on one HTTP/2 connection, DURATION seconds per target per
# round, the two targets alternating, RUNS rounds, medians and the ratio relay/direct reported.
# Client, origin and proxy share the machine (and, in one JVM, its heap and JIT): read the ratio.
#
# Usage: bench/grpc-bench.sh            (builds benchmarks/target/benchmarks.jar when it is missing)
# Settings (env): DURATION=10 WARMUP=5 RUNS=3 CONCURRENCY=50 PAYLOAD=100 PROXY_THREADS=1 JAVA_OPTS=''
set -Eeuo pipefail

: "${DURATION:=10}" "${WARMUP:=5}" "${RUNS:=3}" "${CONCURRENCY:=50}" "${PAYLOAD:=100}" "${PROXY_THREADS:=1}"
: "${JAVA_OPTS:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR="$ROOT/benchmarks/target/benchmarks.jar"

if [ ! -f "$JAR" ]; then
  (cd "$ROOT" && mvn -q -B -o package -DskipTests -pl benchmarks -am)
fi

# shellcheck disable=SC2086
exec java $JAVA_OPTS -Dio.netty.leakDetection.level=disabled \
  -Dduration="$DURATION" -Dwarmup="$WARMUP" -Drounds="$RUNS" -Dconcurrency="$CONCURRENCY" \
  -Dpayload="$PAYLOAD" -DproxyThreads="$PROXY_THREADS" \
  -cp "$JAR" dev.relay.benchmarks.GrpcUnaryBench
