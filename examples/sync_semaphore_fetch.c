/*
 * examples/sync_semaphore_fetch.c - ten "fetches" with at most three at a
 * time, each under its own timeout.
 *
 * The Python original (asyncio; trio/anyio read the same with
 * trio.Semaphore / anyio.Semaphore and fail_after):
 *
 *     sem = asyncio.Semaphore(3)
 *
 *     async def fetch(i):
 *         try:
 *             async with asyncio.timeout(0.250):   # trio.fail_after(0.250)
 *                 async with sem:
 *                     await asyncio.sleep(0.050 * (1 + i % 4))   # the download
 *             print(f"fetch {i}: ok")
 *         except TimeoutError:
 *             print(f"fetch {i}: timed out")
 *
 *     async def main():
 *         async with asyncio.TaskGroup() as tg:
 *             for i in range(10):
 *                 tg.create_task(fetch(i))
 *
 * The C mapping: the timeout scope is aio_fail_after ... aio_scope_exit,
 * which turns the deadline into AIO_ETIMEDOUT; it covers the wait for a
 * permit as well as the download.  A fetch that times out while queued for
 * the semaphore leaves the queue without taking a permit, so the others
 * are not slowed down.
 *
 * Clock: virtual, so the printed times are exact and the program runs
 * instantly.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#include <stdio.h>
#include <string.h>

#define FETCHES 10

struct shared { aio_sem sem; int running, max_running, ok, timed_out; };

/* async def fetch(i) */
struct fetch { aio_frame hdr; struct shared *sh; int i; aio_scope timeout; };
static int fetch(aio_task *t, void *p)
{
    struct fetch *f = (struct fetch *)p;
    aio_loop *loop = aio_task_loop(t);
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_MS(250));
    AIO_SEM_ACQUIRE(rc, &f->sh->sem);
    if (rc == 0) {
        if (++f->sh->running > f->sh->max_running)
            f->sh->max_running = f->sh->running;
        AIO_SLEEP(rc, AIO_MS(50) * (1 + f->i % 4));
        f->sh->running--;
        aio_sem_release(&f->sh->sem);
    }
    rc = aio_scope_exit(t, &f->timeout, rc);
    if (rc == 0) {
        f->sh->ok++;
        printf("%4lld ms  fetch %d: ok\n", (long long)(aio_now(loop) / AIO_MS(1)), f->i);
    } else {
        f->sh->timed_out++;
        printf("%4lld ms  fetch %d: %s\n", (long long)(aio_now(loop) / AIO_MS(1)), f->i, aio_strerror(rc));
    }
    AIO_END(0); /* a timeout is reported, not a failure of the group */
}

/* async def main() */
struct main_frame { aio_frame hdr; struct shared sh; aio_group g; aio_task t[FETCHES]; struct fetch w[FETCHES]; };
static int main_coro(aio_task *t, void *p)
{
    struct main_frame *f = (struct main_frame *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_sem_init(&f->sh.sem, 3);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < FETCHES; i++) {
        f->w[i].sh = &f->sh;
        f->w[i].i = i;
        aio_spawn(&f->g, &f->t[i], fetch, &f->w[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("%d ok, %d timed out, at most %d at once\n", f->sh.ok, f->sh.timed_out, f->sh.max_running);
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
    return rc == 0 && f.sh.max_running <= 3 && f.sh.ok + f.sh.timed_out == FETCHES ? 0 : 1;
}
