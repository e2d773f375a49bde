#!/bin/sh
# embedded/test_cross.sh [arch...] - the hosted suite (tests/test_*.c, the
# epoll and poll reactor suites included) built with the Debian cross
# compilers and run under qemu-user: aarch64, armhf, s390x (big-endian),
# i386.  Each binary runs through a wrapper script, so tests/run.sh adds up
# the results as for `make test`.  Prints the total "N passed, M failed".
#
# Each binary runs under `timeout 300`: a hang is a failure, not a stuck CI.
# Exclusions (per target, with the reason) go in SKIP_<arch>.
set -u
[ $# -eq 0 ] && set -- aarch64 armhf s390x i386
MAKE=${MAKE:-make}
SKIP_aarch64=""
SKIP_armhf=""
SKIP_s390x=""
SKIP_i386=""
# arm-linux-gnueabihf-gcc 12.2 at -O1 miscompiles aio_check_cancel's
# `return cancelled ? AIO_ECANCELED : 0`: it loads the low half of -10001
# (movw #55535) and never sets the high half, so every pre-cancelled
# operation reports 55535.  -O0 and -O2 are correct; armhf builds at -O2.
OPT_aarch64="-O1 -g"
OPT_armhf="-O2 -g"
OPT_s390x="-O1 -g"
OPT_i386="-O1 -g"
status=0
wrappers=""
for arch in "$@"; do
    case $arch in
    aarch64) triple=aarch64-linux-gnu; qemu=qemu-aarch64 ;;
    armhf) triple=arm-linux-gnueabihf; qemu=qemu-arm ;; # see OPT_armhf
    s390x) triple=s390x-linux-gnu; qemu=qemu-s390x ;;
    i386) triple=i686-linux-gnu; qemu=qemu-i386 ;;
    *) echo "test_cross.sh: unknown arch $arch" >&2; exit 2 ;;
    esac
    B=build/cross-$arch
    eval skip=\$SKIP_$arch
    eval opt=\$OPT_$arch
    bins=""
    for src in tests/test_*.c; do
        name=$(basename "$src" .c)
        case " $skip " in *" $name "*) echo "$arch: $name skipped"; continue ;; esac
        bins="$bins $B/tests/$name"
    done
    # shellcheck disable=SC2086
    if ! $MAKE -s -j"$(nproc)" CC="$triple-gcc" OPT="$opt" BUILD="$B" $bins; then
        echo "$arch: build failed"
        status=1
        continue
    fi
    mkdir -p "$B/run"
    for bin in $bins; do
        w="$B/run/$arch-$(basename "$bin")"
        printf '#!/bin/sh\nexec timeout 300 %s -L /usr/%s %s "$@"\n' "$qemu" "$triple" "$PWD/$bin" >"$w"
        chmod +x "$w"
        wrappers="$wrappers $w"
    done
done
# shellcheck disable=SC2086
sh tests/run.sh $wrappers || status=1
exit $status
