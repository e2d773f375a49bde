/*
 * embedded/stack.c - measures the stack a firmware program uses: fills the
 * free RAM below the caller's frame with a pattern, runs the program (its
 * main compiled as measured_main), then finds the lowest byte that changed
 * and prints "stack: N bytes" through plat_puts.  The figure is what the
 * program used below this wrapper's frame, interrupts included.  Linked in
 * front of the program by `make size` (Cortex-M3 under qemu, AVR under
 * simavr, where embedded/avr/plat.c calls test_main).
 */
#include <stddef.h>
#include <stdint.h>

int measured_main(void);
void plat_puts(const char *s);

#if defined(__AVR__)
extern char __heap_start; /* avr-libc: the end of .bss */
#define RAM_LOW (&__heap_start)
#define ENTRY test_main
#else
extern uint32_t bss_end; /* embedded/arm/cm3.ld */
#define RAM_LOW ((char *)&bss_end)
#define ENTRY main
#endif
#define PATTERN 0xA5
#define MARGIN 64 /* bytes below this frame left alone (the fill loop's own) */

int ENTRY(void);

static void put_num(unsigned long v)
{
    char buf[12], *p = buf + sizeof buf;
    *--p = 0;
    do {
        *--p = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    plat_puts(p);
}

__attribute__((noinline)) static char *paint(void)
{
    uintptr_t top = (uintptr_t)__builtin_frame_address(0) - MARGIN;
    char *p;
    for (p = RAM_LOW; (uintptr_t)p < top; p++)
        *(volatile char *)p = (char)PATTERN;
    return (char *)top;
}

int ENTRY(void)
{
    char *top = paint(), *p;
    int rc = measured_main();
    for (p = RAM_LOW; p < top && *(volatile unsigned char *)p == PATTERN; p++) {
    }
    plat_puts("stack: ");
    put_num((unsigned long)(top - p));
    plat_puts(" bytes\n");
    return rc;
}
