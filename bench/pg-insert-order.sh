#!/usr/bin/env bash
# PostgreSQL alone, no Kafka: what the order in which rows reach a keyed target costs, and what
# the connectors' statement patterns cost, against the COPY pipe's single statements.
#   - COPY FROM of 2M pgbench_accounts-shaped rows into a table with its primary key, the rows in
#     key order (the pipe), in two ranges read at once (4,400-row records alternating: 2 source
#     tasks, 1 partition), and in two ranges dealt to 4 partitions by key hash (the default);
#   - the sink's pattern: 100 transactions of 20,000 rows (SAVEPOINT, COPY, RELEASE, offsets
#     upsert, COMMIT) against one COPY;
#   - the source's range reads (COPY (SELECT .. WHERE ctid ..) TO, 4096-page ranges) against one
#     COPY t TO.
# Runs a throwaway server in a temporary directory, on a Unix socket only. Run as root (the
# server runs as the postgres OS user) or as postgres.
#   bench/pg-insert-order.sh [rounds]
set -euo pipefail
rounds=${1:-2}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/pg-insert-order.XXXXXX)
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
chown postgres "$dir" 2>/dev/null || true
as_pg "$bin/initdb" -D "$dir/data" -A trust >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
wal_level = logical
shared_buffers = 256MB
fsync = off
max_wal_size = 4GB
CONF
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null; rm -rf "$dir"' EXIT
psql_() { as_pg psql -h "$dir" -d postgres -X -q "$@"; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
fresh() {
  psql_ -c "DROP TABLE IF EXISTS t" \
    -c "CREATE TABLE t (aid int PRIMARY KEY, bid int, abalance int, filler char(84))" -c CHECKPOINT
}

psql_ <<SQL
CREATE TABLE src AS SELECT g AS aid, (g - 1) / 100000 + 1 AS bid, 0 AS abalance,
  repeat(' ', 84)::char(84) AS filler FROM generate_series(1, 2000000) g;
COPY (SELECT * FROM src ORDER BY aid) TO '$dir/ordered.bin' (FORMAT binary);
COPY (SELECT * FROM src ORDER BY ((aid - 1) / 250000) / 2, ((aid - 1) % 250000) / 4400,
  ((aid - 1) / 250000) % 2, aid) TO '$dir/two-ranges.bin' (FORMAT binary);
COPY (SELECT * FROM src ORDER BY ((aid - 1) / 250000) / 2, ((aid - 1) % 250000) / 17600,
  ((aid - 1) / 250000) % 2, hashint4(aid) & 3, aid) TO '$dir/four-partitions.bin' (FORMAT binary);
CREATE TABLE offs (connector text, topic text, kafka_partition int, next_offset bigint,
  updated_at timestamptz DEFAULT now(), PRIMARY KEY (connector, topic, kafka_partition));
SQL
for i in $(seq 0 99); do
  echo "COPY (SELECT * FROM src WHERE aid BETWEEN $((i * 20000 + 1)) AND $((i * 20000 + 20000))) TO '$dir/c$i.bin' (FORMAT binary);"
done | psql_
for i in $(seq 0 99); do
  echo "BEGIN; SAVEPOINT s; COPY t FROM '$dir/c$i.bin' (FORMAT binary); RELEASE SAVEPOINT s;"
  echo "INSERT INTO offs VALUES ('c', 't', 0, $i) ON CONFLICT (connector, topic, kafka_partition)"
  echo "  DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now(); COMMIT;"
done > "$dir/sink-like.sql"

echo "| round | what | seconds | primary key size |"
echo "|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for order in ordered two-ranges four-partitions; do
    fresh
    s=$(timed psql_ -c "COPY t FROM '$dir/$order.bin' (FORMAT binary)")
    echo "| $round | COPY FROM, 2M rows, order: $order | $s | $(psql_ -At -c "SELECT pg_size_pretty(pg_relation_size('t_pkey'))") |"
  done
  fresh
  echo "| $round | 100 sink-like transactions of 20,000 rows, in key order | $(timed psql_ -f "$dir/sink-like.sql") | |"
  psql_ -c "VACUUM (FREEZE, ANALYZE) t"
  echo "| $round | COPY t TO | $(timed psql_ -c "COPY t TO '/dev/null' (FORMAT binary)") | |"
  pages=$(psql_ -At -c "SELECT relpages FROM pg_class WHERE relname = 't'")
  s=$(date +%s.%N)
  for lo in $(seq 0 4096 "$pages"); do
    psql_ -c "COPY (SELECT * FROM t WHERE ctid >= '($lo,0)'::tid AND ctid < '($((lo + 4096)),0)'::tid) TO '/dev/null' (FORMAT binary)"
  done
  e=$(date +%s.%N)
  echo "| $round | range COPYs of 4096 pages ($pages pages, one psql each) | $(echo "$e - $s" | bc) | |"
done
