/*
 * quickstart_easy.c - the README's quick start (quickstart.c) written with
 * aio_easy.h: three sleepers in a group under a 250 ms deadline.  The same
 * trio program:
 *
 *     async def sleeper(i):
 *         await trio.sleep(0.1 * i)
 *         print(f"sleeper {i} woke")
 *     async def main():
 *         with trio.fail_after(0.25):
 *             async with trio.open_nursery() as n:
 *                 for i in (1, 2, 3):
 *                     n.start_soon(sleeper, i)
 *
 * Virtual clock: the times printed are exact.
 */
#define AIO_IMPLEMENTATION
#include "aio_easy.h"
#include <stdio.h>

struct sleeper { aio_frame hdr; int id; };
AIO_CORO(sleeper, struct sleeper, t, f)        /* t: the task, f: a struct sleeper * */
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(100 * f->id));   /* an error returns at once */
    printf("sleeper %d woke at %lld ms\n", f->id, (long long)(AIO_NOW() / AIO_MS(1)));
    AIO_END(0);
}

struct main_frame { aio_frame hdr; aio_scope timeout; aio_group g; AIO_CHILD_OF(sleeper) kids[3]; int i; };
AIO_CORO(main_task, struct main_frame, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_MS(250));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < 3; f->i++)
        AIO_SPAWN_NEW(&f->g, &f->kids[f->i], sleeper, .id = f->i + 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("group: %s\n", aio_strerror(aio_scope_exit(t, &f->timeout, rc)));
    AIO_END(0);
}

AIO_MAIN_VIRTUAL(main_task)                    /* int main(void) on the virtual clock */
