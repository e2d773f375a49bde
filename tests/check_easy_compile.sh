#!/bin/sh
# Mistakes that must not compile, each compiled from a small file and the
# compiler's message checked: a frame whose header is not its first member
# (through AIO_CORO), a child spawned with AIO_SPAWN_NEW over a frame of
# another type, and a coroutine body without AIO_END, which must fail the
# same way with switch/case and with labels-as-values resume points
# (AIO_USE_LABELS), and an await outside a coroutine (its message names
# AIO_BEGIN).  A correct file built the same way must compile, so a
# failure is the mistake's and not the harness's.
#
#   sh tests/check_easy_compile.sh        (CC picks the compiler; cc by default)
# Under tcc only the refusal is checked, not the wording.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0 n=0
flags="-std=c99 -Wall -Wextra -Wpedantic -Werror -I$root -c -o $tmp/o.o"
# The messages checked are gcc's and clang's; another compiler (tcc) must
# still refuse every mistake, in its own words.
words=1
case $($cc -v 2>&1) in *"tcc version"*) words=0 ;; esac

# file BODY: writes $tmp/t.c, a translation unit including aio_easy.h
file() {
    { echo '#include "aio_easy.h"'; printf '%s\n' "$1"; } >"$tmp/t.c"
}
# ok WHAT [FLAGS]: must compile
ok() {
    n=$((n + 1))
    if ! $cc $flags ${2:-} "$tmp/t.c" 2>"$tmp/err"; then
        echo "FAIL $1: a correct file did not compile"; head -n 3 "$tmp/err"; bad=$((bad + 1))
    fi
}
# fails WHAT PATTERN [FLAGS]: must not compile, with PATTERN (ERE) in the errors
fails() {
    n=$((n + 1))
    if $cc $flags ${3:-} "$tmp/t.c" 2>"$tmp/err"; then
        echo "FAIL $1: compiled"; bad=$((bad + 1)); return
    fi
    if [ $words = 1 ] && ! grep -Eq -e "$2" "$tmp/err"; then
        echo "FAIL $1: message missing: $2"; head -n 5 "$tmp/err"; bad=$((bad + 1))
    fi
}

good='struct fr { aio_frame hdr; int i; };
AIO_CORO(co, struct fr, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(f->i));
    AIO_END(0);
}
struct top { aio_frame hdr; aio_group g; AIO_CHILD_OF(co) kid; };
AIO_CORO(top_fn, struct top, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_SPAWN_NEW(&f->g, &f->kid, co, .i = 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
aio_fn use_fn(void) { return top_fn; }'
file "$good"
ok "correct coroutines"
ok "correct coroutines (labels)" -DAIO_USE_LABELS

file 'struct fr { int i; aio_frame hdr; };
AIO_CORO(late_header, struct fr, t, f)
{
    AIO_BEGIN(t, f);
    AIO_END(0);
}'
fails "frame header not first" "aio_frame_header_hdr_must_be_the_first_member_of_the_frame_of_late_header"

file 'struct fr { aio_frame head; int i; };
AIO_CORO(misnamed, struct fr, t, f)
{
    AIO_BEGIN(t, f);
    AIO_END(0);
}'
fails "frame header not named hdr" "hdr"

file 'struct fr { int hdr; int i; };
AIO_CORO(not_a_frame, struct fr, t, f)
{
    AIO_BEGIN(t, f);
    AIO_END(0);
}'
fails "hdr that is not an aio_frame" "incompatible|cannot convert|aio_frame"

file 'struct a { aio_frame hdr; int i; };
struct b { aio_frame hdr; long j; };
AIO_CORO(co_a, struct a, t, f)
{
    AIO_BEGIN(t, f);
    AIO_END(0);
}
struct top { aio_frame hdr; aio_group g; AIO_CHILD(struct b) kid; };
AIO_CORO(top_fn, struct top, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_SPAWN_NEW(&f->g, &f->kid, co_a, .i = 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}'
fails "AIO_SPAWN_NEW over another frame type" "incompatible types|assigning to"

# Without AIO_END: the block AIO_BEGIN opens is never closed, in both
# resume-point implementations, and both report it the same way.
file 'struct fr { aio_frame hdr; int i; };
static int no_end(aio_task *t, void *p)
{
    struct fr *f = (struct fr *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(1));
    AIO_RETURN(rc);
}'
end_msg="expected declaration or statement at end of input|expected '\}'"
fails "missing AIO_END (switch)" "$end_msg"
grep -E -o -e "$end_msg" "$tmp/err" | head -n 1 >"$tmp/switch.msg"
fails "missing AIO_END (labels)" "$end_msg" -DAIO_USE_LABELS
grep -E -o -e "$end_msg" "$tmp/err" | head -n 1 >"$tmp/labels.msg"
n=$((n + 1))
if ! cmp -s "$tmp/switch.msg" "$tmp/labels.msg"; then
    echo "FAIL missing AIO_END: the two resume-point implementations report it differently"
    bad=$((bad + 1))
fi

# An await in a function without AIO_BEGIN: the first error names the rule,
# in both resume-point implementations.
file 'static int plain(aio_task *t)
{
    int rc;
    (void)t;
    AIO_SLEEP(rc, AIO_MS(1));
    return rc;
}'
fails "await outside a coroutine (switch)" "aio__await_needs_AIO_BEGIN_first"
fails "await outside a coroutine (labels)" "aio__await_needs_AIO_BEGIN_first" -DAIO_USE_LABELS

echo "check_easy_compile: $n checks, $bad failed"
[ "$bad" -eq 0 ]
