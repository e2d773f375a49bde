#!/bin/sh
# Prints, for every example with a Python counterpart (python/<name>.py),
# its lines of C, the counterpart's lines of Python and their ratio; the
# last line is the total.  A line counts when it holds code: blank lines
# and lines that are only a comment (C: /* ... */ and //, also spanning
# lines; Python: #) do not.  The target is at most 2x the Python lines;
# an example above it is marked (a measurement: the exit status is 0
# unless no example has a counterpart).
#
#   sh examples/count_lines.sh [example.c ...]   (default: every examples/*.c)
dir=$(cd "$(dirname "$0")" && pwd)

c_lines() {
    awk '
    {
        line = $0; out = ""
        while (line != "") {
            if (inc) {
                i = index(line, "*/")
                if (!i) { line = ""; break }
                line = substr(line, i + 2); inc = 0
            } else {
                i = index(line, "/*"); j = index(line, "//")
                if (j && (!i || j < i)) { out = out substr(line, 1, j - 1); line = ""; break }
                if (!i) { out = out line; line = ""; break }
                out = out substr(line, 1, i - 1); line = substr(line, i + 2); inc = 1
            }
        }
        if (out ~ /[^ \t]/) n++
    }
    END { print n + 0 }' "$1"
}

py_lines() {
    awk '/^[ \t]*(#|$)/ { next } { n++ } END { print n + 0 }' "$1"
}

[ $# -gt 0 ] || set -- "$dir"/*.c
over=0 nc=0 np=0 k=0
printf '%-22s %7s %7s %6s\n' example C Python ratio
for c in "$@"; do
    name=$(basename "$c" .c)
    py=$dir/python/$name.py
    [ -f "$py" ] || continue
    a=$(c_lines "$c"); b=$(py_lines "$py")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
    mark=
    if awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > 2 * b) }'; then mark="  above 2x"; over=$((over + 1)); fi
    printf '%-22s %7d %7d %6s%s\n' "$name.c" "$a" "$b" "$ratio" "$mark"
    nc=$((nc + a)) np=$((np + b)) k=$((k + 1))
done
[ "$k" -gt 0 ] || { echo "no example has a Python counterpart"; exit 1; }
printf '%-22s %7d %7d %6s\n' "total ($k)" "$nc" "$np" "$(awk -v a="$nc" -v b="$np" 'BEGIN { printf "%.2f", a / b }')"
[ "$over" -eq 0 ] || echo "($over above the 2x target)"
