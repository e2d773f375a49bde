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
$cc $flags -Wall -o "$out/uv_bench" "$dir/uv_bench.c" -luv || exit 1
$cc $flags -Wall -o "$out/ev_bench" "$dir/ev_bench.c" -lev -lm || exit 1

# aio figures from this run.
for b in bench_core bench_handoff; do
    [ -x "$build/bench/$b" ] && "./$build/bench/$b" >>"$tmp/aio.md"
done
awk -F'|' '/^\| / { n=$2; gsub(/^ +| +$/, "", n); v=$3; gsub(/ /, "", v); print n "\t" v }' "$tmp/aio.md" >"$tmp/aio.tsv"

# peer<TAB>operation<TAB>median<TAB>min<TAB>max
"./$out/ucontext_switch" | sed 's/^/ucontext\t/' >>"$tmp/peers.tsv"
"./$out/uv_bench" | sed 's/^/libuv\t/' >>"$tmp/peers.tsv"
"./$out/ev_bench" | sed 's/^/libev\t/' >>"$tmp/peers.tsv"
python3 "$dir/py_bench.py" >>"$tmp/peers.tsv" || echo "python peers failed" >&2

echo "## peers (same machine, same run)"
echo
echo "| peer | operation | peer ns/op (median) | aio counterpart | aio ns/op | peer/aio |"
echo "|---|---|---:|---|---:|---:|"
awk -F'\t' -v aiofile="$tmp/aio.tsv" '
BEGIN { while ((getline l < aiofile) > 0) { split(l, a, "\t"); aio[a[1]] = a[2] } }
function counterpart(op) {
    if (op ~ /^timer arm\+cancel/) return op
    if (op ~ /swapcontext|scheduled yield/) return "scheduled yield, 2 tasks"
    if (op ~ /ping-pong/) return "event ping-pong"
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
