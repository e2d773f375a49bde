#!/bin/sh
# Runs every test binary (and *.sh check script) given on the command line
# and prints the total as the last line: "N passed, M failed".  A binary that crashes or prints no
# RESULT line counts as one failed test.  With AIO_TEST_TIMEOUT=N (seconds) a
# binary still running after N seconds is stopped and counts as failed, so a
# hang cannot stall a CI run.
passed=0
limit=""
if [ -n "${AIO_TEST_TIMEOUT:-}" ] && command -v timeout >/dev/null 2>&1; then
    limit="timeout $AIO_TEST_TIMEOUT"
fi
failed=0
for bin in "$@"; do
    case "$bin" in
    *.sh)
        # A check script: one test, judged by its exit status.
        if out=$(sh "$bin" 2>&1); then
            echo "$(basename "$bin"): ok"
            passed=$((passed + 1))
        else
            printf '%s\n' "$out" | sed "s|^|$(basename "$bin"): |"
            echo "$(basename "$bin"): FAIL"
            failed=$((failed + 1))
        fi
        continue
        ;;
    esac
    out=$($limit "$bin" 2>&1)
    status=$?
    printf '%s\n' "$out" | grep -v '^RESULT ' | sed "s|^|$(basename "$bin"): |"
    res=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
    if [ -z "$res" ]; then
        echo "$(basename "$bin"): FAIL: exited with status $status and no result"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$res" | cut -d' ' -f2)
    f=$(echo "$res" | cut -d' ' -f3)
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$(basename "$bin"): FAIL: exited with status $status"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
