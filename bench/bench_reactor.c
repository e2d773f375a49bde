/*
 * bench/bench_reactor.c - cost of one loop turn with one ready fd, beside a
 * bare epoll_wait on the same machine.
 *
 * Rows (ns per operation, median of BU_RUNS runs):
 *   bare epoll_wait, one ready fd       epoll_wait(timeout 0) on a set holding
 *                                       one pipe that stays readable
 *   bare ctl ADD + epoll_wait + ctl DEL the system calls an fd wait made before
 *                                       registrations persisted (register while
 *                                       parked, unregister on wake-up)
 *   aio loop turn, one ready fd         a task in AIO_WAIT_READABLE on that
 *                                       pipe, resumed once per turn by
 *                                       aio_run: step, backend poll, dispatch
 *                                       (steady state: one epoll_wait)
 *   ... with 1,000 other waiters        the same, beside 1,000 tasks parked on
 *                                       pipes that never become ready
 * The fd is never drained, so it is ready at every poll (level-triggered).
 */
#define AIO_IMPLEMENTATION
#include "aio_reactor.h"
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

#define OTHERS 1000
static int others_p[OTHERS][2];
static aio_task others_t[OTHERS];
struct other { aio_frame hdr; int fd; };
static struct other others_f[OTHERS];
static int other(aio_task *t, void *p)
{
    struct other *f = (struct other *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    AIO_END(rc);
}

static uint64_t run_turn(void *ctx, long n)
{
    static aio_loop loop;
    static aio_reactor io;
    static aio_reactor_fd table[4 * OTHERS];
    aio_task mt;
    struct spin f;
    uint64_t t0, t1;
    uint64_t turns;
    int i, nothers = *(int *)ctx;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.n = n;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    aio_reactor_set_fds(&io, table, 4 * OTHERS);
    aio_loop_backend_fd(&loop); /* create the epoll set outside the timed part */
    memset(others_t, 0, sizeof others_t);
    for (i = 0; i < nothers; i++) {
        others_f[i].fd = others_p[i][0];
        aio_spawn(&loop.root, &others_t[i], other, &others_f[i]);
    }
    aio_loop_step(&loop); /* the bystanders park */
    t0 = bu_now();
    aio_run(&loop, &mt, spin, &f);
    t1 = bu_now();
    turns = loop.turns;
    for (i = 0; i < nothers; i++)
        aio_notify_closing(&loop, others_p[i][0]);
    while (aio_loop_step(&loop) != 0) {
    }
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
    bu_stat bare, bare_ctl, turn, turn_1k;
    int zero = 0, many = OTHERS, i;
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
    for (i = 0; i < OTHERS; i++)
        if (pipe(others_p[i]) != 0)
            return 1;
    turn = bu_measure(run_turn, &zero, n);
    turn_1k = bu_measure(run_turn, &many, n);
    printf("### reactor: one loop turn with one ready fd (backend %s)\n\n", AIO_BACKEND_NAME);
    bu_print_machine();
    printf("sizeof: aio_loop %u, aio_reactor %u (fd table of %u), aio_post %u, aio_task %u\n\n",
           (unsigned)sizeof(aio_loop), (unsigned)sizeof(aio_reactor), (unsigned)AIO_REACTOR_FDS,
           (unsigned)sizeof(aio_post), (unsigned)sizeof(aio_task));
    bu_table_head();
    bu_row("bare epoll_wait, one ready fd", bare, 0);
    bu_row("bare ctl ADD + epoll_wait + ctl DEL", bare_ctl, bare.med);
    bu_row("aio loop turn, one ready fd (AIO_WAIT_READABLE)", turn, bare.med);
    bu_row("aio loop turn, one ready fd, 1,000 other waiters", turn_1k, bare.med);
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
