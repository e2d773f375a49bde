/*
 * tests/test_sync_cov.c - aio_sync.h's less travelled paths: several locks
 * held by one task and released out of order, a condition whose lock broke
 * while a waiter slept, cancelled limiter acquisition, waitgroup overflow,
 * barrier argument errors and reset with waiters, the dump of a broken lock.
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"
#include "../aio_sync.h"

static aio_loop L;
static aio_task mt;

static void collect(void *ctx, const char *s)
{
    strncat((char *)ctx, s, 1023 - strlen((char *)ctx));
}

/* ---- three locks, released middle first --------------------------------- */

struct locks { aio_frame hdr; aio_lock a, b, c; uint32_t held[5]; int rel_b, rel_a, rel_c, again; };
static int locks_main(aio_task *t, void *p)
{
    struct locks *f = (struct locks *)p;
    aio_stats st;
    AIO_BEGIN(t, f);
    aio_lock_init(&f->a);
    aio_lock_init(&f->b);
    aio_lock_init(&f->c);
    aio_lock_try_acquire(t, &f->a);
    aio_lock_try_acquire(t, &f->b);
    aio_lock_try_acquire(t, &f->c);
    aio_loop_stats(aio_task_loop(t), &st);
    f->held[0] = st.holds;
    f->rel_b = aio_lock_release(t, &f->b); /* in the middle of the loop's list */
    aio_loop_stats(aio_task_loop(t), &st);
    f->held[1] = st.holds;
    f->rel_a = aio_lock_release(t, &f->a); /* the oldest */
    aio_loop_stats(aio_task_loop(t), &st);
    f->held[2] = st.holds;
    f->again = aio_lock_try_acquire(t, &f->b);
    aio_lock_release(t, &f->b);
    f->rel_c = aio_lock_release(t, &f->c);
    aio_loop_stats(aio_task_loop(t), &st);
    f->held[3] = st.holds;
    AIO_END(0);
}

TEST(locks_released_out_of_order_keep_the_loops_hold_list)
{
    static struct locks f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, locks_main, &f), 0);
    CHECK_EQ(f.held[0], 3);
    CHECK_EQ(f.rel_b, 0);
    CHECK_EQ(f.held[1], 2);
    CHECK_EQ(f.rel_a, 0);
    CHECK_EQ(f.held[2], 1);
    CHECK_EQ(f.again, 0);
    CHECK_EQ(f.rel_c, 0);
    CHECK_EQ(f.held[3], 0);
}

/* ---- a condition wait whose lock breaks --------------------------------- */

