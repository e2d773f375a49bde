/*
 * examples/slow_step.c - catching a task that blocks the loop, and the fix.
 *
 * Python original (asyncio debug mode):
 *
 *     import asyncio, time
 *
 *     async def ticker():
 *         for i in range(3):
 *             await asyncio.sleep(0.05)
 *             print("tick", i)
 *
 *     async def blocking():
 *         time.sleep(0.2)                           # blocks the whole loop
 *         print("blocking work done")
 *
 *     async def offloaded():
 *         await asyncio.to_thread(time.sleep, 0.2)  # the fix
 *         print("offloaded work done")
 *
 *     async def main():
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(ticker()); tg.create_task(blocking())
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(ticker()); tg.create_task(offloaded())
 *
 *     asyncio.run(main(), debug=True)   # "Executing <Task ...> took 0.200 seconds"
 *
 * The C mapping: aio_loop_set_slow_step is the slow-callback warning (on at
 * 100 ms by default in AIO_DEBUG builds; here set explicitly, with a report
 * hook that prints to stdout); AIO_TO_THREAD is asyncio.to_thread.  Real
 * clock: the first round prints one report naming the blocking task and the
 * line it resumed at, the second prints none.
 */
#define AIO_IMPLEMENTATION
#include "aio_thread.h"
#include <stdio.h>
#include <time.h>

static aio_pool pool;
static int reports;

static void on_slow(void *ctx, const aio_slow_step *s)
{
    (void)ctx;
    reports++;
    printf("slow step: task \"%s\" ran %lld ms, ", s->name ? s->name : "?", (long long)(s->duration / AIO_MS(1)));
    if (s->resume_line)
        printf("resumed at line %u\n", s->resume_line);
    else
        printf("from its start\n"); /* its first step */
}

static void block_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = ms * 1000000L;
    nanosleep(&ts, NULL);
}

static int sleep_job(void *arg)
{
    (void)arg;
    block_ms(200);
    return 0;
}

struct ticker { aio_frame hdr; int i; };
static int ticker(aio_task *t, void *frame)
{
    struct ticker *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 3; f->i++) {
        AIO_SLEEP(rc, AIO_MS(50));
        if (rc < 0)
            AIO_RETURN(rc);
        printf("tick %d\n", f->i);
    }
    AIO_END(0);
}

struct worker { aio_frame hdr; int offload; aio_limiter lim; aio_job job; };
static int worker(aio_task *t, void *frame)
{
    struct worker *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    if (!f->offload) {
        block_ms(200); /* the mistake: a blocking call inside a coroutine */
        printf("blocking work done\n");
        AIO_RETURN(0);
    }
    aio_limiter_init(&f->lim, 1);
    aio_job_init(&f->job, sleep_job, NULL, &f->lim, 0);
    AIO_TO_THREAD(rc, &pool, &f->job);
    if (rc < 0)
        AIO_RETURN(rc);
    printf("offloaded work done\n");
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task tt, wt;
    struct ticker tk;
    struct worker wk;
    int round;
};
static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->round = 0; f->round < 2; f->round++) {
        printf("round %d: %s\n", f->round + 1, f->round ? "offloaded to a thread" : "blocking call in a task");
        f->wk.offload = f->round;
        f->tk.i = 0;
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
        aio_spawn(&f->g, &f->tt, ticker, &f->tk);
        aio_spawn(&f->g, &f->wt, worker, &f->wk);
        aio_task_set_name(&f->wt, f->round ? "offloaded" : "blocking");
        AIO_GROUP_WAIT(rc, &f->g, 0);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    printf("%d slow step%s reported\n", reports, reports == 1 ? "" : "s");
    AIO_END(0);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    static pthread_t threads[1];
    int rc;
    if (aio_pool_init(&pool, threads, 1) != 0)
        return 1;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    aio_loop_set_slow_step(&loop, AIO_MS(100), on_slow, NULL);
    rc = aio_run(&loop, &task, main_task, &frame);
    aio_pool_shutdown(&pool);
    aio_loop_close(&loop);
    return rc == 0 && reports == 1 ? 0 : 1;
}
