#!/bin/sh
# Checks that docs/API.md names every public identifier of every aio*.h
# header, and that every aio_/AIO_ identifier it names still exists; and
# that every public struct says which of its fields are API.
#
#   sh tests/check_api_docs.sh [--list]
#
# Public part of a header: everything before its implementation guard
# ("#if defined(AIO_IMPLEMENTATION) && !defined(..._IMPLEMENTED)"), comments
# and string literals removed.  Public names there: macros (#define), names a
# configuration test reads (#if/#ifdef/#ifndef), typedef names, struct/union/
# enum tags, enum constants and functions, prefixed aio_ or AIO_ but not
# aio__ or AIO__; include guards (a valueless macro ending in _H) excluded.
# With --list, prints the public names and exits.
#
# Field marking: every struct tagged aio_ (not aio__) whose body is in a
# public part must either have a comment containing "private:" inside its
# braces (the fields after it, or in a struct that starts with it the fields
# not tagged "API:", are not API), or say "Every field is API" in the doc
# comment right above it.
#
# Exit status: 0 when the reference is complete and every struct is marked,
# 1 otherwise.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
doc="$root/docs/API.md"
list=0
[ "${1:-}" = "--list" ] && list=1

headers=$(ls "$root"/aio*.h 2>/dev/null)
if [ -z "$headers" ]; then
    echo "check_api_docs: no aio*.h headers in $root" >&2
    exit 1
fi

