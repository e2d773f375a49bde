/*
 * examples/chan_async_range.c - an async generator consumed with the
 * iteration macro, and a second one the consumer stops early.
 *
 * The Python original:
 *
 *     async def async_range(n):
 *         for i in range(n):
 *             await asyncio.sleep(0.005)
 *             yield i
 *
 *     async def main():
 *         async for i in async_range(5):
 *             print("got", i)
 *         async with aclosing(async_range(1000)) as gen:
 *             async for i in gen:
 *                 if i == 2:
 *                     break                  # aclose() stops the generator
 *
 * The C mapping:
 *   - The generator is a coroutine whose frame points at an aio_gen; `yield
 *     i` is AIO_GEN_YIELD(rc, gen, &i), which waits until the consumer takes
 *     the value (an unbuffered channel underneath).
 *   - Calling the generator is aio_gen_start(&group, &gen, sizeof(int), fn,
 *     &frame): it runs as a task of the group, so it is cancelled with it.
 *   - `async for i in gen` is AIO_GEN_FOR(rc, &gen, &i); it ends with
 *     rc = AIO_EEND when the generator returns.
 *   - aclose() is aio_gen_close(&gen): the generator's next yield returns
 *     AIO_EBROKEN, it returns that code, and the generator task ends quietly.
 *
 * Clock: the real monotonic clock; five 5 ms sleeps, about 30 ms in all.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_chan.h"

#include <stdio.h>
#include <string.h>

struct async_range {
    aio_frame hdr;
    aio_gen *gen;
    int i, n;
};

static int async_range(aio_task *t, void *frame)
{
    struct async_range *f = (struct async_range *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_SLEEP(rc, AIO_MS(5));
        if (rc < 0)
            AIO_RETURN(rc);
        AIO_GEN_YIELD(rc, f->gen, &f->i);
        if (rc < 0)
            AIO_RETURN(rc); /* AIO_EBROKEN: the consumer closed the generator */
    }
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_gen gen1, gen2;
    struct async_range r1, r2;
    int i;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);

    f->r1.gen = &f->gen1;
    f->r1.n = 5;
    aio_gen_start(&f->g, &f->gen1, sizeof(int), async_range, &f->r1);
    AIO_GEN_FOR(rc, &f->gen1, &f->i) {
        printf("got %d\n", f->i);
    }
    printf("loop ended: %s\n", aio_strerror(rc));

    f->r2.gen = &f->gen2;
    f->r2.n = 1000;
    aio_gen_start(&f->g, &f->gen2, sizeof(int), async_range, &f->r2);
    AIO_GEN_FOR(rc, &f->gen2, &f->i) {
        printf("second generator: %d\n", f->i);
        if (f->i == 2)
            break;
    }
    aio_gen_close(&f->gen2);

    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("second generator: yield of %d refused, task ended with %d\n", f->r2.i, aio_task_rc(&f->gen2.task));
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_task mt;
    static struct main_frame f;
    int rc;
    aio_loop_init(&loop, NULL);
    rc = aio_run(&loop, &mt, main_task, &f);
    if (rc != 0)
        printf("error: %s\n", aio_strerror(rc));
    return rc != 0;
}
