/* blink_app.h - the C side of the ArduinoBlink sketch. */
#ifndef BLINK_APP_H
#define BLINK_APP_H
#ifdef __cplusplus
extern "C" {
#endif
/* Provided by the sketch (ArduinoBlink.ino). */
unsigned long board_millis(void);
void board_led(int on);
/* Provided by blink_app.c. */
int blink_setup(void);  /* 0 or an aio error code */
void blink_poll(void);  /* one loop turn; call it from loop() */
void blink_button(void); /* from the button interrupt (or any context) */
#ifdef __cplusplus
}
#endif
#endif
