#!/bin/sh
# Checks that tests/test_misuse.c names the message of every debug assertion
# in the aio*.h headers, so that no assertion goes untested.
#
#   sh tests/check_misuse_coverage.sh [--list]
#
# An assertion is a call of AIO__ASSERT (its message must be a string
# literal, possibly split into adjacent literals) or a direct call of
# aio__panic with a literal message.  Its message counts as covered when
# the same text is a string literal of tests/test_misuse.c, where adjacent
# literals (split across lines) are joined as the compiler joins them; an
# assertion that cannot be triggered through the API is listed there too,
# with the reason.  With --list, prints the messages and exits.
#
# Exit status: 0 when every message is covered, 1 otherwise.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
test_file="$root/tests/test_misuse.c"
list=0
[ "${1:-}" = "--list" ] && list=1

headers=$(ls "$root"/aio*.h 2>/dev/null)
if [ -z "$headers" ]; then
    echo "check_misuse_coverage: no aio*.h headers in $root" >&2
    exit 1
fi

# Prints the string literals of C source: each run of adjacent literals
# (separated only by blanks, newlines and comments) joined on one line.
# With calls=1, only the literals inside calls of AIO__ASSERT and
# aio__panic, one line per call; an AIO__ASSERT call without a literal
# prints "ERROR <file>:<line>".
literals() {
    awk -v calls="$1" '
    function flush() {
        if (inrun && !calls) print run
        inrun = 0; run = ""
    }
    FNR == 1 { incomment = 0; incall = 0; flush() }
    calls && /^[ \t]*#[ \t]*define[ \t]+AIO__ASSERT/ { next }
    {
        line = $0; n = length(line); i = 1
        while (i <= n) {
            c = substr(line, i, 1); c2 = substr(line, i, 2)
            if (incomment) {
                if (c2 == "*/") { incomment = 0; i += 2 } else i++
                continue
            }
            if (c2 == "/*") { incomment = 1; i += 2; continue }
            if (c2 == "//") break
            if (c == " " || c == "\t") { i++; continue }
            if (c == "\"") {
                j = i + 1; s = ""
                while (j <= n) {
                    d = substr(line, j, 1)
                    if (d == "\\") { s = s substr(line, j, 2); j += 2; continue }
                    if (d == "\"") break
                    s = s d; j++
                }
                if (incall) msg = msg s
                run = run s; inrun = 1
                i = j + 1
                continue
            }
            flush()
            if (c == "\047") {
                j = i + 1
                while (j <= n) {
                    d = substr(line, j, 1)
                    if (d == "\\") { j += 2; continue }
                    if (d == "\047") break
                    j++
                }
                i = j + 1
                continue
            }
            if (calls && !incall && match(substr(line, i), /^(AIO__ASSERT|aio__panic)[ \t]*\(/)) {
                kind = substr(line, i, 11); incall = 1; depth = 1; msg = ""; at = FILENAME ":" FNR
                i += RLENGTH
                continue
            }
            if (match(substr(line, i), /^[A-Za-z_][A-Za-z0-9_]*/)) { i += RLENGTH; continue }
            if (incall) {
                if (c == "(") depth++
                else if (c == ")" && --depth == 0) {
                    incall = 0
                    if (msg != "") print msg
                    else if (kind == "AIO__ASSERT") print "ERROR " at
                }
            }
            i++
        }
    }
    END { flush() }
    ' "$2"
}

# shellcheck disable=SC2086
msgs=$(for h in $headers; do literals 1 "$h"; done)
if [ "$list" -eq 1 ]; then
    printf '%s\n' "$msgs"
    exit 0
fi
if [ -z "$msgs" ]; then
    echo "check_misuse_coverage: no assertion found in the headers" >&2
    exit 1
fi
if [ ! -f "$test_file" ]; then
    echo "check_misuse_coverage: $test_file is missing" >&2
    exit 1
fi
tested=$(literals 0 "$test_file")

status=0
total=0
old_ifs=$IFS
IFS='
'
for m in $msgs; do
    total=$((total + 1))
    case "$m" in
    "ERROR "*)
        echo "assertion without a literal message at ${m#ERROR }"
        status=1
        continue
        ;;
    esac
    if ! printf '%s\n' "$tested" | grep -F -x -q -e "$m"; then
        echo "not in tests/test_misuse.c: \"$m\""
        status=1
    fi
done
IFS=$old_ifs
[ "$status" -ne 0 ] && echo "check_misuse_coverage: $total assertion sites; add the missing ones to tests/test_misuse.c"
exit "$status"
