#!/bin/sh
# The headline table of bench/RESULTS.md: the operations with aio's
# median, its ratio to the bare-resume floor, the peers measured in the same
# run, and each target checked against the measured number.
#
#   sh bench/headline.sh OUT_DIR
set -u
out="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -F'|' '/^\| / { n=$2; gsub(/^ +| +$/, "", n); v=$3; gsub(/ /, "", v); print n "\t" v }' "$out/bench.md" >"$tmp/aio.tsv"
awk -F'|' '/^\| / && $4 ~ /[0-9]/ { p=$2; o=$3; v=$4; gsub(/^ +| +$/, "", p); gsub(/^ +| +$/, "", o); gsub(/ /, "", v);
    print p "\t" o "\t" v }' "$out/peers.md" >"$tmp/peers.tsv" 2>/dev/null
# Peak RSS (MiB) of the 10M-task scale run.
rss=$(awk -F'|' '/^\| *10000000 *\|/ { v=$3; gsub(/ /, "", v); print v; exit }' "$out/bench.md")
echo "rss10m	$rss" >>"$tmp/aio.tsv"
# How much more 50,000 nested scopes cost to unwind than 5,000 (linear: 10x).
unwind=$(sed -n 's/^nested-scope unwind: 50,000 costs \([0-9.]*\)x.*/\1/p' "$out/bench.md" | head -n 1)
echo "unwind	$unwind" >>"$tmp/aio.tsv"

