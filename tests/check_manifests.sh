#!/bin/sh
# Checks the packaging manifests firmware users reach for:
#  - library.json (PlatformIO): valid JSON (python3's json module when
#    python3 is present), the version of aio.h, and every file it names
#    (headers, export list, examples) exists;
#  - library.properties (Arduino): key=value lines, every required field
#    present, the version of aio.h, the `includes` headers exist, and the
#    example folder holds a sketch of its own name;
#  - the example both pick up (examples/ArduinoBlink) builds: its C half as
#    C99 with -Werror, its sketch as C++ against a stand-in Arduino API, and
#    the two run together natively (the LED blinks; a button press speeds
#    it up).  With avr-gcc installed, the C half also builds for ATmega328P.
#
#   sh tests/check_manifests.sh        exit status 0 when everything holds
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
fail=0
bad() { echo "check_manifests: $*"; fail=1; }
version=$(sed -n 's/^#define AIO_VERSION_STRING "\(.*\)"$/\1/p' aio.h)
[ -n "$version" ] || bad "no AIO_VERSION_STRING in aio.h"

# ---- library.json --------------------------------------------------------
if [ ! -f library.json ]; then
    bad "library.json missing"
elif command -v python3 >/dev/null; then
    names=$(python3 - "$version" <<'PY'
import json, sys
try:
    m = json.load(open("library.json"))
except ValueError as e:
    print("INVALID", e)
    sys.exit(0)
for k in ("name", "version", "description", "frameworks", "platforms"):
    if k not in m:
        print("MISSING", k)
if m.get("version") != sys.argv[1]:
    print("VERSION", m.get("version"))
for h in m.get("headers", []):
    print("FILE", h)
for f in m.get("export", {}).get("include", []):
    print("FILE", f)
for ex in m.get("examples", []):
    base = ex.get("base", "")
    print("FILE", base)
    for f in ex.get("files", []):
        print("FILE", base + "/" + f)
PY
)
    printf '%s\n' "$names" | while read -r kind rest; do
        case $kind in
        INVALID) echo "check_manifests: library.json is not valid JSON: $rest"; exit 1 ;;
        MISSING) echo "check_manifests: library.json lacks \"$rest\""; exit 1 ;;
        VERSION) echo "check_manifests: library.json version $rest, aio.h says $version"; exit 1 ;;
        FILE) [ -e "$rest" ] || { echo "check_manifests: library.json names $rest, which does not exist"; exit 1; } ;;
        esac
    done || fail=1
else
    # Without python3: balanced braces and the version string, at least.
    o=$(tr -cd '{' <library.json | wc -c)
    c=$(tr -cd '}' <library.json | wc -c)
    [ "$o" -eq "$c" ] || bad "library.json: unbalanced braces"
    grep -q "\"version\": \"$version\"" library.json || bad "library.json: version is not $version"
fi

# ---- library.properties --------------------------------------------------
if [ ! -f library.properties ]; then
    bad "library.properties missing"
else
    if grep -v -E '^[a-z][a-z._]*=.*$' library.properties | grep -q -v '^$'; then
        bad "library.properties: a line is not key=value"
    fi
    for k in name version author maintainer sentence paragraph category url architectures; do
        grep -q "^$k=" library.properties || bad "library.properties lacks $k"
    done
    v=$(sed -n 's/^version=//p' library.properties)
    [ "$v" = "$version" ] || bad "library.properties version $v, aio.h says $version"
    cat=$(sed -n 's/^category=//p' library.properties)
    case $cat in
    "Display" | "Communication" | "Signal Input/Output" | "Sensors" | "Device Control" | "Timing" | \
        "Data Storage" | "Data Processing" | "Other") ;;
    *) bad "library.properties: category '$cat' is not one of Arduino's" ;;
    esac
    for h in $(sed -n 's/^includes=//p' library.properties | tr ',' ' '); do
        [ -f "$h" ] || bad "library.properties includes $h, which does not exist"
    done
    # The flat layout compiles every source file in the root: there must be none.
    for f in *.c *.cpp *.S; do
        [ -e "$f" ] && bad "$f in the library root would be compiled into every sketch"
    done
fi
for d in examples/ArduinoBlink; do
    [ -f "$d/$(basename "$d").ino" ] || bad "$d has no $(basename "$d").ino"
done

# ---- the example builds and runs -------------------------------------------
B=${BUILD:-build}/manifests
mkdir -p "$B"
ex=examples/ArduinoBlink
cat >"$B/Arduino.h" <<'H'
/* A stand-in for the Arduino API the sketch uses, to build and run it natively. */
#define LED_BUILTIN 13
#define HIGH 1
#define LOW 0
#define OUTPUT 1
#define INPUT_PULLUP 2
#define FALLING 2
#define digitalPinToInterrupt(p) (p)
unsigned long millis(void);
void digitalWrite(int pin, int v);
void pinMode(int pin, int mode);
void attachInterrupt(int irq, void (*isr)(void), int mode);
H
cat >"$B/host_arduino.cc" <<'H'
#include "Arduino.h"
#include <stdio.h>
void setup();
void loop();
static unsigned long now_ms;
static int led = -1, toggles, toggles_fast;
static void (*button)(void);
unsigned long millis(void) { return now_ms; }
void digitalWrite(int pin, int v) { if (pin == LED_BUILTIN && v != led) { led = v; toggles++; } }
void pinMode(int, int) {}
void attachInterrupt(int, void (*isr)(void), int) { button = isr; }
int main()
{
    int slow;
    setup();
    for (now_ms = 0; now_ms < 3000; now_ms++) loop();
    slow = toggles;             /* 500 ms blinks: 6 or 7 in 3 s */
    button();                   /* the interrupt */
    toggles = 0;
    for (; now_ms < 4000; now_ms++) loop();
    toggles_fast = toggles;     /* 100 ms blinks: about 10 in 1 s */
    printf("slow %d fast %d\n", slow, toggles_fast);
    return (slow >= 6 && slow <= 7 && toggles_fast >= 9 && toggles_fast <= 11) ? 0 : 1;
}
H
WARN="-Wall -Wextra -Werror"
if ! cc -std=c99 $WARN -Wpedantic -I. -I"$ex" -c "$ex/blink_app.c" -o "$B/blink_app.o"; then
    bad "$ex/blink_app.c does not build"
elif ! command -v c++ >/dev/null; then
    echo "check_manifests: no C++ compiler: the sketch half of $ex is not built"
elif ! c++ $WARN -I"$B" -I"$ex" -x c++ -include Arduino.h -c "$ex/ArduinoBlink.ino" -o "$B/sketch.o" ||
    ! c++ $WARN -I"$B" -c "$B/host_arduino.cc" -o "$B/host_arduino.o" ||
    ! c++ "$B/sketch.o" "$B/host_arduino.o" "$B/blink_app.o" -o "$B/arduino_blink"; then
    bad "$ex/ArduinoBlink.ino does not build against the stand-in Arduino API"
elif ! out=$("$B/arduino_blink"); then
    bad "the ArduinoBlink sketch did not blink as expected: $out"
fi
if command -v avr-gcc >/dev/null; then
    avr-gcc -mmcu=atmega328p -Os -std=c99 $WARN -I. -I"$ex" -c "$ex/blink_app.c" -o "$B/blink_app_avr.o" ||
        bad "$ex/blink_app.c does not build for ATmega328P"
fi
[ "$fail" -eq 0 ] && echo "check_manifests: library.json, library.properties and $ex ok"
exit "$fail"
