/* libuv: timer start+stop with N other timers armed; one loop turn
 * (uv_run UV_RUN_NOWAIT with an idle handle so every turn has work); one
 * loop turn with one ready fd (a uv_poll_t on a pipe that stays readable);
 * and a cross-thread wake-up round trip (uv_async_send from another thread,
 * the callback acknowledges, the thread waits for it and sends again). */
#define _GNU_SOURCE
#include <uv.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
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

struct fdctx { long n, count; };

static void poll_cb(uv_poll_t *h, int status, int events)
{
    struct fdctx *c = h->data;
    (void)status;
    (void)events;
    if (++c->count == c->n)
        uv_poll_stop(h);
}

static uint64_t run_fd_turn(void *p, long n)
{
    int *pipefd = p;
    struct fdctx c = { n, 0 };
    uv_loop_t loop;
    uv_poll_t h;
    uint64_t t0;
    uv_loop_init(&loop);
    uv_poll_init(&loop, &h, pipefd[0]);
    h.data = &c;
    uv_poll_start(&h, UV_READABLE, poll_cb);
    t0 = peer_now();
    uv_run(&loop, UV_RUN_DEFAULT);
    t0 = peer_now() - t0;
    uv_close((uv_handle_t *)&h, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (c.count != n)
        abort();
    return t0;
}

struct actx { uv_async_t a; long n, count, ack; uint64_t elapsed; };

static void async_cb(uv_async_t *h)
{
    struct actx *c = h->data;
    c->count++;
    __atomic_store_n(&c->ack, c->count, __ATOMIC_RELEASE);
    if (c->count == c->n)
        uv_close((uv_handle_t *)h, NULL);
}

static void *sender(void *p)
{
    struct actx *c = p;
    uint64_t t0 = peer_now();
    long i;
    for (i = 1; i <= c->n; i++) {
        uv_async_send(&c->a);
        while (__atomic_load_n(&c->ack, __ATOMIC_ACQUIRE) < i)
            sched_yield(); /* gives the CPU away only when another thread wants it */
    }
    c->elapsed = peer_now() - t0;
    return NULL;
}

static uint64_t run_async(void *p, long n)
{
    static struct actx c;
    uv_loop_t loop;
    pthread_t th;
    (void)p;
    memset(&c, 0, sizeof c);
    c.n = n;
    uv_loop_init(&loop);
    uv_async_init(&loop, &c.a, async_cb);
    c.a.data = &c;
    pthread_create(&th, NULL, sender, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    uv_loop_close(&loop);
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
    peer_report("loop turn with one ready fd (uv_poll_t, level-triggered)", run_fd_turn, pipefd, 200000);
    peer_report("cross-thread wake-up round trip (uv_async_send -> callback)", run_async, NULL, 50000);
    return 0;
}
