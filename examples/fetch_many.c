/*
 * fetch_many.c - many requests, at most two at once, all under one deadline
 * (anyio's CapacityLimiter and fail_after), written with aio_easy.h.
 * The Python original is python/fetch_many.py:
 *
 *     async with limiter:                     AIO_TRY_OP(rc, AIO_LIMITER_ACQUIRE, ...)
 *         await anyio.sleep(...)              AIO_SLEEP, then aio_limiter_release
 *     with anyio.fail_after(0.45):            aio_fail_after ... aio_scope_exit
 *         async with create_task_group():     aio_group_enter ... AIO_GROUP_WAIT
 *             tg.start_soon(fetch, ...)       AIO_SPAWN_NEW over an AIO_CHILD_OF(fetch) array
 *     anyio.run(main)                         AIO_MAIN_VIRTUAL(main_task)
 *     except TimeoutError:                    rc == AIO_ETIMEDOUT
 *
 * Virtual clock: request i takes (i % 3 + 1) * 100 ms; the deadline at
 * 450 ms cancels the two still running.
 */
#define AIO_IMPLEMENTATION
#include "aio_easy.h"
#include <stdio.h>

struct fetch { aio_frame hdr; aio_limiter *limiter; aio_borrow token; int i, *fetched; };
AIO_CORO(fetch, struct fetch, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_LIMITER_ACQUIRE, f->limiter, &f->token); /* async with limiter: */
    AIO_SLEEP(rc, AIO_MS(100 * (f->i % 3 + 1)));                 /* stands for the request */
    aio_limiter_release(f->limiter, &f->token);
    AIO_TRY(rc);
    printf("fetched %d at %d ms\n", f->i, (int)(AIO_NOW() / AIO_MS(1)));
    ++*f->fetched;
    AIO_END(0);
}

struct main_frame { aio_frame hdr; aio_limiter limiter; aio_scope deadline; aio_group g;
                    AIO_CHILD_OF(fetch) kids[6]; int i, fetched; };
AIO_CORO(main_task, struct main_frame, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_limiter_init(&f->limiter, 2);
    aio_fail_after(t, &f->deadline, AIO_MS(450));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < 6; f->i++)
        AIO_SPAWN_NEW(&f->g, &f->kids[f->i], fetch, .limiter = &f->limiter, .i = f->i, .fetched = &f->fetched);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    if (aio_scope_exit(t, &f->deadline, rc) == AIO_ETIMEDOUT)
        printf("timed out: %d of 6 fetched\n", f->fetched);
    AIO_END(0);
}

AIO_MAIN_VIRTUAL(main_task)