public_names() {
    awk '
    # Cut each file at its implementation guard.
    FNR == 1 { cut = 0 }
    /^[ \t]*#[ \t]*if[ \t]+defined[ \t]*\([ \t]*AIO_IMPLEMENTATION[ \t]*\)[ \t]*&&[ \t]*!defined[ \t]*\([A-Za-z0-9_]*IMPLEMENTED[ \t]*\)/ { cut = 1 }
    cut { next }
    {
        # Remove comments (which may span lines) and string/char literals.
        line = $0; out = ""
        while (length(line) > 0) {
            if (incomment) {
                p = index(line, "*/")
                if (p == 0) { line = ""; break }
                line = substr(line, p + 2); incomment = 0; out = out " "
                continue
            }
            c = substr(line, 1, 1); c2 = substr(line, 1, 2)
            if (c2 == "/*") { incomment = 1; line = substr(line, 3); continue }
            if (c2 == "//") { line = ""; break }
            if (c == "\"" || c == "\047") {
                q = c; line = substr(line, 2)
                while (length(line) > 0) {
                    d = substr(line, 1, 1)
                    if (d == "\\") { line = substr(line, 3); continue }
                    line = substr(line, 2)
                    if (d == q) break
                }
                out = out " "
                continue
            }
            out = out c; line = substr(line, 2)
        }
        code = out

        # Preprocessor lines.
        if (code ~ /^[ \t]*#[ \t]*define[ \t]/) {
            s = code; sub(/^[ \t]*#[ \t]*define[ \t]+/, "", s)
            name = s; sub(/[^A-Za-z0-9_].*$/, "", name)
            rest = substr(s, length(name) + 1)
            if (name ~ /_H$/ && rest ~ /^[ \t]*$/) next   # include guard
            emit(name)
            next
        }
        if (code ~ /^[ \t]*#[ \t]*(if|ifdef|ifndef|elif)[ \t]/) {
            s = code
            while (match(s, /[A-Za-z_][A-Za-z0-9_]*/)) {
                tok = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
                if (tok !~ /_H$/) emit(tok)
            }
            next
        }
        if (code ~ /^[ \t]*#/) next

        # Enum bodies: every identifier that starts an enumerator.
        s = code
        if (s ~ /(^|[^A-Za-z0-9_])enum([^A-Za-z0-9_]|$)/) inenum = 1
        if (inenum) {
            t = s
            while (match(t, /[A-Za-z_][A-Za-z0-9_]*[ \t]*(=|,|}|$)/)) {
                tok = substr(t, RSTART, RLENGTH); t = substr(t, RSTART + RLENGTH)
                sub(/[^A-Za-z0-9_].*$/, "", tok)
                emit(tok)
            }
            if (s ~ /}/) inenum = 0
        }
        # struct/union/enum tags.
        t = s
        while (match(t, /(struct|union|enum)[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
            tok = substr(t, RSTART, RLENGTH); t = substr(t, RSTART + RLENGTH)
            sub(/^(struct|union|enum)[ \t]+/, "", tok)
            emit(tok)
        }
        # typedef names: "typedef ... name;", "} name;", "(*name)(".
        if (s ~ /^[ \t]*typedef/ && s ~ /;/) {
            t = s
            if (match(t, /\([ \t]*\*[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*\)/)) {
                tok = substr(t, RSTART, RLENGTH); gsub(/[^A-Za-z0-9_]/, "", tok); emit(tok)
            } else if (match(t, /[A-Za-z_][A-Za-z0-9_]*[ \t]*;/)) {
                tok = substr(t, RSTART, RLENGTH); sub(/[^A-Za-z0-9_].*$/, "", tok); emit(tok)
            }
        }
        if (match(s, /^[ \t]*}[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/)) {
            tok = substr(s, RSTART, RLENGTH); gsub(/[^A-Za-z0-9_]/, "", tok); emit(tok)
        }
        # Function declarations: the first "aio_name(" of a declaration line.
        if (s ~ /^[ \t]*(AIO_API|extern|static[ \t]+inline)[ \t]/ || s ~ /^[ \t]*[A-Za-z_][A-Za-z0-9_ \t\*]*[ \t\*]aio_[A-Za-z0-9_]*[ \t]*\(/) {
            if (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
                tok = substr(s, RSTART, RLENGTH); sub(/[^A-Za-z0-9_].*$/, "", tok); emit(tok)
            }
        }
    }
    function emit(n) {
        if (n ~ /^(aio|AIO)_[A-Za-z0-9]/) print n
    }
    ' $headers | sort -u
}

# Public structs with a body that neither contain a "private:" comment nor
# have "Every field is API" in the doc comment right above them, as
# "header: struct name".
unmarked_structs() {
    awk '
    FNR == 1 { cut = 0; incomment = 0; cont = 0; reset_struct(); gap = 1; lastdoc = ""; stmt = ""; atstart = 1 }
    /^[ \t]*#[ \t]*if[ \t]+defined[ \t]*\([ \t]*AIO_IMPLEMENTATION[ \t]*\)[ \t]*&&[ \t]*!defined[ \t]*\([A-Za-z0-9_]*IMPLEMENTED[ \t]*\)/ { cut = 1 }
    cut { next }
    {
        line = $0
        # Preprocessor lines (and their continuations) outside comments:
        # nothing in them documents a struct, and they separate a doc
        # comment from what follows.
        if (!incomment && (cont || line ~ /^[ \t]*#/)) {
            cont = (line ~ /\\$/)
            if (depth == 0) { gap = 1; stmt = ""; atstart = 1 }
            next
        }
        while (length(line) > 0) {
            if (incomment) {
                p = index(line, "*/")
                if (p == 0) { ctext = ctext " " line; line = ""; break }
                ctext = ctext " " substr(line, 1, p - 1); line = substr(line, p + 2); incomment = 0
                end_comment()
                continue
            }
            c = substr(line, 1, 1); c2 = substr(line, 1, 2)
            if (c2 == "/*") { incomment = 1; ctext = ""; line = substr(line, 3); continue }
            if (c2 == "//") { ctext = substr(line, 3); end_comment(); line = ""; break }
            if (c == "\"" || c == "\047") {
                q = c; line = substr(line, 2)
                while (length(line) > 0) {
                    d = substr(line, 1, 1)
                    if (d == "\\") { line = substr(line, 3); continue }
                    line = substr(line, 2)
                    if (d == q) break
                }
                code_char("x")
                continue
            }
            code_char(c); line = substr(line, 2)
        }
        code_char(" ")
    }
    function end_comment() {
        if (depth > 0) {
            if (ctext ~ /private:/) private = 1
            return
        }
        t = ctext; gsub(/[ \t]+\*+[ \t]/, " ", t); gsub(/[ \t]+/, " ", t)
        lastdoc = t; gap = 0
    }
    function code_char(ch) {
        if (depth > 0) {
            if (ch == "{") depth++
            else if (ch == "}") { depth--; if (depth == 0) finish_struct() }
            return
        }
        if (ch ~ /[ \t]/) { stmt = stmt ch; return }
        if (atstart) { stmtdoc = gap ? "" : lastdoc; atstart = 0 }
        gap = 1
        if (ch == "{") {
            if (match(stmt, /struct[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*$/)) {
                n = substr(stmt, RSTART, RLENGTH); sub(/^struct[ \t]+/, "", n); sub(/[ \t]+$/, "", n)
                if (n ~ /^aio_[A-Za-z0-9]/) {
                    name = n; depth = 1; private = 0
                    alldoc = (stmtdoc ~ /Every field is API/)
                    return
                }
            }
            stmt = ""; atstart = 1
            return
        }
        if (ch == ";" || ch == "}") { stmt = ""; atstart = 1; return }
        stmt = stmt ch
    }
    function finish_struct() {
        if (!private && !alldoc) print FILENAME ": struct " name
        reset_struct()
        stmt = ""; atstart = 1; gap = 1
    }
    function reset_struct() { depth = 0; name = ""; private = 0; alldoc = 0 }
    ' $headers | sed "s|^$root/||"
}

names=$(public_names)
if [ "$list" = 1 ]; then
    printf '%s\n' "$names"
    exit 0
fi

if [ ! -f "$doc" ]; then
    echo "check_api_docs: $doc is missing" >&2
    exit 1
fi

# Every identifier token of the reference, and of the headers (whole files).
doc_tokens=$(sed 's/](#[^)]*)/]/g' "$doc" | tr -c 'A-Za-z0-9_' '\n' | grep -E '^(aio|AIO)_' | sort -u)
hdr_tokens=$(cat $headers | tr -c 'A-Za-z0-9_' '\n' | grep -E '^(aio|AIO)_' | sort -u)

missing=$(printf '%s\n' "$names" | grep -v -x -F -e "$doc_tokens" 2>/dev/null)
[ -z "$doc_tokens" ] && missing=$names
stale=$(printf '%s\n' "$doc_tokens" | grep -E '^(aio|AIO)_[A-Za-z0-9]' | grep -v -x -F -e "$hdr_tokens")

status=0
unmarked=$(unmarked_structs)
if [ -n "$unmarked" ]; then
    echo "public structs that do not say which fields are API (a \"private:\" comment inside the braces,"
    echo "or \"Every field is API\" in the doc comment above):"
    printf '%s\n' "$unmarked" | sed 's/^/  /'
    status=1
fi
nnames=$(printf '%s\n' "$names" | grep -c .)
if [ -n "$missing" ]; then
    echo "docs/API.md does not document these public names:"
    printf '%s\n' "$missing" | sed 's/^/  /'
    status=1
fi
if [ -n "$stale" ]; then
    echo "docs/API.md names identifiers no aio*.h header has:"
    printf '%s\n' "$stale" | sed 's/^/  /'
    status=1
fi
if [ "$status" = 0 ]; then
    echo "docs/API.md documents all $nnames public names of $(echo $headers | wc -w) headers"
fi
exit $status
