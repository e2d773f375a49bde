/*
 * examples/cancel_cleanup.c - cancel a background task and watch its cleanup.
 *
 * The Python original (asyncio; with trio or anyio the cleanup's await
 * needs `with CancelScope(shield=True):`, exactly as here):
 *
 *     async def worker():
 *         try:
 *             while True:
 *                 print("working")
 *                 await asyncio.sleep(0.010)
 *         finally:
 *             await flush()              # cleanup that itself awaits
 *             print("cleaned up")
 *
 *     async with asyncio.TaskGroup() as tg:
 *         task = tg.create_task(worker())
 *         await asyncio.sleep(0.035)
 *         task.cancel()
 *
 * The C mapping:
 *   - `task.cancel()` is aio_task_cancel(&task).  It is not an exception:
 *     the task's current await (here AIO_SLEEP) returns AIO_ECANCELED, and
 *     so does every later await in the task (cancellation is
 *     level-triggered, as in trio), until the task finishes.
 *   - `finally:` is the code after the loop.  To await there, the cleanup
 *     enters a cleanup scope: aio_cleanup_enter(t, &scope, grace) shields
 *     the awaits inside from the cancellation, with a grace deadline, and
 *     aio_scope_exit leaves it.
 *   - A task that ends with AIO_ECANCELED is not a failure: the group's
 *     wait returns 0.  (aio_group_cancel(&g, reason) would cancel every
 *     child and the group body at once, like nursery.cancel_scope.cancel().)
 *
 * Clock: virtual (the loop jumps to the next deadline when every task is
 * waiting), so the times printed are exact and the program runs instantly.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <stdio.h>
#include <string.h>

static long long ms(aio_task *t)
{
    return (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1));
}

struct worker {
    aio_frame hdr;
    aio_scope cleanup;
    int ticks;
    int cancel_rc;
};

static int worker(aio_task *t, void *frame)
{
    struct worker *f = (struct worker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        printf("%3lld ms  worker: working (tick %d)\n", ms(t), ++f->ticks);
        AIO_SLEEP(rc, AIO_MS(10));
        if (rc < 0)
            break;
    }
    f->cancel_rc = rc;
    printf("%3lld ms  worker: sleep returned \"%s\"; outside a cleanup scope the task is %s\n", ms(t),
           aio_strerror(rc), aio_check_cancel(t) ? "still cancelled" : "not cancelled");

    /* finally: an await that must complete, shielded, with 100 ms of grace */
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(100));
    printf("%3lld ms  worker: inside the cleanup scope it is %s; flushing for 5 ms\n", ms(t),
           aio_check_cancel(t) ? "still cancelled" : "not cancelled");
    AIO_SLEEP(rc, AIO_MS(5));    /* stands for an async flush or close */
    rc = aio_scope_exit(t, &f->cleanup, rc);
    printf("%3lld ms  worker: flush finished: %s\n", ms(t), aio_strerror(rc));
    AIO_RETURN(f->cancel_rc);    /* AIO_ECANCELED: "I was cancelled", not a failure */
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task task;
    struct worker w;
};

static int main_coro(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->task, worker, &f->w);
    AIO_SLEEP(rc, AIO_MS(35));
    printf("%3lld ms  main: task.cancel()\n", ms(t));
    aio_task_cancel(&f->task);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    printf("%3lld ms  main: group finished: %s; the worker's result: %s\n", ms(t), aio_strerror(rc),
           aio_strerror(aio_task_rc(&f->task)));
    AIO_END(rc);
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
