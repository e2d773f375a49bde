/*
 * tests/test_core_isr.c - the calls an interrupt handler or another thread may
 * make, on a hosted build: posting a node that is still queued (merged,
 * AIO_EBUSY, never a cycle in the post list), from the loop's own thread and
 * from two threads hammering one node; aio_post_pending and
 * aio_loop_wake_pending; the interrupt-safe event flags (aio_flags) and
 * counting notifications (aio_notify) of aio_sync.h, from tasks and from
 * three threads at once.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"
#include <pthread.h>

static aio_loop L;
static aio_task mt;

/* ---- a node posted twice ------------------------------------------------ */

struct twice {
    aio_post node;
    int runs, pending_in_cb, repost_rc;
    int repost; /* post the node again from inside its callback */
};

static void twice_cb(aio_loop *loop, void *arg)
{
    struct twice *d = (struct twice *)arg;
    d->runs++;
    d->pending_in_cb = aio_post_pending(&d->node);
    if (d->repost) {
        d->repost = 0;
        d->repost_rc = aio_loop_post(loop, &d->node, twice_cb, d);
    }
}

static void other_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

TEST(posting_a_queued_node_again_is_merged_and_reports_ebusy)
{
    struct twice d;
    memset(&d, 0, sizeof d);
    test_loop_init(&L);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    CHECK_EQ(aio_loop_wake_pending(&L), 0);
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), 0);
    CHECK_EQ(aio_post_pending(&d.node), 1);
    CHECK_EQ(aio_loop_wake_pending(&L), 1);
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), AIO_EBUSY);
    /* A merged post changes nothing: not even the callback. */
    CHECK_EQ(aio_loop_post(&L, &d.node, other_cb, NULL), AIO_EBUSY);
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(d.runs, 1);
    CHECK_EQ(d.pending_in_cb, 0); /* free again before its callback runs */
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_wake_pending(&L), 0);
    /* The loop keeps turning, and the list is empty: nothing runs again. */
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(d.runs, 1);
    /* Posted again from inside its own callback (as an interrupt arriving
     * while the callback runs would): it runs once more, on the next pass
     * over the posts (aio_loop_step makes one). */
    d.repost = 1;
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), 0);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 2);
    CHECK_EQ(d.repost_rc, 0);
    CHECK_EQ(aio_post_pending(&d.node), 1);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 3);
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 3);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* ---- two threads hammering one node -------------------------------------- */

#define HAMMER 20000
struct hammer {
    aio_frame hdr;
    aio_post node;
    int runs;              /* loop thread only */
    int queued[2], busy[2];
    int done;              /* threads finished (atomic) */
    int rc;
};
static struct hammer H;

static void hammer_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    ((struct hammer *)arg)->runs++;
}

static void *hammer_thread(void *p)
{
    int id = (int)(intptr_t)p, i;
    for (i = 0; i < HAMMER; i++) {
        int rc = aio_loop_post(&L, &H.node, hammer_cb, &H);
        if (rc == 0)
            H.queued[id]++;
        else if (rc == AIO_EBUSY)
            H.busy[id]++;
    }
    __atomic_add_fetch(&H.done, 1, __ATOMIC_ACQ_REL);
    aio_loop_wake(&L);
    return NULL;
}

