/*
 * tests/embedded/eharness.h - a test harness for targets without stdio.
 *
 * The platform supplies one function, plat_puts(s), which writes the
 * NUL-terminated string s (no newline added).  Everything else is here:
 * number formatting, per-test check counting and the final
 * "N passed, M failed" line.  Checks print only their line number, so the
 * harness adds no strings to RAM on targets (AVR) that copy literals there.
 *
 *     ETEST(sleep_advances_the_clock) { ... ECHECK(x == 1); ECHECK_EQ(a, b); }
 *     int main(void) { ERUN(sleep_advances_the_clock); return ereport(); }
 *
 * ERUN runs a test unperturbed and then under EH_SEEDS seeded schedules
 * (eh_seed is the seed to give the loop); ERUN_ONCE runs it unperturbed.
 */
#ifndef AIO_EHARNESS_H
#define AIO_EHARNESS_H

#include <stddef.h>
#include <stdint.h>

void plat_puts(const char *s);

#ifndef EH_SEEDS
#define EH_SEEDS 2
#endif

typedef struct eh_state {
    int passed, failed; /* tests */
    int checks_failed;  /* in the current run */
    uint64_t seed;      /* 0 = unperturbed */
} eh_state;

/* The harness's state: one object, defined by the test program. */
extern eh_state eh;

static void eh_putu(unsigned long v)
{
    char buf[12];
    int i = (int)sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v && i > 0);
    plat_puts(buf + i);
}

static void eh_puti(long v)
{
    if (v < 0) {
        plat_puts("-");
        eh_putu(0ul - (unsigned long)v);
    } else {
        eh_putu((unsigned long)v);
    }
}

static void eh_fail_at(int line, long a, long b, int has_values)
{
    eh.checks_failed++;
    plat_puts("  check failed at line ");
    eh_putu((unsigned long)line);
    if (has_values) {
        plat_puts(": ");
        eh_puti(a);
        plat_puts(" != ");
        eh_puti(b);
    }
    if (eh.seed) {
        plat_puts(" (seeded)");
    }
    plat_puts("\n");
}

#define ECHECK(cond) \
    do { \
        if (!(cond)) \
            eh_fail_at(__LINE__, 0, 0, 0); \
    } while (0)

/* Compares as long (at least 32 bits everywhere); times are compared in ms. */
#define ECHECK_EQ(a, b) \
    do { \
        long eh_a = (long)(a), eh_b = (long)(b); \
        if (eh_a != eh_b) \
            eh_fail_at(__LINE__, eh_a, eh_b, 1); \
    } while (0)

#define ETEST(name) static void name(void)

/* Zeroes an object (test state lives on the stack, one test at a time). */
static void eh_zero(void *p, size_t n)
{
    volatile unsigned char *c = (volatile unsigned char *)p;
    while (n--)
        *c++ = 0;
}

static void eh_run(void (*fn)(void), const char *name, int seeded)
{
    int i, bad = 0;
    for (i = 0; i <= (seeded ? EH_SEEDS : 0) && !bad; i++) {
        eh.seed = i == 0 ? 0 : 0x9E3779B97F4A7C15ull * (uint64_t)i + 12345u;
        eh.checks_failed = 0;
        fn();
        bad = eh.checks_failed != 0;
    }
    plat_puts(bad ? "FAIL " : "ok   ");
    plat_puts(name);
    plat_puts("\n");
    if (bad)
        eh.failed++;
    else
        eh.passed++;
    eh.seed = 0;
}

#define ERUN(fn) eh_run(fn, #fn, 1)
#define ERUN_ONCE(fn) eh_run(fn, #fn, 0)

/* Prints "N passed, M failed"; returns 0 when every test passed. */
static int ereport(void)
{
    eh_putu((unsigned long)eh.passed);
    plat_puts(" passed, ");
    eh_putu((unsigned long)eh.failed);
    plat_puts(" failed\n");
    return eh.failed ? 1 : 0;
}

#endif
