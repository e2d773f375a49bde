#!/bin/sh
# make install / make uninstall, checked the way a user would use them:
#
#  1. install with PREFIX set to a scratch folder; build and run a program
#     through `pkg-config --cflags --libs aio`, and one through CMake's
#     find_package(aio) and the aio::aio target;
#  2. install staged with DESTDIR (PREFIX=/usr/local): every file lands under
#     DESTDIR, aio.pc names the final prefix, and the staged CMake package
#     still works (it finds its headers relative to itself);
#  3. uninstall both and check that nothing is left.
#
#   sh tests/install/check_install.sh      (make install-check)
#
# Needs make, a C compiler ($CC, default cc), pkg-config and cmake; a
# missing pkg-config or cmake skips that part with a message.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/aio-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
fail() { echo "install-check: FAIL: $*"; exit 1; }
step() { echo "install-check: $*"; }
MAKE=${MAKE:-make}
mk() { $MAKE -s -C "$root" "$@"; }

version=$(sed -n 's/^#define AIO_VERSION_STRING "\(.*\)".*/\1/p' "$root/aio.h")
[ -n "$version" ] || fail "no AIO_VERSION_STRING in aio.h"

# A program that uses the core and the headers beside it.
mkdir -p "$scratch/src"
cat > "$scratch/src/hello.c" <<'CEOF'
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"
#include "aio_chan.h"
#include <stdio.h>
#include <string.h>

struct main_frame { aio_frame hdr; aio_event ev; };

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_event_set(&f->ev);
    AIO_EVENT_WAIT(rc, &f->ev);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_SLEEP(rc, AIO_MS(5));
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_END(42);
}

int main(void)
{
    static aio_loop loop;
    static aio_task task;
    static struct main_frame frame;
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&loop, &cfg);
    if (aio_run(&loop, &task, main_task, &frame) != 42)
        return 1;
    printf("aio %s ok at %lld ns\n", AIO_VERSION_STRING, (long long)aio_now(&loop));
    return 0;
}
CEOF
expected="aio $version ok at 5000000 ns"

# A program that uses the optional TLS header (links OpenSSL).
mkdir -p "$scratch/src-tls"
cat > "$scratch/src-tls/hello.c" <<'CEOF'
#define AIO_IMPLEMENTATION
#include "aio_tls.h"
#include <stdio.h>

int main(void)
{
    aio_tls_ctx c;
    if (aio_tls_ctx_init(&c, AIO_TLS_CLIENT) != 0 || aio_tls_ctx_set_alpn(&c, "http/1.1") != 0)
        return 1;
    aio_tls_ctx_free(&c);
    printf("aio %s ok at 5000000 ns\n", AIO_VERSION_STRING); /* the same line as hello.c */
    return 0;
}
CEOF
cat > "$scratch/src-tls/CMakeLists.txt" <<CEOF
cmake_minimum_required(VERSION 3.10)
project(aio_tls_install_check C)
find_package(aio $version REQUIRED COMPONENTS tls)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE aio::tls)
CEOF

cat > "$scratch/src/CMakeLists.txt" <<CEOF
cmake_minimum_required(VERSION 3.10)
project(aio_install_check C)
find_package(aio $version REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE aio::aio)
CEOF

check_run() { # binary label
    out=$("$1") || fail "$2: the program failed"
    [ "$out" = "$expected" ] || fail "$2: printed '$out', expected '$expected'"
    step "$2: $out"
}

# Nothing but directories may remain below $1.
check_empty() {
    left=$(find "$1" -type f 2>/dev/null)
    [ -z "$left" ] || fail "uninstall left files behind: $left"
}

# ---- 1. PREFIX=scratch ----------------------------------------------------
prefix="$scratch/prefix"
mk install PREFIX="$prefix" >/dev/null
for h in "$root"/aio*.h; do
    cmp -s "$h" "$prefix/include/aio/$(basename "$h")" || fail "$(basename "$h") not installed"
done
[ -f "$prefix/lib/pkgconfig/aio.pc" ] || fail "aio.pc not installed"
[ -f "$prefix/lib/pkgconfig/aio-tls.pc" ] || fail "aio-tls.pc not installed"
[ -f "$prefix/lib/cmake/aio/aioConfig.cmake" ] || fail "aioConfig.cmake not installed"
[ -f "$prefix/lib/cmake/aio/aioConfigVersion.cmake" ] || fail "aioConfigVersion.cmake not installed"
[ ! -e "$prefix/include/aio.h" ] || fail "aio.h installed beside the system headers"
step "installed $(ls "$prefix/include/aio" | wc -l | tr -d ' ') headers, aio.pc, CMake package into PREFIX"