/* Turns the loop until both threads are done and the node has drained. */
static int hammer_main(aio_task *t, void *p)
{
    struct hammer *f = (struct hammer *)p;
    int rc;
    AIO_BEGIN(t, f);
    while (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE) < 2 || aio_post_pending(&f->node)) {
        AIO_CHECKPOINT(rc);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

TEST(two_threads_posting_one_node_never_corrupt_the_list)
{
    pthread_t th[2];
    int i;
    memset(&H, 0, sizeof H);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    for (i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, hammer_thread, (void *)(intptr_t)i), 0);
    CHECK_EQ(aio_run(&L, &mt, hammer_main, &H), 0);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    /* Every call was either queued or merged; each queued post ran once. */
    CHECK_EQ(H.queued[0] + H.busy[0], HAMMER);
    CHECK_EQ(H.queued[1] + H.busy[1], HAMMER);
    CHECK_EQ(H.runs, H.queued[0] + H.queued[1]);
    CHECK(H.runs >= 1);
    CHECK_EQ(aio_post_pending(&H.node), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}


/* ---- event flags and counting notifications ------------------------------ */

struct sig {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    aio_flags fl;
    aio_notify nt;
    aio_scope sc;
    int rc_any, rc_all, rc_take, rc_cancel, rc_bad;
    unsigned left, count_after_cancel;
    aio_time t_any, t_all, t_take;
};

struct sig_child { aio_frame hdr; struct sig *s; };

static int flag_waiter(aio_task *t, void *p)
{
    struct sig_child *c = (struct sig_child *)p;
    struct sig *s = c->s;
    int rc;
    AIO_BEGIN(t, c);
    AIO_FLAGS_WAIT_ANY(rc, &s->fl, 0x3u);
    s->rc_any = rc;
    s->t_any = aio_now(aio_task_loop(t));
    AIO_FLAGS_WAIT_ALL(rc, &s->fl, 0x5u);
    s->rc_all = rc;
    s->t_all = aio_now(aio_task_loop(t));
    s->left = aio_flags_get(&s->fl);
    AIO_NOTIFY_WAIT(rc, &s->nt, 3);
    s->rc_take = rc;
    s->t_take = aio_now(aio_task_loop(t));
    aio_move_on_after(t, &s->sc, AIO_MS(5));
    AIO_NOTIFY_WAIT(rc, &s->nt, 1);
    s->rc_cancel = rc;
    aio_scope_exit(t, &s->sc, rc);
    s->count_after_cancel = aio_notify_count(&s->nt);
    AIO_FLAGS_WAIT_ANY(rc, &s->fl, 0u);
    s->rc_bad = rc;
    AIO_END(0);
}

static int signaller(aio_task *t, void *p)
{
    struct sig_child *c = (struct sig_child *)p;
    struct sig *s = c->s;
    int rc;
    AIO_BEGIN(t, c);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_flags_set(&s->fl, 0x2u | 0x8u); /* completes the ANY wait (0x2); 0x8 stays */
    AIO_SLEEP(rc, AIO_MS(1));
    aio_flags_set(&s->fl, 0x1u); /* half of the ALL wait */
    AIO_SLEEP(rc, AIO_MS(1));
    aio_flags_set(&s->fl, 0x4u); /* the other half */
    AIO_SLEEP(rc, AIO_MS(1));
    aio_notify_give(&s->nt, 1);
    aio_notify_give(&s->nt, 1);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_notify_give(&s->nt, 2); /* 4 arrived: the wait for 3 takes 3, 1 stays */
    AIO_END(rc);
}

struct sig_main { aio_frame hdr; struct sig *s; struct sig_child ca, cb; };
static int sig_main_fn(aio_task *t, void *p)
{
    struct sig_main *m = (struct sig_main *)p;
    int rc;
    AIO_BEGIN(t, m);
    m->ca.s = m->cb.s = m->s;
    aio_group_enter(t, &m->s->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&m->s->g, &m->s->a, flag_waiter, &m->ca);
    aio_spawn(&m->s->g, &m->s->b, signaller, &m->cb);
    AIO_GROUP_WAIT(rc, &m->s->g, 0);
    AIO_END(rc);
}

TEST(flags_and_notifications_set_from_a_task_complete_the_waits)
{
    static struct sig s;
    static struct sig_main m;
    memset(&s, 0, sizeof s);
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_flags_init(&s.fl, &L), 0);
    CHECK_EQ(aio_notify_init(&s.nt, &L), 0);
    m.s = &s;
    CHECK_EQ(aio_run(&L, &mt, sig_main_fn, &m), 0);
    CHECK_EQ(s.rc_any, 0x2);
    CHECK_EQ(s.t_any, AIO_MS(1));
    CHECK_EQ(s.rc_all, 0x5);
    CHECK_EQ(s.t_all, AIO_MS(3));
    CHECK_EQ(s.left, 0x8u); /* only the bits a wait took were cleared */
    CHECK_EQ(s.rc_take, 0);
    CHECK_EQ(s.t_take, AIO_MS(5));
    CHECK_EQ(s.rc_cancel, 0); /* the one left over was taken at once */
    CHECK_EQ(s.count_after_cancel, 0u);
    CHECK_EQ(s.rc_bad, AIO_EINVAL);
    CHECK_EQ(aio_loop_close(&L), 0);
}

