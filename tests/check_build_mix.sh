#!/bin/sh
# A program whose files disagree on AIO_DEBUG (which changes the layout of
# tasks and frames) must fail to link, naming the mismatch, instead of
# linking and corrupting memory; files that agree must link.  Builds an
# implementation file and a user file both ways and links each pair.
#
#   sh tests/check_build_mix.sh        (CC picks the compiler; cc by default)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#define AIO_IMPLEMENTATION\n#include "aio.h"\n' >"$tmp/impl.c"
printf '#include "aio.h"\nint main(void) { aio_loop L; return aio_loop_init(&L, 0); }\n' >"$tmp/user.c"
bad=0
for i in debug release; do
    for u in debug release; do
        di=; du=
        [ "$i" = debug ] && di=-DAIO_DEBUG
        [ "$u" = debug ] && du=-DAIO_DEBUG
        $cc -std=c99 $di -I"$root" -c "$tmp/impl.c" -o "$tmp/impl.o" || { bad=$((bad + 1)); continue; }
        $cc -std=c99 $du -I"$root" -c "$tmp/user.c" -o "$tmp/user.o" || { bad=$((bad + 1)); continue; }
        if $cc "$tmp/impl.o" "$tmp/user.o" -o "$tmp/prog" 2>"$tmp/err"; then
            if [ "$i" != "$u" ]; then
                echo "FAIL: implementation $i, user file $u: linked"
                bad=$((bad + 1))
            fi
        else
            want=_with_AIO_DEBUG
            [ "$u" = release ] && want=_without_AIO_DEBUG
            if [ "$i" = "$u" ]; then
                echo "FAIL: implementation $i, user file $u: did not link"
                cat "$tmp/err"
                bad=$((bad + 1))
            elif ! grep -q "$want" "$tmp/err"; then
                echo "FAIL: implementation $i, user file $u: the link error does not name $want"
                cat "$tmp/err"
                bad=$((bad + 1))
            fi
        fi
    done
done
echo "check_build_mix: 4 pairs, $bad failed"
[ "$bad" -eq 0 ]
