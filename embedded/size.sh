#!/bin/sh
# embedded/size.sh [BUILD_DIR] - footprint of aio on firmware targets:
#  1. flash and RAM of embedded/fw_size.c (super-loop, two tasks, a sleep,
#     an event; -Os, no AIO_DEBUG) on Cortex-M3 and AVR ATmega2560, and the
#     code of the aio functions alone;
#     each in the default release build, with -DAIO_LEAN, and with
#     -DAIO_LEAN -DAIO_STATIC;
#  2. flash and RAM of embedded/blink.c (three coroutines, a group, a
#     timeout, an interrupt-set event) on Cortex-M3 and ATmega328P;
#  3. sizeof of the main objects on 8-, 32- and 64-bit targets (read from
#     embedded/sizes.c objects with nm -S), as a markdown table;
#  4. the stack fw_size.c uses, measured under qemu and simavr
#     (embedded/stack.c paints the free RAM and reads the high-water mark);
#  5. the footprint goals, each marked met or missed.
set -u
B=${1:-build/size}
mkdir -p "$B"
FLAGS="-std=c99 -Wall -Wextra -Wpedantic -Werror -Os -ffreestanding -ffunction-sections -fdata-sections -I."

# aio_code NM ELF: bytes of code in aio_* functions.
aio_code() {
    $1 -S -t d "$2" | awk '$3 ~ /^[tT]$/ && $4 ~ /^aio/ { s += $2 } END { print s + 0 }'
}

LEAN="-DAIO_LEAN"
LEAN_STATIC="-DAIO_LEAN -DAIO_STATIC"
T32="-DAIO_TIME32"
ARMCC="arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb"
ARMLD="-nostdlib -T embedded/arm/cm3.ld -Wl,--gc-sections embedded/arm/startup.c embedded/libc.c"

# row LABEL SIZE NM ELF: one markdown row (flash = text+data, RAM = data+bss).
row() {
    $2 "$4" | awk -v l="$1" -v c="$(aio_code "$3" "$4")" \
        'NR == 2 { printf "| %s | %d | %d | %d |\n", l, $1 + $2, $2 + $3, c }'
}
# field SIZE ELF: "flash ram" of an ELF.
field() { $1 "$2" | awk 'NR == 2 { print $1 + $2, $2 + $3 }'; }

echo "## Minimal firmware (embedded/fw_size.c, -Os, no AIO_DEBUG)"
echo
echo "| target, profile | flash (text+data) | RAM (data+bss) | aio_* code |"
echo "|---|---|---|---|"
if command -v arm-none-eabi-gcc >/dev/null; then
    for prof in default lean lean-static lean-t32 lean-static-t32; do
        case $prof in default) d="" ;; lean) d=$LEAN ;; lean-static) d=$LEAN_STATIC ;;
            lean-t32) d="$LEAN $T32" ;; lean-static-t32) d="$LEAN_STATIC $T32" ;; esac
        $ARMCC $FLAGS $d $ARMLD embedded/fw_size.c -lgcc -o "$B/fw_cm3_$prof.elf" || exit 1
        row "Cortex-M3 (Thumb-2), $prof" arm-none-eabi-size arm-none-eabi-nm "$B/fw_cm3_$prof.elf"
    done
fi
if command -v avr-gcc >/dev/null; then
    for prof in default lean lean-static lean-t32 lean-static-t32; do
        case $prof in default) d="" ;; lean) d=$LEAN ;; lean-static) d=$LEAN_STATIC ;;
            lean-t32) d="$LEAN $T32" ;; lean-static-t32) d="$LEAN_STATIC $T32" ;; esac
        avr-gcc -mmcu=atmega2560 $FLAGS $d -Wl,--gc-sections embedded/fw_size.c -o "$B/fw_avr_$prof.elf" || exit 1
        row "AVR ATmega2560, $prof" avr-size avr-nm "$B/fw_avr_$prof.elf"
    done
