#!/bin/sh
# embedded/install.sh [embedded] [cross] [matrix] - installs the Debian
# packages the portability targets need (Debian 12).  Packages already
# present are not fetched again; with everything present apt is not run.
#   embedded: Cortex-M (qemu-system-arm), RISC-V (qemu-system-misc), AVR (simavr)
#   cross:    aarch64, armhf, s390x and i386 cross compilers and qemu-user
#   matrix:   clang, g++, tcc, musl-gcc
# --no-install-recommends matters: qemu-system-* recommend a desktop stack.
# The cross compilers only recommend their C library headers, so the
# libc6-dev-*-cross packages are named explicitly.  gcc-multilib is not used:
# it conflicts with the cross compilers.
set -eu
[ $# -eq 0 ] && set -- embedded cross matrix
pkgs=""
for set in "$@"; do
    case $set in
    embedded) pkgs="$pkgs gcc-arm-none-eabi qemu-system-arm gcc-riscv64-unknown-elf qemu-system-misc
                     gcc-avr avr-libc simavr libsimavr-dev" ;;
    cross) pkgs="$pkgs qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
                  libc6-dev-armhf-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross gcc-i686-linux-gnu
                  libc6-dev-i386-cross" ;;
    matrix) pkgs="$pkgs gcc clang g++ tcc musl-tools" ;;
    *) echo "install.sh: unknown set $set" >&2; exit 2 ;;
    esac
done
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null
