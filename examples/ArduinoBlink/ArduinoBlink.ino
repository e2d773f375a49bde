// ArduinoBlink - aio in an Arduino sketch: the coroutines live in
// blink_app.c (C); loop() turns the aio loop, and the button interrupt on
// pin 2 sets an interrupt-safe flag a task waits for.
#include "blink_app.h"

extern "C" unsigned long board_millis(void) { return millis(); }
extern "C" void board_led(int on) { digitalWrite(LED_BUILTIN, on ? HIGH : LOW); }

static void button_isr() { blink_button(); }

void setup()
{
    pinMode(LED_BUILTIN, OUTPUT);
    pinMode(2, INPUT_PULLUP);
    attachInterrupt(digitalPinToInterrupt(2), button_isr, FALLING);
    blink_setup();
}

void loop()
{
    blink_poll();
}
