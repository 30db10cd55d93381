#!/usr/bin/env bash
# Kafka alone: a single KRaft node killed right after acknowledging a transaction's commit comes
# back with that transaction committed at its coordinator and open on its partitions (no marker).
# Usage: bench/kafka-lost-markers.sh [rounds] [broker.key=value ...]
#   e.g. bench/kafka-lost-markers.sh 3 broker.session.timeout.ms=1500 broker.heartbeat.interval.ms=500
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q install -DskipTests
it=integration-tests
rm -rf "$it/target/bench-work"
java -Xmx512m \
  -Dpgcopy.kafka.classpath.file="$PWD/$it/target/kafka.classpath" \
  -Dpgcopy.work.dir="$PWD/$it/target/bench-work" \
  -cp "$it/target/test-classes:$(cat $it/target/kafka.classpath)" \
  io.pgcopy.connect.bench.LostCommitMarkers "$@"
