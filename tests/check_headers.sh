#!/bin/sh
# Builds every aio*.h header on its own, as a user's file includes it: under
# -std=c99, -std=c11 and -std=gnu11, with and without AIO_IMPLEMENTATION, included first
# and included after <stdio.h>, warning-free (-Wall -Wextra -Wpedantic
# -Werror).  A header that needs POSIX declarations which strict C hides
# once a system header came first may instead stop with an #error that names
# the fix ("... before any system header ..."); any other failure fails the
# check.  Then every ordered pair of two different headers, in the
# implementation translation unit (AIO_IMPLEMENTATION) under -std=c99 and
# -std=gnu11: the order in which a file includes the aio headers must not
# matter (checked by syntax only).  Compiles only: nothing is linked or run.
#
#   sh tests/check_headers.sh        (CC picks the compiler; cc by default)
#
# Exit status: 0 when every combination builds or stops with such an #error.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
n=0
# aio_tls.h needs OpenSSL's headers: a compiler that cannot find them (a
# cross or musl compiler without libssl-dev for its target) leaves it out.
printf '#include <openssl/ssl.h>\nint main(void) { return 0; }\n' >"$tmp/ssl.c"
have_ssl=yes
$cc -c "$tmp/ssl.c" -o "$tmp/ssl.o" 2>/dev/null || have_ssl=no
for h in "$root"/aio*.h; do
    name=$(basename "$h")
    if [ "$name" = aio_tls.h ] && [ "$have_ssl" = no ]; then
        echo "check_headers: $cc finds no <openssl/ssl.h>: aio_tls.h left out"
        continue
    fi
    for std in c99 c11 gnu11; do
        for first in yes no; do
            for impl in no yes; do
                n=$((n + 1))
                {
                    [ "$impl" = yes ] && echo "#define AIO_IMPLEMENTATION"
                    [ "$first" = no ] && echo "#include <stdio.h>"
                    echo "#include \"$name\""
                    echo "int main(void) { return 0; }"
                } >"$tmp/t.c"
                what="$name -std=$std, $([ "$first" = yes ] && echo first || echo "after <stdio.h>"), $([ "$impl" = yes ] && echo with || echo without) AIO_IMPLEMENTATION"
                if $cc -std=$std -Wall -Wextra -Wpedantic -Werror -I"$root" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
                    continue
                fi
                if [ "$first" = no ] && grep -q 'error: .*before any system header' "$tmp/err"; then
                    continue
                fi
                echo "FAIL $what:"
                grep 'error' "$tmp/err" | head -n 3
                bad=$((bad + 1))
            done
        done
    done
done
# Every ordered pair of headers, in the implementation file.  Syntax only,
# where the compiler can (tcc has no -fsyntax-only: it compiles).
syn=-fsyntax-only
case $($cc -v 2>&1) in *"tcc version"*) syn="-c -o $tmp/p.o" ;; esac
hs=""
for h in "$root"/aio*.h; do
    name=$(basename "$h")
    [ "$name" = aio_tls.h ] && [ "$have_ssl" = no ] && continue
    hs="$hs $name"
done
for a in $hs; do
    for b in $hs; do
        [ "$a" = "$b" ] && continue
        printf '#define AIO_IMPLEMENTATION\n#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$a" "$b" >"$tmp/p.c"
        for std in c99 gnu11; do
            n=$((n + 1))
            if ! $cc -std=$std -Wall -Wextra -Wpedantic -Werror -I"$root" $syn "$tmp/p.c" 2>"$tmp/err"; then
                echo "FAIL $a then $b, -std=$std, with AIO_IMPLEMENTATION:"
                grep 'error' "$tmp/err" | head -n 3
                bad=$((bad + 1))
            fi
        done
    done
done
echo "check_headers: $n combinations, $bad failed"
[ "$bad" -eq 0 ]
