#!/bin/sh
# embedded/test_embedded.sh [BUILD_DIR] - builds tests/embedded/test_embedded.c
# with -ffreestanding -DAIO_NO_OS for each firmware target and runs it under
# emulation: Cortex-M3 (qemu mps2-an385), Cortex-M0 (qemu microbit), RISC-V
# rv32imac (qemu virt), AVR ATmega2560 (simavr), plus the same program as a
# native freestanding object (qemu with -icount: virtual time follows the
# instruction count).  The exit status of each run is the test
# program's (semihosting exit / simavr runner).  Every target is built and
# run twice: with the default 64-bit nanosecond time and with AIO_TIME32
# (32-bit ticks).  $EXTRA is added to the compile flags (EXTRA=-DFORCE_FAIL
# must turn every target red).
# Prints one line per target and the total "N passed, M failed".
set -u
B=${1:-build/embedded}
mkdir -p "$B"
WARN="-std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow"
COMMON="-ffreestanding -DAIO_NO_OS -DAIO_DEBUG -I. -Itests/embedded ${EXTRA:-}"
SRC=tests/embedded/test_embedded.c
QEMU_SH="-icount shift=4 -display none -serial none -monitor none -chardev stdio,id=shcon -semihosting-config enable=on,target=native,chardev=shcon"
passed=0
failed=0

# run NAME COMMAND...: runs a built program; green when it exits 0 and prints "N passed, 0 failed".
run() {
    name=$1
    shift
    out=$(timeout 120 "$@" </dev/null 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' | sed "s|^|$name: |"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ "${line#* passed, }" = "0 failed" ]; then
        echo "$name: green (${line})"
        passed=$((passed + 1))
    else
        echo "$name: RED (exit status $rc)"
        failed=$((failed + 1))
    fi
}

# build NAME COMMAND...: a failed build counts as a red target.
build() {
    name=$1
    shift
    if ! "$@"; then
        echo "$name: RED (build failed)"
        failed=$((failed + 1))
        return 1
    fi
}

# targets SUFFIX NAME_SUFFIX DEFINES: every target, built with DEFINES.
targets() {
    V=$1 N=$2 D=$3
    mkdir -p "$B$V"
    # Native: the freestanding object linked with a stdio plat_puts.
    if build host$N gcc $WARN -Wimplicit-fallthrough $COMMON $D -O1 -g $SRC embedded/host_plat.c -o "$B$V/host"; then
        run host$N "$B$V/host"
    fi

    if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
        ARM="arm-none-eabi-gcc -mthumb $WARN -Wimplicit-fallthrough $COMMON $D -Os -g -ffunction-sections -fdata-sections"
        ARMLD="-nostdlib -T embedded/arm/cm3.ld -Wl,--gc-sections embedded/arm/startup.c embedded/libc.c"
        if build cortex-m3$N $ARM -mcpu=cortex-m3 $ARMLD $SRC -lgcc -o "$B$V/cm3.elf"; then
            run cortex-m3$N qemu-system-arm -M mps2-an385 -cpu cortex-m3 $QEMU_SH -kernel "$B$V/cm3.elf"
        fi
        if build cortex-m0$N $ARM -mcpu=cortex-m0 $ARMLD -Wl,--defsym=RAM_SIZE=16K $SRC -lgcc -o "$B$V/m0.elf"; then
            run cortex-m0$N qemu-system-arm -M microbit $QEMU_SH -kernel "$B$V/m0.elf"
        fi
    else
        echo "cortex-m$N: RED (arm-none-eabi-gcc or qemu-system-arm missing; make embedded-install)"
        failed=$((failed + 1))
    fi

    if command -v riscv64-unknown-elf-gcc >/dev/null && command -v qemu-system-riscv32 >/dev/null; then
        # Objects with _zicsr (the startup writes mtvec); the link names plain
        # rv32imac so that GCC picks the rv32imac/ilp32 libgcc multilib.
        RV="riscv64-unknown-elf-gcc -mabi=ilp32 -mcmodel=medany $WARN -Wimplicit-fallthrough $COMMON $D -Os -g -ffunction-sections -fdata-sections"
        if build rv32imac$N $RV -march=rv32imac_zicsr -c embedded/riscv/start.S -o "$B$V/rv_start.o" &&
            build rv32imac$N $RV -march=rv32imac -nostdlib -T embedded/riscv/rv.ld -Wl,--gc-sections "$B$V/rv_start.o" \
                embedded/riscv/semihost.c embedded/libc.c $SRC -lgcc -o "$B$V/rv32.elf"; then
            run rv32imac$N qemu-system-riscv32 -M virt -bios none $QEMU_SH -kernel "$B$V/rv32.elf"
        fi
    else
        echo "rv32imac$N: RED (riscv64-unknown-elf-gcc or qemu-system-riscv32 missing; make embedded-install)"
        failed=$((failed + 1))
    fi

    if command -v avr-gcc >/dev/null && [ -f /usr/include/simavr/sim_avr.h ]; then
        # avr-gcc 5.4 knows no -Wimplicit-fallthrough (and needs no annotation).
        AVR="avr-gcc -mmcu=atmega2560 -DF_CPU=16000000UL $WARN -Os -ffunction-sections -fdata-sections"
        if build avr-runner$N gcc -O2 -Wall -Wextra -Werror -I/usr/include/simavr embedded/avr/run.c -lsimavr -o "$B$V/avr_run" &&
            build atmega2560$N $AVR $COMMON $D -Dmain=test_main -c $SRC -o "$B$V/avr_test.o" &&
            build atmega2560$N $AVR -c embedded/avr/plat.c -o "$B$V/avr_plat.o" &&
            build atmega2560$N $AVR -Wl,--gc-sections "$B$V/avr_plat.o" "$B$V/avr_test.o" -o "$B$V/avr.elf"; then
            run atmega2560$N "$B$V/avr_run" -m atmega2560 "$B$V/avr.elf"
        fi
    else
        echo "atmega2560$N: RED (avr-gcc or libsimavr-dev missing; make embedded-install)"
        failed=$((failed + 1))
    fi

}

targets "" "" ""
# The same with 32-bit time in 1 ms ticks (AIO_TIME32; targets named
# NAME-t32): every sleep, deadline and timer check of the suite holds in
# ticks too.
targets -t32 -t32 -DAIO_TIME32

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
