/*
 * tests/test_reactor_kqueue.c - the reactor suite (tests/reactor_cases.h) on
 * the kqueue backend, through the kevent double of tests/kqueue_double.h
 * (real pipes and sockets, poll underneath).  On a BSD or macOS the same
 * suite runs natively as tests/test_reactor.c.
 */
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_KQUEUE
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#include <sys/types.h>
#include <sys/event.h>
#define kqd_registered(kq, fd) 0
static int kqd_eintr_next;
#define KQD_NATIVE 1
#else
#include "kqueue_double.h"
#define KQD_NATIVE 0
#endif
#include "reactor_cases.h"

/* A reader and a writer on one fd are two knotes: one per filter. */
TEST(kqueue_keeps_one_knote_per_direction)
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
    r.limit = w.limit = AIO_SEC(1);
    kids_reset();
    kid(waiter, &r);
    kid(waiter, &w);
    CHECK_EQ(aio_spawn(&L.root, &mt, kids_main, &K), 0);
    aio_loop_poll(&L, 0);
    aio_loop_poll(&L, 0);
    aio_loop_poll(&L, 0);
    CHECK_EQ(test_fd_waits(&L), 2);
    if (!KQD_NATIVE)
        CHECK_EQ(kqd_registered(test_reactor(&L)->bfd, sv[0]), 2);
    aio_notify_closing(&L, sv[0]);
    CHECK_EQ(kqd_registered(test_reactor(&L)->bfd, sv[0]), 0);
    while (!aio_task_done(&mt))
        aio_loop_poll(&L, 0);
    CHECK_EQ(r.rc, AIO_ECLOSED);
    CHECK_EQ(w.rc, AIO_ECLOSED);
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(sv);
}

/* EINTR injected deterministically by the double: the turn ends, the wait goes on. */
TEST(kqueue_wait_interrupted_by_eintr_goes_on)
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
    a.delay = AIO_SEC(1);
    a.action = ACT_WRITE;
    a.fd = p[1];
    kqd_eintr_next = 2;
    kids_reset();
    kid(waiter, &w);
    kid(actor, &a);
    CHECK_EQ(run_kids(), 0);
    CHECK_EQ(w.rc, 0);
    CHECK_EQ(w.at, AIO_SEC(1));
    if (!KQD_NATIVE)
        CHECK_EQ(test_reactor(&L)->eintr, 2);
    kqd_eintr_next = 0;
    CHECK_EQ(aio_loop_close(&L), 0);
    close2(p);
}

int main(void)
{
    reactor_cases();
    RUN(kqueue_keeps_one_knote_per_direction);
    RUN_ONCE(kqueue_wait_interrupted_by_eintr_goes_on);
    return harness_report();
}
