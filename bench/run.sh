#!/usr/bin/env bash
# Initial-load benchmark: pgbench_accounts at scale 10 and 100 (1M and 10M rows) from one local
# PostgreSQL to another, through a psql binary COPY pipe (baseline) and through pgcopy-connect on
# a Connect worker with a 512 MB heap, in the same run. Results: bench/results/initial-load.md.
#   bench/run.sh            # scales 10 and 100
#   bench/run.sh 10         # one scale
#   WORKER_OVERRIDES=exactly.once.source.support=disabled SOURCE_OVERRIDES=batch.max.rows=20000 bench/run.sh 10
#   J=org.apache.kafka.connect.json.JsonConverter BENCH_OUT=$PWD/bench/results/format-struct.md \
#     SOURCE_OVERRIDES=record.format=struct,key.converter=$J,value.converter=$J \
#     SINK_OVERRIDES=key.converter=$J,value.converter=$J bench/run.sh 10
#   EXTRA_COLUMN=seg BENCH_OUT=$PWD/bench/results/text-seg.md bench/run.sh 10    # a table that travels as text
#   EXTRA_COLUMN=text BENCH_OUT=$PWD/bench/results/text-twin.md bench/run.sh 10  # ... and its binary twin
#   SOURCE_TASKS=2 SINK_TASKS=1 WORKER_JVM_OPTIONS=-XX:StartFlightRecording=filename=/tmp/w.jfr bench/run.sh 10
#   WARMUP_ROWS=500000 SOURCE_TASKS=2 SINK_TASKS=1 bench/run.sh 20   # timed after a warm-up load (JIT done)
#   SKIP_BUILD=1 bench/run.sh 10   # without building first (a series of runs on one build)
#   PEERS=native DEBEZIUM_PLUGINS=/path/to/unpacked/plugins bench/run.sh 20   # peers: bench/peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(10 100)
[ -n "${SKIP_BUILD:-}" ] || mvn -B -q install -DskipTests
it=integration-tests
# each run's servers start from scratch; the last run's data directories (gigabytes) go
rm -rf "$it/target/bench-work"
java -Xmx1g ${BENCH_JAVA_OPTIONS:-} \
  -Dpgcopy.plugin.path="$PWD/connect-plugin/target/pgcopy-connect-plugin" \
  -Dpgcopy.kafka.classpath.file="$PWD/$it/target/kafka.classpath" \
  -Dpgcopy.config.dir="$PWD/config" \
  -Dpgcopy.work.dir="$PWD/$it/target/bench-work" \
  -Dpgcopy.worker.jvm.options="${WORKER_JVM_OPTIONS:-}" \
  -Dbench.worker="${WORKER_OVERRIDES:-}" -Dbench.source="${SOURCE_OVERRIDES:-}" -Dbench.sink="${SINK_OVERRIDES:-}" \
  -Dbench.extra.column="${EXTRA_COLUMN:-}" \
  -Dbench.peers="${PEERS:-}" -Dbench.debezium.plugins="${DEBEZIUM_PLUGINS:-}" \
  -Dbench.warmup.rows="${WARMUP_ROWS:-0}" \
  -Dbench.source.tasks="${SOURCE_TASKS:-4}" -Dbench.sink.tasks="${SINK_TASKS:-2}" \
  -Dbench.out="${BENCH_OUT:-$PWD/bench/results/initial-load.md}" \
  -cp "$it/target/test-classes:$(cat $it/target/kafka.classpath)" \
  io.pgcopy.connect.bench.InitialLoadBenchmark "${scales[@]}"
