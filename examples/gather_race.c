/*
 * examples/gather_race.c - wait for all (gather), wait for the first
 * (race), and wait with a timeout.
 *
 * The Python original:
 *
 *     # 1. gather: every result, failures included, nothing cancelled
 *     results = await asyncio.gather(fetch(10), fetch(30), lookup(15),
 *                                    return_exceptions=True)
 *
 *     # 2. race: the first to finish wins, the rest are cancelled
 *     done, pending = await asyncio.wait(mirrors, return_when=FIRST_COMPLETED)
 *     for p in pending: p.cancel()
 *
 *     # 3. with a timeout: what finished in time, the rest cancelled
 *     with trio.move_on_after(0.025):
 *         async with trio.open_nursery() as n: ...
 *
 * The C mapping:
 *   - The group's mode picks the policy.  AIO_GROUP_ALL_SETTLED is
 *     gather(return_exceptions=True): a failure cancels nothing, and each
 *     child's result is read afterwards with aio_task_rc (a value >= 0, or
 *     a negative error).  The group's wait still returns the first error,
 *     so a failure is never silent.
 *   - AIO_GROUP_FIRST_DONE is wait(FIRST_COMPLETED) plus cancelling the
 *     rest: the first child to finish cancels its siblings, and
 *     aio_group_winner(&g) is that child.  The group catches its own
 *     cancellation (result 0).
 *   - A timeout around a group is a scope around it (trio's move_on_after
 *     around a nursery).  Unlike asyncio.wait(timeout=...), which leaves
 *     pending tasks running, the children that are still running when the
 *     deadline passes are cancelled: nothing outlives the block.
 *
 * Clock: virtual, so every time printed is exact.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static long long ms(aio_task *t)
{
    return (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1));
}

/* Sleeps `delay_ms`, then returns `result` (a value >= 0 or an error). */
struct job {
    aio_frame hdr;
    int delay_ms;
    int result;
};

static int job(aio_task *t, void *frame)
{
    struct job *f = (struct job *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(f->delay_ms));
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_RETURN(f->result);
    AIO_END(0);
}

#define N 3

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_scope timeout;
    aio_task tasks[N];
    struct job jobs[N];
    aio_time t0;
    int i;
};

/* Spawns N jobs with the given delays and results. */
static void spawn_jobs(struct main_frame *f, const int delay_ms[N], const int result[N])
{
    int i;
    for (i = 0; i < N; i++) {
        f->jobs[i].delay_ms = delay_ms[i];
        f->jobs[i].result = result[i];
        aio_spawn(&f->g, &f->tasks[i], job, &f->jobs[i]);
    }
}

static void print_results(struct main_frame *f)
{
    int i;
    for (i = 0; i < N; i++) {
        int rc = aio_task_rc(&f->tasks[i]);
        if (rc >= 0)
            printf("           job %d (%2d ms): value %d\n", i, f->jobs[i].delay_ms, rc);
        else
            printf("           job %d (%2d ms): %s\n", i, f->jobs[i].delay_ms, aio_strerror(rc));
    }
}

static int main_coro(aio_task *t, void *frame)
{
    static const int gather_delay[N] = { 10, 30, 15 }, gather_result[N] = { 100, 300, -ENOENT };
    static const int race_delay[N] = { 30, 10, 20 }, race_result[N] = { 1, 2, 3 };
    static const int timeout_delay[N] = { 10, 20, 40 }, timeout_result[N] = { 7, 8, 9 };
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);

    /* 1. gather(return_exceptions=True) */
    f->t0 = aio_now(aio_task_loop(t));
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    spawn_jobs(f, gather_delay, gather_result);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("%3lld ms  gather: took %lld ms, group returned \"%s\"\n", ms(t),
           (long long)((aio_now(aio_task_loop(t)) - f->t0) / AIO_MS(1)), aio_strerror(rc));
    print_results(f);

    /* 2. race: FIRST_DONE */
    f->t0 = aio_now(aio_task_loop(t));
    aio_group_enter(t, &f->g, AIO_GROUP_FIRST_DONE);
    spawn_jobs(f, race_delay, race_result);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("%3lld ms  race: took %lld ms, group returned \"%s\", winner: job %d\n", ms(t),
           (long long)((aio_now(aio_task_loop(t)) - f->t0) / AIO_MS(1)), aio_strerror(rc),
           (int)(aio_group_winner(&f->g) - f->tasks));
    print_results(f);

    /* 3. wait with a timeout: a move_on_after scope around the group */
    f->t0 = aio_now(aio_task_loop(t));
    aio_move_on_after(t, &f->timeout, AIO_MS(25));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    spawn_jobs(f, timeout_delay, timeout_result);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = aio_scope_exit(t, &f->timeout, rc);
    printf("%3lld ms  timeout 25 ms: took %lld ms, returned \"%s\", timed out: %s\n", ms(t),
           (long long)((aio_now(aio_task_loop(t)) - f->t0) / AIO_MS(1)), aio_strerror(rc),
           aio_scope_cancelled_caught(&f->timeout) ? "yes" : "no");
    print_results(f);
    AIO_END(0);
}

int main(void)
{
    aio_loop loop;
    aio_config cfg;
    aio_task main_task;
    struct main_frame frame;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    memset(&main_task, 0, sizeof main_task);
    memset(&frame, 0, sizeof frame);
    aio_loop_init(&loop, &cfg);
    rc = aio_run(&loop, &main_task, main_coro, &frame);
    return rc == 0 ? 0 : 1;
}