fi
echo
echo "The flash figures include the startup code, the semihosting exit (Cortex-M3) or"
echo "avr-libc's startup and 64-bit arithmetic helpers (AVR).  lean = -DAIO_LEAN;"
echo "lean-static adds -DAIO_STATIC, which lets the compiler inline the library into"
echo "the program (so aio_* code is then mostly counted in the callers); -t32 adds"
echo "-DAIO_TIME32 (32-bit time in 1 ms ticks instead of 64-bit nanoseconds)."
echo
# Stack: fw_size.c run under emulation behind embedded/stack.c, which
# paints the free RAM and reports the high-water mark.
echo "## Stack use of the minimal firmware (measured: painted RAM, run under emulation)"
echo
echo "| target, profile | static RAM (data+bss) | stack, measured |"
echo "|---|---|---|"
QEMU="qemu-system-arm -M mps2-an385 -cpu cortex-m3 -icount shift=4 -display none -serial none -monitor none"
QEMU="$QEMU -chardev stdio,id=shcon -semihosting-config enable=on,target=native,chardev=shcon"
stack_of() { sed -n 's/^stack: \([0-9]*\) bytes$/\1/p' | tail -n 1; }
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
    for prof in default lean-static; do
        case $prof in default) d="" ;; lean-static) d=$LEAN_STATIC ;; esac
        $ARMCC $FLAGS $d -DFW_SIZE_RUN -Dmain=measured_main -c embedded/fw_size.c -o "$B/fw_run_cm3.o" || exit 1
        $ARMCC $FLAGS $ARMLD embedded/stack.c "$B/fw_run_cm3.o" -lgcc -o "$B/fw_stack_cm3_$prof.elf" || exit 1
        st=$(timeout 60 $QEMU -kernel "$B/fw_stack_cm3_$prof.elf" </dev/null | stack_of)
        set -- $(field arm-none-eabi-size "$B/fw_stack_cm3_$prof.elf")
        echo "| Cortex-M3, $prof | $2 | ${st:-run failed} |"
    done
fi
if command -v avr-gcc >/dev/null && [ -f /usr/include/simavr/sim_avr.h ]; then
    gcc -O2 -I/usr/include/simavr embedded/avr/run.c -lsimavr -o "$B/avr_run" || exit 1
    avr-gcc -mmcu=atmega2560 -Os -c embedded/avr/plat.c -o "$B/avr_plat.o" || exit 1
    for prof in default lean-static; do
        case $prof in default) d="" ;; lean-static) d=$LEAN_STATIC ;; esac
        avr-gcc -mmcu=atmega2560 $FLAGS $d -Dmain=measured_main -c embedded/fw_size.c -o "$B/fw_run_avr.o" || exit 1
        avr-gcc -mmcu=atmega2560 $FLAGS -c embedded/stack.c -o "$B/stack_avr.o" || exit 1
        avr-gcc -mmcu=atmega2560 -Wl,--gc-sections "$B/avr_plat.o" "$B/stack_avr.o" "$B/fw_run_avr.o" \
            -o "$B/fw_stack_avr_$prof.elf" || exit 1
        st=$(timeout 60 "$B/avr_run" -m atmega2560 "$B/fw_stack_avr_$prof.elf" 2>/dev/null | stack_of)
        set -- $(field avr-size "$B/fw_stack_avr_$prof.elf")
        echo "| AVR ATmega2560, $prof | $2 | ${st:-run failed} |"
    done
fi
echo
echo "The static RAM here includes the stack wrapper's few bytes; the stack figure"
echo "is everything the program used below the wrapper's frame."
echo

echo "## Blink (embedded/blink.c: three coroutines, a group, a timeout scope, an interrupt-set event)"
echo
echo "| target, profile | flash (text+data) | RAM (data+bss) | aio_* code |"
echo "|---|---|---|---|"
if command -v arm-none-eabi-gcc >/dev/null; then
    $ARMCC $FLAGS $ARMLD embedded/blink.c -lgcc -o "$B/blink_cm3.elf" || exit 1
    $ARMCC $FLAGS $LEAN_STATIC $ARMLD embedded/blink.c -lgcc -o "$B/blink_cm3_lean.elf" || exit 1
    $ARMCC $FLAGS $LEAN_STATIC $T32 $ARMLD embedded/blink.c -lgcc -o "$B/blink_cm3_lean_t32.elf" || exit 1
    row "Cortex-M3, default" arm-none-eabi-size arm-none-eabi-nm "$B/blink_cm3.elf"
    row "Cortex-M3, lean-static" arm-none-eabi-size arm-none-eabi-nm "$B/blink_cm3_lean.elf"
    row "Cortex-M3, lean-static-t32" arm-none-eabi-size arm-none-eabi-nm "$B/blink_cm3_lean_t32.elf"
