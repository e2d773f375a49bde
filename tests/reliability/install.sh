#!/bin/sh
# tests/reliability/install.sh PACKAGE... - installs the Debian packages the
# reliability targets need, only those missing (apt-get; sudo when not root).
missing=
for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq || true
# shellcheck disable=SC2086
$sudo apt-get install -y --no-install-recommends $missing
