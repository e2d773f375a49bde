/*
 * bench/bench_reactor.c - cost of one loop turn with one ready fd, beside a
 * bare epoll_wait on the same machine.
 *
 * Rows (ns per operation, median of BU_RUNS runs):
 *   bare epoll_wait, one ready fd       epoll_wait(timeout 0) on a set holding
 *                                       one pipe that stays readable
 *   bare ctl ADD + epoll_wait + ctl DEL the system calls one aio fd wait makes
 *                                       (register while parked, unregister on
 *                                       wake-up)
 *   aio loop turn, one ready fd         a task in AIO_WAIT_READABLE on that
 *                                       pipe, resumed once per turn by
 *                                       aio_run: step, backend poll, dispatch
 * The fd is never drained, so it is ready at every poll (level-triggered).
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "bench_util.h"

#if AIO__BACKEND == AIO__BE_EPOLL

static int rd, wr, ep;

static uint64_t run_bare_wait(void *ctx, long n)
{
    struct epoll_event ev[8];
    uint64_t t0 = bu_now();
    long i;
    (void)ctx;
    for (i = 0; i < n; i++)
        if (epoll_wait(ep, ev, 8, 0) != 1)
            abort();
    return bu_now() - t0;
}

static uint64_t run_bare_ctl_wait(void *ctx, long n)
{
    struct epoll_event e, ev[8];
    uint64_t t0 = bu_now();
    long i;
    int ep2 = *(int *)ctx;
    memset(&e, 0, sizeof e);
    e.events = EPOLLIN;
    e.data.fd = rd;
    for (i = 0; i < n; i++) {
        epoll_ctl(ep2, EPOLL_CTL_ADD, rd, &e);
        if (epoll_wait(ep2, ev, 8, 0) != 1)
            abort();
        epoll_ctl(ep2, EPOLL_CTL_DEL, rd, &e);
    }
    return bu_now() - t0;
}

struct spin { aio_frame hdr; long n, i; };
static int spin(aio_task *t, void *p)
{
    struct spin *f = (struct spin *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_WAIT_READABLE(rc, rd);
        if (rc != 0)
            abort();
    }
    AIO_END(0);
}

static uint64_t run_turn(void *ctx, long n)
{
    aio_loop loop;
    aio_task mt;
    struct spin f;
    uint64_t t0, t1;
    uint64_t turns;
    (void)ctx;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.n = n;
    aio_loop_init(&loop, NULL);
    aio_loop_backend_fd(&loop); /* create the epoll set outside the timed part */
    t0 = bu_now();
    aio_run(&loop, &mt, spin, &f);
    t1 = bu_now();
    turns = loop.turns;
    aio_loop_close(&loop);
    if (turns < (uint64_t)n)
        abort();
    return t1 - t0;
}

int main(void)
{
    int p[2], ep2;
    long n = 200000;
    struct epoll_event e;
    bu_stat bare, bare_ctl, turn;
    if (pipe(p) != 0 || write(p[1], "x", 1) != 1)
        return 1;
    rd = p[0];
    wr = p[1];
    ep = epoll_create1(EPOLL_CLOEXEC);
    ep2 = epoll_create1(EPOLL_CLOEXEC);
    memset(&e, 0, sizeof e);
    e.events = EPOLLIN;
    e.data.fd = rd;
    epoll_ctl(ep, EPOLL_CTL_ADD, rd, &e);
    bare = bu_measure(run_bare_wait, NULL, n);
    bare_ctl = bu_measure(run_bare_ctl_wait, &ep2, n);
    turn = bu_measure(run_turn, NULL, n);
    printf("### reactor: one loop turn with one ready fd (backend %s)\n\n", AIO_BACKEND_NAME);
    bu_print_machine();
    printf("sizeof: aio_loop %u (reactor state %u), aio_post %u, aio_task %u\n\n", (unsigned)sizeof(aio_loop),
           (unsigned)sizeof(aio__reactor), (unsigned)sizeof(aio_post), (unsigned)sizeof(aio_task));
    bu_table_head();
    bu_row("bare epoll_wait, one ready fd", bare, 0);
    bu_row("bare ctl ADD + epoll_wait + ctl DEL", bare_ctl, bare.med);
    bu_row("aio loop turn, one ready fd (AIO_WAIT_READABLE)", turn, bare.med);
    close(ep);
    close(ep2);
    close(rd);
    close(wr);
    return 0;
}

#else

int main(void)
{
    printf("### reactor: backend %s; this benchmark needs epoll\n", AIO_BACKEND_NAME);
    return 0;
}

#endif
