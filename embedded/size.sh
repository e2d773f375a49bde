#!/bin/sh
# embedded/size.sh [BUILD_DIR] - footprint of aio on firmware targets:
#  1. flash and RAM of embedded/fw_size.c (super-loop, two tasks, a sleep,
#     an event; -Os, no AIO_DEBUG) on Cortex-M3 and AVR ATmega2560, and the
#     code of the aio functions alone;
#  2. sizeof of the main objects on 8-, 32- and 64-bit targets (read from
#     embedded/sizes.c objects with nm -S), as a markdown table.
set -u
B=${1:-build/size}
mkdir -p "$B"
FLAGS="-std=c99 -Wall -Wextra -Wpedantic -Werror -Os -ffreestanding -ffunction-sections -fdata-sections -I."

# aio_code NM ELF: bytes of code in aio_* functions.
aio_code() {
    $1 -S -t d "$2" | awk '$3 ~ /^[tT]$/ && $4 ~ /^aio/ { s += $2 } END { print s + 0 }'
}

echo "## Minimal firmware (embedded/fw_size.c, -Os, no AIO_DEBUG)"
echo
echo "| target | flash (text+data) | RAM (data+bss) | aio_* code |"
echo "|---|---|---|---|"
if command -v arm-none-eabi-gcc >/dev/null; then
    arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb $FLAGS -nostdlib -T embedded/arm/cm3.ld -Wl,--gc-sections \
        embedded/arm/startup.c embedded/libc.c embedded/fw_size.c -lgcc -o "$B/fw_cm3.elf" || exit 1
    arm-none-eabi-size "$B/fw_cm3.elf" | awk -v c="$(aio_code arm-none-eabi-nm "$B/fw_cm3.elf")" \
        'NR == 2 { printf "| Cortex-M3 (Thumb-2) | %d | %d | %d |\n", $1 + $2, $2 + $3, c }'
fi
if command -v avr-gcc >/dev/null; then
    avr-gcc -mmcu=atmega2560 $FLAGS -Wl,--gc-sections embedded/fw_size.c -o "$B/fw_avr.elf" || exit 1
    avr-size "$B/fw_avr.elf" | awk -v c="$(aio_code avr-nm "$B/fw_avr.elf")" \
        'NR == 2 { printf "| AVR ATmega2560 | %d | %d | %d |\n", $1 + $2, $2 + $3, c }'
fi
echo
echo "The flash figures include the startup code, the semihosting exit (Cortex-M3) or"
echo "avr-libc's startup and 64-bit arithmetic helpers (AVR)."
echo

# sizeof table
cols=""
hdr="| object |"
sep="|---|"
add() { # add LABEL NM CC...
    label=$1 nm=$2
    shift 2
    if command -v "$1" >/dev/null && "$@" $FLAGS -fno-common -c embedded/sizes.c -o "$B/sizes-$label.o" 2>/dev/null; then
        cols="$cols $label:$nm"
        hdr="$hdr $label |"
        sep="$sep---|"
    fi
}
add "AVR (8-bit)" avr-nm avr-gcc -mmcu=atmega2560
add "Cortex-M3" arm-none-eabi-nm arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb
add "rv32imac" riscv64-unknown-elf-nm riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32
add "i386" nm i686-linux-gnu-gcc
add "armhf" nm arm-linux-gnueabihf-gcc
add "x86-64" nm gcc
add "aarch64" nm aarch64-linux-gnu-gcc
add "s390x" nm s390x-linux-gnu-gcc
echo "## sizeof in bytes (no AIO_DEBUG)"
echo
echo "$hdr"
echo "$sep"
for obj in task frame scope group timer loop event lock sem chan chan_end; do
    row="| \`aio_$obj\` |"
    for label in "AVR (8-bit)" "Cortex-M3" "rv32imac" "i386" "armhf" "x86-64" "aarch64" "s390x"; do
        case "$cols" in *"$label:"*) ;; *) continue ;; esac
        nmtool=$(printf '%s' "$cols" | sed "s/.*$label:\([^ ]*\).*/\1/")
        v=$($nmtool -S -t d "$B/sizes-$label.o" | awk -v s="aio_sizeof_$obj" '$4 == s { print $2 + 0 }')
        row="$row $v |"
    done
    echo "$row" | sed 's/aio_chan_end/aio_chan_tx \/ _rx/'
done
