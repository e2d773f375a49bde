/*
 * tests/test_proc_signal.c - aio_proc.h signal receiver: delivery, coalescing,
 * signals from another thread, Ctrl-C cancelling a scope.
 */
#define AIO_IMPLEMENTATION
#ifdef AIO_TEST_AIO_H_FIRST
#include "../aio.h" /* first: it asks for POSIX alone, and aio_proc.h must keep every feature */
#endif
#include "../aio_proc.h"
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

struct recv {
    aio_frame hdr;
    aio_sigwatch w;
    int got[3];
    aio_scope sc;
    int last_rc;
};
static int recv_main(aio_task *t, void *frame)
{
    struct recv *f = (struct recv *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->got[0] = rc;
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->got[1] = rc;
    aio_move_on_after(t, &f->sc, AIO_SEC(1));
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->got[2] = rc;
    f->last_rc = aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(repeats_coalesce_and_the_lowest_signal_comes_first)
{
    static struct recv f;
    static const int sigs[] = { SIGUSR1, SIGUSR2 };
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_signal_open(&L, &f.w, sigs, 2), 0);
    raise(SIGUSR2);
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR1);
    CHECK_EQ(aio_run(&L, &mt, recv_main, &f), 0);
    CHECK_EQ(f.got[0], SIGUSR1);
    CHECK_EQ(f.got[1], SIGUSR2);
    CHECK_EQ(f.got[2], AIO_ECANCELED); /* nothing else pending: three SIGUSR1 were one */
    CHECK_EQ(f.last_rc, 0);
    CHECK_EQ(aio_signal_close(&f.w), 0);
    aio_loop_close(&L);
}

static void *kill_later(void *arg)
{
    struct timespec ts = { 0, 2000000 };
    (void)arg;
    nanosleep(&ts, NULL);
    kill(getpid(), SIGUSR2);
    return NULL;
}
struct one { aio_frame hdr; aio_sigwatch w; int got; };
static int one_main(aio_task *t, void *frame)
{
    struct one *f = (struct one *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->got = rc;
    AIO_END(0);
}

TEST(a_signal_sent_while_the_task_waits_wakes_it)
{
    static struct one f;
    static const int sigs[] = { SIGUSR2 };
    pthread_t th;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_signal_open(&L, &f.w, sigs, 1), 0);
    CHECK_EQ(pthread_create(&th, NULL, kill_later, NULL), 0); /* inherits the blocked mask */
    CHECK_EQ(aio_run(&L, &mt, one_main, &f), 0);
    pthread_join(th, NULL);
    CHECK_EQ(f.got, SIGUSR2);
    CHECK_EQ(aio_signal_close(&f.w), 0);
    aio_loop_close(&L);
}

TEST(closing_the_receiver_restores_the_signal_mask)
{
    aio_sigwatch w;
    sigset_t now;
    static const int sigs[] = { SIGUSR1 };
    test_loop_init(&L);
    CHECK_EQ(aio_signal_open(&L, &w, sigs, 1), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1));
    CHECK_EQ(aio_signal_close(&w), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    CHECK(!sigismember(&now, SIGUSR1));
    aio_loop_close(&L);
}

TEST(bad_signal_sets_are_invalid)
{
    aio_sigwatch w;
    static const int bad[] = { 0 };
    test_loop_init(&L);
    CHECK_EQ(aio_signal_open(&L, &w, bad, 1), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, &w, bad, 0), AIO_EINVAL);
    aio_loop_close(&L);
}

/* ---- Ctrl-C cancels the main scope ------------------------------------------ */

struct ctrlc {
    aio_frame hdr;
    aio_group g;
    aio_task canceller;
    aio_signal_canceller_frame cf;
    aio_sigwatch w;
    aio_scope sc;
    int sleep_rc, exit_rc;
};
static int ctrlc_main(aio_task *t, void *frame)
{
    struct ctrlc *f = (struct ctrlc *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->cf.w = &f->w;
    f->cf.scope = &f->sc;
    aio_spawn(&f->g, &f->canceller, aio_signal_canceller, &f->cf);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    raise(SIGINT);
    AIO_SLEEP_FOREVER(rc);
    f->sleep_rc = rc;
    f->exit_rc = aio_scope_exit(t, &f->sc, rc);
    aio_task_cancel(&f->canceller);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(ctrl_c_cancels_the_scope_at_its_next_checkpoint)
{
    static struct ctrlc f;
    static const int sigs[] = { SIGINT };
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_signal_open(&L, &f.w, sigs, 1), 0);
    CHECK_EQ(aio_run(&L, &mt, ctrlc_main, &f), 0);
    CHECK_EQ(f.sleep_rc, AIO_ECANCELED);
    CHECK_EQ(f.exit_rc, 0);
    CHECK(aio_scope_cancelled_caught(&f.sc));
    CHECK_EQ(f.cf.count, 1);
    CHECK_EQ(aio_signal_close(&f.w), 0);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(repeats_coalesce_and_the_lowest_signal_comes_first);
    RUN_ONCE(a_signal_sent_while_the_task_waits_wakes_it);
    RUN_ONCE(closing_the_receiver_restores_the_signal_mask);
    RUN_ONCE(bad_signal_sets_are_invalid);
    RUN(ctrl_c_cancels_the_scope_at_its_next_checkpoint);
    return harness_report();
}
