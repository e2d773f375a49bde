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
 *   ... with 1,000 / 10,000 other       the same, beside 1,000 or 10,000 tasks
 *       waiters                         parked on eventfds that never become
 *                                       ready
 * The fd is never drained, so it is ready at every poll (level-triggered).
 * After the table: the system calls of the measured turns (counted through
 * the reactor's syscall hooks, so every call the loop makes is seen), and
 * the resident memory each of the 10,000 parked waiters added (its task,
 * frame, descriptor slot and the epoll registration's user-space share).
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <string.h>

/* Every epoll call the loop makes goes through these counters. */
static unsigned long n_wait, n_ctl;
static int cnt_epoll_wait(int e, struct epoll_event *ev, int n, int ms) { n_wait++; return epoll_wait(e, ev, n, ms); }
static int cnt_epoll_ctl(int e, int op, int fd, struct epoll_event *ev) { n_ctl++; return epoll_ctl(e, op, fd, ev); }
#define AIO_SYS_epoll_wait cnt_epoll_wait
#define AIO_SYS_epoll_ctl cnt_epoll_ctl

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

/* The counters as the steady state begins (the first turns register the
 * spinning task's descriptor), and the loop they belong to. */
static unsigned long base_wait, base_ctl;
static uint64_t base_turns;
static aio_loop *spin_loop;

struct spin { aio_frame hdr; long n, i; };
static int spin(aio_task *t, void *p)
{
    struct spin *f = (struct spin *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (f->i == 2) {
            base_wait = n_wait;
            base_ctl = n_ctl;
            base_turns = spin_loop->turns;
        }
        AIO_WAIT_READABLE(rc, rd);
        if (rc != 0)
            abort();
    }
    AIO_END(0);
}

#define OTHERS 10000
static int others_fd[OTHERS];
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

/* The system calls of the last run_turn's steady-state turns, and its turns. */
static unsigned long last_wait, last_ctl;
static uint64_t last_turns;

/* Resident set size now, in bytes (0 where /proc is missing). */
static long long rss_now(void)
{
    long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long long size;
        if (fscanf(f, "%lld %lld", &size, &pages) != 2)
            pages = 0;
        fclose(f);
    }
    return pages * 4096;
}
static long long rss_before, rss_after, rss_grow;

static uint64_t run_turn(void *ctx, long n)
{
    static aio_loop loop;
    static aio_reactor io;
    static aio_reactor_fd table[OTHERS + 64];
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
    aio_reactor_set_fds(&io, table, OTHERS + 64);
    aio_loop_backend_fd(&loop); /* create the epoll set outside the timed part */
    rss_before = rss_now();
    for (i = 0; i < nothers; i++) {
        others_f[i].fd = others_fd[i];
        aio_spawn(&loop.root, &others_t[i], other, &others_f[i]);
    }
    aio_loop_step(&loop); /* the bystanders park */
    rss_after = rss_now();
    spin_loop = &loop;
    t0 = bu_now();
    aio_run(&loop, &mt, spin, &f);
    t1 = bu_now();
    last_wait = n_wait - base_wait;
    last_ctl = n_ctl - base_ctl;
    last_turns = loop.turns - base_turns;
    turns = loop.turns;
    for (i = 0; i < nothers; i++)
        aio_notify_closing(&loop, others_fd[i]);
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
    bu_stat bare, bare_ctl, turn, turn_1k, turn_10k;
    unsigned long wait0, ctl0;
    uint64_t turns0;
    int zero = 0, thousand = 1000, many = OTHERS, i;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
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
    for (i = 0; i < OTHERS; i++) {
        others_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* count 0: never readable */
        if (others_fd[i] < 0 || others_fd[i] >= OTHERS + 64) {
            fprintf(stderr, "bench_reactor: %d descriptors needed (RLIMIT_NOFILE too low)\n", OTHERS + 16);
            return 1;
        }
    }
    (void)run_turn(&many, 1000); /* first touch of the bystanders' memory */
    rss_grow = rss_after - rss_before;
    turn = bu_measure(run_turn, &zero, n);
    wait0 = last_wait;
    ctl0 = last_ctl;
    turns0 = last_turns;
    turn_1k = bu_measure(run_turn, &thousand, n);
    turn_10k = bu_measure(run_turn, &many, n);
    printf("### reactor: one loop turn with one ready fd (backend %s)\n\n", AIO_BACKEND_NAME);
    bu_print_machine();
    printf("sizeof: aio_loop %u, aio_reactor %u, aio_reactor_fd %u, aio_post %u, aio_task %u, waiter frame %u\n\n",
           (unsigned)sizeof(aio_loop), (unsigned)sizeof(aio_reactor), (unsigned)sizeof(aio_reactor_fd),
           (unsigned)sizeof(aio_post), (unsigned)sizeof(aio_task), (unsigned)sizeof(struct other));
    bu_table_head();
    bu_row("bare epoll_wait, one ready fd", bare, 0);
    bu_row("bare ctl ADD + epoll_wait + ctl DEL", bare_ctl, bare.med);
    bu_row("aio loop turn, one ready fd (AIO_WAIT_READABLE)", turn, bare.med);
    bu_row("aio loop turn, one ready fd, 1,000 other waiters", turn_1k, bare.med);
    bu_row("aio loop turn, one ready fd, 10,000 other waiters", turn_10k, bare.med);
    printf("\nreactor system calls per turn: epoll_wait %.3f, epoll_ctl %.3f (%lu and %lu over %llu steady-state turns)\n",
           turns0 ? (double)wait0 / (double)turns0 : 0.0, turns0 ? (double)ctl0 / (double)turns0 : 0.0, wait0, ctl0,
           (unsigned long long)turns0);
    printf("reactor memory per parked fd waiter: %.0f bytes (resident growth over %d waiters: task, frame, "
           "descriptor slot; the kernel's share is not counted)\n\n",
           (double)rss_grow / (double)OTHERS, OTHERS);
    close(ep);
    close(ep2);
    close(rd);
    close(wr);
    for (i = 0; i < OTHERS; i++)
        close(others_fd[i]);
    return 0;
}

#else

int main(void)
{
    printf("### reactor: backend %s; this benchmark needs epoll\n", AIO_BACKEND_NAME);
    return 0;
}

#endif
