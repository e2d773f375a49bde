#!/bin/sh
# Draws the scaling plot of bench/RESULTS.md with gnuplot from the tables of
# make bench and make bench-peers: ns/op against the number of armed timers
# (timer arm+cancel, aio beside libuv and libev) and against the number of
# tasks (scheduled yield and spawn, aio beside asyncio and trio).
#
#   sh bench/plot.sh OUT_DIR PNG
set -u
out="$1"
png="$2"
command -v gnuplot >/dev/null 2>&1 || { echo "plot.sh: gnuplot is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Rows "| name | median | ..." of make bench as name<TAB>median.
awk -F'|' '/^\| / { n=$2; gsub(/^ +| +$/, "", n); v=$3; gsub(/ /, "", v); print n "\t" v }' "$out/bench.md" >"$tmp/aio.tsv"
# Rows "| peer | operation | median | ..." of make bench-peers as peer<TAB>operation<TAB>median.
awk -F'|' '/^\| / && $4 ~ /[0-9]/ { p=$2; o=$3; v=$4; gsub(/^ +| +$/, "", p); gsub(/^ +| +$/, "", o); gsub(/ /, "", v);
    print p "\t" o "\t" v }' "$out/peers.md" >"$tmp/peers.tsv"

# Timers: x is the number of other armed timers; 0 is drawn at 1 on the log axis.
timers() { # $1: leaf|root  $2: peer name or "aio"
    for m in 0 10000 100000 1000000; do
        x=$m
        [ "$m" = 0 ] && x=1
        if [ "$1" = leaf ]; then pos="latest deadline (leaf)"; else pos="earliest deadline (becomes the heap root)"; fi
        op="timer arm+cancel, $m other timers armed, $pos"
        if [ "$2" = aio ]; then
            v=$(awk -F'\t' -v o="$op" '$1 == o { print $2; exit }' "$tmp/aio.tsv")
        else
            v=$(awk -F'\t' -v p="$2" -v o="$op" '$1 == p && $2 == o { print $3; exit }' "$tmp/peers.tsv")
        fi
        [ -n "$v" ] && echo "$x $v"
    done
}
for s in aio libuv libev; do
    timers leaf $s >"$tmp/t_${s}_leaf.dat"
    timers root $s >"$tmp/t_${s}_root.dat"
done

# Tasks: scheduled yield among k runnable tasks, and spawn cost per task with
# N tasks alive (aio scale run; asyncio and trio spawning 100k).
{
    v=$(awk -F'\t' '$1 == "scheduled yield, 2 tasks" { print $2; exit }' "$tmp/aio.tsv"); [ -n "$v" ] && echo "2 $v"
    for k in 1000 1000000; do
        v=$(awk -F'\t' -v o="scheduled yield, $k runnable tasks" '$1 == o { print $2; exit }' "$tmp/aio.tsv")
        [ -n "$v" ] && echo "$k $v"
    done
} >"$tmp/y_aio.dat"
awk -F'|' '/^\| *[0-9]+ *\|/ && NF >= 9 { n=$2; v=$6; gsub(/ /, "", n); gsub(/ /, "", v); print n, v }' "$out/bench.md" >"$tmp/s_aio.dat"
for p in asyncio trio; do
    awk -F'\t' -v p=$p '$1 == p && $2 == "scheduled yield, 2 tasks" { print 2, $3 }' "$tmp/peers.tsv" >"$tmp/y_$p.dat"
    awk -F'\t' -v p=$p '$1 == p && $2 ~ /^spawn 100k/ { print 100000, $3 }' "$tmp/peers.tsv" >"$tmp/s_$p.dat"
done

# gnuplot cannot plot an empty file: give each missing series one point off the axes.
for f in "$tmp"/*.dat; do [ -s "$f" ] || echo "1e30 1e30" >"$f"; done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
gnuplot <<EOF || exit 1
set terminal pngcairo size 1400,620 font "sans,11"
set output "$png"
set multiplot layout 1,2 title "aio and peers: ns per operation against scale (log-log; $cpu, $(date -u '+%Y-%m-%d'))"
set logscale xy
set grid xtics ytics mytics
set key top left box opaque
set ylabel "ns per operation (median)"
set yrange [1:*]
set format y "%.0f"

set title "timer arm + cancel against the number of other armed timers"
set xlabel "other timers armed (0 drawn at 1)"
set xrange [0.5:3e6]
set xtics ("0" 1, "10k" 10000, "100k" 100000, "1M" 1000000)
plot "$tmp/t_aio_leaf.dat" w lp lw 2 pt 7 lc rgb "#1b7837" t "aio, latest deadline", \
     "$tmp/t_aio_root.dat" w lp lw 2 pt 5 lc rgb "#5aae61" dt 2 t "aio, earliest deadline", \
     "$tmp/t_libev_leaf.dat" w lp lw 2 pt 7 lc rgb "#2166ac" t "libev, latest deadline", \
     "$tmp/t_libev_root.dat" w lp lw 2 pt 5 lc rgb "#67a9cf" dt 2 t "libev, earliest deadline", \
     "$tmp/t_libuv_leaf.dat" w lp lw 2 pt 7 lc rgb "#b2182b" t "libuv, latest deadline", \
     "$tmp/t_libuv_root.dat" w lp lw 2 pt 5 lc rgb "#ef8a62" dt 2 t "libuv, earliest deadline"

set title "task operations against the number of tasks"
set xlabel "tasks (runnable for yield; alive for spawn)"
set xrange [1:3e7]
set yrange [1:1e6] # room above the points for the key
set xtics ("2" 2, "1k" 1000, "100k" 100000, "1M" 1000000, "10M" 10000000)
plot "$tmp/y_aio.dat" w lp lw 2 pt 7 lc rgb "#1b7837" t "aio scheduled yield", \
     "$tmp/s_aio.dat" w lp lw 2 pt 5 lc rgb "#5aae61" dt 2 t "aio spawn, per task", \
     "$tmp/y_asyncio.dat" w p pt 7 ps 1.6 lc rgb "#762a83" t "asyncio sleep(0), 2 tasks", \
     "$tmp/s_asyncio.dat" w p pt 5 ps 1.6 lc rgb "#c2a5cf" t "asyncio spawn 100k, per task", \
     "$tmp/y_trio.dat" w p pt 7 ps 1.6 lc rgb "#e08214" t "trio sleep(0), 2 tasks", \
     "$tmp/s_trio.dat" w p pt 5 ps 1.6 lc rgb "#fdb863" t "trio spawn 100k, per task"
unset multiplot
EOF
echo "wrote $png"
