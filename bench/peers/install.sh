#!/bin/sh
# Installs what the peer benchmarks, hyperfine and the report need, from
# Debian's packages.
need=""
[ -f /usr/include/uv.h ] || need="$need libuv1-dev"
[ -f /usr/include/ev.h ] || need="$need libev-dev"
command -v hyperfine >/dev/null 2>&1 || need="$need hyperfine"
command -v python3 >/dev/null 2>&1 || need="$need python3"
if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y --no-install-recommends $need >/dev/null || exit 1
fi
# Optional: Boost.Context (the fcontext switch row) and gnuplot (the
# scaling plot of make bench-report); the benchmarks run without them.
opt=""
find /usr/lib -maxdepth 2 -name libboost_context.so 2>/dev/null | grep -q . || opt="$opt libboost-context-dev"
command -v gnuplot >/dev/null 2>&1 || opt="$opt gnuplot-nox"
if [ -n "$opt" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $opt >/dev/null 2>&1 || echo "install.sh: could not install$opt" >&2
fi
# trio is optional: Debian's python3-trio when python3 cannot import it.
python3 -c 'import trio' 2>/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends python3-trio >/dev/null 2>&1 || true
}
exit 0
