/*
 * tests/test_reactor_none.c - the reactor's "none" backend (the firmware
 * configuration, here on a hosted build): no fd waits, the idle hook is the
 * wait, and aio_loop_wake / aio_loop_post are a flag and a lock-free list
 * that an interrupt (simulated from inside the idle hook) or another thread
 * uses.
 */
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_NONE
#include "harness.h"
#include <pthread.h>
#include <time.h>

static aio_loop L;
static aio_task mt;

struct one_wait { aio_frame hdr; int rc; };
static int wait_stdin(aio_task *t, void *p)
{
    struct one_wait *f = (struct one_wait *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, 0);
    f->rc = rc;
    AIO_END(0);
}

TEST(fd_waits_are_invalid_without_a_backend)
{
    struct one_wait f;
    test_loop_init(&L);
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_run(&L, &mt, wait_stdin, &f), 0);
    CHECK_EQ(f.rc, AIO_EINVAL);
    CHECK_EQ(aio_loop_backend_fd(&L), AIO_EINVAL);
    CHECK_EQ(aio_notify_closing(&L, 0), 0);
    CHECK(strcmp(AIO_BACKEND_NAME, "none") == 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* A task parked until a posted callback (an interrupt's work) wakes it. */
struct parked { aio_frame hdr; aio_task *self; int arrived, rc; };
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
    f->arrived = 7;
    if (f->self)
        aio_reschedule(f->self, 7);
}

/* The idle hook plays the board: the third time it is entered, an
 * "interrupt" posts work and wakes the loop. */
struct board { struct parked *f; aio_post node; int idles; aio_time last_deadline; };
static struct board B;
static void board_idle(void *ctx, aio_time deadline)
{
    struct board *b = (struct board *)ctx;
    b->idles++;
    b->last_deadline = deadline;
    if (b->idles == 3)
        aio_loop_post(&L, &b->node, deliver, b->f);
}

TEST(an_interrupt_during_the_idle_hook_wakes_the_loop)
{
    struct parked f;
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = harness_seed;
    cfg.idle = board_idle;
    cfg.idle_ctx = &B;
    memset(&B, 0, sizeof B);
    memset(&f, 0, sizeof f);
    B.f = &f;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    memset(&mt, 0, sizeof mt);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    CHECK_EQ(aio_run(&L, &mt, parked, &f), 0);
    CHECK_EQ(f.rc, 7);
    CHECK_EQ(B.idles, 3); /* the hook was the wait; no spinning around it */
    CHECK_EQ(B.last_deadline, AIO_TIME_INF);
    CHECK_EQ(aio_loop_close(&L), 0);
}

static void count_idle(void *ctx, aio_time deadline)
{
    (void)deadline;
    (*(int *)ctx)++;
}

TEST(a_pending_wake_skips_the_idle_hook)
{
    int idles = 0;
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.idle = count_idle;
    cfg.idle_ctx = &idles;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    aio_loop_wake(&L);
    CHECK_EQ(aio_loop_poll(&L, AIO_TIME_INF), 0);
    CHECK_EQ(idles, 0);
    CHECK_EQ(aio_loop_poll(&L, AIO_MS(5)), 0); /* flag consumed: now the hook is the wait */
    CHECK_EQ(idles, 1);
    CHECK_EQ(aio_loop_close(&L), 0);
}

struct poster { aio_post node; struct parked *f; };
static void *poster(void *p)
{
    struct poster *ps = (struct poster *)p;
    struct timespec ms = { 0, 3000000 };
    nanosleep(&ms, NULL);
    aio_loop_post(&L, &ps->node, deliver, ps->f);
    return NULL;
}

TEST(a_post_from_another_thread_wakes_the_loop_without_an_idle_hook)
{
    struct parked f;
    struct poster ps;
    pthread_t th;
    test_loop_init(&L);
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    memset(&ps, 0, sizeof ps);
    ps.f = &f;
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    CHECK_EQ(pthread_create(&th, NULL, poster, &ps), 0);
    CHECK_EQ(aio_run(&L, &mt, parked, &f), 0);
    pthread_join(th, NULL);
    CHECK_EQ(f.rc, 7);
    CHECK_EQ(aio_loop_close(&L), 0);
}

int main(void)
{
    RUN(fd_waits_are_invalid_without_a_backend);
    RUN(an_interrupt_during_the_idle_hook_wakes_the_loop);
    RUN_ONCE(a_pending_wake_skips_the_idle_hook);
    RUN_ONCE(a_post_from_another_thread_wakes_the_loop_without_an_idle_hook);
    return harness_report();
}
