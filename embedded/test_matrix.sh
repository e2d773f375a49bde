#!/bin/sh
# embedded/test_matrix.sh - the compiler and standard matrix, warnings as
# errors throughout (the Makefile's WARN includes -Werror):
#   gcc and clang  x  -O0 -O2 -Os  x  -std=c99 -std=c11  x  switch / labels
#   resume points: 24 configurations over a representative subset of the
#   suite (MATRIX_TESTS: core, scopes, groups, sync, channels, close rules,
#   the none reactor); the full suite once per compiler family:
#   tcc (-O1), a static musl build (musl-gcc -static), and g++ (make test-cxx).
# Prints one line per configuration and the total "N passed, M failed".
set -u
MAKE=${MAKE:-make}
J=-j$(nproc)
MATRIX_TESTS=${MATRIX_TESTS:-"tests/test_core.c tests/test_scope.c tests/test_group.c tests/test_sync.c tests/test_chan.c tests/test_chan_close.c tests/test_reactor_none.c"}
passed=0
failed=0
log=$(mktemp)

# config NAME MAKE-ARGS...: one `make test` run, green when it exits 0.
config() {
    name=$1
    shift
    if $MAKE -s $J "$@" >"$log" 2>&1; then
        echo "$name: green ($(tail -n 1 "$log"))"
        passed=$((passed + 1))
    else
        grep -E 'FAIL|error|warning' "$log" | head -20
        echo "$name: RED ($(tail -n 1 "$log"))"
        failed=$((failed + 1))
    fi
}

for cc in gcc clang; do
    for opt in -O0 -O2 -Os; do
        for std in c99 c11; do
            for rp in switch labels; do
                defs=-DAIO_DEBUG
                [ $rp = labels ] && defs="-DAIO_DEBUG -DAIO_USE_LABELS"
                config "$cc $opt -std=$std $rp" test CC=$cc OPT="$opt -g" STD=-std=$std DEFS="$defs" \
                    BUILD=build/matrix/$cc$opt-$std-$rp TEST_SRC="$MATRIX_TESTS"
            done
        done
    done
done
config "tcc full suite" test CC=tcc BUILD=build/matrix/tcc
config "musl-gcc -static full suite" test CC=musl-gcc EXTRA=-static BUILD=build/matrix/musl
config "g++ (make test-cxx)" test-cxx BUILD=build/matrix/cxx
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
