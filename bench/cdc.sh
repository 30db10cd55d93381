#!/usr/bin/env bash
# Change data capture benchmark: pgbench (tpcb-like, 4 clients, unthrottled) against the source
# while its changes flow to a target, first through PostgreSQL's own logical replication (the
# baseline), then through pgcopy-connect, in the same run. Results: bench/results/cdc.md.
#   bench/cdc.sh            # pgbench scale 10, 60 s of writes
#   bench/cdc.sh 10 120
#   bench/cdc.sh 10 30 2    # two catch-ups per pipeline (the second on warmed-up JVMs)
#   SOURCE_OVERRIDES=batch.max.rows=32768 SINK_OVERRIDES=... WORKER_JVM_OPTIONS=... BROKER_JVM_OPTIONS=... \
#     bench/cdc.sh 10 30 2
#   PROFILE_DIR=/tmp/prof bench/cdc.sh 10 30   # also a Java Flight Recorder profile of the worker
#                                              # and the broker over each catch-up's drain
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q install -DskipTests
it=integration-tests
# each run's servers start from scratch; the last run's data directories (gigabytes) go
rm -rf "$it/target/bench-work"
java -Xmx1g \
  -Dpgcopy.plugin.path="$PWD/connect-plugin/target/pgcopy-connect-plugin" \
  -Dpgcopy.kafka.classpath.file="$PWD/$it/target/kafka.classpath" \
  -Dpgcopy.config.dir="$PWD/config" \
  -Dpgcopy.work.dir="$PWD/$it/target/bench-work" \
  -Dbench.out="${BENCH_OUT:-$PWD/bench/results/cdc.md}" \
  ${PROFILE_DIR:+-Dbench.profile.dir="$PROFILE_DIR"} \
  -Dpgcopy.worker.jvm.options="${WORKER_JVM_OPTIONS:-}" \
  -Dpgcopy.broker.jvm.options="${BROKER_JVM_OPTIONS:-}" \
  -Dbench.source="${SOURCE_OVERRIDES:-}" -Dbench.sink="${SINK_OVERRIDES:-}" \
  -cp "$it/target/test-classes:$(cat $it/target/kafka.classpath)" \
  io.pgcopy.connect.bench.CdcBenchmark "$@"
