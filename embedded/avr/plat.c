/*
 * embedded/avr/plat.c - platform glue for running a test program under
 * simavr with embedded/avr/run.c.
 *
 * The test's main() is compiled as test_main (-Dmain=test_main).  Output
 * goes byte by byte to GPIOR0, the exit status to GPIOR1, and "cli; sleep"
 * ends the simulation (simavr stops a core that sleeps with interrupts off).
 */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/sleep.h>

int test_main(void);
void plat_puts(const char *s);

void plat_puts(const char *s)
{
    while (*s)
        GPIOR0 = (uint8_t)*s++;
}

int main(void)
{
    int rc = test_main();
    GPIOR1 = (uint8_t)(rc ? (rc & 0xff ? rc & 0xff : 1) : 0);
    cli();
    sleep_cpu();
    for (;;) {
    }
}
