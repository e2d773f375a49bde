/*
 * examples/sync_lock_counter.c - five workers share a counter under a lock.
 *
 * The Python original (the classic asyncio.Lock example):
 *
 *     counter = 0
 *     lock = asyncio.Lock()
 *
 *     async def worker(n):
 *         global counter
 *         for _ in range(100):
 *             async with lock:
 *                 value = counter
 *                 await asyncio.sleep(0)     # another task runs here
 *                 counter = value + 1
 *
 *     async def main():
 *         async with asyncio.TaskGroup() as tg:
 *             for n in range(5):
 *                 tg.create_task(worker(n))
 *         print(counter)                     # 500
 *
 * The C mapping: `async with lock:` is AIO_LOCK_ACQUIRE ... aio_lock_release.
 * The read-yield-write in the critical section would lose updates without
 * the lock; with it the total is exact.  Ownership passes FIFO, so the five
 * workers take turns in a fixed order.
 *
 * Clock: virtual (nothing sleeps for real); the program runs instantly.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#include <stdio.h>
#include <string.h>

#define WORKERS 5
#define ROUNDS 100

struct shared { aio_lock lock; int counter; };

/* async def worker(n) */
struct worker { aio_frame hdr; struct shared *sh; int i, value; };
static int worker(aio_task *t, void *p)
{
    struct worker *f = (struct worker *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < ROUNDS; f->i++) {
        AIO_LOCK_ACQUIRE(rc, &f->sh->lock);   /* async with lock: */
        if (rc < 0)
            AIO_RETURN(rc);
        f->value = f->sh->counter;
        AIO_CHECKPOINT(rc);                    /* await asyncio.sleep(0) */
        f->sh->counter = f->value + 1;
        aio_lock_release(t, &f->sh->lock);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

/* async def main() */
struct main_frame { aio_frame hdr; struct shared sh; aio_group g; aio_task t[WORKERS]; struct worker w[WORKERS]; };
static int main_coro(aio_task *t, void *p)
{
    struct main_frame *f = (struct main_frame *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_lock_init(&f->sh.lock);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < WORKERS; i++) {
        f->w[i].sh = &f->sh;
        aio_spawn(&f->g, &f->t[i], worker, &f->w[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("counter = %d (expected %d)\n", f->sh.counter, WORKERS * ROUNDS);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_task mt;
    static struct main_frame f;
    aio_config cfg;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&loop, &cfg);
    rc = aio_run(&loop, &mt, main_coro, &f);
    return rc == 0 && f.sh.counter == WORKERS * ROUNDS ? 0 : 1;
}