if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    [ "$(pkg-config --modversion aio)" = "$version" ] || fail "pkg-config --modversion aio is not $version"
    cflags=$(pkg-config --cflags aio | sed "s/ *$//")
    libs=$(pkg-config --libs aio | sed "s/ *$//")
    [ "$cflags" = "-I$prefix/include/aio" ] || fail "pkg-config --cflags aio gave '$cflags'"
    # shellcheck disable=SC2086
    $cc -std=c99 -Wall -Wextra -Wpedantic -Werror $cflags -o "$scratch/hello-pc" "$scratch/src/hello.c" $libs \
        || fail "compiling through pkg-config"
    check_run "$scratch/hello-pc" "pkg-config ($cflags $libs)"
    if pkg-config --exists openssl; then
        libs=$(pkg-config --libs aio-tls | sed "s/ *$//")
        # shellcheck disable=SC2086
        $cc -std=c99 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags aio-tls) -o "$scratch/hello-tls-pc" \
            "$scratch/src-tls/hello.c" $libs || fail "compiling aio_tls.h through pkg-config aio-tls"
        check_run "$scratch/hello-tls-pc" "pkg-config aio-tls ($libs)"
    else
        step "pkg-config finds no openssl: aio-tls skipped (apt-get install libssl-dev)"
    fi
    unset PKG_CONFIG_PATH
else
    step "pkg-config not found: skipped (apt-get install pkg-config)"
fi

have_cmake=0
command -v cmake >/dev/null 2>&1 && have_cmake=1
cmake_build() { # prefix-path build-dir label
    cmake -S "$scratch/src" -B "$2" -DCMAKE_PREFIX_PATH="$1" -DCMAKE_C_COMPILER="$cc" >"$2.log" 2>&1 \
        || { cat "$2.log"; fail "$3: cmake configure"; }
    cmake --build "$2" >>"$2.log" 2>&1 || { cat "$2.log"; fail "$3: cmake build"; }
    check_run "$2/hello" "$3"
}
if [ "$have_cmake" = 1 ]; then
    cmake_build "$prefix" "$scratch/build-cmake" "cmake find_package(aio $version)"
    if pkg-config --exists openssl 2>/dev/null; then
        cmake -S "$scratch/src-tls" -B "$scratch/build-tls" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
            >"$scratch/build-tls.log" 2>&1 && cmake --build "$scratch/build-tls" >>"$scratch/build-tls.log" 2>&1 \
            || { cat "$scratch/build-tls.log"; fail "cmake find_package(aio COMPONENTS tls)"; }
        check_run "$scratch/build-tls/hello" "cmake find_package(aio COMPONENTS tls), aio::tls"
    fi
    # An unknown component must fail.
    mkdir -p "$scratch/src-nocomp" && cp "$scratch/src/hello.c" "$scratch/src-nocomp/"
    sed "s/REQUIRED)/REQUIRED COMPONENTS nosuch)/" "$scratch/src/CMakeLists.txt" > "$scratch/src-nocomp/CMakeLists.txt"
    if cmake -S "$scratch/src-nocomp" -B "$scratch/build-nocomp" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
        fail "find_package(aio COMPONENTS nosuch) succeeded"
    fi
    step "cmake find_package(aio COMPONENTS nosuch) refused, as it should"
    # An incompatible version request must fail.
    sed "s/find_package(aio $version REQUIRED)/find_package(aio 1.0 REQUIRED)/" "$scratch/src/CMakeLists.txt" \
        > "$scratch/CMakeLists.v1" && mkdir -p "$scratch/src-v1" && cp "$scratch/src/hello.c" "$scratch/src-v1/" \
        && mv "$scratch/CMakeLists.v1" "$scratch/src-v1/CMakeLists.txt"
    if cmake -S "$scratch/src-v1" -B "$scratch/build-v1" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
        fail "find_package(aio 1.0) accepted version $version"
    fi
    step "cmake find_package(aio 1.0) refused, as it should"
else
    step "cmake not found: skipped"
fi

mk uninstall PREFIX="$prefix" >/dev/null
check_empty "$prefix"
[ ! -d "$prefix/include/aio" ] || fail "uninstall left include/aio"
[ ! -d "$prefix/lib/cmake/aio" ] || fail "uninstall left lib/cmake/aio"
step "uninstall from PREFIX left nothing"

# ---- 2. DESTDIR staging -------------------------------------------------------
stage="$scratch/stage"
mk install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
outside=$(find "$stage" -type f ! -path "$stage/usr/local/*")
[ -z "$outside" ] || fail "DESTDIR install wrote outside DESTDIR/PREFIX: $outside"
grep -q '^prefix=/usr/local$' "$stage/usr/local/lib/pkgconfig/aio.pc" || fail "staged aio.pc does not name prefix /usr/local"
grep -q '^includedir=${prefix}/include/aio$' "$stage/usr/local/lib/pkgconfig/aio.pc" \
    || fail "staged aio.pc has the wrong includedir"
step "DESTDIR install: every file under DESTDIR/usr/local, aio.pc names /usr/local"
if [ "$have_cmake" = 1 ]; then
    cmake_build "$stage/usr/local" "$scratch/build-staged" "cmake from the DESTDIR stage"
fi
mk uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null
check_empty "$stage"
step "uninstall from DESTDIR left nothing"

echo "install-check: ok"
