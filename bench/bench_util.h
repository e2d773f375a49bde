/*
 * bench_util.h - timing, statistics and table output shared by the
 * benchmark programs in bench/.
 *
 * Every figure is the median of BU_RUNS runs (with the minimum and maximum
 * beside it) of one operation repeated n times, in nanoseconds per operation.
 * Tables are printed as markdown so bench/RESULTS.md can quote them as is.
 * The floor of a switch is a bare function-pointer resume of a switch/case
 * coroutine, measured in the same binary by bu_floor_resume().
 */
#ifndef AIO_BENCH_UTIL_H
#define AIO_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef BU_RUNS
#define BU_RUNS 7
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BU_NOINLINE __attribute__((noinline))
#define BU_UNUSED __attribute__((unused))
#else
#define BU_NOINLINE
#define BU_UNUSED
#endif

/** Monotonic time in nanoseconds. */
BU_UNUSED static uint64_t bu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bu_stat {
    double med, min, max;
} bu_stat;

BU_UNUSED static int bu_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/**
 * Runs `run(ctx, n)` BU_RUNS times after one warm-up run; `run` returns the
 * elapsed nanoseconds for n operations.  Returns ns/op statistics.
 */
BU_UNUSED static bu_stat bu_measure(uint64_t (*run)(void *ctx, long n), void *ctx, long n)
{
    double v[BU_RUNS];
    bu_stat s;
    int i;
    (void)run(ctx, n / 4 > 0 ? n / 4 : 1);
    for (i = 0; i < BU_RUNS; i++)
        v[i] = (double)run(ctx, n) / (double)n;
    qsort(v, BU_RUNS, sizeof v[0], bu_cmp_double);
    s.med = v[BU_RUNS / 2];
    s.min = v[0];
    s.max = v[BU_RUNS - 1];
    return s;
}

/* ---- the floor: bare resume of a switch/case coroutine ----------------- */

struct bu_co {
    uint32_t pc;
    uint32_t n;
};

/* A switch/case coroutine that yields once per call. */
static BU_NOINLINE int bu_co_step(struct bu_co *c)
{
    switch (c->pc) {
    case 0:
        for (;;) {
            c->n++;
            c->pc = 1;
            return 0;
    case 1:;
        }
    default:
        break;
    }
    return 1;
}

BU_UNUSED static uint64_t bu_floor_run(void *ctx, long n)
{
    int (*volatile fp)(struct bu_co *) = bu_co_step;
    struct bu_co co = { 0, 0 };
    uint64_t t0;
    long i;
    (void)ctx;
    t0 = bu_now();
    for (i = 0; i < n; i++)
        fp(&co);
    t0 = bu_now() - t0;
    if (co.n != (uint32_t)n)
        abort();
    return t0;
}

/** Bare function-pointer resume of a switch/case coroutine (ns/op). */
BU_UNUSED static bu_stat bu_floor_resume(void)
{
    return bu_measure(bu_floor_run, NULL, 20000000);
}

/* ---- machine description ----------------------------------------------- */

BU_UNUSED static void bu_cpu_name(char *buf, size_t len)
{
    FILE *fp = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, len, "unknown CPU");
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, len, "%s", p);
            }
            break;
        }
    }
    fclose(fp);
}

/** Prints the machine, compiler and flags line above a table. */
BU_UNUSED static void bu_print_machine(void)
{
    char cpu[256];
    const char *flags = getenv("BENCH_FLAGS");
    bu_cpu_name(cpu, sizeof cpu);
    printf("machine: %s, %ld CPUs; compiler: %s; flags: %s\n\n", cpu,
#ifdef _SC_NPROCESSORS_ONLN
           sysconf(_SC_NPROCESSORS_ONLN),
#else
           -1L,
#endif
#if defined(__VERSION__)
#if defined(__clang__)
           "clang " __VERSION__,
#else
           "gcc " __VERSION__,
#endif
#else
           "unknown",
#endif
           flags ? flags : "(unknown: set BENCH_FLAGS)");
}

/** Table header (markdown). */
BU_UNUSED static void bu_table_head(void)
{
    printf("| operation | ns/op median | min | max | floor ns | ratio to floor |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
}

/** One row; floor <= 0 prints no floor or ratio. */
BU_UNUSED static void bu_row(const char *name, bu_stat s, double floor)
{
    if (floor > 0)
        printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", name, s.med, s.min, s.max, floor, s.med / floor);
    else
        printf("| %s | %.2f | %.2f | %.2f | - | - |\n", name, s.med, s.min, s.max);
    fflush(stdout);
}

/** Peak resident set size of this process in bytes. */
BU_UNUSED static long long bu_peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long long)ru.ru_maxrss * 1024;
}

#endif
