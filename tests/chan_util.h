/*
 * tests/chan_util.h - actors shared by the channel, select and queue tests.
 *
 * An actor is a task that sleeps `delay`, then performs one operation
 * (optionally inside a move_on_after scope of `timeout`, or after cancelling
 * itself) and records the result code, the time it finished, and whether it
 * ever parked.  A test lays out actors in an array and runs them all as the
 * children of one group with run_actors().
 */
#ifndef AIO_TEST_CHAN_UTIL_H
#define AIO_TEST_CHAN_UTIL_H

#include "harness.h"
#include "../aio_chan.h"

enum {
    A_NONE = 0,
    A_SEND,      /* AIO_CHAN_SEND(obj = tx, &v) */
    A_RECV,      /* AIO_CHAN_RECV(obj = rx, &v) */
    A_SELECT,    /* AIO_SELECT(obj = aio_select) */
    A_PUT,       /* AIO_QUEUE_PUT(obj = queue, &v) */
    A_GET,       /* AIO_QUEUE_GET(obj = queue, &v) */
    A_JOIN,      /* AIO_QUEUE_JOIN(obj = queue) */
    A_CLOSE_TX,  /* aio_chan_tx_close(obj) */
    A_CLOSE_RX,  /* aio_chan_rx_close(obj) */
    A_TASK_DONE, /* aio_queue_task_done(obj) */
    A_SHUTDOWN,  /* aio_queue_shutdown(obj, v) */
    A_CANCEL     /* aio_task_cancel(obj = task) */
};

struct actor {
    aio_frame hdr;
    int op;
    void *obj;
    int v;               /* item sent / received */
    aio_time delay;      /* sleep before the operation */
    aio_time timeout;    /* > 0: the operation runs under move_on_after(timeout) */
    int precancel;       /* cancel the scope before the operation */
    int rc;              /* result of the operation (after the scope) */
    int raw;             /* result of the operation itself */
    aio_time at;         /* when the operation finished */
    int done;
    int parked;          /* the task parked during the operation (AIO_DEBUG) */
    aio_scope sc;
};

AIO__UNUSED static int actor(aio_task *t, void *p)
{
    struct actor *f = (struct actor *)p;
    int rc = 0;
#ifdef AIO_DEBUG
    uint32_t sp;
#endif
    AIO_BEGIN(t, f);
    if (f->delay) {
        AIO_SLEEP(rc, f->delay);
        if (rc)
            AIO_RETURN(rc);
    }
    aio_scope_init(&f->sc);
    if (f->precancel)
        aio_scope_cancel(&f->sc, "pre");
    aio_scope_enter(t, &f->sc, f->timeout > 0 ? aio_now(aio_task_loop(t)) + f->timeout : AIO_TIME_INF);
#ifdef AIO_DEBUG
    f->parked = (int)t->schedule_points; /* counts parks, not the fast-path yield */
#endif
    switch (f->op) {
    case A_CLOSE_TX: aio_chan_tx_close((aio_chan_tx *)f->obj); break;
    case A_CLOSE_RX: aio_chan_rx_close((aio_chan_rx *)f->obj); break;
    case A_TASK_DONE: rc = aio_queue_task_done((aio_queue *)f->obj); break;
    case A_SHUTDOWN: aio_queue_shutdown((aio_queue *)f->obj, f->v); break;
    case A_CANCEL: rc = aio_task_cancel((aio_task *)f->obj); break;
    default: break;
    }
    if (f->op == A_SEND)
        AIO_CHAN_SEND(rc, (aio_chan_tx *)f->obj, &f->v);
    else if (f->op == A_RECV)
        AIO_CHAN_RECV(rc, (aio_chan_rx *)f->obj, &f->v);
    else if (f->op == A_SELECT)
        AIO_SELECT(rc, (aio_select *)f->obj);
    else if (f->op == A_PUT)
        AIO_QUEUE_PUT(rc, (aio_queue *)f->obj, &f->v);
    else if (f->op == A_GET)
        AIO_QUEUE_GET(rc, (aio_queue *)f->obj, &f->v);
    else if (f->op == A_JOIN)
        AIO_QUEUE_JOIN(rc, (aio_queue *)f->obj);
#ifdef AIO_DEBUG
    sp = t->schedule_points;
    f->parked = sp != (uint32_t)f->parked;
#endif
    f->raw = rc;
    f->rc = aio_scope_exit(t, &f->sc, rc);
    f->at = aio_now(aio_task_loop(t));
    f->done = 1;
    AIO_END(0);
}

#define MAX_ACTORS 64

struct actors_main {
    aio_frame hdr;
    struct actor *a;
    int n;
    aio_group g;
    aio_task tasks[MAX_ACTORS];
    int rc;
};

AIO__UNUSED static int actors_main(aio_task *t, void *p)
{
    struct actors_main *f = (struct actors_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    for (i = 0; i < f->n; i++)
        aio_spawn(&f->g, &f->tasks[i], actor, &f->a[i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    AIO_END(rc);
}

static aio_loop chan_loop;
/* When set, run_actors' loop reports debug assertions here instead of aborting. */
static void (*chan_panic)(const char *msg, const char *file, int line);
static aio_task chan_main_task;
static struct actors_main chan_actors_main;

/* Runs actors a[0..n) concurrently (spawned in order) on a fresh virtual-clock loop. */
AIO__UNUSED static int run_actors(struct actor *a, int n)
{
    memset(&chan_actors_main, 0, sizeof chan_actors_main);
    memset(&chan_main_task, 0, sizeof chan_main_task);
    chan_actors_main.a = a;
    chan_actors_main.n = n;
    test_loop_init(&chan_loop);
    chan_loop.cfg.panic = chan_panic;
    return aio_run(&chan_loop, &chan_main_task, actors_main, &chan_actors_main);
}

/* Pointer to actor i's task (for A_CANCEL). */
#define ACTOR_TASK(i) (&chan_actors_main.tasks[i])

AIO__UNUSED static struct actor act(int op, void *obj, int v, aio_time delay)
{
    struct actor a;
    memset(&a, 0, sizeof a);
    a.op = op;
    a.obj = obj;
    a.v = v;
    a.delay = delay;
    return a;
}

/* Small deterministic generator for the randomized tests. */
AIO__UNUSED static uint32_t rnd_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

#endif
