/* Timing for the peer programs: prints "operation<TAB>ns/op median" lines
 * (median of 7 runs after a warm-up), which bench/peers/run.sh tabulates. */
#ifndef PEER_UTIL_H
#define PEER_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int peer_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void peer_report(const char *name, uint64_t (*run)(void *, long), void *ctx, long n)
{
    double v[7];
    int i;
    (void)run(ctx, n / 4 > 0 ? n / 4 : 1);
    for (i = 0; i < 7; i++)
        v[i] = (double)run(ctx, n) / (double)n;
    qsort(v, 7, sizeof v[0], peer_cmp);
    printf("%s\t%.2f\t%.2f\t%.2f\n", name, v[3], v[0], v[6]);
    fflush(stdout);
}
#endif
