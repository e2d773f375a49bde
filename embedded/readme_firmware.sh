#!/bin/sh
# embedded/readme_firmware.sh [BUILD_DIR] - the firmware guide's program,
# as written: extracts the C block that follows the "readme-firmware"
# marker in docs/FIRMWARE.md, builds it for Cortex-M3 (-Werror, with
# embedded/arm/startup.c and embedded/libc.c) and runs it under qemu
# mps2-an385 with -icount (virtual time from the instruction count, so the
# timing does not depend on the host's load).  Green when the program
# exits 0.  Prints "N passed, M failed".
set -u
B=${1:-build/readme-firmware}
mkdir -p "$B"
src="$B/readme_firmware.c"
awk '/<!-- readme-firmware/ { armed = 1; next }
     armed && /^```c$/ { inblock = 1; next }
     inblock && /^```$/ { exit }
     inblock { print }' docs/FIRMWARE.md >"$src"
if [ ! -s "$src" ]; then
    echo "readme-firmware: no C block after the readme-firmware marker in docs/FIRMWARE.md"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "readme-firmware: $(wc -l <"$src") lines extracted to $src"
if ! arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os -ffreestanding -std=c99 -Wall -Wextra -Wpedantic -Werror \
    -Wshadow -Wimplicit-fallthrough -ffunction-sections -fdata-sections -I. ${EXTRA:-} \
    -nostdlib -T embedded/arm/cm3.ld -Wl,--gc-sections "$src" embedded/arm/startup.c embedded/libc.c -lgcc \
    -o "$B/readme_firmware.elf"; then
    echo "readme-firmware: RED (build failed)"
    echo "0 passed, 1 failed"
    exit 1
fi
arm-none-eabi-size "$B/readme_firmware.elf"
timeout 60 qemu-system-arm -M mps2-an385 -cpu cortex-m3 -icount shift=4 -display none -serial none -monitor none \
    -chardev stdio,id=shcon -semihosting-config enable=on,target=native,chardev=shcon \
    -kernel "$B/readme_firmware.elf" </dev/null
rc=$?
if [ "$rc" -eq 0 ]; then
    echo "readme-firmware: green"
    echo "1 passed, 0 failed"
else
    echo "readme-firmware: RED (exit status $rc)"
    echo "0 passed, 1 failed"
    exit 1
fi
