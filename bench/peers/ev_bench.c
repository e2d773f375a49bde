/* libev: timer start+stop with N other timers armed, and one loop turn
 * (ev_run EVRUN_NOWAIT with an idle watcher so every turn has work). */
#define _GNU_SOURCE
#include <ev.h>
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

int main(void)
{
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
    return 0;
}