struct brk {
    aio_frame hdr;
    aio_lock lock;
    aio_cond cond;
    int notify; /* 1: the owner notifies before it breaks the lock; 0: the waiter is cancelled after */
    int wait_rc, notify_rc;
    char dump[1024];
};
struct brk_waiter { aio_frame hdr; struct brk *b; };
static int brk_waiter(aio_task *t, void *p)
{
    struct brk_waiter *f = (struct brk_waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_LOCK_ACQUIRE(rc, &f->b->lock);
    AIO_COND_WAIT(rc, &f->b->cond);
    f->b->wait_rc = rc;
    AIO_END(0);
}
static int brk_owner(aio_task *t, void *p)
{
    struct brk_waiter *f = (struct brk_waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_LOCK_ACQUIRE(rc, &f->b->lock);
    if (f->b->notify)
        f->b->notify_rc = aio_cond_notify(t, &f->b->cond, 1);
    AIO_END(rc); /* finishes holding the lock: it breaks */
}
struct brk_main_f { aio_frame hdr; struct brk b; aio_group g; aio_task w, o; struct brk_waiter fw, fo; };
static int brk_main(aio_task *t, void *p)
{
    struct brk_main_f *f = (struct brk_main_f *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_lock_init(&f->b.lock);
    aio_cond_init(&f->b.cond, &f->b.lock);
    f->fw.b = f->fo.b = &f->b;
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->w, brk_waiter, &f->fw);
    AIO_SLEEP(rc, AIO_MS(1)); /* the waiter is parked on the condition */
    aio_spawn(&f->g, &f->o, brk_owner, &f->fo);
    if (!f->b.notify) {
        AIO_SLEEP(rc, AIO_MS(1)); /* the owner has finished; the waiter still waits */
        aio_task_cancel(&f->w);   /* it takes the broken lock back on the way out */
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    aio_lock_dump(&f->b.lock, collect, f->b.dump);
    AIO_END(rc);
}

TEST(a_condition_waiter_whose_lock_broke_gets_ebroken)
{
    static struct brk_main_f f;
    int notify;
    for (notify = 0; notify < 2; notify++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        f.b.notify = notify;
        test_loop_init_panics(&L);
        CHECK_EQ(aio_run(&L, &mt, brk_main, &f), 0);
        CHECK_EQ(f.b.notify_rc, notify); /* one waiter woken, or none notified */
        CHECK_EQ(f.b.wait_rc, AIO_EBROKEN);
        CHECK(strstr(f.b.dump, "broken (owner finished holding it)") != NULL);
    }
}

/* ---- limiter, waitgroup, barrier ---------------------------------------- */

struct misc {
    aio_frame hdr;
    aio_limiter lim;
    aio_borrow bw;
    aio_scope sc;
    aio_waitgroup wg;
    aio_barrier bar;
    aio_group g;
    aio_task c;
    aio_borrow bw2;
    int lim_rc, held_rc, twice_rc, wg_over, wg_neg, bar_zero, bar_rc, borrowed;
};
struct bar_waiter { aio_frame hdr; aio_barrier *b; int rc; };
static int bar_waiter(aio_task *t, void *p)
{
    struct bar_waiter *f = (struct bar_waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_BARRIER_WAIT(rc, f->b);
    f->rc = rc;
    AIO_END(0);
}
struct misc_main_f { aio_frame hdr; struct misc m; struct bar_waiter bw; int after_reset; };
static int misc_main(aio_task *t, void *p)
{
    struct misc_main_f *f = (struct misc_main_f *)p;
    struct misc *m = &f->m;
    int rc;
    AIO_BEGIN(t, f);
    aio_limiter_init(&m->lim, 1);
    aio_move_on_after(t, &m->sc, 0);
    AIO_LIMITER_ACQUIRE(rc, &m->lim, &m->bw);
    m->lim_rc = rc;
    aio_scope_exit(t, &m->sc, rc);
    m->borrowed = (int)m->lim.borrowed;
    /* A borrow in use, or a second token for the same borrower, is refused. */
    AIO_LIMITER_ACQUIRE(rc, &m->lim, &m->bw);
    m->held_rc = rc;
    AIO_LIMITER_ACQUIRE(rc, &m->lim, &m->bw);
    m->twice_rc = rc;
    AIO_LIMITER_ACQUIRE(rc, &m->lim, &m->bw2);
    if (rc != AIO_EBUSY)
        m->twice_rc = 1;
    aio_limiter_release(&m->lim, &m->bw);
    aio_waitgroup_init(&m->wg);
    aio_waitgroup_add(&m->wg, 5);
    m->wg_over = aio_waitgroup_add(&m->wg, INT32_MAX);
    m->wg_over = m->wg_over == 0 ? aio_waitgroup_add(&m->wg, INT32_MAX) : m->wg_over;
    aio_waitgroup_init(&m->wg);
    m->wg_neg = aio_waitgroup_add(&m->wg, -1);
    m->bar_zero = aio_barrier_init(&m->bar, 0);
    aio_barrier_init(&m->bar, 2);
    f->bw.b = &m->bar;
    aio_group_enter(t, &m->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&m->g, &m->c, bar_waiter, &f->bw);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_barrier_reset(&m->bar); /* the parked party is released with AIO_EBROKEN */
    AIO_GROUP_WAIT(rc, &m->g, 0);
    /* After a reset the barrier works again. */
    f->after_reset = m->bar.broken;
    AIO_END(rc);
}

TEST(limiter_waitgroup_and_barrier_error_paths)
{
    static struct misc_main_f f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, misc_main, &f), 0);
    CHECK_EQ(f.m.lim_rc, AIO_ECANCELED);
    CHECK_EQ(f.m.borrowed, 0);
    CHECK_EQ(f.m.held_rc, 0);
    CHECK_EQ(f.m.twice_rc, AIO_EBUSY);
    CHECK_EQ(f.m.lim.borrowed, 0);
    CHECK_EQ(f.m.wg_over, AIO_EOVERFLOW);
    CHECK_EQ(f.m.wg_neg, AIO_EINVAL);
    CHECK_EQ(f.m.bar_zero, AIO_EINVAL);
    CHECK_EQ(f.bw.rc, AIO_EBROKEN);
    CHECK_EQ(f.after_reset, 0);
    CHECK_EQ(aio_now(&L), AIO_MS(1));
}

/* ---- a task ending with a lock held between other tasks' holds ---------- */

struct holder { aio_frame hdr; aio_lock *l; aio_event *done; int keep; };
static int holder(aio_task *t, void *p)
{
    struct holder *f = (struct holder *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_lock_try_acquire(t, f->l);
    if (f->keep) {
        AIO_EVENT_WAIT(rc, f->done);
        aio_lock_release(t, f->l);
    } else {
        AIO_SLEEP(rc, AIO_MS(1)); /* until the third hold is registered */
    }
    AIO_END(0); /* !keep: ends holding its lock */
}
struct mid {
    aio_frame hdr;
    aio_lock l[3];
    aio_event done;
    aio_group g;
    aio_task t[3];
    struct holder h[3];
    uint32_t holds_before, holds_after;
    int broken[3];
};
static int mid_main(aio_task *t, void *p)
{
    struct mid *f = (struct mid *)p;
    aio_stats st;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_event_init(&f->done);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 3; i++) {
        aio_lock_init(&f->l[i]);
        f->h[i].l = &f->l[i];
        f->h[i].done = &f->done;
        f->h[i].keep = i != 1; /* the middle one ends holding its lock */
    }
    aio_spawn(&f->g, &f->t[0], holder, &f->h[0]);
    AIO_YIELD();
    aio_spawn(&f->g, &f->t[1], holder, &f->h[1]);
    AIO_YIELD();
    aio_spawn(&f->g, &f->t[2], holder, &f->h[2]);
    AIO_YIELD();
    AIO_SLEEP(rc, AIO_MS(2)); /* the middle task has ended */
    aio_loop_stats(aio_task_loop(t), &st);
    f->holds_after = st.holds;
    for (i = 0; i < 3; i++)
        f->broken[i] = f->l[i].broken;
    aio_event_set(&f->done);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    aio_loop_stats(aio_task_loop(t), &st);
    f->holds_before = st.holds;
    AIO_END(rc);
}

TEST(a_task_ending_with_a_lock_breaks_only_that_lock)
{
    static struct mid f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, mid_main, &f), 0);
    CHECK_EQ(f.holds_after, 2); /* the middle hold left the loop's list */
    CHECK_EQ(f.broken[0], 0);
    CHECK_EQ(f.broken[1], 1);
    CHECK_EQ(f.broken[2], 0);
    CHECK_EQ(f.holds_before, 0);
}

int main(void)
{
    RUN(locks_released_out_of_order_keep_the_loops_hold_list);
    RUN(a_condition_waiter_whose_lock_broke_gets_ebroken);
    RUN(limiter_waitgroup_and_barrier_error_paths);
    RUN(a_task_ending_with_a_lock_breaks_only_that_lock);
    return harness_report();
}