awk -F'\t' -v peersfile="$tmp/peers.tsv" '
BEGIN {
    while ((getline l < peersfile) > 0) {
        split(l, a, "\t")
        np++; pname[np] = a[1]; pop[np] = a[2]; pv[np] = a[3]
    }
}
{ aio[$1] = $2 }
function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : sprintf("%.1f", v) }
# Peers whose operation matches re: "name ns (ratio x)" joined by "; ".
function peers(re,    i, s) {
    s = ""
    for (i = 1; i <= np; i++)
        if (pop[i] ~ re)
            s = s (s == "" ? "" : "; ") pname[i] " " fmt(pv[i]) (cur > 0 ? sprintf(" (%.1f×)", pv[i] / cur) : "")
    return s == "" ? "-" : s
}
# The fastest peer named like who whose operation matches re (its ns/op), or
# 0 when none was measured.
function best(re, who,    i, b) {
    b = 0
    for (i = 1; i <= np; i++)
        if (pop[i] ~ re && pname[i] ~ who && (b == 0 || pv[i] + 0 < b))
            b = pv[i] + 0
    return b
}
# mode "F": ratio to the floor shown, target relative to the floor (and, when
# abs > 0, an absolute bound in ns as well); "f": ratio shown, absolute
# target; "": no ratio (not a task switch); "P": target relative to the
# fastest of the peers matching re whose name matches abs (aio <= limit x
# that peer).
function row(label, key, re, target, limit, mode, abs,    v, st, fl, b) {
    v = aio[key]; cur = v + 0
    if (v == "") { printf "| %s | not measured | - | %s | %s | not measured |\n", label, peers(re), target; return }
    fl = (floor > 0 && mode != "" && mode != "P") ? sprintf("%.1f×", v / floor) : "-"
    st = "-"
    if (limit > 0) {
        if (mode == "F") {
            st = (v / floor <= limit && (abs + 0 <= 0 || v + 0 <= abs)) ? "met" : \
                 sprintf("missed (%.1f× floor, %s ns)", v / floor, fmt(v))
        } else if (mode == "P") {
            b = best(re, abs)
            if (b <= 0) st = "no peer measured"
            else st = (v + 0 <= limit * b) ? sprintf("met (%.2f× the fastest peer)", v / b) : \
                      sprintf("missed (%.2f× the fastest peer)", v / b)
        } else st = (v + 0 <= limit) ? "met" : sprintf("missed (%.1f× the target)", v / limit)
    }
    printf "| %s | %s | %s | %s | %s | %s |\n", label, fmt(v), fl, peers(re), target, st
}
END {
    floor = aio["floor: bare function-pointer resume of a switch/case coroutine"] + 0
    print "| operation | aio ns/op | × floor | peers, same run: ns/op (peer/aio) | target | status |"
    print "|---|---:|---:|---|---|---|"
    printf "| bare resume of a switch/case coroutine (the floor) | %s | 1.0× | - | - | - |\n", fmt(floor)
    row("scheduled yield, 2 tasks", "scheduled yield, 2 tasks", "swapcontext|jump_fcontext|^scheduled yield", "≤ 1.5× floor, ≤ 4 ns", 1.5, "F", 4)
    row("scheduled yield, 1,000,000 runnable tasks", "scheduled yield, 1000000 runnable tasks", "^$", "-", 0, "f")
    row("spawn + finish + join", "spawn + finish + join (one child)", "^spawn 100k", "≤ 10 ns", 10, "f")
    row("unbuffered channel message", "unbuffered channel send -> receive (rendezvous)", "^memory channel ping-pong", "≤ 10 ns", 10, "f")
    row("unbuffered channel message, fast mode", "unbuffered channel, fast mode (no schedule point on the fast path)", "^$", "-", 0, "f")
    row("buffered channel message (capacity 1)", "buffered channel, capacity 1", "^queue ping-pong", "-", 0, "f")
    row("buffered channel message (capacity 64, fast mode)", "buffered channel, capacity 64, fast mode", "^$", "-", 0, "f")
    row("event ping-pong (one-way)", "event ping-pong", "^$", "≤ 10 ns", 10, "f")
    row("lock hand-off", "lock hand-off", "^$", "≤ 10 ns", 10, "f")
    row("timer arm+cancel, 100k armed, latest deadline", "timer arm+cancel, 100000 other timers armed, latest deadline (leaf)",
        "^timer arm\\+cancel, 100000 other timers armed, latest", "≤ 40 ns", 40, "")
    row("timer arm+cancel, 100k armed, earliest deadline", "timer arm+cancel, 100000 other timers armed, earliest deadline (becomes the heap root)",
        "^timer arm\\+cancel, 100000 other timers armed, earliest", "≤ 40 ns", 40, "")
    row("timer arm+cancel, 1M armed, earliest deadline", "timer arm+cancel, 1000000 other timers armed, earliest deadline (becomes the heap root)",
        "^timer arm\\+cancel, 1000000 other timers armed, earliest", "-", 0, "")
    row("timer churn, 100k armed, 1,024 re-armed at random deadlines", "timer arm+cancel, 100000 other timers armed, churn: a window of 1,024 re-armed at random deadlines",
        "^$", "≤ 40 ns", 40, "")
    row("loop turn, one ready fd", "aio loop turn, one ready fd (AIO_WAIT_READABLE)", "^loop turn with one ready fd", "≤ 0.9× libuv and libev", 0.9, "P", "libuv|libev")
    row("cross-thread post → callback, round trip", "cross-thread aio_loop_post -> callback in the loop, round trip", "^cross-thread wake-up", "≤ 0.8× libev", 0.8, "P", "libev")
    v = aio["rss10m"]
    if (v == "") print "| 10,000,000 sleeping tasks: peak RSS | not measured | - | - | ≤ 800 MiB | not measured |"
    else printf "| 10,000,000 sleeping tasks: peak RSS | %.0f MiB | - | - | ≤ 800 MiB | %s |\n", v, (v + 0 <= 800) ? "met" : "missed"
    v = aio["unwind"]
    if (v == "") print "| cancel the outermost of N nested scopes and unwind: 50,000 against 5,000 | not measured | - | - | ≤ 12× | not measured |"
    else printf "| cancel the outermost of N nested scopes and unwind: 50,000 against 5,000 | %s× | - | - | ≤ 12× (linear: 10×) | %s |\n", v, (v + 0 <= 12) ? "met" : "missed"
}' "$tmp/aio.tsv"
