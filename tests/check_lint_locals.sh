#!/bin/sh
# Checks tests/lint_locals.sh: it reports every marked mistake of
# tests/lint/locals_bad.c (each line with the comment "finding") and
# nothing else, nothing in tests/lint/locals_good.c, and nothing in the
# project's own examples.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
lint="$root/tests/lint_locals.sh"
bad=0
want=$(grep -n 'finding' "$root/tests/lint/locals_bad.c" | cut -d: -f1 | tr '\n' ' ')
got=$(sh "$lint" "$root/tests/lint/locals_bad.c" | sed 's/^[^:]*:\([0-9]*\):.*/\1/' | tr '\n' ' ')
if [ "$want" != "$got" ] || [ -z "$want" ]; then
    echo "FAIL locals_bad.c: expected findings on lines $want, got $got"
    bad=1
fi
if ! out=$(sh "$lint" "$root/tests/lint/locals_good.c"); then
    echo "FAIL locals_good.c:"; echo "$out"; bad=1
fi
if ! out=$(sh "$lint" "$root"/examples/*.c); then
    echo "FAIL examples:"; echo "$out"; bad=1
fi
echo "check_lint_locals: $([ $bad = 0 ] && echo ok || echo failed)"
[ $bad = 0 ]
