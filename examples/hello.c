/*
 * examples/hello.c - the first asyncio program: call coroutines and sleep.
 *
 * The Python original (the asyncio tutorial's say_after):
 *
 *     async def say_after(delay, what):
 *         await asyncio.sleep(delay)
 *         print(what)
 *
 *     async def main():
 *         await say_after(0.010, "hello")
 *         await say_after(0.020, "world")
 *
 *     asyncio.run(main())
 *
 * The C mapping:
 *   - `async def f(args)` is a function `int f(aio_task *t, void *frame)`
 *     over a frame struct.  The frame holds the arguments and every variable
 *     that must survive an await; its first member is an aio_frame.
 *   - The body sits between AIO_BEGIN and AIO_END; AIO_RETURN(rc) returns
 *     early.  Results are ints: 0 for success, a negative code for failure.
 *   - `await asyncio.sleep(d)` is AIO_SLEEP(rc, d); rc is 0, or
 *     AIO_ECANCELED if the task was cancelled while it slept.
 *   - `await say_after(...)` is AIO_AWAIT(rc, say_after, &f->child): the
 *     child frame lives inside the caller's frame, so nothing is allocated.
 *   - `asyncio.run(main())` is aio_loop_init + aio_run.
 *
 * Clock: the real monotonic clock.  The program sleeps 10 ms then 20 ms,
 * one after the other, so it takes about 30 ms.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <stdio.h>
#include <string.h>

/* async def say_after(delay, what) */
struct say_after {
    aio_frame hdr;       /* always first */
    aio_time delay;      /* arguments, set by the caller */
    const char *what;
};

static int say_after(aio_task *t, void *frame)
{
    struct say_after *f = (struct say_after *)frame;
    int rc;              /* a plain local is fine: it is not needed across the await */
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->delay);
    if (rc < 0)
        AIO_RETURN(rc);  /* cancelled: pass it on */
    printf("%s\n", f->what);
    AIO_END(0);
}

/* async def main() */
struct main_frame {
    aio_frame hdr;
    struct say_after call; /* the frame of the coroutine being awaited */
};

static int main_coro(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->call.delay = AIO_MS(10);
    f->call.what = "hello";
    AIO_AWAIT(rc, say_after, &f->call);
    if (rc < 0)
        AIO_RETURN(rc);
    f->call.delay = AIO_MS(20);   /* the child frame is reused for the second call */
    f->call.what = "world";
    AIO_AWAIT(rc, say_after, &f->call);
    AIO_END(rc);
}

int main(void)
{
    aio_loop loop;
    aio_task main_task;
    struct main_frame frame;
    aio_time start;
    int rc;

    memset(&main_task, 0, sizeof main_task);
    memset(&frame, 0, sizeof frame);
    aio_loop_init(&loop, NULL);   /* NULL: the real monotonic clock */
    start = aio_loop_update_time(&loop);
    rc = aio_run(&loop, &main_task, main_coro, &frame);
    printf("finished in %lld ms: %s\n", (long long)((aio_loop_update_time(&loop) - start) / AIO_MS(1)),
           aio_strerror(rc));
    return rc == 0 ? 0 : 1;
}