struct lone { aio_frame hdr; aio_notify *nt; aio_scope sc; int rc; unsigned k; };
static int lone_wait(aio_task *t, void *p)
{
    struct lone *f = (struct lone *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->sc, AIO_MS(5));
    AIO_NOTIFY_WAIT(rc, f->nt, f->k);
    f->rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(notification_limits_and_a_cancelled_wait_takes_nothing)
{
    aio_notify nt;
    aio_flags fl;
    struct lone f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_notify_init(&nt, &L), 0);
    CHECK_EQ(aio_flags_init(&fl, &L), 0);
    CHECK_EQ(aio_flags_set(&fl, AIO_FLAGS_MAX + 1u), AIO_EINVAL);
    CHECK_EQ(aio_flags_get(&fl), 0u);
    CHECK_EQ(aio_flags_set(&fl, 0x6u), 0);
    CHECK_EQ(aio_flags_clear(&fl, 0x2u), 0x6u);
    CHECK_EQ(aio_flags_get(&fl), 0x4u);
    CHECK_EQ(aio_notify_give(&nt, 2), 0);
    CHECK_EQ(aio_notify_give(&nt, UINT_MAX), AIO_EOVERFLOW);
    CHECK_EQ(aio_notify_count(&nt), 2u);
    CHECK_EQ(aio_notify_try_take(&nt, 3), AIO_EAGAIN);
    f.nt = &nt;
    f.k = 3; /* two arrived: the wait is cancelled after 5 ms */
    CHECK_EQ(aio_run(&L, &mt, lone_wait, &f), 0);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(aio_notify_count(&nt), 2u);
    CHECK_EQ(aio_notify_try_take(&nt, 2), 0);
    CHECK_EQ(aio_notify_count(&nt), 0u);
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.nt = &nt;
    f.k = 0;
    CHECK_EQ(aio_run(&L, &mt, lone_wait, &f), 0);
    CHECK_EQ(f.rc, AIO_EINVAL);
    {
        aio_notify zero;
        memset(&zero, 0, sizeof zero);
        CHECK_EQ(aio_notify_give(&zero, 1), AIO_EINVAL); /* never initialised */
    }
    aio_loop_poll(&L, 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* Threads give and set while the loop runs; the task waits for all of it. */
#define GIVERS 3
#define GIVES 5000
static aio_notify TN;
static aio_flags TF;
struct giver_wait { aio_frame hdr; int rc_n, rc_f; };

static void *giver(void *p)
{
    int id = (int)(intptr_t)p, i;
    for (i = 0; i < GIVES; i++)
        aio_notify_give(&TN, 1);
    aio_flags_set(&TF, 1u << id);
    return NULL;
}

static int wait_for_givers(aio_task *t, void *p)
{
    struct giver_wait *f = (struct giver_wait *)p;
    AIO_BEGIN(t, f);
    AIO_NOTIFY_WAIT(f->rc_n, &TN, GIVERS * GIVES);
    AIO_FLAGS_WAIT_ALL(f->rc_f, &TF, (1u << GIVERS) - 1u);
    AIO_END(0);
}

TEST(notifications_and_flags_from_three_threads_all_arrive)
{
    pthread_t th[GIVERS];
    struct giver_wait f;
    int i;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_notify_init(&TN, &L), 0);
    CHECK_EQ(aio_flags_init(&TF, &L), 0);
    for (i = 0; i < GIVERS; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, giver, (void *)(intptr_t)i), 0);
    CHECK_EQ(aio_run(&L, &mt, wait_for_givers, &f), 0);
    for (i = 0; i < GIVERS; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(f.rc_n, 0);
    CHECK_EQ(f.rc_f, (1 << GIVERS) - 1);
    CHECK_EQ(aio_notify_count(&TN), 0u);
    CHECK_EQ(aio_flags_get(&TF), 0u);
    aio_loop_poll(&L, 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

int main(void)
{
    RUN(posting_a_queued_node_again_is_merged_and_reports_ebusy);
    RUN_ONCE(two_threads_posting_one_node_never_corrupt_the_list);
    RUN(flags_and_notifications_set_from_a_task_complete_the_waits);
    RUN(notification_limits_and_a_cancelled_wait_takes_nothing);
    RUN_ONCE(notifications_and_flags_from_three_threads_all_arrive);
    return harness_report();
}
