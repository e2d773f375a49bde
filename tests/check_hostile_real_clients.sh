#!/bin/sh
# Runs examples/net_echo_server (16 handler slots; when every slot is busy
# it evicts the oldest idle connection) against hostile real clients (socat)
# on loopback, and checks that a probe client is served all the while:
#   - 40 idle connections that never send a byte (more than the slots),
#   - 4 slowloris connections that send one byte a second,
#   - 2 floods that send 8 MiB each and never read the echo,
#   - 4 clients that send random garbage and close,
# and 10 probes, one every half second, each sending a line and expecting it
# back byte for byte.  Then SIGTERM: the server exits with status 0 and
# reports that it evicted connections.  Probe round-trip times are printed,
# not asserted (a time bound would depend on the machine).
#
# Bounded: 60 connections, every client under `timeout`, about 10 s.
# Needs socat (.ci/run installs it); fails with a message without it.
set -u
name=check_hostile_real_clients
. "$(dirname "$0")/echo_server_util.sh"
echo_server_build
echo_server_start --seconds 60
to="TCP:127.0.0.1:$port"

# Idle: connected, silent until the server closes them (or 20 s pass).
k=0
while [ $k -lt 40 ]; do
    sleep 20 | timeout 25 socat -T 25 - "$to" >/dev/null 2>&1 &
    k=$((k + 1))
done
sleep 1
# Slowloris: a byte a second for 12 s.
k=0
while [ $k -lt 4 ]; do
    (j=0; while [ $j -lt 12 ]; do printf 'x'; sleep 1; j=$((j + 1)); done) |
        timeout 25 socat -T 25 - "$to" >/dev/null 2>&1 &
    k=$((k + 1))
done
# Floods that never read what comes back (-u: from stdin to the socket only).
k=0
while [ $k -lt 2 ]; do
    head -c 8388608 /dev/zero | timeout 25 socat -u - "$to" >/dev/null 2>&1 &
    k=$((k + 1))
done
# Garbage, then a close.
k=0
while [ $k -lt 4 ]; do
    head -c 100000 /dev/urandom | timeout 25 socat -t 2 - "$to" >/dev/null 2>&1 &
    k=$((k + 1))
done
sleep 0.5

# Probes: each must come back exactly.
bad=0
worst=0
k=1
while [ $k -le 10 ]; do
    printf 'probe %d: the quick brown fox\n' $k >"$tmp/probe.in"
    t0=$(date +%s%N)
    timeout 15 socat -t 10 - "$to" <"$tmp/probe.in" >"$tmp/probe.out" 2>"$tmp/probe.err"
    st=$?
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    [ $ms -gt $worst ] && worst=$ms
    if [ $st != 0 ] || ! cmp -s "$tmp/probe.in" "$tmp/probe.out"; then
        echo "  probe $k: socat status $st, sent $(wc -c <"$tmp/probe.in") bytes, got $(wc -c <"$tmp/probe.out") back"
        sed 's/^/  socat: /' "$tmp/probe.err"
        bad=$((bad + 1))
    fi
    sleep 0.5
    k=$((k + 1))
done
[ $bad = 0 ] || fail "$bad of 10 probes were not served while hostile clients held the server"

# SIGTERM: a graceful exit with status 0, and evictions in the counts.
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
[ "$st" = 0 ] || fail "exit status $st after SIGTERM"
line=$(grep '^server stopped: ' "$tmp/server.out")
[ -n "$line" ] || fail "no final counts"
evicted=$(echo "$line" | sed -n 's/.*, \([0-9][0-9]*\) evicted$/\1/p')
[ -n "$evicted" ] && [ "$evicted" -gt 0 ] || fail "no connection was evicted: $line"
echo "check_hostile_real_clients: 10 of 10 probes served beside 50 hostile socat clients" \
    "(slowest probe round trip $worst ms); $line"
exit 0
