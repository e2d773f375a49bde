/* libev: timer start+stop with N other timers armed; one loop turn
 * (ev_run EVRUN_NOWAIT with an idle watcher so every turn has work); one
 * loop turn with one ready fd (an ev_io on a pipe that stays readable); and
 * a cross-thread wake-up round trip (ev_async_send from another thread, the
 * callback acknowledges, the thread waits for it and sends again). */
#define _GNU_SOURCE
#include <ev.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include "peer_util.h"

struct tctx { long m; ev_timer *bg; int worst; };

static void nop_timer(struct ev_loop *l, ev_timer *w, int r) { (void)l; (void)w; (void)r; }

static uint64_t run_timer(void *p, long n)
{
    struct tctx *c = p;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer t;
    uint64_t t0;
    long i;
    for (i = 0; i < c->m; i++) {
        ev_timer_init(&c->bg[i], nop_timer, 1.0 + (double)((i * 7919) % 1000) / 1000.0, 0.);
        ev_timer_start(loop, &c->bg[i]);
    }
    ev_timer_init(&t, nop_timer, c->worst ? 0.5 : 3.0, 0.);
    t0 = peer_now();
    for (i = 0; i < n; i++) {
        ev_timer_start(loop, &t);
        ev_timer_stop(loop, &t);
    }
    t0 = peer_now() - t0;
    for (i = 0; i < c->m; i++)
        ev_timer_stop(loop, &c->bg[i]);
    ev_loop_destroy(loop);
    return t0;
}

static void idle_cb(struct ev_loop *l, ev_idle *w, int r) { (void)l; (void)w; (void)r; }

static uint64_t run_turn(void *p, long n)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_idle idle;
    uint64_t t0;
    long i;
    (void)p;
    ev_idle_init(&idle, idle_cb);
    ev_idle_start(loop, &idle);
    t0 = peer_now();
    for (i = 0; i < n; i++)
        ev_run(loop, EVRUN_NOWAIT);
    t0 = peer_now() - t0;
    ev_idle_stop(loop, &idle);
    ev_loop_destroy(loop);
    return t0;
}

struct fdctx { ev_io w; long n, count; };

static void io_cb(struct ev_loop *l, ev_io *w, int r)
{
    struct fdctx *c = (struct fdctx *)w;
    (void)r;
    if (++c->count == c->n)
        ev_io_stop(l, w);
}

static uint64_t run_fd_turn(void *p, long n)
{
    int *pipefd = p;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct fdctx c;
    uint64_t t0;
    c.n = n;
    c.count = 0;
    ev_io_init(&c.w, io_cb, pipefd[0], EV_READ);
    ev_io_start(loop, &c.w);
    t0 = peer_now();
    ev_run(loop, 0);
    t0 = peer_now() - t0;
    ev_loop_destroy(loop);
    if (c.count != n)
        abort();
    return t0;
}

struct actx { ev_async a; struct ev_loop *loop; long n, count, ack; uint64_t elapsed; };

static void async_cb(struct ev_loop *l, ev_async *w, int r)
{
    struct actx *c = (struct actx *)w;
    (void)r;
    c->count++;
    __atomic_store_n(&c->ack, c->count, __ATOMIC_RELEASE);
    if (c->count == c->n)
        ev_async_stop(l, w);
}

static void *sender(void *p)
{
    struct actx *c = p;
    uint64_t t0 = peer_now();
    long i;
    for (i = 1; i <= c->n; i++) {
        ev_async_send(c->loop, &c->a);
        while (__atomic_load_n(&c->ack, __ATOMIC_ACQUIRE) < i)
            sched_yield(); /* gives the CPU away only when another thread wants it */
    }
    c->elapsed = peer_now() - t0;
    return NULL;
}

static uint64_t run_async(void *p, long n)
{
    static struct actx c;
    pthread_t th;
    (void)p;
    memset(&c, 0, sizeof c);
    c.n = n;
    c.loop = ev_loop_new(EVFLAG_AUTO);
    ev_async_init(&c.a, async_cb);
    ev_async_start(c.loop, &c.a);
    pthread_create(&th, NULL, sender, &c);
    ev_run(c.loop, 0);
    pthread_join(th, NULL);
    ev_loop_destroy(c.loop);
    return c.elapsed;
}

int main(void)
{
    int pipefd[2];
    static const long heaps[] = { 0, 10000, 100000, 1000000 };
    char name[160];
    int h, w;
    for (h = 0; h < 4; h++) {
        struct tctx c;
        c.m = heaps[h];
        c.bg = calloc((size_t)(c.m ? c.m : 1), sizeof *c.bg);
        for (w = 0; w < 2; w++) {
            c.worst = w;
            snprintf(name, sizeof name, "timer arm+cancel, %ld other timers armed, %s", c.m,
                     w ? "earliest deadline (becomes the heap root)" : "latest deadline (leaf)");
            peer_report(name, run_timer, &c, 1000000);
        }
        free(c.bg);
    }
    peer_report("loop turn with one idle/ready callback", run_turn, NULL, 1000000);
    if (pipe(pipefd) != 0 || write(pipefd[1], "x", 1) != 1)
        return 1;
    peer_report("loop turn with one ready fd (ev_io, level-triggered)", run_fd_turn, pipefd, 200000);
    peer_report("cross-thread wake-up round trip (ev_async_send -> callback)", run_async, NULL, 50000);
    return 0;
}
