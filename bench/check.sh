#!/bin/sh
# Instructions per operation under callgrind, against the committed budgets.
#
#   sh bench/check.sh BINARY BUDGET_FILE
#
# Each operation runs twice, with N1 and N2 repetitions; the difference in
# total instructions divided by N2 - N1 is the cost of one operation, free of
# start-up and setup.  Exits 1 if any count is over its budget; a count over
# its target (third column of the budget file) is reported, not failed.
set -u
bin="$1"
budget="$2"
n1=20000
n2=40000
command -v valgrind >/dev/null 2>&1 || { echo "bench-check: valgrind is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Total instructions of one run.
icount() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/err" || {
        cat "$tmp/err"; return 1; }
    sed -n 's/^summary: *//p' "$tmp/cg.out" | awk '{print $1}'
}

fail=0
printf '| operation | instructions/op | budget | status | target | target status |\n|---|---:|---:|---|---:|---|\n'
grep -v -E '^[[:space:]]*(#|$)' "$budget" | while read -r op limit target; do
    target=${target:--}
    a=$(icount "$op" $n1) || { echo "| $op | error | $limit | FAIL | $target | - |"; echo fail >>"$tmp/failed"; continue; }
    b=$(icount "$op" $n2) || { echo "| $op | error | $limit | FAIL | $target | - |"; echo fail >>"$tmp/failed"; continue; }
    per=$(awk -v a="$a" -v b="$b" -v n1=$n1 -v n2=$n2 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
    tstat=-
    if [ "$target" != "-" ]; then
        if awk -v p="$per" -v l="$target" 'BEGIN { exit !(p > l) }'; then
            tstat=$(awk -v p="$per" -v l="$target" 'BEGIN { printf "missed (%.2fx)", p / l }')
        else
            tstat=met
        fi
    fi
    if awk -v p="$per" -v l="$limit" 'BEGIN { exit !(p > l) }'; then
        echo "| $op | $per | $limit | FAIL: over budget | $target | $tstat |"
        echo fail >>"$tmp/failed"
    else
        echo "| $op | $per | $limit | ok | $target | $tstat |"
    fi
done
if [ -s "$tmp/failed" ]; then
    echo "bench-check: FAILED"
    exit 1
fi
echo "bench-check: every operation within budget"
