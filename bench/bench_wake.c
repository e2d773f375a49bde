/*
 * bench_wake.c - cost of a cross-thread wake-up: another thread calls
 * aio_loop_post (which calls aio_loop_wake) and waits until the callback
 * has run on the loop's thread; then it posts again.  Every figure is ns per
 * round trip (post, eventfd write, the loop leaving its backend wait, the
 * callback, the acknowledgement seen by the posting thread).
 *
 * Rows:
 *   post -> callback          the callback only acknowledges
 *   post -> callback -> task  the callback sets an aio_event; the task
 *                             parked on it resumes and acknowledges
 *   aio_loop_wake, pending    a wake while one is already pending (the
 *                             coalesced case: one atomic exchange, no write)
 */
#define AIO_IMPLEMENTATION
#include "aio_reactor.h"
#include "aio_sync.h"

#include "bench_util.h"

#include <pthread.h>
#include <sched.h>

#if AIO__HAVE_ATOMICS && AIO__BACKEND != AIO__BE_NONE

struct wake_ctx {
    aio_loop loop;
    aio_reactor io;
    aio_post node;
    aio_event ev, done;
    long n;
    int via_task; /* the callback sets ev; the task acknowledges */
    long ack;     /* written by the loop's thread, read by the poster */
    long count;   /* loop's thread only */
    uint64_t elapsed;
};

static void ack(struct wake_ctx *c)
{
    c->count++;
    __atomic_store_n(&c->ack, c->count, __ATOMIC_RELEASE);
}

static void on_post(aio_loop *L, void *arg)
{
    struct wake_ctx *c = (struct wake_ctx *)arg;
    (void)L;
    if (c->via_task) {
        aio_event_set(&c->ev);
        return;
    }
    ack(c);
    if (c->count == c->n)
        aio_event_set(&c->done);
}

static void *poster(void *arg)
{
    struct wake_ctx *c = (struct wake_ctx *)arg;
    uint64_t t0 = bu_now();
    long i;
    for (i = 1; i <= c->n; i++) {
        if (aio_loop_post(&c->loop, &c->node, on_post, c) != 0)
            abort();
        while (__atomic_load_n(&c->ack, __ATOMIC_ACQUIRE) < i)
            sched_yield(); /* gives the CPU away only when another thread wants it */
    }
    c->elapsed = bu_now() - t0;
    return NULL;
}

struct waiter {
    aio_frame hdr;
    struct wake_ctx *c;
};

static int waiter(aio_task *t, void *frame)
{
    struct waiter *f = (struct waiter *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (!f->c->via_task) {
        AIO_EVENT_WAIT(rc, &f->c->done);
        AIO_RETURN(rc);
    }
    while (f->c->count < f->c->n) {
        AIO_EVENT_WAIT(rc, &f->c->ev);
        if (rc)
            AIO_RETURN(rc);
        aio_event_clear(&f->c->ev);
        ack(f->c);
    }
    AIO_END(0);
}

static uint64_t run_post(void *ctx, long n)
{
    static struct wake_ctx c;
    aio_task mt;
    struct waiter w;
    pthread_t th;
    memset(&c, 0, sizeof c);
    memset(&mt, 0, sizeof mt);
    memset(&w, 0, sizeof w);
    c.n = n;
    c.via_task = *(int *)ctx;
    w.c = &c;
    aio_loop_init(&c.loop, NULL);
    aio_reactor_init(&c.io, &c.loop);
    if (aio_loop_wake_enable(&c.loop) != 0)
        abort();
    if (pthread_create(&th, NULL, poster, &c) != 0)
        abort();
    if (aio_run(&c.loop, &mt, waiter, &w) != 0)
        abort();
    pthread_join(th, NULL);
    aio_loop_close(&c.loop);
    if (c.count != n)
        abort();
    return c.elapsed;
}

static uint64_t run_pending_wake(void *ctx, long n)
{
    static aio_loop loop;
    static aio_reactor io;
    uint64_t t0;
    long i;
    (void)ctx;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    if (aio_loop_wake_enable(&loop) != 0)
        abort();
    aio_loop_wake(&loop); /* pending from here on: the loop never runs */
    t0 = bu_now();
    for (i = 0; i < n; i++)
        aio_loop_wake(&loop);
    t0 = bu_now() - t0;
    aio_loop_close(&loop);
    return t0;
}

int main(void)
{
    static int cb_only = 0, via_task = 1;
    long n = 50000;
    printf("### cross-thread wake-up (backend %s; ns per round trip between two threads)\n\n", AIO_BACKEND_NAME);
    bu_print_machine();
    bu_table_head();
    bu_row("cross-thread aio_loop_post -> callback in the loop, round trip", bu_measure(run_post, &cb_only, n), 0);
    bu_row("cross-thread aio_loop_post -> callback sets an event -> task resumes, round trip",
           bu_measure(run_post, &via_task, n), 0);
    bu_row("aio_loop_wake while a wake is already pending (coalesced)", bu_measure(run_pending_wake, NULL, 20000000),
           0);
    return 0;
}

#else

int main(void)
{
    printf("### cross-thread wake-up: needs atomics and a backend with a wake fd (backend %s)\n", AIO_BACKEND_NAME);
    return 0;
}

#endif
