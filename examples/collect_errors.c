/*
 * collect_errors.c - every error of a task group, each with its reason
 * (trio's nursery and except*), written with aio_easy.h.  The Python
 * original is python/collect_errors.py:
 *
 *     raise ValueError(f"worker {i}: odd input")   AIO_FAIL(AIO_EINVAL, "odd input")
 *     async with trio.open_nursery() as nursery:   aio_group_enter ... AIO_GROUP_WAIT
 *     except* ValueError as group:                 rc < 0 after the wait
 *         for e in group.exceptions:               for (AIO_GROUP_EACH_FAILED(&f->g, c))
 *         len(group.exceptions)                    aio_group_failed_count
 *     trio.run(main)                               AIO_MAIN_VIRTUAL(main_task)
 *
 * Virtual clock: the odd workers fail together at 10 ms, which cancels the
 * even ones before they finish at 20 ms.
 */
#define AIO_IMPLEMENTATION
#include "aio_easy.h"
#include <stdio.h>

struct worker { aio_frame hdr; int i; };
AIO_CORO(worker, struct worker, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(10 * (2 - f->i % 2))); /* odd workers fail first */
    if (f->i % 2)
        AIO_FAIL(AIO_EINVAL, "odd input");
    printf("worker %d done\n", f->i);
    AIO_END(0);
}

typedef AIO_CHILD_OF(worker) worker_child;
struct main_frame { aio_frame hdr; aio_group g; worker_child kids[4]; int i; };
AIO_CORO(main_task, struct main_frame, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < 4; f->i++)
        AIO_SPAWN_NEW(&f->g, &f->kids[f->i], worker, .i = f->i);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    for (AIO_GROUP_EACH_FAILED(&f->g, c)) /* no failed child: no pass */
        printf("failed: worker %d: %s (%s)\n", ((worker_child *)(void *)c)->frame.i,
               aio_task_error_reason(c), aio_strerror(aio_task_rc(c)));
    if (rc < 0)
        printf("%u of 4 failed\n", (unsigned)aio_group_failed_count(&f->g));
    AIO_END(0);
}

AIO_MAIN_VIRTUAL(main_task)
