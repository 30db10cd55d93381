#!/usr/bin/env bash
# Draws a bar chart of rows per second from a TSV of tool, rows, seconds per line (tab-separated)
# with gnuplot (Debian: apt-get install gnuplot-nox).
#   bench/plot.sh                                   # docs/benchmarks-initial-load.{tsv,png}
#   bench/plot.sh docs/benchmarks-peers.tsv docs/benchmarks-peers.png "Initial load, 2M rows: peers"
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-docs/benchmarks-initial-load.tsv}
out=${2:-docs/benchmarks-initial-load.png}
title=${3:-Initial load of pgbench_accounts, rows per second (2 cores, same run as each baseline)}
gnuplot <<GNUPLOT
set terminal pngcairo noenhanced size 1000,520 font ",10"
set bmargin 9
set rmargin 12
set output "$out"
set datafile separator "\t"
set title "$title"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "rows/s"
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set grid ytics
set xtics rotate by -20 scale 0
set key off
plot "$data" using (\$2/\$3):xtic(1) lc rgb "#3c78b4", \
     "" using 0:(\$2/\$3):(sprintf("%.0f", \$2/\$3)) with labels offset 0,0.8 notitle
GNUPLOT
echo "wrote $out"
