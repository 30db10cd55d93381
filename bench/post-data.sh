#!/usr/bin/env bash
# Until the target is complete (rows, primary key, a secondary index): pgbench_accounts at scale
# 20 and 100 (2M and 10M rows) through a binary COPY pipe into the indexed table, through the pipe
# into a bare table followed by the index builds (what pg_restore does), and through pgcopy-connect
# with the shipped configs (the sink builds the key and index after the snapshot), in one run on
# the same servers, with the target database sessions' CPU. Results: bench/results/post-data.md,
# plot: docs/benchmarks-post-data.png.
#   bench/post-data.sh          # scales 20 and 100
#   bench/post-data.sh 20       # one scale
#   SKIP_BUILD=1 bench/post-data.sh 20
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(20 100)
[ -n "${SKIP_BUILD:-}" ] || mvn -B -q install -DskipTests
it=integration-tests
rm -rf "$it/target/bench-work"
java -Xmx1g \
  -Dpgcopy.plugin.path="$PWD/connect-plugin/target/pgcopy-connect-plugin" \
  -Dpgcopy.kafka.classpath.file="$PWD/$it/target/kafka.classpath" \
  -Dpgcopy.config.dir="$PWD/config" \
  -Dpgcopy.work.dir="$PWD/$it/target/bench-work" \
  -Dbench.source.tasks="${SOURCE_TASKS:-4}" -Dbench.sink.tasks="${SINK_TASKS:-2}" \
  -Dbench.out="${BENCH_OUT:-$PWD/bench/results/post-data.md}" \
  -cp "$it/target/test-classes:$(cat $it/target/kafka.classpath)" \
  io.pgcopy.connect.bench.PostDataBenchmark "${scales[@]}"
cp bench/results/post-data.tsv docs/benchmarks-post-data.tsv
bench/plot.sh docs/benchmarks-post-data.tsv docs/benchmarks-post-data.png \
  "Until the target is complete (rows, primary key, index), rows per second (2 cores, one run)"
