/*
 * embedded/arm/startup.c - vector table, reset handler and semihosting for
 * Cortex-M under QEMU (-semihosting-config enable=on).  No C library.
 *
 * The reset handler copies .data, zeroes .bss, calls main() and reports its
 * result as the emulator's exit status (semihosting SYS_EXIT_EXTENDED).  A
 * fault ends the run with status 99.  plat_puts() writes through
 * SYS_WRITE0.  SysTick_Handler is weak: a program may provide its own.
 */
#include <stdint.h>

extern uint32_t data_load, data_start, data_end, bss_start, bss_end, stack_top;
int main(void);
void plat_puts(const char *s);
void plat_exit(int status) __attribute__((noreturn));
void reset_handler(void) __attribute__((noreturn));
void fault_handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("fault_handler")));

#define SH_WRITE0 0x04
#define SH_EXIT 0x18
#define SH_EXIT_EXTENDED 0x20
#define SH_APPLICATION_EXIT 0x20026
#define SH_RUNTIME_ERROR 0x20023

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void plat_puts(const char *s)
{
    semihost(SH_WRITE0, (void *)(uintptr_t)s);
}

void plat_exit(int status)
{
    int block[2];
    block[0] = SH_APPLICATION_EXIT;
    block[1] = status;
    semihost(SH_EXIT_EXTENDED, block);
    /* a host without the extension: only pass/fail */
    semihost(SH_EXIT, (void *)(uintptr_t)(status ? SH_RUNTIME_ERROR : SH_APPLICATION_EXIT));
    for (;;) {
    }
}

/* Copy and zero loops must not become memcpy/memset calls here: .data and
 * .bss do not exist yet. */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void reset_handler(void)
{
    uint32_t *src = &data_load, *dst = &data_start;
    while (dst < &data_end)
        *dst++ = *src++;
    for (dst = &bss_start; dst < &bss_end;)
        *dst++ = 0;
    plat_exit(main());
}

void fault_handler(void)
{
    plat_exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&stack_top,
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0, 0, 0, 0,
    fault_handler, /* SVCall */
    fault_handler, /* DebugMonitor */
    0,
    fault_handler,  /* PendSV */
    SysTick_Handler,
};
