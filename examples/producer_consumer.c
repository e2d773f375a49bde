/*
 * producer_consumer.c - a bounded queue, two consumers that hand blocking
 * work to a thread, and join() for the end of the work (asyncio's Queue,
 * task_done/join and to_thread), written with aio_easy.h.  The Python
 * original is python/producer_consumer.py:
 *
 *     q = asyncio.Queue(maxsize=2)           AIO_QUEUE_INIT_ARRAY over long items[2]
 *     n = await q.get()                      AIO_TRY_OP(rc, AIO_QUEUE_GET_ITEM, &q, &n)
 *     await asyncio.to_thread(checksum, n)   AIO_TRY_OP(rc, AIO_RUN_IN_THREAD, ...)
 *     q.task_done() / await q.join()         aio_queue_task_done / AIO_QUEUE_JOIN
 *     w.cancel()                             aio_group_cancel
 *     asyncio.run(main())                    AIO_MAIN_POOL(main_task, &pool, 2): the pool's threads too
 *
 * Real clock (the threads do real work); the results are printed in order
 * once every item is done, so the output does not depend on the timing.
 */
#define AIO_IMPLEMENTATION
#include "aio_thread.h"
#include "aio_easy.h" /* after aio_thread.h: its thread shorthands */
#include <stdio.h>

static int checksum(void *arg)                 /* blocking work: runs on a thread */
{
    long n = *(long *)arg, s = 0, i;
    for (i = 0; i < n; i++)
        s += i;
    return (int)(s % 97);
}

static aio_pool pool;
struct consumer { aio_frame hdr; aio_queue *q; aio_job job; long n, *results; };
AIO_CORO(consumer, struct consumer, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_TRY_OP(rc, AIO_QUEUE_GET_ITEM, f->q, &f->n);
        AIO_TRY_OP(rc, AIO_RUN_IN_THREAD, &pool, &f->job, checksum, &f->n);
        f->results[f->n / 1000] = rc;
        aio_queue_task_done(f->q);
    }
    AIO_END(0);
}

struct main_frame { aio_frame hdr; aio_queue q; long items[2], n, results[6]; aio_group g; AIO_CHILD_OF(consumer) c[2]; };
AIO_CORO(main_task, struct main_frame, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_QUEUE_INIT_ARRAY(&f->q, AIO_QUEUE_FIFO, f->items);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->n = 0; f->n < 2; f->n++)
        AIO_SPAWN_NEW(&f->g, &f->c[f->n], consumer, .q = &f->q, .results = f->results);
    for (f->n = 1000, rc = 0; f->n < 6000 && rc == 0; f->n += 1000)
        AIO_QUEUE_PUT_ITEM(rc, &f->q, &f->n); /* no early return inside the group */
    if (rc == 0)
        AIO_QUEUE_JOIN(rc, &f->q);
    aio_group_cancel(&f->g, "work done");
    AIO_GROUP_WAIT(rc, &f->g, rc);
    for (f->n = 1; f->n < 6; f->n++)
        printf("checksum(%ld) = %ld\n", f->n * 1000, f->results[f->n]);
    AIO_END(rc);
}

AIO_MAIN_POOL(main_task, &pool, 2)