fi
if command -v avr-gcc >/dev/null; then
    avr-gcc -mmcu=atmega328p $FLAGS -Wl,--gc-sections embedded/blink.c -o "$B/blink_328p.elf" || exit 1
    avr-gcc -mmcu=atmega328p $FLAGS $LEAN_STATIC -Wl,--gc-sections embedded/blink.c -o "$B/blink_328p_lean.elf" || exit 1
    avr-gcc -mmcu=atmega328p $FLAGS $LEAN_STATIC $T32 -Wl,--gc-sections embedded/blink.c -o "$B/blink_328p_lean_t32.elf" || exit 1
    row "ATmega328P, default" avr-size avr-nm "$B/blink_328p.elf"
    row "ATmega328P, lean-static" avr-size avr-nm "$B/blink_328p_lean.elf"
    row "ATmega328P, lean-static-t32" avr-size avr-nm "$B/blink_328p_lean_t32.elf"
fi
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
add "AVR, t32" avr-nm avr-gcc -mmcu=atmega2560 -DAIO_TIME32
add "Cortex-M3" arm-none-eabi-nm arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb
add "Cortex-M3, t32" arm-none-eabi-nm arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -DAIO_TIME32
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
for obj in task frame scope group timer loop post event lock sem flags notify chan chan_end; do
    row="| \`aio_$obj\` |"
    for label in "AVR (8-bit)" "AVR, t32" "Cortex-M3" "Cortex-M3, t32" "rv32imac" "i386" "armhf" "x86-64" "aarch64" "s390x"; do
        case "$cols" in *"$label:"*) ;; *) continue ;; esac
        nmtool=$(printf '%s' "$cols" | sed "s/.*$label:\([^ ]*\).*/\1/")
        v=$($nmtool -S -t d "$B/sizes-$label.o" | awk -v s="aio_sizeof_$obj" '$4 == s { print $2 + 0 }')
        row="$row $v |"
    done
    echo "$row" | sed 's/aio_chan_end/aio_chan_tx \/ _rx/'
done

# goal LABEL LIMIT VALUE: a row of the goals table.
goal() {
    if [ -z "$3" ]; then
        echo "| $1 | <= $2 | n/a | not measured (toolchain missing) |"
    elif [ "$3" -le "$2" ]; then
        echo "| $1 | <= $2 | $3 | met |"
    else
        echo "| $1 | <= $2 | $3 | missed |"
    fi
}
sizeof_of() { # sizeof_of LABEL NM OBJ
    case "$cols" in *"$1:"*) $2 -S -t d "$B/sizes-$1.o" | awk -v s="aio_sizeof_$3" '$4 == s { print $2 + 0 }' ;; esac
}
core="" core32="" task32="" task8="" task32t="" task8t="" bflash="" bram="" bflasht="" bramt=""
[ -f "$B/fw_cm3_lean.elf" ] && core=$(aio_code arm-none-eabi-nm "$B/fw_cm3_lean.elf")
task32=$(sizeof_of "Cortex-M3" arm-none-eabi-nm task)
task8=$(sizeof_of "AVR (8-bit)" avr-nm task)
[ -f "$B/fw_cm3_lean-t32.elf" ] && core32=$(aio_code arm-none-eabi-nm "$B/fw_cm3_lean-t32.elf")
task32t=$(sizeof_of "Cortex-M3, t32" arm-none-eabi-nm task)
task8t=$(sizeof_of "AVR, t32" avr-nm task)
if [ -f "$B/blink_328p_lean.elf" ]; then
    set -- $(field avr-size "$B/blink_328p_lean.elf")
    bflash=$1 bram=$2
fi
if [ -f "$B/blink_328p_lean_t32.elf" ]; then
    set -- $(field avr-size "$B/blink_328p_lean_t32.elf")
    bflasht=$1 bramt=$2
fi
echo
echo "## Goals"
echo
echo "| goal | target | measured | |"
echo "|---|---|---|---|"
goal "core code (aio_* of fw_size.c), Cortex-M3, lean" 2048 "$core"
goal "core code (aio_* of fw_size.c), Cortex-M3, lean, 32-bit ticks" 2048 "$core32"
goal "sizeof(aio_task), Cortex-M3" 32 "$task32"
goal "sizeof(aio_task), Cortex-M3, 32-bit ticks" 32 "$task32t"
goal "sizeof(aio_task), AVR" 20 "$task8"
goal "sizeof(aio_task), AVR, 32-bit ticks" 20 "$task8t"
goal "blink flash, ATmega328P, lean-static" 6144 "$bflash"
goal "blink static RAM, ATmega328P, lean-static" 384 "$bram"
goal "blink flash, ATmega328P, lean-static, 32-bit ticks" 6144 "$bflasht"
goal "blink static RAM, ATmega328P, lean-static, 32-bit ticks" 384 "$bramt"
