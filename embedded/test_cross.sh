#!/bin/sh
# embedded/test_cross.sh [arch...] - the hosted suite (tests/test_*.c, the
# epoll and poll reactor suites included) built with the Debian cross
# compilers and run under qemu-user: aarch64, armhf, s390x (big-endian),
# i386 (natively where the kernel runs 32-bit programs, see below).  Each binary runs through a wrapper script, so tests/run.sh adds up
# the results as for `make test`.  Prints the total "N passed, M failed".
#
# Each binary runs under `timeout 300`: a hang is a failure, not a stuck CI.
# Exclusions (per target, with the reason) go in SKIP_<arch>.
set -u
[ $# -eq 0 ] && set -- aarch64 armhf s390x i386
MAKE=${MAKE:-make}
# test_proc (and test_proc_aio_first, the same file) on every target: under qemu-user, posix_spawn of a
# program that does not exist reports success (the child's exec failure is
# not passed back through qemu's emulation of glibc's
# clone(CLONE_VM|CLONE_VFORK)), so a_missing_program_fails_to_spawn cannot
# see -ENOENT there (on i386 it fails on some runs only).
# test_tls links OpenSSL, which is installed for the build machine only (no
# libssl for the foreign architectures): it is left out on every target.
SKIP_aarch64="test_proc test_proc_aio_first test_tls"
SKIP_armhf="test_proc test_proc_aio_first test_tls"
SKIP_s390x="test_proc test_proc_aio_first test_tls"
# i386 runs natively when the x86-64 kernel runs 32-bit programs (checked
# first with a probe program), through the i686 loader and libraries: a real
# CPU in 32-bit mode, and nothing is left out.  Otherwise it runs under
# qemu-i386, which (7.2, Debian 12) hangs in pthread_create and does not
# interrupt a blocked epoll_wait/poll with a signal, so every test program
# that starts a thread or relies on that is left out there (test_easy,
# test_net_resolve and test_thread_cov start pool threads; test_misuse's
# forked children hang under it too, as they did before those tests were
# added):
SKIP_i386_QEMU="test_proc test_proc_aio_first test_proc_signal_aio_first test_reactor test_reactor_epoll test_reactor_kqueue test_reactor_poll
    test_reactor_none test_thread_portal test_thread test_proc_signal test_faults test_faults_poll test_core_isr test_tls
    test_easy test_net_resolve test_thread_cov test_misuse"
SKIP_i386="test_tls"
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
    i386) triple=i686-linux-gnu; qemu=qemu-i386
        B=build/cross-probe; mkdir -p $B
        printf 'int main(void) { return 0; }\n' >$B/probe.c
        if $triple-gcc -o $B/probe-i386 $B/probe.c 2>/dev/null &&
            /usr/$triple/lib/ld-linux.so.2 --library-path /usr/$triple/lib $B/probe-i386 2>/dev/null; then
            qemu=native
            echo "i386: runs natively (32-bit mode of this x86-64 kernel)"
        else
            SKIP_i386=$(echo $SKIP_i386_QEMU)
            echo "i386: runs under qemu-i386; left out there: $(echo $SKIP_i386)"
        fi ;;
    *) echo "test_cross.sh: unknown arch $arch" >&2; exit 2 ;;
    esac
    eval skip=\$SKIP_$arch
    eval opt=\$OPT_$arch
    # The flags are in the directory name: make rebuilds on a source change
    # only, so binaries built with other flags must not be reused.
    B=build/cross-$arch$(echo "$opt" | tr -d ' ')
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
        if [ "$qemu" = native ]; then
            printf '#!/bin/sh\nexec timeout 300 /usr/%s/lib/ld-linux.so.2 --library-path /usr/%s/lib %s "$@"\n' \
                "$triple" "$triple" "$PWD/$bin" >"$w"
        else
            printf '#!/bin/sh\nexec timeout 300 %s -L /usr/%s %s "$@"\n' "$qemu" "$triple" "$PWD/$bin" >"$w"
        fi
        chmod +x "$w"
        wrappers="$wrappers $w"
    done
done
# shellcheck disable=SC2086
sh tests/run.sh $wrappers || status=1
exit $status
