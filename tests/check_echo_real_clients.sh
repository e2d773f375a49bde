#!/bin/sh
# Runs examples/net_echo_server against a real client program (socat) on
# loopback: 16 clients in parallel, each sending a different input (binary,
# empty, one byte, text with a last line without newline, up to 512 KiB),
# and checks that every client got back exactly what it sent (sha256).
# Then checks the server's argument errors and its graceful exit on
# SIGTERM with the counts it reports.
#
# Bounded: 16 clients, 2 MiB in all, every program under `timeout`.
# Needs socat (.ci/run installs it); fails with a message without it.
set -u
name=check_echo_real_clients
. "$(dirname "$0")/echo_server_util.sh"
echo_server_build

# Argument errors: status 2 and a message, never a server on some port.
for bad in abc 70000 -1 "8080x"; do
    timeout 10 "$tmp/echo" "$bad" >"$tmp/bad.out" 2>"$tmp/bad.err"
    st=$?
    [ "$st" = 2 ] || fail "port '$bad': exit status $st, expected 2"
    grep -q "invalid port" "$tmp/bad.err" || fail "port '$bad': no message on stderr"
    [ -s "$tmp/bad.out" ] && fail "port '$bad': it printed on stdout (served?)"
done
timeout 10 "$tmp/echo" 0 --bogus >/dev/null 2>"$tmp/bad.err"
[ $? = 2 ] && grep -q "unknown argument" "$tmp/bad.err" || fail "--bogus is not reported"

# The server, on a free port, with a 60 s safety limit.
echo_server_start --seconds 60 --verbose

# Inputs: empty, one byte, a text with a partial last line, random binary
# of growing sizes (up to 512 KiB).
: >"$tmp/in.0"
printf 'x' >"$tmp/in.1"
printf 'line one\nline two\r\n\0binary\0 and no newline at the end' >"$tmp/in.2"
n=3
for kib in 1 3 8 16 31 64 100 128 200 256 300 400 512; do
    head -c $((kib * 1024 + n)) /dev/urandom >"$tmp/in.$n"
    n=$((n + 1))
done

k=0
clients=
while [ $k -lt $n ]; do
    timeout 60 socat -t 30 -T 30 - "TCP:127.0.0.1:$port" <"$tmp/in.$k" >"$tmp/out.$k" 2>"$tmp/err.$k" &
    clients="$clients $!"
    k=$((k + 1))
done
k=0
for c in $clients; do # every client to its end, in order
    wait "$c" || { echo "  client $k: socat exit status $?"; sed 's/^/  socat: /' "$tmp/err.$k"; }
    k=$((k + 1))
done

k=0
bad=0
while [ $k -lt $n ]; do
    a=$(sha256sum <"$tmp/in.$k" | cut -d' ' -f1)
    b=$(sha256sum <"$tmp/out.$k" | cut -d' ' -f1)
    if [ "$a" != "$b" ]; then
        echo "  client $k: sent $(wc -c <"$tmp/in.$k") bytes, got $(wc -c <"$tmp/out.$k") back, different"
        sed 's/^/  socat: /' "$tmp/err.$k"
        bad=$((bad + 1))
    fi
    k=$((k + 1))
done
[ $bad = 0 ] || fail "$bad of $n clients got different bytes back"

total=0
k=0
while [ $k -lt $n ]; do
    total=$((total + $(wc -c <"$tmp/in.$k")))
    k=$((k + 1))
done

# SIGTERM: a graceful exit with status 0 and the counts.
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
[ "$st" = 0 ] || fail "exit status $st after SIGTERM"
grep -q '^SIGTERM: shutting down$' "$tmp/server.out" || fail "no shutdown message after SIGTERM"
grep -q "^server stopped: $n connection(s), $total bytes echoed, 0 timed out, 0 evicted\$" "$tmp/server.out" ||
    fail "the server's counts are not $n connections and $total bytes"
echo "check_echo_real_clients: $n socat clients in parallel, $total bytes, every byte back"
exit 0
