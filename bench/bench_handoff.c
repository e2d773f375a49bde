/*
 * bench_handoff.c - cost of aio_sync.h hand-offs between two tasks: event
 * ping-pong and lock hand-off, per one-way hand-off (one park, one wake, one
 * task step), beside the bare-resume floor measured in this binary.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#include "bench_util.h"

struct pinger {
    aio_frame hdr;
    aio_event *mine, *other;
    int first;
    long i, n;
};

/* Sets the other side's event, then waits for its own: one hand-off each way. */
static int pinger(aio_task *t, void *frame)
{
    struct pinger *f = (struct pinger *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (f->first)
            aio_event_set(f->other);
        AIO_EVENT_WAIT(rc, f->mine);
        if (rc)
            AIO_RETURN(rc);
        aio_event_clear(f->mine);
        if (!f->first)
            aio_event_set(f->other);
    }
    AIO_END(0);
}

struct locker {
    aio_frame hdr;
    aio_lock *l;
    long i, n;
};

struct two {
    int virt;
    aio_task tasks[2];
    struct pinger p[2];
    aio_event ev[2];
    aio_lock lock;
    struct locker lk[2];
};

static void loop_init(aio_loop *L, int virt)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = virt;
    aio_loop_init(L, &cfg);
}

static uint64_t run_until_idle(aio_loop *L)
{
    uint64_t t0 = bu_now();
    while (L->nready)
        aio_loop_step(L);
    return bu_now() - t0;
}

static uint64_t run_event(void *ctx, long n)
{
    struct two *c = (struct two *)ctx;
    aio_loop L;
    int k;
    loop_init(&L, c->virt);
    memset(c->tasks, 0, sizeof c->tasks);
    for (k = 0; k < 2; k++) {
        aio_event_init(&c->ev[k]);
        memset(&c->p[k], 0, sizeof c->p[k]);
        c->p[k].mine = &c->ev[k];
        c->p[k].other = &c->ev[1 - k];
        c->p[k].first = k == 0;
        c->p[k].n = n / 2;
    }
    for (k = 0; k < 2; k++)
        aio_spawn(&L.root, &c->tasks[k], pinger, &c->p[k]);
    return run_until_idle(&L);
}

/* Acquire then release: with the other task queued, each release hands the
 * lock over and the next acquire parks. */
static int locker(aio_task *t, void *frame)
{
    struct locker *f = (struct locker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_LOCK_ACQUIRE(rc, f->l);
        if (rc)
            AIO_RETURN(rc);
        rc = aio_lock_release(t, f->l);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

static uint64_t run_lock(void *ctx, long n)
{
    struct two *c = (struct two *)ctx;
    aio_loop L;
    int k;
    loop_init(&L, c->virt);
    memset(c->tasks, 0, sizeof c->tasks);
    aio_lock_init(&c->lock);
    for (k = 0; k < 2; k++) {
        memset(&c->lk[k], 0, sizeof c->lk[k]);
        c->lk[k].l = &c->lock;
        c->lk[k].n = n / 2;
    }
    for (k = 0; k < 2; k++)
        aio_spawn(&L.root, &c->tasks[k], locker, &c->lk[k]);
    return run_until_idle(&L);
}

int main(void)
{
    static struct two c;
    bu_stat floor;
    printf("## aio_sync.h hand-offs (two tasks, ns per one-way hand-off)\n\n");
    bu_print_machine();
    bu_table_head();
    floor = bu_floor_resume();
    bu_row("floor: bare function-pointer resume of a switch/case coroutine", floor, 0);
    c.virt = 0;
    bu_row("event ping-pong", bu_measure(run_event, &c, 4000000), floor.med);
    bu_row("lock hand-off", bu_measure(run_lock, &c, 4000000), floor.med);
    c.virt = 1;
    bu_row("event ping-pong, virtual clock (no clock read per turn)", bu_measure(run_event, &c, 4000000), floor.med);
    bu_row("lock hand-off, virtual clock (no clock read per turn)", bu_measure(run_lock, &c, 4000000), floor.med);
    return 0;
}
