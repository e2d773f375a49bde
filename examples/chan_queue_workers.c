/*
 * examples/chan_queue_workers.c - a producer and three workers sharing a
 * bounded queue; main waits for every item to be processed with join.
 *
 * The Python original (asyncio.Queue; the asyncio documentation's workers
 * example with a bounded queue and a producer task):
 *
 *     async def producer(queue):
 *         for job in range(10):
 *             await queue.put(job)             # waits while the queue is full
 *
 *     async def worker(name, queue):
 *         while True:
 *             job = await queue.get()
 *             await asyncio.sleep(0.010 * (job % 3 + 1))
 *             print(name, "did job", job)
 *             queue.task_done()
 *
 *     async def main():
 *         queue = asyncio.Queue(maxsize=3)
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(producer(queue))
 *             for i in range(3):
 *                 tg.create_task(worker(f"worker-{i}", queue))
 *             await asyncio.sleep(0)           # let the producer start
 *             await queue.join()               # every job put has been done
 *             queue.shutdown()                 # 3.13: idle workers get QueueShutDown
 *
 * The C mapping:
 *   - asyncio.Queue(maxsize=3) is an aio_queue over a caller-owned array of
 *     3 items: aio_queue_init(&q, AIO_QUEUE_FIFO, jobs, sizeof(int), 3, ...).
 *   - `await queue.put(x)` / `await queue.get()` are AIO_QUEUE_PUT /
 *     AIO_QUEUE_GET; `queue.task_done()` is aio_queue_task_done;
 *     `await queue.join()` is AIO_QUEUE_JOIN.
 *   - queue.shutdown() is aio_queue_shutdown(&q, 0): a worker blocked in get
 *     wakes with AIO_EEND (asyncio's QueueShutDown) and returns, so the group
 *     ends without cancelling anyone.
 *
 * Clock: virtual (jumps to the next deadline), so the program runs
 * instantly and prints exact times.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_chan.h"

#include <stdio.h>
#include <string.h>

#define NJOBS 10
#define NWORKERS 3

struct producer {
    aio_frame hdr;
    aio_queue *q;
    int job;
};

static int producer(aio_task *t, void *frame)
{
    struct producer *f = (struct producer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->job = 0; f->job < NJOBS; f->job++) {
        AIO_QUEUE_PUT(rc, f->q, &f->job);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

struct worker {
    aio_frame hdr;
    const char *name;
    aio_queue *q;
    int job, done;
};

static int worker(aio_task *t, void *frame)
{
    struct worker *f = (struct worker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_QUEUE_GET(rc, f->q, &f->job);
        if (rc == AIO_EEND)
            break; /* shut down: no more work */
        if (rc < 0)
            AIO_RETURN(rc);
        AIO_SLEEP(rc, AIO_MS(10) * (f->job % 3 + 1));
        if (rc < 0)
            AIO_RETURN(rc);
        printf("%5lld ms  %s did job %d\n", (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1)), f->name, f->job);
        f->done++;
        aio_queue_task_done(f->q);
    }
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_queue q;
    int jobs[3];               /* the queue's storage: maxsize 3 */
    aio_group g;
    aio_task ptask, wtasks[NWORKERS];
    struct producer p;
    struct worker w[NWORKERS];
};

static int main_task(aio_task *t, void *frame)
{
    static const char *const names[NWORKERS] = { "worker-0", "worker-1", "worker-2" };
    struct main_frame *f = (struct main_frame *)frame;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_queue_init(&f->q, AIO_QUEUE_FIFO, f->jobs, sizeof(int), 3, NULL, NULL);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->p.q = &f->q;
    aio_spawn(&f->g, &f->ptask, producer, &f->p);
    for (i = 0; i < NWORKERS; i++) {
        f->w[i].name = names[i];
        f->w[i].q = &f->q;
        aio_spawn(&f->g, &f->wtasks[i], worker, &f->w[i]);
    }
    AIO_YIELD(); /* let the producer put its first jobs */
    AIO_QUEUE_JOIN(rc, &f->q);
    printf("%5lld ms  all jobs done (join returned)\n", (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1)));
    aio_queue_shutdown(&f->q, 0);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    for (i = 0; i < NWORKERS; i++)
        printf("%s did %d jobs\n", f->w[i].name, f->w[i].done);
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
    rc = aio_run(&loop, &mt, main_task, &f);
    if (rc != 0)
        printf("error: %s\n", aio_strerror(rc));
    return rc != 0;
}
