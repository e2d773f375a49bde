/* libuv: timer start+stop with N other timers armed, and one loop turn
 * (uv_run UV_RUN_NOWAIT with an idle handle so every turn has work). */
#define _GNU_SOURCE
#include <uv.h>
#include "peer_util.h"

struct tctx { long m; uv_timer_t *bg; int worst; };

static void nop_timer(uv_timer_t *h) { (void)h; }

static uint64_t run_timer(void *p, long n)
{
    struct tctx *c = p;
    uv_loop_t loop;
    uv_timer_t t;
    uint64_t t0;
    long i;
    uv_loop_init(&loop);
    for (i = 0; i < c->m; i++) {
        uv_timer_init(&loop, &c->bg[i]);
        uv_timer_start(&c->bg[i], nop_timer, 1000 + (uint64_t)((i * 7919) % 1000), 0);
    }
    uv_timer_init(&loop, &t);
    t0 = peer_now();
    for (i = 0; i < n; i++) {
        uv_timer_start(&t, nop_timer, c->worst ? 500 : 3000, 0);
        uv_timer_stop(&t);
    }
    t0 = peer_now() - t0;
    for (i = 0; i < c->m; i++)
        uv_close((uv_handle_t *)&c->bg[i], NULL);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return t0;
}

static void idle_cb(uv_idle_t *h) { (void)h; }

static uint64_t run_turn(void *p, long n)
{
    uv_loop_t loop;
    uv_idle_t idle;
    uint64_t t0;
    long i;
    (void)p;
    uv_loop_init(&loop);
    uv_idle_init(&loop, &idle);
    uv_idle_start(&idle, idle_cb);
    t0 = peer_now();
    for (i = 0; i < n; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    t0 = peer_now() - t0;
    uv_close((uv_handle_t *)&idle, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
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
