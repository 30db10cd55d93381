#!/usr/bin/env bash
# The failure loop at full length: ChaosIT with more rounds (each a fresh snapshot, handoff and
# stream under pgbench, hit by random faults) than the CI-sized run of `mvn verify`.
#   bench/chaos.sh                 # 5 rounds of 5 faults: 25 faults
#   bench/chaos.sh 8 4 12345       # rounds, faults per round, seed (to replay a run)
#   CHAOS_ONLY=KILL_BROKER,RESTART_SOURCE bench/chaos.sh 2 3   # only these faults (default: all)
# Every fault, the phase it hit and each table's comparison are printed as "[chaos] ..." lines;
# the run fails on the first table that does not equal its source.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
faults=${2:-5}
seed=${3:-$RANDOM$RANDOM}
mvn -B -q install -DskipTests
mvn -B verify -pl integration-tests -Dit.test=ChaosIT -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
  -Dpgcopy.chaos.rounds="$rounds" -Dpgcopy.chaos.faults="$faults" -Dpgcopy.chaos.seed="$seed" \
  -Dpgcopy.chaos.only="${CHAOS_ONLY:-}" \
  | grep --line-buffered -E '^\[chaos\]|Tests run|BUILD|ERROR'
