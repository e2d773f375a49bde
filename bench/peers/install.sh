#!/bin/sh
# Installs what the peer benchmarks and hyperfine need, from Debian's packages.
need=""
[ -f /usr/include/uv.h ] || need="$need libuv1-dev"
[ -f /usr/include/ev.h ] || need="$need libev-dev"
command -v hyperfine >/dev/null 2>&1 || need="$need hyperfine"
command -v python3 >/dev/null 2>&1 || need="$need python3"
if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y --no-install-recommends $need >/dev/null || exit 1
fi
# trio is optional: Debian's python3-trio when python3 cannot import it.
python3 -c 'import trio' 2>/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends python3-trio >/dev/null 2>&1 || true
}
exit 0
