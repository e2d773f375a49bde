/*
 * tests/reactor_cases.h - the I/O reactor suite, compiled once per backend by
 * tests/test_reactor_<backend>.c (which picks the backend with an
 * AIO_BACKEND_* macro) and by tests/test_reactor.c (the automatic choice).
 * Real pipes and sockets; the virtual clock for every timeout.
 */
#ifndef AIO_TEST_REACTOR_CASES_H
#define AIO_TEST_REACTOR_CASES_H

#include "harness.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

/* ---- helpers ------------------------------------------------------------ */

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void mkpipe(int p[2])
{
    CHECK_EQ(pipe(p), 0);
    nonblock(p[0]);
    nonblock(p[1]);
}

static void mksock(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    nonblock(sv[0]);
    nonblock(sv[1]);
}

static void close2(int p[2])
{
    close(p[0]);
    close(p[1]);
}

/* Fills a non-blocking socket's send buffer so it stops being writable. */
static void fill(int fd)
{
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    while (write(fd, buf, sizeof buf) > 0) {
    }
}

/* Is fd still registered with the backend's kernel object?  (epoll: a MOD
 * to the interest the reactor believes it has, which changes nothing.) */
static int backend_has(aio_loop *loop, int fd)
{
    aio_reactor *io = test_reactor(loop);
#if AIO__BACKEND == AIO__BE_EPOLL
    struct epoll_event ev;
    unsigned reg = io ? io->fds[fd].reg : 0;
    memset(&ev, 0, sizeof ev);
    ev.events = ((reg & AIO_READABLE) ? (uint32_t)EPOLLIN : 0u) | ((reg & AIO_WRITABLE) ? (uint32_t)EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (!io || io->bfd < 0)
        return 0;
    return epoll_ctl(io->bfd, EPOLL_CTL_MOD, fd, &ev) == 0; /* ENOENT when absent */
#elif AIO__BACKEND == AIO__BE_KQUEUE
    return io && io->bfd >= 0 && kqd_registered(io->bfd, fd) > 0;
#else
    return io && io->fds[fd].slot != 0; /* poll: an entry of the pollfd array */
#endif
}

/* Registrations persist after a wait: no task is parked on fd any more,
 * and aio_notify_closing drops whatever the kernel still holds for it. */
static int settled(aio_loop *loop, int fd)
{
    aio_reactor *io = test_reactor(loop);
    if (!io || io->fds[fd].w[0] || io->fds[fd].w[1])
        return 0;
    if (aio_notify_closing(loop, fd) != 0)
        return 0;
    return !backend_has(loop, fd);
}

static void reactor_loop_init(aio_loop *loop)
{
    test_loop_init(loop);
    memset(&mt, 0, sizeof mt);
}

/* Waits for fd in one direction, optionally under move_on_after(limit). */
struct waiter {
    aio_frame hdr;
    int fd;
    unsigned dir;
    aio_time limit; /* 0: no deadline */
    aio_scope sc;
    int rc, caught, done;
    aio_time at;
};
static int waiter(aio_task *t, void *p)
{
    struct waiter *f = (struct waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->limit) {
        aio_scope_init(&f->sc);
        aio_move_on_after(t, &f->sc, f->limit);
    }
    if (f->dir == AIO_READABLE)
        AIO_WAIT_READABLE(rc, f->fd);
    else
        AIO_WAIT_WRITABLE(rc, f->fd);
    f->rc = rc;
    f->at = aio_now(aio_task_loop(t));
    if (f->limit) {
        aio_scope_exit(t, &f->sc, rc);
        f->caught = aio_scope_cancelled_caught(&f->sc);
    }
    f->done = 1;
    AIO_END(0);
}

/* After `delay`, does one thing to an fd or a task. */
enum { ACT_WRITE = 1, ACT_NOTIFY, ACT_CANCEL, ACT_CLOSE };
struct actor {
    aio_frame hdr;
    aio_time delay;
    int action, fd;
    aio_task *victim;
    uint32_t woke;
};
static int actor(aio_task *t, void *p)
{
    struct actor *f = (struct actor *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->delay)
        AIO_SLEEP(rc, f->delay);
    if (f->action == ACT_WRITE)
        CHECK_EQ(write(f->fd, "!", 1), 1);
    else if (f->action == ACT_NOTIFY)
        f->woke = aio_notify_closing(aio_task_loop(t), f->fd);
    else if (f->action == ACT_CANCEL)
        aio_task_cancel(f->victim);
    else if (f->action == ACT_CLOSE)
        close(f->fd);
    AIO_END(0);
}

/* Runs up to 4 children in one group; returns aio_run's result. */
struct kids {
    aio_frame hdr;
    aio_group g;
    int n;
    aio_task t[4];
    aio_fn fn[4];
    void *frame[4];
};
static int kids_main(aio_task *t, void *p)
{
    struct kids *f = (struct kids *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < f->n; i++)
        aio_spawn(&f->g, &f->t[i], f->fn[i], f->frame[i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static struct kids K;
static void kid(aio_fn fn, void *frame)
{
    K.fn[K.n] = fn;
    K.frame[K.n] = frame;
    K.n++;
}
static int run_kids(void)
{
    return aio_run(&L, &mt, kids_main, &K);
}
static void kids_reset(void)
{
    memset(&K, 0, sizeof K);
}

/* ---- readiness -------------------------------------------------------- */

TEST(pipe_wait_readable_resumes_when_data_arrives)
{
    int p[2];
    struct waiter w;
    struct actor a;
    char c;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    a.delay = AIO_SEC(1);
    a.action = ACT_WRITE;
    a.fd = p[1];
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.at, AIO_SEC(1));
    CHECK_EQ(read(p[0], &c, 1), 1);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(socketpair_is_writable_at_once_and_readable_after_the_peer_writes)
{
    int sv[2];
    struct waiter w, r;
    struct actor a;
    reactor_loop_init(&L);
    mksock(sv);
    memset(&w, 0, sizeof w);
    memset(&r, 0, sizeof r);
    memset(&a, 0, sizeof a);
    w.fd = sv[0];
    w.dir = AIO_WRITABLE;
    r.fd = sv[1];
    r.dir = AIO_READABLE;
    a.delay = AIO_MS(3);
    a.action = ACT_WRITE;
    a.fd = sv[0];
    kids_reset();
    kid(waiter, &w);
    kid(waiter, &r);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.at, 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.at, AIO_MS(3));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(sv);
}

/* Autojump: with an fd already ready, the loop polls before jumping time. */
TEST(a_ready_fd_is_seen_before_the_virtual_clock_jumps)
{
    int p[2];
    struct waiter w;
    struct actor a;
    reactor_loop_init(&L);
    mkpipe(p);
    CHECK_EQ(write(p[1], "x", 1), 1);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    a.delay = AIO_SEC(10); /* a far timer the clock could jump to */
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.at, 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(reader_and_writer_wait_on_one_fd_independently)
{
    int sv[2];
    struct waiter r, w;
    struct actor a;
    reactor_loop_init(&L);
    mksock(sv);
    fill(sv[0]); /* sv[0] is neither readable nor writable now */
    memset(&r, 0, sizeof r);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    r.fd = w.fd = sv[0];
    r.dir = AIO_READABLE;
    w.dir = AIO_WRITABLE;
    r.limit = w.limit = AIO_SEC(5);
    a.delay = AIO_SEC(1); /* the peer writes: only the reader may wake */
    a.action = ACT_WRITE;
    a.fd = sv[1];
    kids_reset();
    kid(waiter, &r);
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.at, AIO_SEC(1));
    CHECK_EQ(w.rc, AIO_ECANCELED); /* still full: the writer stayed parked until its deadline */
    CHECK_EQ(w.at, AIO_SEC(5));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, sv[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(sv);
}

TEST(a_second_reader_on_one_fd_is_busy)
{
    int p[2];
    struct waiter r1, r2;
    struct actor a;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    memset(&a, 0, sizeof a);
    r1.fd = r2.fd = p[0];
    r1.dir = r2.dir = AIO_READABLE;
    a.delay = AIO_SEC(1);
    a.action = ACT_WRITE;
    a.fd = p[1];
    kids_reset();
    kid(waiter, &r1);
    kid(waiter, &r2);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    /* Whichever registered first waits; the other is refused at once. */
    CHECK((r1.rc == 0 && r2.rc == AIO_EBUSY) || (r1.rc == AIO_EBUSY && r2.rc == 0));
    CHECK_EQ(r1.rc == AIO_EBUSY ? r1.at : r2.at, 0);
    CHECK_EQ(r1.rc == 0 ? r1.at : r2.at, AIO_SEC(1));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(a_regular_file_is_always_ready)
{
    FILE *fp = tmpfile();
    struct waiter r, w;
    reactor_loop_init(&L);
    CHECK(fp != NULL);
    if (!fp)
        return;
    memset(&r, 0, sizeof r);
    memset(&w, 0, sizeof w);
    r.fd = w.fd = fileno(fp);
    r.dir = AIO_READABLE;
    w.dir = AIO_WRITABLE;
    kids_reset();
    kid(waiter, &r);
    kid(waiter, &w);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(r.at, 0);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    fclose(fp);
}

TEST(a_negative_fd_is_invalid)
{
    struct waiter r;
    reactor_loop_init(&L);
    memset(&r, 0, sizeof r);
    r.fd = -1;
    r.dir = AIO_READABLE;
    CHECK_EQ(aio_run(&L, &mt, waiter, &r), 0);
    CHECK_EQ(r.rc, AIO_EINVAL);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* ---- timeouts and cancellation ----------------------------------------- */

TEST(readiness_before_the_deadline_wins)
{
    int p[2];
    struct waiter w;
    struct actor a;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_SEC(5);
    a.delay = AIO_SEC(1);
    a.action = ACT_WRITE;
    a.fd = p[1];
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.at, AIO_SEC(1));
    CHECK_EQ(w.caught, 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(the_deadline_before_readiness_cancels_the_wait_and_unregisters)
{
    int p[2];
    struct waiter w;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_SEC(2);
    CHECK_EQ(aio_run(&L, &mt, waiter, &w), 0);
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_SEC(2));
    CHECK_EQ(w.caught, 1);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* Data and deadline at the same virtual instant: either outcome is allowed,
 * but it is one of them, at that instant, with nothing left registered. */
TEST(readiness_and_deadline_at_the_same_instant_settle_cleanly)
{
    int p[2];
    struct waiter w;
    struct actor a;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_SEC(1);
    a.delay = AIO_SEC(1);
    a.action = ACT_WRITE;
    a.fd = p[1];
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK(w.rc == 0 || w.rc == AIO_ECANCELED);
    CHECK_EQ(w.caught, w.rc == AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_SEC(1));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(cancel_while_parked_leaves_nothing_registered)
{
    int p[2];
    struct waiter w;
    struct actor a, late;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    memset(&late, 0, sizeof late);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    kids_reset();
    a.delay = AIO_SEC(1);
    a.action = ACT_CANCEL;
    a.victim = &K.t[0];
    late.delay = AIO_SEC(2); /* data after the cancel wakes nobody */
    late.action = ACT_WRITE;
    late.fd = p[1];
    kid(waiter, &w);
    kid(actor, &a);
    kid(actor, &late);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_SEC(1));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_now(&L), AIO_SEC(2));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

static int pre_cancelled(aio_task *t, void *p)
{
    struct waiter *f = (struct waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->sc);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    aio_scope_cancel(&f->sc, "before");
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    f->caught = test_fd_waits(aio_task_loop(t)) != 0; /* registered during the call? */
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(a_pre_cancelled_wait_registers_nothing)
{
    int p[2];
    struct waiter w;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    CHECK_EQ(aio_run(&L, &mt, pre_cancelled, &w), 0);
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.caught, 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* ---- fd lifecycle ----------------------------------------------------- */

TEST(notify_closing_wakes_reader_and_writer_with_closed)
{
    int sv[2];
    struct waiter r, w;
    struct actor a;
    reactor_loop_init(&L);
    mksock(sv);
    fill(sv[0]);
    memset(&r, 0, sizeof r);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    r.fd = w.fd = sv[0];
    r.dir = AIO_READABLE;
    w.dir = AIO_WRITABLE;
    a.delay = AIO_SEC(1);
    a.action = ACT_NOTIFY;
    a.fd = sv[0];
    kids_reset();
    kid(waiter, &r);
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(a.woke, 2);
    CHECK_EQ(r.rc, AIO_ECLOSED);
    CHECK_EQ(w.rc, AIO_ECLOSED);
    CHECK_EQ(r.at, AIO_SEC(1));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK(settled(&L, sv[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(sv);
}

TEST(notify_closing_an_fd_nobody_waits_on_wakes_nobody)
{
    reactor_loop_init(&L);
    CHECK_EQ(aio_notify_closing(&L, 0), 0);
    CHECK_EQ(aio_notify_closing(&L, -1), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* Closing without aio_notify_closing: poll reports the fd invalid; epoll and
 * kqueue forget it, so the waiter stays parked until its deadline. */
TEST(an_fd_closed_without_notify_ends_the_wait_by_error_or_deadline)
{
    int p[2];
    struct waiter w;
    struct actor a;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&a, 0, sizeof a);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_SEC(3);
    a.delay = AIO_SEC(1);
    a.action = ACT_CLOSE;
    a.fd = p[0];
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
#if AIO__BACKEND == AIO__BE_POLL
    CHECK_EQ(w.rc, -EBADF);
    CHECK_EQ(w.at, AIO_SEC(1));
#else
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_SEC(3));
#endif
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[1]);
}

/* ---- the loop turn ---------------------------------------------------- */

TEST(an_idle_loop_polls_once_per_turn_and_jumps_to_the_deadline)
{
    int p[2];
    struct waiter w;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_SEC(30);
    CHECK_EQ(aio_run(&L, &mt, waiter, &w), 0);
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_SEC(30));
    CHECK(L.io.polls <= L.turns);
    CHECK(L.turns <= 4); /* wait, jump, wake, finish: no spinning */
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* Real clock: the backend sleeps until the timer instead of spinning. */
TEST(with_a_real_clock_the_backend_sleeps_until_the_deadline)
{
    int p[2];
    struct waiter w;
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    memset(&mt, 0, sizeof mt);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_MS(20);
    CHECK_EQ(aio_run(&L, &mt, waiter, &w), 0);
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK(L.io.polls <= 3);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* 1,000 tasks, each on its own pipe, all woken in the same virtual instant. */
#define MANY 1000
static int many_p[MANY][2];
static struct waiter many_w[MANY];
static aio_task many_t[MANY];
struct many { aio_frame hdr; aio_group g; struct actor a; aio_task at; int i; };
static int many_main(aio_task *t, void *p)
{
    struct many *f = (struct many *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < MANY; f->i++)
        aio_spawn(&f->g, &many_t[f->i], waiter, &many_w[f->i]);
    AIO_SLEEP(rc, AIO_SEC(1));
    CHECK_EQ(test_fd_waits(aio_task_loop(t)), MANY);
    for (f->i = 0; f->i < MANY; f->i++)
        CHECK_EQ(write(many_p[f->i][1], "!", 1), 1);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}

TEST(a_thousand_fds_wait_at_once)
{
    static struct many m;
    static aio_reactor_fd table[4 * MANY]; /* 2,000 pipe ends: past AIO_REACTOR_FDS */
    int i, ok = 0;
    reactor_loop_init(&L);
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), table, 4 * MANY), 0);
    memset(&m, 0, sizeof m);
    memset(many_t, 0, sizeof many_t);
    for (i = 0; i < MANY; i++) {
        mkpipe(many_p[i]);
        memset(&many_w[i], 0, sizeof many_w[i]);
        many_w[i].fd = many_p[i][0];
        many_w[i].dir = AIO_READABLE;
    }
    CHECK_EQ(aio_run(&L, &mt, many_main, &m), 0);
    for (i = 0; i < MANY; i++)
        ok += many_w[i].rc == 0 && many_w[i].at == AIO_SEC(1);
    CHECK_EQ(ok, MANY);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    for (i = 0; i < MANY; i++)
        close2(many_p[i]);
}

/* ---- EINTR ------------------------------------------------------------ */

static int sigs; /* signals handled; read by the kicker thread */
static void on_sigusr1(int sig)
{
    (void)sig;
    __atomic_fetch_add(&sigs, 1, __ATOMIC_SEQ_CST);
}

struct kicker { pthread_t target; int fd; };
static void *kicker(void *p)
{
    struct kicker *k = (struct kicker *)p;
    struct timespec ms = { 0, 2000000 };
    int i;
    nanosleep(&ms, NULL);
    for (i = 0; i < 200 && __atomic_load_n(&sigs, __ATOMIC_SEQ_CST) < 3; i++) { /* interrupt the blocked wait a few times */
        pthread_kill(k->target, SIGUSR1);
        nanosleep(&ms, NULL);
    }
    if (write(k->fd, "!", 1) != 1)
        return NULL;
    return NULL;
}

TEST(a_signal_interrupting_the_wait_is_not_an_error)
{
    int p[2];
    struct waiter w;
    struct kicker k;
    struct sigaction sa, old;
    pthread_t th;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    __atomic_store_n(&sigs, 0, __ATOMIC_SEQ_CST);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    k.target = pthread_self();
    k.fd = p[1];
    CHECK_EQ(pthread_create(&th, NULL, kicker, &k), 0);
    CHECK_EQ(aio_run(&L, &mt, waiter, &w), 0); /* no deadline: blocks in the backend */
    pthread_join(th, NULL);
    sigaction(SIGUSR1, &old, NULL);
    CHECK_EQ(w.rc, 0);
    CHECK(__atomic_load_n(&sigs, __ATOMIC_SEQ_CST) >= 3);
    CHECK(test_reactor(&L)->eintr >= 1);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* ---- embedding -------------------------------------------------------- */

struct echo { aio_frame hdr; int fd; int rc; char c; int got; };
static int echo(aio_task *t, void *p)
{
    struct echo *f = (struct echo *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    f->got = (int)read(f->fd, &f->c, 1);
    AIO_END(0);
}

TEST(an_outside_loop_drives_the_reactor_with_poll_and_step)
{
    int p[2], bfd;
    struct echo e;
    aio_task et;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&e, 0, sizeof e);
    memset(&et, 0, sizeof et);
    e.fd = p[0];
    CHECK_EQ(aio_spawn(&L.root, &et, echo, &e), 0);
    CHECK_EQ(aio_loop_poll(&L, 0), 1);  /* the task runs and parks on the fd */
    CHECK_EQ(aio_loop_poll(&L, 0), 0);  /* nothing ready: returns at once */
    CHECK_EQ(aio_loop_next_deadline(&L), AIO_TIME_INF);
    bfd = aio_loop_backend_fd(&L);
#if AIO__BACKEND == AIO__BE_EPOLL
    CHECK(bfd >= 0);
#elif AIO__BACKEND == AIO__BE_KQUEUE
    CHECK(bfd >= 0);
#else
    CHECK_EQ(bfd, AIO_EINVAL);
#endif
    CHECK_EQ(write(p[1], "k", 1), 1);
#if AIO__BACKEND == AIO__BE_EPOLL
    { /* the host loop sees the backend fd become readable */
        struct pollfd pf;
        pf.fd = bfd;
        pf.events = POLLIN;
        pf.revents = 0;
        CHECK_EQ(poll(&pf, 1, 0), 1);
    }
#endif
    CHECK_EQ(aio_loop_poll(&L, AIO_TIME_INF), 1); /* woken and stepped in one call */
    CHECK(aio_task_done(&et));
    CHECK_EQ(e.rc, 0);
    CHECK_EQ(e.got, 1);
    CHECK_EQ(e.c, 'k');
    CHECK_EQ(aio_loop_poll(&L, AIO_TIME_INF), AIO_EDEADLK); /* nothing could ever happen */
    CHECK_EQ(aio_loop_poll(&L, -1), AIO_EINVAL);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

TEST(an_outside_loop_runs_timers_with_the_virtual_clock)
{
    struct waiter w;
    aio_task wt;
    int p[2];
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    memset(&wt, 0, sizeof wt);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    w.limit = AIO_MS(50);
    CHECK_EQ(aio_spawn(&L.root, &wt, waiter, &w), 0);
    CHECK_EQ(aio_loop_poll(&L, AIO_TIME_INF), 1);
    CHECK_EQ(aio_loop_next_deadline(&L), AIO_MS(50));
    CHECK_EQ(aio_loop_poll(&L, AIO_TIME_INF), 0); /* virtual time does not pass by waiting */
    CHECK_EQ(aio_clock_advance(&L, AIO_MS(50)), 0);
    aio_loop_poll(&L, 0);
    aio_loop_poll(&L, 0);
    CHECK(aio_task_done(&wt));
    CHECK_EQ(w.rc, AIO_ECANCELED);
    CHECK_EQ(w.at, AIO_MS(50));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

/* ---- the wake path ---------------------------------------------------- */

struct parked { aio_frame hdr; aio_task *self; int arrived; int rc; };
static int park_begin(aio_task *t, struct parked *f)
{
    if (f->arrived)
        return f->arrived;
    f->self = t;
    aio_park_noabort(t);
    return AIO_PARKED;
}
static int parked(aio_task *t, void *p)
{
    struct parked *f = (struct parked *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_OP(rc, park_begin(t, f));
    f->rc = rc;
    AIO_END(0);
}
static void deliver(aio_loop *loop, void *arg)
{
    struct parked *f = (struct parked *)arg;
    (void)loop;
    f->arrived = 42;
    if (f->self)
        aio_reschedule(f->self, 42);
}

struct poster { aio_loop *loop; aio_post node; struct parked *f; };
static void *poster(void *p)
{
    struct poster *ps = (struct poster *)p;
    struct timespec ms = { 0, 3000000 };
    nanosleep(&ms, NULL);
    aio_loop_post(ps->loop, &ps->node, deliver, ps->f);
    return NULL;
}

TEST(a_post_from_another_thread_wakes_a_loop_with_every_task_parked)
{
    struct parked f;
    struct poster ps;
    pthread_t th;
    reactor_loop_init(&L);
    memset(&f, 0, sizeof f);
    memset(&ps, 0, sizeof ps);
    CHECK_EQ(aio_loop_post(&L, &ps.node, deliver, &f), AIO_EINVAL); /* not armed yet */
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    ps.loop = &L;
    ps.f = &f;
    CHECK_EQ(pthread_create(&th, NULL, poster, &ps), 0);
    CHECK_EQ(aio_run(&L, &mt, parked, &f), 0); /* armed: waits instead of AIO_EDEADLK */
    pthread_join(th, NULL);
    CHECK_EQ(f.rc, 42);
    CHECK_EQ(aio_loop_close(&L), 0);
}

TEST(without_the_wake_path_a_fully_parked_loop_is_a_deadlock)
{
    struct parked f;
    reactor_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_run(&L, &mt, parked, &f), AIO_EDEADLK);
    CHECK_EQ(aio_loop_close(&L), 0);
}

TEST(wakes_before_the_loop_notices_coalesce_into_one)
{
    unsigned char buf[64];
    uint64_t v = 0;
    int i;
    ssize_t n;
    reactor_loop_init(&L);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    for (i = 0; i < 100; i++)
        aio_loop_wake(&L);
    n = read(test_reactor(&L)->wake_rd, buf, sizeof buf);
    if (test_reactor(&L)->wake_rd == test_reactor(&L)->wake_wr) { /* eventfd: a counter */
        CHECK_EQ(n, 8);
        memcpy(&v, buf, sizeof v);
        CHECK_EQ(v, 1);
    } else { /* pipe: bytes */
        CHECK_EQ(n, 1);
    }
    aio_loop_wake(&L); /* still pending: no second write */
    CHECK(read(test_reactor(&L)->wake_rd, buf, sizeof buf) < 0);
    CHECK_EQ(aio_loop_poll(&L, 0), 0); /* the loop notices and re-arms */
    aio_loop_wake(&L);
    CHECK(read(test_reactor(&L)->wake_rd, buf, sizeof buf) > 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* ---- fork ---------------------------------------------------------------- */

/* A child that calls aio_reactor_fork gets kernel objects of its own with the
 * parked waiter registered again: it sees the fd become ready, and what it
 * does to its registrations (here a removal, which on a shared epoll set
 * would unregister the parent's fd too) leaves the parent's untouched. */
TEST(after_fork_the_child_reregisters_its_waiters_and_the_parent_keeps_its_own)
{
    int p[2], status = -1, i;
    pid_t pid;
    static struct waiter w;
    reactor_loop_init(&L);
    mkpipe(p);
    memset(&w, 0, sizeof w);
    w.fd = p[0];
    w.dir = AIO_READABLE;
    CHECK_EQ(aio_spawn(&L.root, &mt, waiter, &w), 0);
    aio_loop_poll(&L, 0); /* the waiter parks and registers */
    aio_loop_poll(&L, 0);
    CHECK_EQ(test_fd_waits(&L), 1);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (aio_reactor_fork(test_reactor(&L)) != 0)
            _exit(2);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        for (i = 0; i < 100 && !w.done; i++)
            aio_loop_poll(&L, AIO_MS(100));
        /* Its own set: dropping the registration here leaves the parent's. */
        aio_notify_closing(&L, p[0]);
        _exit(w.done && w.rc == 0 ? 0 : 4);
    }
    CHECK(pid > 0);
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The child's byte is in the pipe: the parent's own registration sees it. */
    for (i = 0; i < 100 && !w.done; i++)
        aio_loop_poll(&L, AIO_MS(100));
    CHECK(w.done);
    CHECK_EQ(w.rc, 0);
    if (!w.done)
        aio_notify_closing(&L, p[0]); /* so the failure does not hang */
    while (!aio_task_done(&mt))
        aio_loop_poll(&L, 0);
    CHECK(settled(&L, p[0]));
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

static int reactor_cases(void)
{
    printf("backend %s\n", AIO_BACKEND_NAME);
    RUN(pipe_wait_readable_resumes_when_data_arrives);
    RUN(socketpair_is_writable_at_once_and_readable_after_the_peer_writes);
    RUN(a_ready_fd_is_seen_before_the_virtual_clock_jumps);
    RUN(reader_and_writer_wait_on_one_fd_independently);
    RUN(a_second_reader_on_one_fd_is_busy);
    RUN(a_regular_file_is_always_ready);
    RUN(a_negative_fd_is_invalid);
    RUN(readiness_before_the_deadline_wins);
    RUN(the_deadline_before_readiness_cancels_the_wait_and_unregisters);
    RUN(readiness_and_deadline_at_the_same_instant_settle_cleanly);
    RUN(cancel_while_parked_leaves_nothing_registered);
    RUN(a_pre_cancelled_wait_registers_nothing);
    RUN(notify_closing_wakes_reader_and_writer_with_closed);
    RUN_ONCE(notify_closing_an_fd_nobody_waits_on_wakes_nobody);
    RUN(an_fd_closed_without_notify_ends_the_wait_by_error_or_deadline);
    RUN(an_idle_loop_polls_once_per_turn_and_jumps_to_the_deadline);
    RUN_ONCE(with_a_real_clock_the_backend_sleeps_until_the_deadline);
    RUN(a_thousand_fds_wait_at_once);
    RUN_ONCE(after_fork_the_child_reregisters_its_waiters_and_the_parent_keeps_its_own);
    RUN_ONCE(a_signal_interrupting_the_wait_is_not_an_error);
    RUN(an_outside_loop_drives_the_reactor_with_poll_and_step);
    RUN(an_outside_loop_runs_timers_with_the_virtual_clock);
    RUN_ONCE(a_post_from_another_thread_wakes_a_loop_with_every_task_parked);
    RUN_ONCE(without_the_wake_path_a_fully_parked_loop_is_a_deadlock);
    RUN_ONCE(wakes_before_the_loop_notices_coalesce_into_one);
    return 0;
}

#endif
