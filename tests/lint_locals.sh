#!/bin/sh
# Finds plain locals of a coroutine that are used after an await although
# their value was set before it.  A coroutine returns at every await and is
# called again to resume, so such a local has lost its value (see "The
# coroutine rules" in docs/RULES.md); it belongs in the frame (f->x).
#
#   sh tests/lint_locals.sh FILE.c ...     (make lint-locals FILES="...")
#
# Prints "file:line: local 'x' set before the await on line N is used after
# it" for each finding, and exits 1 if there is any.  A heuristic over the
# text, not a parser; it assumes the project's layout (a function's braces
# in column 1, one statement per line).  What it follows, per local of a
# function that has AIO_BEGIN:
#   - an assignment after AIO_BEGIN (or a declaration with an initialiser
#     after it) sets the local; an await (any AIO_ macro call except the
#     plain ones listed in `plain` below) makes every local set so far stale,
#     except the await's own first argument (its result: AIO_SLEEP(rc, ...));
#   - a read of a stale local is a finding; so is a loop header (for, while)
#     that reads a local which an await in the loop's body left stale when
#     the body ends (the header reads it again on the way round);
#   - an initialiser before AIO_BEGIN runs again at every resume, so a local
#     set only there (struct x *f = frame;) is never stale.
# Members (f->x, s.x), strings and comments are not locals.
set -u
[ $# -gt 0 ] || { echo "usage: $0 FILE.c ..." >&2; exit 2; }
awk '
function reset() { inside = 0; begun = 0; nvars = 0; split("", isvar); split("", state); split("", setline);
                   split("", initonly); nloops = 0; pending_single = 0 }
# The line without comments, strings and character literals.
function clean(s,    out, i, c, c2, q) {
    out = ""; i = 1
    while (i <= length(s)) {
        c = substr(s, i, 1); c2 = substr(s, i, 2)
        if (incomment) { if (c2 == "*/") { incomment = 0; i += 2 } else i++; continue }
        if (c2 == "/*") { incomment = 1; i += 2; continue }
        if (c2 == "//") break
        if (c == "\"" || c == "\047") {
            q = c; i++
            while (i <= length(s) && substr(s, i, 1) != q) { if (substr(s, i, 1) == "\\") i++; i++ }
            i++; out = out " 0 "; continue
        }
        out = out c; i++
    }
    return out
}
# Does `s` mention local `v` (not as a member after -> or .)?
function mentions(s, v,    rest, p, before, after) {
    rest = s
    while ((p = match(rest, "(^|[^A-Za-z0-9_])" v "([^A-Za-z0-9_]|$)")) > 0) {
        before = substr(rest, 1, RSTART)
        if (substr(rest, RSTART, 1) ~ /[A-Za-z0-9_]/) before = ""
        if (!(before ~ /(->|\.)$/ || substr(rest, 1, RSTART) ~ /(->|\.)$/)) return 1
        rest = substr(rest, RSTART + RLENGTH - 1)
    }
    return 0
}
# Does `s` assign `v` (v = ..., v += ..., v++, ++v), not compare it?
function assigns(s, v) {
    return s ~ ("(^|[^A-Za-z0-9_>.])" v "[ \t]*([-+*/%&|^]|<<|>>)?=[^=]") ||
           s ~ ("(^|[^A-Za-z0-9_>.])" v "[ \t]*(\\+\\+|--)") ||
           s ~ ("(\\+\\+|--)[ \t]*" v "([^A-Za-z0-9_.-]|-[^>]|$)")
}
# Does `s` read `v`: a mention that is not only the target of a plain "v =" ?
function reads(s, v,    t) {
    t = s
    gsub("(^|[^A-Za-z0-9_>.])" v "[ \t]*=[^=]", " = ", t)
    return mentions(t, v)
}
# The names declared on a declaration line, or "" (types are words followed by a name).
function declared(s,    t, n, parts, i, nm, out) {
    if (s !~ /^[ \t]*(const[ \t]+|static[ \t]+|unsigned[ \t]+|signed[ \t]+|struct[ \t]+|volatile[ \t]+)*[A-Za-z_][A-Za-z0-9_]*[ \t*]+[A-Za-z_][A-Za-z0-9_]*[ \t]*(\[[^]]*\])?[ \t]*(=|,|;)/) return ""
    if (s ~ /^[ \t]*(return|goto|case|else|do|typedef|break|continue)[^A-Za-z0-9_]/) return ""
    if (s ~ /^[ \t]*static[ \t]/) return "" # a static is not a plain local (and not this check)
    t = s; sub(/;.*/, "", t)
    gsub(/\([^()]*\)/, "", t); gsub(/\{[^{}]*\}/, "", t)
    n = split(t, parts, ",")
    out = ""
    for (i = 1; i <= n; i++) {
        nm = parts[i]; sub(/=.*/, "", nm); sub(/\[.*/, "", nm); gsub(/[ \t]+$/, "", nm)
        if (match(nm, /[A-Za-z_][A-Za-z0-9_]*$/)) out = out " " substr(nm, RSTART, RLENGTH)
    }
    return out
}
function declares_with_init(s, v) { return s ~ ("[^A-Za-z0-9_]" v "[ \t]*(\\[[^]]*\\])?[ \t]*=[^=]") }
# First argument of the first await on the line, or "" if the line has no await.
function await_arg(s,    rest, name, arg) {
    rest = s
    while (match(rest, /AIO_[A-Z0-9_]+[ \t]*\(/)) {
        name = substr(rest, RSTART, RLENGTH); sub(/[ \t]*\($/, "", name)
        rest = substr(rest, RSTART + RLENGTH)
        if (name in plain) continue
        arg = rest; sub(/[,)].*/, "", arg); gsub(/[ \t()]/, "", arg)
        return arg == "" ? "-" : arg
    }
    return ""
}
function report(ln, v, at) {
    printf "%s:%d: local \047%s\047 set before the await on line %d is used after it\n", FILENAME, ln, v, at
    found++
}
BEGIN {
    n = split("AIO_BEGIN AIO_END AIO_RETURN AIO_FAIL AIO_TRY AIO_MS AIO_SEC AIO_US AIO_NS AIO_NOW AIO_CHILD " \
              "AIO_CHILD_OF AIO_SPAWN_CHILD AIO_SPAWN_NEW AIO_QUEUE_INIT_ARRAY AIO_GROUP_EACH_FAILED AIO_PC_LINE " \
              "AIO_CORO AIO_CORO_DECL AIO_MAIN AIO_MAIN_VIRTUAL AIO_UNUSED", w, " ")
    for (i = 1; i <= n; i++) plain[w[i]] = 1
    found = 0
}
FNR == 1 { incomment = 0; reset() }
/^\{/ { reset(); inside = 1; depth = 1; next }
/^\}/ { reset(); next }
{
    if (!inside) next
    s = clean($0)
    opens = gsub(/\{/, "{", s); closes = gsub(/\}/, "}", s)
    d = declared(s)
    if (d != "") {
        m = split(d, names, " ")
        for (i = 1; i <= m; i++) {
            v = names[i]; isvar[v] = 1; state[v] = "unset"
            if (declares_with_init(s, v)) {
                if (begun) { state[v] = "set"; setline[v] = FNR } else initonly[v] = 1
            }
        }
    }
    if (s ~ /AIO_BEGIN[ \t]*\(/) { begun = 1; depth += opens - closes; next }
    if (!begun) { depth += opens - closes; next }
    a = await_arg(s)
    # The init clause of a for statement runs first: what it assigns is set.
    if (s ~ /^[ \t]*for[ \t]*\(/) {
        init = s; sub(/^[ \t]*for[ \t]*\(/, "", init); sub(/;.*/, "", init)
        for (v in isvar) if (assigns(init, v)) { state[v] = "set"; setline[v] = FNR }
    }
    # reads first (an await reads its inputs before it suspends)
    for (v in isvar) {
        if (d != "" && index(" " d " ", " " v " ")) continue
        if (state[v] == "stale" && reads(s, v) && !(a == v && !reads_besides_first(s, v)))
            report(FNR, v, setline[v])
    }
    if (a != "") {
        for (v in isvar) {
            if (v == a) { state[v] = "set"; setline[v] = FNR; continue }
            if (state[v] == "set") { state[v] = "stale"; setline[v] = FNR }
        }
        for (k = 1; k <= nloops; k++) loop_await[k] = 1
    } else {
        for (v in isvar)
            if (assigns(s, v) && !(d != "" && index(" " d " ", " " v " ") && !declares_with_init(s, v))) {
                state[v] = "set"; setline[v] = FNR
            }
    }
    # loops: remember what the header reads; check it when the body ends
    if (pending_single) { close_loop(nloops); nloops--; pending_single = 0 }
    if (s ~ /^[ \t]*(\}[ \t]*)?(for|while)[ \t]*\(/ && s !~ /^[ \t]*\}[ \t]*while.*;[ \t]*$/) {
        nloops++; loop_reads[nloops] = ""; loop_await[nloops] = 0; loop_line[nloops] = FNR
        for (v in isvar) if (reads(s, v)) loop_reads[nloops] = loop_reads[nloops] " " v
        if (opens > closes) loop_depth[nloops] = depth + opens - closes
        else { loop_depth[nloops] = -1; pending_single = 2 }
    }
    depth += opens - closes
    if (pending_single == 2) pending_single = 1
    while (nloops > 0 && loop_depth[nloops] > 0 && depth < loop_depth[nloops]) { close_loop(nloops); nloops-- }
}
function reads_besides_first(s, v,    t) { t = s; sub("\\([ \t]*" v "[ \t]*,", "(,", t); return reads(t, v) }
function close_loop(k,    m, i, nm) {
    if (!loop_await[k]) return
    m = split(loop_reads[k], nm, " ")
    for (i = 1; i <= m; i++)
        if (state[nm[i]] == "stale") report(loop_line[k], nm[i], setline[nm[i]])
}
END { exit found ? 1 : 0 }
' "$@"
