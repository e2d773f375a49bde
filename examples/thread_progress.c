/*
 * examples/thread_progress.c - a worker thread does a long computation and
 * posts its progress into the loop, where a task prints it.
 *
 * The Python original (asyncio):
 *
 *     def work(loop, queue):
 *         for pct in range(0, 101, 25):
 *             time.sleep(0.01)
 *             loop.call_soon_threadsafe(queue.put_nowait, pct)
 *
 *     async def main():
 *         loop, queue = asyncio.get_running_loop(), asyncio.Queue()
 *         threading.Thread(target=work, args=(loop, queue)).start()
 *         while (pct := await queue.get()) < 100:
 *             print(f"progress {pct}%")
 *         print("done")
 *
 * The C mapping: aio_from_thread_post (call_soon_threadsafe) with one post
 * node per message, owned by the worker; the callback runs on the loop's
 * thread, records the value and sets an aio_event the task waits on.
 */
#define AIO_IMPLEMENTATION
#include "aio_thread.h"
#include <stdio.h>
#include <time.h>

#define STEPS 5

struct progress {
    aio_frame hdr;
    aio_event changed;  /* set by the callback, cleared by the task */
    int percent;        /* loop thread only */
    int shown;
    aio_post nodes[STEPS];
    aio_loop *loop;
};

static void on_progress(aio_loop *loop, void *arg)
{
    struct progress *p = (struct progress *)arg;
    (void)loop;
    p->percent += 100 / (STEPS - 1);
    if (p->percent > 100)
        p->percent = 100;
    aio_event_set(&p->changed);
}

static void *worker(void *arg)
{
    struct progress *p = arg;
    struct timespec ms = { 0, 10000000 };
    int i;
    for (i = 0; i < STEPS; i++) {
        nanosleep(&ms, NULL); /* the long computation */
        aio_from_thread_post(p->loop, &p->nodes[i], on_progress, p);
    }
    return NULL;
}

static int main_task(aio_task *t, void *frame)
{
    struct progress *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    f->percent = -(100 / (STEPS - 1)); /* the first post reports 0% */
    while (f->shown < 100) {
        AIO_EVENT_WAIT(rc, &f->changed);
        if (rc < 0)
            AIO_RETURN(rc);
        aio_event_clear(&f->changed);
        f->shown = f->percent;
        printf("progress %d%%\n", f->shown);
    }
    printf("done\n");
    AIO_END(0);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct progress frame;
    pthread_t th;
    int rc;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    aio_loop_wake_enable(&loop); /* before another thread posts */
    frame.loop = &loop;
    pthread_create(&th, NULL, worker, &frame);
    rc = aio_run(&loop, &task, main_task, &frame);
    pthread_join(th, NULL);
    aio_loop_close(&loop);
    return rc == 0 ? 0 : 1;
}
