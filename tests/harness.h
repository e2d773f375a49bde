/*
 * tests/harness.h - the test harness of the aio suite.
 *
 * A test file defines tests with TEST(name), checks with CHECK / CHECK_EQ,
 * and ends with a main that runs them:
 *
 *     TEST(sleep_advances_virtual_time) { ... CHECK_EQ(aio_now(&L), AIO_MS(5)); }
 *     int main(void) { RUN(sleep_advances_virtual_time); return harness_report(); }
 *
 * Every test builds its own loop with test_loop_init(), which uses the
 * virtual clock (exact, instant time) and the harness's current schedule
 * seed.  RUN runs a test once unperturbed and then under AIO_TEST_SEEDS
 * seeded schedules (default 8); a failure prints the seed, and AIO_TEST_SEED=N
 * replays just that seed.  AIO_TEST_ONLY=SUBSTRING runs only the tests whose
 * names contain SUBSTRING.  The last line a test binary prints is
 * "RESULT <passed> <failed>", which tests/run.sh adds up.
 */
#ifndef AIO_TEST_HARNESS_H
#define AIO_TEST_HARNESS_H

#include "../aio_reactor.h" /* first: the implementation picks its POSIX feature level */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed_checks;   /* checks failed in the current test run */
static int harness_passed, harness_failed;
static uint64_t harness_seed;       /* 0 = unperturbed */
static const char *harness_test;

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            harness_failed_checks++; \
            printf("  check failed: %s:%d: %s (test %s, seed %llu)\n", __FILE__, __LINE__, #cond, \
                   harness_test, (unsigned long long)harness_seed); \
        } \
    } while (0)

#define CHECK_EQ(a, b) \
    do { \
        long long harness_a = (long long)(a), harness_b = (long long)(b); \
        if (harness_a != harness_b) { \
            harness_failed_checks++; \
            printf("  check failed: %s:%d: %s == %s (%lld != %lld) (test %s, seed %llu)\n", __FILE__, __LINE__, \
                   #a, #b, harness_a, harness_b, harness_test, (unsigned long long)harness_seed); \
        } \
    } while (0)

#define TEST(name) static void name(void)

/* Reactors for the tests' loops, one per loop address (reused when a test
 * initialises the same loop again). */
#define HARNESS_REACTORS 8
static aio_reactor harness_io[HARNESS_REACTORS];
#if AIO__BACKEND != AIO__BE_NONE
static int harness_io_next;
#endif

/** Plugs an OS reactor into an initialised loop (backend "none": nothing). */
AIO__UNUSED static void test_reactor_attach(aio_loop *L)
{
#if AIO__BACKEND != AIO__BE_NONE
    int i;
    aio_reactor *io = NULL;
    for (i = 0; i < HARNESS_REACTORS && !io; i++)
        if (harness_io[i].loop == L)
            io = &harness_io[i];
    if (!io) {
        io = &harness_io[harness_io_next];
        harness_io_next = (harness_io_next + 1) % HARNESS_REACTORS;
    }
    if (aio_reactor_init(io, L) != 0) {
        printf("  aio_reactor_init failed\n");
        harness_failed_checks++;
    }
#else
    (void)L;
#endif
}

/** The reactor test_reactor_attach gave `L`, or NULL. */
AIO__UNUSED static aio_reactor *test_reactor(aio_loop *L)
{
    int i;
    for (i = 0; i < HARNESS_REACTORS; i++)
        if (harness_io[i].loop == L && L->io.ctx == (void *)&harness_io[i])
            return &harness_io[i];
    return NULL;
}

/** Tasks parked on descriptors of `L`. */
AIO__UNUSED static uint32_t test_fd_waits(aio_loop *L)
{
    aio_stats st;
    aio_loop_stats(L, &st);
    return st.fd_waits;
}

/** Initialises a loop for a test: virtual clock, the harness's seed, an OS
 * reactor. */
AIO__UNUSED static void test_loop_init(aio_loop *L)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = harness_seed;
    if (aio_loop_init(L, &cfg) != 0) {
        printf("  aio_loop_init failed\n");
        harness_failed_checks++;
    }
    test_reactor_attach(L);
}

/** Descriptors this process has open (the entries of /proc/self/fd), or -1
 * where there is no /proc: a test compares the count before and after. */
AIO__UNUSED static int harness_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static int harness_nseeds(void)
{
    const char *e = getenv("AIO_TEST_SEEDS");
    return e ? atoi(e) : 8;
}

static void harness_run(void (*fn)(void), const char *name, int seeded)
{
    const char *replay = getenv("AIO_TEST_SEED");
    const char *only = getenv("AIO_TEST_ONLY");
    int i, n = seeded ? harness_nseeds() : 0, bad = 0;
    static int line_buffered;
    if (!line_buffered) {
        /* A test that hangs and is killed still shows what it got to. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        line_buffered = 1;
    }
    if (only && !strstr(name, only))
        return;
    harness_test = name;
    if (replay) {
        harness_seed = strtoull(replay, NULL, 10);
        harness_failed_checks = 0;
        fn();
        bad = harness_failed_checks != 0;
    } else {
        for (i = 0; i <= n && !bad; i++) {
            harness_seed = i == 0 ? 0 : 0x9E3779B97F4A7C15ULL * (uint64_t)i + 12345u;
            harness_failed_checks = 0;
            fn();
            if (harness_failed_checks) {
                bad = 1;
                printf("FAIL %s (seed %llu; replay with AIO_TEST_SEED=%llu)\n", name,
                       (unsigned long long)harness_seed, (unsigned long long)harness_seed);
            }
        }
    }
    if (bad) {
        harness_failed++;
        if (replay)
            printf("FAIL %s (seed %llu)\n", name, (unsigned long long)harness_seed);
    } else {
        harness_passed++;
        printf("ok   %s\n", name);
    }
    harness_seed = 0;
}

/** Runs a test unperturbed and under the seeded schedules. */
#define RUN(fn) harness_run(fn, #fn, 1)
/** Runs a test once, unperturbed (tests whose checks depend on run order). */
#define RUN_ONCE(fn) harness_run(fn, #fn, 0)

static int harness_report(void)
{
    printf("RESULT %d %d\n", harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

/* Every test binary compiles the implementation once, here. */
#endif
