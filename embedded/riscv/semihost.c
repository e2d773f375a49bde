/*
 * embedded/riscv/semihost.c - RISC-V semihosting for QEMU
 * (-semihosting-config enable=on): plat_puts through SYS_WRITE0 and the
 * exit status through SYS_EXIT_EXTENDED.  The trap sequence must be three
 * uncompressed instructions, 16-byte aligned.
 */
#include <stdint.h>

void plat_puts(const char *s);
void plat_exit(int status) __attribute__((noreturn));

#define SH_WRITE0 0x04
#define SH_EXIT 0x18
#define SH_EXIT_EXTENDED 0x20
#define SH_APPLICATION_EXIT 0x20026
#define SH_RUNTIME_ERROR 0x20023

static long semihost(long op, void *arg)
{
    register long a0 __asm__("a0") = op;
    register void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                     "slli x0, x0, 0x1f\n\tebreak\n\tsrai x0, x0, 7\n\t.option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
}

void plat_puts(const char *s)
{
    semihost(SH_WRITE0, (void *)(uintptr_t)s);
}

void plat_exit(int status)
{
    uintptr_t block[2]; /* fields are XLEN wide */
    block[0] = SH_APPLICATION_EXIT;
    block[1] = (uintptr_t)(intptr_t)status;
    semihost(SH_EXIT_EXTENDED, block);
    semihost(SH_EXIT, (void *)(uintptr_t)(status ? SH_RUNTIME_ERROR : SH_APPLICATION_EXIT));
    for (;;) {
    }
}
