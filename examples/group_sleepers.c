/*
 * examples/group_sleepers.c - three tasks sleeping at once in a task group.
 *
 * The Python original (asyncio.TaskGroup; trio.open_nursery and
 * anyio.create_task_group read the same):
 *
 *     async def sleeper(name, delay):
 *         await asyncio.sleep(delay)
 *         print(name, "woke up")
 *
 *     async def main():
 *         start = time.monotonic()
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(sleeper("a", 0.030))
 *             tg.create_task(sleeper("b", 0.010))
 *             tg.create_task(sleeper("c", 0.020))
 *         print("elapsed", time.monotonic() - start)   # ~0.030, not 0.060
 *
 * The C mapping:
 *   - `async with TaskGroup() as tg:` is aio_group_enter(t, &g, mode) at the
 *     top of the block and AIO_GROUP_WAIT(rc, &g, body_rc) at the bottom.
 *     The wait is the `async with` exit: it returns only when every child
 *     has finished, and rc is the group's result.
 *   - `tg.create_task(coro)` is aio_spawn(&g, &task, fn, &frame).  The task
 *     and the child's frame are caller-owned (here, arrays in main's frame).
 *     Spawning only enqueues the child; it first runs when main suspends.
 *
 * Clock: the real monotonic clock.  The sleeps total 60 ms but overlap, so
 * the program takes about 30 ms.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <stdio.h>
#include <string.h>

struct sleeper {
    aio_frame hdr;
    const char *name;
    aio_time delay;
    aio_time start;     /* when main began, to print times relative to it */
};

static int sleeper(aio_task *t, void *frame)
{
    struct sleeper *f = (struct sleeper *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->delay);
    if (rc < 0)
        AIO_RETURN(rc);
    printf("%s woke up after %lld ms\n", f->name,
           (long long)((aio_now(aio_task_loop(t)) - f->start) / AIO_MS(1)));
    AIO_END(0);
}

#define N 3

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[N];
    struct sleeper sleepers[N];
    aio_time start;
    int i;
};

static int main_coro(aio_task *t, void *frame)
{
    static const char *const names[N] = { "a", "b", "c" };
    static const int delay_ms[N] = { 30, 10, 20 };
    struct main_frame *f = (struct main_frame *)frame;
    aio_loop *loop = aio_task_loop(t);
    int rc;
    AIO_BEGIN(t, f);
    f->start = aio_loop_update_time(loop);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < N; f->i++) {
        f->sleepers[f->i].name = names[f->i];
        f->sleepers[f->i].delay = AIO_MS(delay_ms[f->i]);
        f->sleepers[f->i].start = f->start;
        aio_spawn(&f->g, &f->tasks[f->i], sleeper, &f->sleepers[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);   /* the end of the `async with` block */
    printf("all done after %lld ms (the sleeps add up to 60 ms): %s\n",
           (long long)((aio_loop_update_time(loop) - f->start) / AIO_MS(1)), aio_strerror(rc));
    AIO_END(rc);
}

int main(void)
{
    aio_loop loop;
    aio_task main_task;
    struct main_frame frame;
    int rc;

    memset(&main_task, 0, sizeof main_task);
    memset(&frame, 0, sizeof frame);
    aio_loop_init(&loop, NULL);
    rc = aio_run(&loop, &main_task, main_coro, &frame);
    return rc == 0 ? 0 : 1;
}
