#!/usr/bin/env bash
# Throughput against the source's record size (batch.bytes): the initial-load benchmark at one
# scale for each size, each with its own COPY-pipe baseline on the same servers. The sink's heap
# per task grows with max.poll.records x batch.bytes (docs/configuration.md); this says how small
# a record can be before throughput suffers. Results: bench/results/batch-size-<bytes>.md and a
# summary in bench/results/batch-size.md.
#   bench/batch-size.sh [scale] [bytes ...]     (default: 20, 65536 131072 262144 524288 786432)
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-20}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(65536 131072 262144 524288 786432)
mvn -B -q install -DskipTests
mkdir -p bench/results
summary=bench/results/batch-size.md
{
  echo "# Throughput against batch.bytes (scale $scale, $(date -u +%F))"
  echo
  echo "| batch.bytes | scale | rows | table MB | baseline COPY pipe (s) | pgcopy-connect (s) | rows/s | MB/s | ratio to baseline | worker peak RSS (MB) | table bytes/row | Kafka bytes/row |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$summary"
for b in "${sizes[@]}"; do
  out="$PWD/bench/results/batch-size-$b.md"
  SKIP_BUILD=1 SOURCE_OVERRIDES="batch.bytes=$b" BENCH_OUT="$out" bench/run.sh "$scale" > /dev/null
  # the report's row (InitialLoadBenchmark's columns), after the size
  grep -m1 '^| [0-9]' "$out" | sed "s/^|/| $b |/" >> "$summary"
done
cat "$summary"
