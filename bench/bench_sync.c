/*
 * bench/bench_sync.c - cost of aio_sync.h operations, in ns per operation,
 * with the bare schedule point (AIO_YIELD) beside them for reference.
 *
 *   uncontended try_acquire + release      plain calls, no suspension
 *   uncontended AIO_LOCK_ACQUIRE + release  includes its schedule point
 *   contended hand-off between two tasks   each acquire parks; each release
 *                                          hands the lock to the other task
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define N 2000000L

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static aio_lock lock;
static volatile long sink;

struct loopf { aio_frame hdr; long i; int mode; };
static int bench_task(aio_task *t, void *p)
{
    struct loopf *f = (struct loopf *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < N; f->i++) {
        if (f->mode == 0) {
            AIO_YIELD();
        } else if (f->mode == 1) {
            rc = aio_lock_try_acquire(t, &lock);
            sink += rc;
            aio_lock_release(t, &lock);
        } else {
            AIO_LOCK_ACQUIRE(rc, &lock);
            sink += rc;
            if (f->mode == 3)
                AIO_YIELD(); /* hold across a switch so the other task queues */
            aio_lock_release(t, &lock);
        }
    }
    AIO_END(0);
}

struct two { aio_frame hdr; aio_group g; aio_task a, b; struct loopf fa, fb; };
static int two_main(aio_task *t, void *p)
{
    struct two *f = (struct two *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, bench_task, &f->fa);
    aio_spawn(&f->g, &f->b, bench_task, &f->fb);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static double run_one(int mode)
{
    static aio_loop loop;
    static aio_task mt;
    static struct loopf f;
    double t0;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.mode = mode;
    aio_lock_init(&lock);
    aio_loop_init(&loop, NULL);
    t0 = now_ns();
    aio_run(&loop, &mt, bench_task, &f);
    return (now_ns() - t0) / (double)N;
}

static double run_two(void)
{
    static aio_loop loop;
    static aio_task mt;
    static struct two f;
    double t0;
    long handoffs;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.fa.mode = f.fb.mode = 3;
    aio_lock_init(&lock);
    aio_loop_init(&loop, NULL);
    t0 = now_ns();
    aio_run(&loop, &mt, two_main, &f);
    handoffs = 2 * N; /* every release finds the other task queued */
    return (now_ns() - t0) / (double)handoffs;
}

int main(void)
{
    printf("sizeof: aio_event %u, aio_lock %u, aio_cond %u, aio_sem %u, aio_limiter %u, aio_borrow %u, "
           "aio_waitgroup %u, aio_barrier %u\n",
           (unsigned)sizeof(aio_event), (unsigned)sizeof(aio_lock), (unsigned)sizeof(aio_cond),
           (unsigned)sizeof(aio_sem), (unsigned)sizeof(aio_limiter), (unsigned)sizeof(aio_borrow),
           (unsigned)sizeof(aio_waitgroup), (unsigned)sizeof(aio_barrier));
    printf("AIO_YIELD (schedule point floor)          %6.1f ns\n", run_one(0));
    printf("uncontended try_acquire + release         %6.1f ns\n", run_one(1));
    printf("uncontended AIO_LOCK_ACQUIRE + release    %6.1f ns\n", run_one(2));
    printf("contended hand-off between two tasks      %6.1f ns per hand-off\n", run_two());
    return 0;
}
