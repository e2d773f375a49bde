#!/bin/sh
# Builds and runs the peer programs, and prints one markdown table: peer,
# operation, peer ns/op, the aio operation it is set against (measured in the
# same run), aio ns/op, and the ratio peer/aio.
#
#   sh bench/peers/run.sh BUILD_DIR CC "CFLAGS"
set -u
build="$1"
cc="$2"
flags="$3"
dir=$(dirname "$0")
out="$build/peers"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$cc $flags -Wall -o "$out/ucontext_switch" "$dir/ucontext_switch.c" || exit 1
$cc $flags -Wall -o "$out/uv_bench" "$dir/uv_bench.c" -luv -lpthread || exit 1
$cc $flags -Wall -o "$out/ev_bench" "$dir/ev_bench.c" -lev -lm -lpthread || exit 1
# Boost.Context is optional: its fcontext row appears when the library links.
fcontext=0
$cc $flags -Wall -o "$out/fcontext_switch" "$dir/fcontext_switch.c" -lboost_context 2>"$tmp/fc.err" && fcontext=1

# aio figures from this run.
for b in bench_core bench_handoff bench_chan bench_reactor bench_wake; do
    [ -x "$build/bench/$b" ] && "./$build/bench/$b" >>"$tmp/aio.md"
done
awk -F'|' '/^\| / { n=$2; gsub(/^ +| +$/, "", n); v=$3; gsub(/ /, "", v); print n "\t" v }' "$tmp/aio.md" >"$tmp/aio.tsv"

# peer<TAB>operation<TAB>median<TAB>min<TAB>max
"./$out/ucontext_switch" | sed 's/^/ucontext\t/' >>"$tmp/peers.tsv"
[ $fcontext = 1 ] && "./$out/fcontext_switch" | sed 's/^/Boost.Context\t/' >>"$tmp/peers.tsv"
"./$out/uv_bench" | sed 's/^/libuv\t/' >>"$tmp/peers.tsv"
"./$out/ev_bench" | sed 's/^/libev\t/' >>"$tmp/peers.tsv"
python3 "$dir/py_bench.py" >>"$tmp/peers.tsv" || echo "python peers failed" >&2

echo "## peers (same machine, same run)"
echo
echo "| peer | operation | peer ns/op (median) | aio counterpart | aio ns/op | peer/aio |"
echo "|---|---|---:|---|---:|---:|"
[ $fcontext = 1 ] || echo "| Boost.Context | fcontext switch: not measured, libboost_context did not link ($(head -n 1 "$tmp/fc.err")) | - | - | - | - |"
awk -F'\t' -v aiofile="$tmp/aio.tsv" '
BEGIN { while ((getline l < aiofile) > 0) { split(l, a, "\t"); aio[a[1]] = a[2] } }
function counterpart(op) {
    if (op ~ /^timer arm\+cancel/) return op
    if (op ~ /swapcontext|jump_fcontext|scheduled yield/) return "scheduled yield, 2 tasks"
    if (op ~ /^queue ping-pong/) return "buffered channel, capacity 1"
    if (op ~ /^memory channel ping-pong/) return "unbuffered channel send -> receive (rendezvous)"
    if (op ~ /ping-pong/) return "event ping-pong"
    if (op ~ /^loop turn with one ready fd/) return "aio loop turn, one ready fd (AIO_WAIT_READABLE)"
    if (op ~ /^cross-thread wake-up/) return "cross-thread aio_loop_post -> callback in the loop, round trip"
    if (op ~ /^spawn/) return "spawn + finish + join (one child)"
    return ""
}
{
    c = counterpart($2)
    if (c != "" && (c in aio) && aio[c] > 0)
        printf "| %s | %s | %s | %s | %s | %.1f |\n", $1, $2, $3, c, aio[c], $3 / aio[c]
    else
        printf "| %s | %s | %s | - | - | - |\n", $1, $2, $3
}' "$tmp/peers.tsv"
