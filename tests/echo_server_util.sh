# Shared by the real-client checks (sourced, not run): needs socat, makes a
# temporary folder, builds examples/net_echo_server and starts it on a free
# port, and stops it on exit.
#
#   name=check_x; . "$(dirname "$0")/echo_server_util.sh"
#   echo_server_build            builds $tmp/echo
#   echo_server_start ARGS...    starts it (after 0: a free port), sets $pid, $port
#   fail MESSAGE                 prints MESSAGE and the server's output, exits 1
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
if ! command -v socat >/dev/null 2>&1; then
    echo "$name: socat is not installed (apt-get install socat)"
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aio-$name.XXXXXX") || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "$name: $*"
    [ -f "$tmp/server.out" ] && sed 's/^/  server: /' "$tmp/server.out" | tail -n 40
    exit 1
}
echo_server_build() {
    "$cc" -std=c99 -O1 -I"$root" -o "$tmp/echo" "$root/examples/net_echo_server.c" -lpthread ||
        fail "the example does not build"
}
# The server's own --seconds is its safety limit (a `timeout` around it
# would take the SIGTERM meant for it).
echo_server_start() {
    "$tmp/echo" 0 "$@" >"$tmp/server.out" 2>&1 &
    pid=$!
    port=
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n 's/^serving on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/server.out")
        [ -n "$port" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$port" ] || fail "the server did not start"
}
