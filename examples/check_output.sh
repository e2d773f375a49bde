#!/bin/sh
# Runs each example binary given on the command line and checks what it
# prints against examples/expected/<name>.txt; the last line is the total,
# "N passed, M failed", and the exit status is 1 if any example failed.
#
# An example passes when it exits with status 0 within 60 s, writes nothing
# to stderr, and its stdout matches the expected file line by line:
#
#   - a line that starts with "~" is a POSIX extended regular expression
#     (the rest of the line) that must match the whole output line;
#   - every other line must equal the output line exactly;
#   - the output must have exactly as many lines as the expected file.
#
# Patterns are for what changes from run to run (real-clock times, ports,
# pids) or from build to build (struct sizes, file:line sites); everything
# else is written out literally.  An output line that itself starts with "~"
# is written as a pattern ("~\~...").
#
# stdin is examples/expected/<name>.in if that file exists, /dev/null
# otherwise.

dir=$(dirname "$0")/expected
tmp=${TMPDIR:-/tmp}/aio-examples.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT

# compare EXPECTED ACTUAL: prints the first difference and returns 1, or
# returns 0 when every line matches.
compare() {
    n=0
    exec 3<"$1" 4<"$2"
    while :; do
        n=$((n + 1))
        e= a= e_ok=1 a_ok=1
        IFS= read -r e <&3 || [ -n "$e" ] || e_ok=0
        IFS= read -r a <&4 || [ -n "$a" ] || a_ok=0
        if [ $e_ok = 0 ] && [ $a_ok = 0 ]; then
            break
        elif [ $e_ok = 0 ]; then
            echo "  line $n: more output than expected: $a"
            return 1
        elif [ $a_ok = 0 ]; then
            echo "  line $n: output ended; expected: $e"
            return 1
        fi
        case $e in
        "~"*)
            if ! printf '%s\n' "$a" | grep -Eqx -e "${e#"~"}"; then
                echo "  line $n: expected (pattern): ${e#"~"}"
                echo "  line $n: got:                $a"
                return 1
            fi
            ;;
        *)
            if [ "$a" != "$e" ]; then
                echo "  line $n: expected: $e"
                echo "  line $n: got:      $a"
                return 1
            fi
            ;;
        esac
    done
    exec 3<&- 4<&-
    return 0
}

passed=0
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    exp=$dir/$name.txt
    in=/dev/null
    [ -f "$dir/$name.in" ] && in=$dir/$name.in
    if [ ! -f "$exp" ]; then
        echo "example $name: FAIL: no expected output ($exp)"
        failed=$((failed + 1))
        continue
    fi
    timeout 60 "$bin" <"$in" >"$tmp/out" 2>"$tmp/err"
    status=$?
    why=
    if [ $status -ne 0 ]; then
        why="exited with status $status"
    elif [ -s "$tmp/err" ]; then
        why="wrote to stderr"
    elif ! compare "$exp" "$tmp/out" >"$tmp/diff"; then
        why="output differs from $exp"
    fi
    if [ -z "$why" ]; then
        passed=$((passed + 1))
        continue
    fi
    echo "example $name: FAIL: $why"
    cat "$tmp/diff" 2>/dev/null
    echo "  stdout:"
    sed 's/^/  | /' "$tmp/out"
    if [ -s "$tmp/err" ]; then
        echo "  stderr:"
        sed 's/^/  | /' "$tmp/err"
    fi
    rm -f "$tmp/diff"
    failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
