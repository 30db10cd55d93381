#!/usr/bin/env bash
# Initial load against the peers, all in one run on the same servers: the psql binary COPY pipe
# (baseline), pgcopy-connect, PostgreSQL's native initial sync (a subscription with copy_data),
# and Debezium's PostgreSQL source with Debezium's JDBC sink on the same Connect worker (plugin
# archives from Maven Central, unpacked under integration-tests/target/bench-plugins).
# Results: bench/results/peers.md and peers.tsv (the data of bench/plot.sh).
#   bench/peers.sh          # 2M rows (scale 20)
#   bench/peers.sh 20 100   # 2M and 10M rows
set -euo pipefail
cd "$(dirname "$0")/.."
# Debezium 3.6: the newest whose PostgreSQL connector and JDBC sink are both published with
# plugin archives on Maven Central (3.7's PostgreSQL archive and a 3.6.1 JDBC sink are not).
DEBEZIUM_PG=3.6.1.Final
DEBEZIUM_JDBC=3.6.0.Final
plugins=$PWD/integration-tests/target/bench-plugins
mkdir -p "$plugins"
fetch() { # artifact version
  local dir=$plugins/$1
  if [ ! -d "$dir" ]; then
    curl -fsSL "https://repo1.maven.org/maven2/io/debezium/$1/$2/$1-$2-plugin.tar.gz" | tar -xz -C "$plugins"
  fi
}
fetch debezium-connector-postgres "$DEBEZIUM_PG"
fetch debezium-connector-jdbc "$DEBEZIUM_JDBC"
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(20)
PEERS=native DEBEZIUM_PLUGINS=$plugins SOURCE_TASKS=${SOURCE_TASKS:-2} SINK_TASKS=${SINK_TASKS:-1} \
  BENCH_OUT=$PWD/bench/results/peers.md bench/run.sh "${scales[@]}"
