/*
 * tests/test_sync_behaviour.c - aio_sync.h: what each primitive does beyond
 * the shared suite: broken locks, misuse codes, condition hand-off, bounded
 * semaphores, limiter borrowers and totals, events, wait groups, barriers,
 * and the debug dump.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"

static aio_loop L;
static aio_task mt;

/* A task that runs one of a few scripted actions on shared primitives and
 * records its results and the time it finished. */
enum { A_LOCK_AND_EXIT, A_LOCK, A_COND_WAIT, A_SEM, A_LIMITER, A_EVENT, A_WG, A_BARRIER, A_BARRIER_TWICE };
struct shared {
    aio_lock lock;
    aio_cond cond;
    aio_sem sem;
    aio_limiter lim;
    aio_event ev;
    aio_waitgroup wg;
    aio_barrier bar;
    int order[16];
    int norder;
};
struct actor {
    aio_frame hdr;
    struct shared *sh;
    int action, id;
    aio_time timeout; /* 0: none */
    aio_scope sc;
    aio_borrow b;
    int rc, rc2;
    aio_time at;
};
static int actor(aio_task *t, void *p)
{
    struct actor *f = (struct actor *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    if (f->timeout)
        aio_move_on_after(t, &f->sc, f->timeout);
    if (f->action == A_LOCK_AND_EXIT || f->action == A_LOCK) {
        AIO_LOCK_ACQUIRE(rc, &f->sh->lock);
    } else if (f->action == A_COND_WAIT) {
        AIO_LOCK_ACQUIRE(rc, &f->sh->lock);
        if (rc == 0) {
            AIO_COND_WAIT(rc, &f->sh->cond);
            f->rc2 = aio_lock_owner(&f->sh->lock) == t;
        }
    } else if (f->action == A_SEM) {
        AIO_SEM_ACQUIRE(rc, &f->sh->sem);
    } else if (f->action == A_LIMITER) {
        AIO_LIMITER_ACQUIRE(rc, &f->sh->lim, &f->b);
    } else if (f->action == A_EVENT) {
        AIO_EVENT_WAIT(rc, &f->sh->ev);
    } else if (f->action == A_WG) {
        AIO_WAITGROUP_WAIT(rc, &f->sh->wg);
    } else {
        AIO_BARRIER_WAIT(rc, &f->sh->bar);
        f->rc = rc;
        if (f->action == A_BARRIER_TWICE && rc >= 0) {
            AIO_BARRIER_WAIT(f->rc2, &f->sh->bar);
            rc = f->rc;
        }
    }
    if (f->timeout)
        (void)aio_scope_exit(t, &f->sc, rc);
    f->rc = rc; /* the operation's own result, before its scope caught anything */
    f->at = aio_now(aio_task_loop(t));
    if (rc == 0 && f->sh->norder < 16)
        f->sh->order[f->sh->norder++] = f->id;
    if (rc == 0 && f->action == A_LOCK) {
        AIO_SLEEP(rc, AIO_MS(1));
        aio_lock_release(t, &f->sh->lock);
    }
    if (f->action == A_COND_WAIT && aio_lock_owner(&f->sh->lock) == t)
        aio_lock_release(t, &f->sh->lock);
    AIO_END(0);
}

/* The main task of a test: spawns `n` actors, then runs `script` with the
 * group open, then waits for the group. */
struct tmain;
typedef int (*script_fn)(aio_task *t, struct tmain *m);
struct tmain {
    aio_frame hdr;
    struct shared sh;
    aio_group g;
    aio_task at[8];
    struct actor a[8];
    int n;
    int step; /* for scripts: which stage ran */
    int r[8];
    struct { aio_frame hdr; } sub;
    int grc;
};

static struct tmain M;

static void tmain_setup(int n)
{
    memset(&M, 0, sizeof M);
    memset(&mt, 0, sizeof mt);
    aio_lock_init(&M.sh.lock);
    aio_cond_init(&M.sh.cond, &M.sh.lock);
    aio_sem_init(&M.sh.sem, 0);
    aio_limiter_init(&M.sh.lim, 1);
    aio_event_init(&M.sh.ev);
    aio_waitgroup_init(&M.sh.wg);
    aio_barrier_init(&M.sh.bar, 3);
    M.n = n;
    test_loop_init(&L);
}

static void spawn_actors(aio_task *t)
{
    int i;
    aio_group_enter(t, &M.g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < M.n; i++) {
        M.a[i].sh = &M.sh;
        M.a[i].id = i;
        aio_spawn(&M.g, &M.at[i], actor, &M.a[i]);
    }
}

/* ---- lock -------------------------------------------------------------- */

/* Actor 0 takes the lock and finishes holding it; actor 1 waits on it. */
static int broken_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = A_LOCK_AND_EXIT;
    M.a[1].action = A_LOCK;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[0] = aio_lock_try_acquire(t, &M.sh.lock);
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[1] = rc;
    M.r[2] = aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    M.grc = rc;
    AIO_END(0);
}

TEST(lock_whose_owner_finished_holding_it_is_broken_for_waiters_and_later_acquirers)
{
    tmain_setup(2);
    CHECK_EQ(aio_run(&L, &mt, broken_main, &M), 0);
    CHECK_EQ(M.a[0].rc, 0);
    CHECK_EQ(M.a[1].rc, AIO_EBROKEN);
    CHECK_EQ(M.r[0], AIO_EBROKEN);
    CHECK_EQ(M.r[1], AIO_EBROKEN);
    CHECK_EQ(M.r[2], AIO_EPERM);
    CHECK(aio_lock_broken(&M.sh.lock));
    CHECK(!aio_lock_locked(&M.sh.lock));
    CHECK(L.holds == NULL);
    aio_lock_init(&M.sh.lock);
    CHECK(!aio_lock_broken(&M.sh.lock));
}

static int misuse_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.r[0] = aio_lock_release(t, &M.sh.lock);   /* not held at all */
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[1] = rc;
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);           /* already ours */
    M.r[2] = rc;
    M.r[3] = aio_lock_try_acquire(t, &M.sh.lock);
    M.a[0].action = A_LOCK;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[4] = aio_lock_owner(&M.sh.lock) == t;
    M.r[5] = aio_lock_release(t, &M.sh.lock);
    M.r[6] = aio_lock_release(t, &M.sh.lock);   /* now the actor's */
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(lock_misuse_returns_codes_not_owner_and_reacquire)
{
    tmain_setup(1);
    CHECK_EQ(aio_run(&L, &mt, misuse_main, &M), 0);
    CHECK_EQ(M.r[0], AIO_EPERM);
    CHECK_EQ(M.r[1], 0);
    CHECK_EQ(M.r[2], AIO_EBUSY);
    CHECK_EQ(M.r[3], AIO_EBUSY);
    CHECK_EQ(M.r[4], 1);
    CHECK_EQ(M.r[5], 0);
    CHECK_EQ(M.r[6], AIO_EPERM);
    CHECK_EQ(M.a[0].rc, 0);
    CHECK(!aio_lock_locked(&M.sh.lock));
}

/* Ownership is handed over on release: waiters acquire in arrival order
 * even when the releaser asks again at once. */
static int handoff_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    aio_group_enter(t, &M.g, AIO_GROUP_FAIL_FAST);
    for (M.step = 0; M.step < M.n; M.step++) {
        M.a[M.step].sh = &M.sh;
        M.a[M.step].id = M.step;
        M.a[M.step].action = A_LOCK;
        aio_spawn(&M.g, &M.at[M.step], actor, &M.a[M.step]);
        AIO_SLEEP(rc, AIO_US(10)); /* fixes the arrival order */
    }
    aio_lock_release(t, &M.sh.lock);
    M.r[0] = aio_lock_owner(&M.sh.lock) == &M.at[0];
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock); /* queues behind the four */
    M.r[1] = M.sh.norder;
    M.r[2] = (int)(aio_now(aio_task_loop(t)) / AIO_US(1));
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(lock_release_hands_ownership_to_the_longest_waiter)
{
    tmain_setup(4);
    CHECK_EQ(aio_run(&L, &mt, handoff_main, &M), 0);
    CHECK_EQ(M.r[0], 1);
    CHECK_EQ(M.r[1], 4);
    CHECK_EQ(M.r[2], 40 + 4000); /* four 1 ms holds after the 40 us of spawning */
    CHECK_EQ(M.sh.order[0], 0);
    CHECK_EQ(M.sh.order[1], 1);
    CHECK_EQ(M.sh.order[2], 2);
    CHECK_EQ(M.sh.order[3], 3);
}

/* ---- condition --------------------------------------------------------- */

static int cond_order_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    aio_group_enter(t, &M.g, AIO_GROUP_FAIL_FAST);
    for (M.step = 0; M.step < M.n; M.step++) {
        M.a[M.step].sh = &M.sh;
        M.a[M.step].id = M.step;
        M.a[M.step].action = A_COND_WAIT;
        aio_spawn(&M.g, &M.at[M.step], actor, &M.a[M.step]);
        AIO_SLEEP(rc, AIO_US(10));
    }
    M.r[0] = aio_cond_notify(t, &M.sh.cond, 1);       /* without the lock */
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[1] = aio_cond_notify(t, &M.sh.cond, 2);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[2] = M.sh.norder;                              /* nobody woke: we hold the lock */
    aio_lock_release(t, &M.sh.lock);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[3] = M.sh.norder;
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[4] = aio_cond_notify_all(t, &M.sh.cond);
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(condition_notify_wakes_waiters_in_order_each_owning_the_lock)
{
    int i;
    tmain_setup(4);
    CHECK_EQ(aio_run(&L, &mt, cond_order_main, &M), 0);
    CHECK_EQ(M.r[0], AIO_EPERM);
    CHECK_EQ(M.r[1], 2);
    CHECK_EQ(M.r[2], 0);
    CHECK_EQ(M.r[3], 2);
    CHECK_EQ(M.r[4], 2);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(M.sh.order[i], i);
        CHECK_EQ(M.a[i].rc, 0);
        CHECK_EQ(M.a[i].rc2, 1);
    }
    CHECK(!aio_lock_locked(&M.sh.lock));
}

/* The asyncio/anyio bug class: a waiter cancelled before the notify must not
 * swallow it.  Actor 0 times out at 1 ms; the notify at 2 ms wakes actor 1. */
static int cond_cancel_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = A_COND_WAIT;
    M.a[0].timeout = AIO_MS(1);
    M.a[1].action = A_COND_WAIT;
    M.a[1].timeout = AIO_MS(10);
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(2));
    M.r[5] = (int)aio_lot_len(&M.sh.cond.waiters);
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[0] = aio_cond_notify(t, &M.sh.cond, 1);
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(condition_waiter_cancelled_before_notify_does_not_swallow_it)
{
    tmain_setup(2);
    CHECK_EQ(aio_run(&L, &mt, cond_cancel_main, &M), 0);
    CHECK_EQ(M.r[5], 1);
    CHECK_EQ(M.r[0], 1);
    CHECK_EQ(M.a[0].rc, AIO_ECANCELED);
    CHECK_EQ(M.a[0].rc2, 1);          /* and it held the lock when the wait returned */
    CHECK_EQ(M.a[0].at, AIO_MS(1));
    CHECK_EQ(M.a[1].rc, 0);
    CHECK_EQ(M.a[1].at, AIO_MS(2));
    CHECK_EQ(M.sh.norder, 1);
    CHECK_EQ(M.sh.order[0], 1);
}

/* A notify and a cancellation of the notified waiter in the same turn,
 * before the waiter runs, in both orders (M.step: 0 = notify first, 1 =
 * cancel first).  Either way exactly one waiter reports the notification
 * and none is left waiting for a notification that was spent: notify
 * first, the notified waiter's wait has completed and it returns 0 (its
 * cancellation waits for its next checkpoint); cancel first, it returns
 * AIO_ECANCELED and the notify goes to the other waiter. */
static int cond_notify_cancel_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = A_COND_WAIT;
    M.a[1].action = A_COND_WAIT;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[6] = (int)aio_lot_len(&M.sh.cond.waiters);
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    if (M.step == 0) {
        M.r[0] = aio_cond_notify(t, &M.sh.cond, 1);
        M.r[1] = aio_task_cancel(&M.at[0]);
    } else {
        M.r[1] = aio_task_cancel(&M.at[0]);
        M.r[0] = aio_cond_notify(t, &M.sh.cond, 1);
    }
    aio_lock_release(t, &M.sh.lock);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[2] = M.sh.norder;                         /* waiters that reported a notification */
    M.r[3] = (int)aio_lot_len(&M.sh.cond.waiters); /* still waiting for one */
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.r[4] = aio_cond_notify_all(t, &M.sh.cond);
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(condition_notify_and_cancel_in_one_turn_lose_no_notification)
{
    int order;
    for (order = 0; order < 2; order++) {
        tmain_setup(2);
        M.step = order;
        CHECK_EQ(aio_run(&L, &mt, cond_notify_cancel_main, &M), 0);
        CHECK_EQ(M.r[6], 2);
        CHECK_EQ(M.r[0], 1);
        CHECK_EQ(M.r[1], 0);
        CHECK_EQ(M.r[2], 1);       /* the notify reached exactly one waiter */
        CHECK_EQ(M.sh.order[0], order == 0 ? 0 : 1);
        CHECK_EQ(M.a[0].rc, order == 0 ? 0 : AIO_ECANCELED);
        CHECK_EQ(M.a[0].rc2, 1);   /* and it owned the lock when its wait returned */
        CHECK_EQ(M.a[0].at, AIO_MS(1));
        CHECK_EQ(M.r[3], order == 0 ? 1 : 0);
        CHECK_EQ(M.r[4], order == 0 ? 1 : 0);
        CHECK_EQ(M.a[1].rc, 0);
        CHECK_EQ(M.a[1].at, order == 0 ? AIO_MS(2) : AIO_MS(1));
        CHECK_EQ(M.a[1].rc2, 1);
        aio_loop_close(&L);
    }
}

/* A cancelled waiter re-acquires the lock behind the current owner before
 * it returns: the cancellation does not let it run without the lock. */
static int cond_relock_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = A_COND_WAIT;
    M.a[0].timeout = AIO_MS(1);
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_US(500));
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock); /* held across the actor's deadline */
    AIO_SLEEP(rc, AIO_MS(2));
    M.r[0] = M.a[0].at == 0;          /* the actor has not returned yet */
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(condition_wait_cancelled_returns_only_after_reacquiring_the_lock)
{
    tmain_setup(1);
    CHECK_EQ(aio_run(&L, &mt, cond_relock_main, &M), 0);
    CHECK_EQ(M.r[0], 1);
    CHECK_EQ(M.a[0].rc, AIO_ECANCELED);
    CHECK_EQ(M.a[0].rc2, 1);
    CHECK_EQ(M.a[0].at, AIO_US(2500));
}

static int cond_nolock_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    AIO_COND_WAIT(rc, &M.sh.cond);
    M.r[0] = rc;
    AIO_END(0);
}

TEST(condition_wait_without_the_lock_is_eperm)
{
    tmain_setup(0);
    CHECK_EQ(aio_run(&L, &mt, cond_nolock_main, &M), 0);
    CHECK_EQ(M.r[0], AIO_EPERM);
    CHECK_EQ(L.steps, 1);
}

/* ---- semaphores -------------------------------------------------------- */

TEST(bounded_semaphore_release_past_initial_value_is_eoverflow)
{
    aio_sem s;
    aio_bsem_init(&s, 2);
    CHECK_EQ(aio_sem_release(&s), AIO_EOVERFLOW);
    CHECK_EQ(aio_sem_value(&s), 2);
    CHECK_EQ(aio_sem_try_acquire(&s), 0);
    CHECK_EQ(aio_sem_release(&s), 0);
    CHECK_EQ(aio_sem_release(&s), AIO_EOVERFLOW);
    aio_sem_init(&s, 2);
    CHECK_EQ(aio_sem_release(&s), 0);
    CHECK_EQ(aio_sem_value(&s), 3);
}

static int sem_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    aio_group_enter(t, &M.g, AIO_GROUP_FAIL_FAST);
    for (M.step = 0; M.step < M.n; M.step++) {
        M.a[M.step].sh = &M.sh;
        M.a[M.step].id = M.step;
        M.a[M.step].action = A_SEM;
        aio_spawn(&M.g, &M.at[M.step], actor, &M.a[M.step]);
        AIO_SLEEP(rc, AIO_US(10));
    }
    aio_sem_release(&M.sh.sem);
    aio_sem_release(&M.sh.sem);
    M.r[0] = (int)aio_sem_value(&M.sh.sem);      /* handed over, not counted */
    M.r[1] = aio_sem_try_acquire(&M.sh.sem);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_sem_release(&M.sh.sem);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(semaphore_release_hands_permits_to_waiters_in_order)
{
    tmain_setup(3);
    CHECK_EQ(aio_run(&L, &mt, sem_main, &M), 0);
    CHECK_EQ(M.r[0], 0);
    CHECK_EQ(M.r[1], AIO_EAGAIN);
    CHECK_EQ(M.sh.order[0], 0);
    CHECK_EQ(M.sh.order[1], 1);
    CHECK_EQ(M.sh.order[2], 2);
    CHECK_EQ(M.a[2].at, AIO_US(30) + AIO_MS(1));
}

/* ---- capacity limiter -------------------------------------------------- */

TEST(limiter_identifies_borrowers)
{
    aio_limiter l;
    aio_borrow a, b, c;
    int who1 = 0, who2 = 0;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    CHECK_EQ(aio_limiter_init(&l, 0), AIO_EINVAL);
    CHECK_EQ(aio_limiter_init(&l, 3), 0);
    CHECK_EQ(aio_limiter_try_acquire(&l, &a, &who1), 0);
    CHECK_EQ(aio_limiter_try_acquire(&l, &b, &who1), AIO_EBUSY); /* one token per borrower */
    CHECK_EQ(aio_limiter_try_acquire(&l, &a, &who2), AIO_EBUSY); /* node in use */
    CHECK_EQ(aio_limiter_try_acquire(&l, &b, &who2), 0);
    CHECK_EQ(aio_limiter_borrowed(&l), 2);
    CHECK_EQ(aio_limiter_available(&l), 1);
    CHECK_EQ(aio_limiter_release(&l, &c), AIO_EPERM);            /* not a borrower */
    CHECK_EQ(aio_limiter_release(&l, &a), 0);
    CHECK_EQ(aio_limiter_release(&l, &a), AIO_EPERM);            /* twice */
    CHECK_EQ(aio_limiter_try_acquire(&l, &a, &who1), 0);         /* reusable */
    CHECK_EQ(aio_limiter_set_total(&l, 1), 0);
    CHECK_EQ(aio_limiter_available(&l), 0);
    CHECK_EQ(aio_limiter_try_acquire(&l, &c, &c), AIO_EAGAIN);
    CHECK_EQ(aio_limiter_set_total(&l, 0), AIO_EINVAL);
}

static int limiter_main(aio_task *t, void *p)
{
    int rc, i;
    (void)p;
    AIO_BEGIN(t, &M);
    aio_limiter_try_acquire(&M.sh.lim, &M.a[7].b, t);
    aio_group_enter(t, &M.g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < M.n; i++) {
        M.a[i].sh = &M.sh;
        M.a[i].id = i;
        M.a[i].action = A_LIMITER;
        aio_spawn(&M.g, &M.at[i], actor, &M.a[i]);
    }
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[0] = (int)aio_lot_len(&M.sh.lim.waiters);
    aio_limiter_set_total(&M.sh.lim, 3);    /* two more tokens: two waiters run */
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[1] = M.sh.norder;
    M.r[2] = (int)aio_limiter_borrowed(&M.sh.lim);
    aio_limiter_release(&M.sh.lim, &M.a[7].b);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[3] = M.sh.norder;
    for (i = 0; i < M.n; i++)
        aio_limiter_release(&M.sh.lim, &M.a[i].b);
    M.r[4] = (int)aio_limiter_borrowed(&M.sh.lim);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(limiter_raising_the_total_wakes_waiters)
{
    tmain_setup(3);
    CHECK_EQ(aio_run(&L, &mt, limiter_main, &M), 0);
    CHECK_EQ(M.r[0], 3);
    CHECK_EQ(M.r[1], 2);
    CHECK_EQ(M.r[2], 3);
    CHECK_EQ(M.r[3], 3);
    CHECK_EQ(M.r[4], 0);
    {
        int i, at1 = 0, at2 = 0;
        for (i = 0; i < 3; i++) {
            at1 += M.a[i].at == AIO_MS(1);
            at2 += M.a[i].at == AIO_MS(2);
        }
        CHECK_EQ(at1, 2);
        CHECK_EQ(at2, 1);
    }
}

/* ---- event, wait group, barrier ---------------------------------------- */

static int event_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = M.a[1].action = M.a[2].action = A_EVENT;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[0] = M.sh.norder;
    aio_event_set(&M.sh.ev);
    aio_event_clear(&M.sh.ev); /* already woken: stay woken */
    M.r[1] = aio_event_is_set(&M.sh.ev);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(event_set_wakes_every_waiter_and_clear_does_not_unwake)
{
    tmain_setup(3);
    CHECK_EQ(aio_run(&L, &mt, event_main, &M), 0);
    CHECK_EQ(M.r[0], 0);
    CHECK_EQ(M.r[1], 0);
    CHECK_EQ(M.sh.norder, 3);
    CHECK_EQ(M.a[2].at, AIO_MS(1));
}

static int wg_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.r[0] = aio_waitgroup_done(&M.sh.wg);
    aio_waitgroup_add(&M.sh.wg, 2);
    M.a[0].action = M.a[1].action = A_WG;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_waitgroup_done(&M.sh.wg);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[1] = M.sh.norder;
    aio_waitgroup_done(&M.sh.wg);
    M.r[2] = (int)aio_waitgroup_count(&M.sh.wg);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(waitgroup_wakes_waiters_when_the_count_reaches_zero)
{
    tmain_setup(2);
    CHECK_EQ(aio_run(&L, &mt, wg_main, &M), 0);
    CHECK_EQ(M.r[0], AIO_EINVAL);
    CHECK_EQ(M.r[1], 0);
    CHECK_EQ(M.r[2], 0);
    CHECK_EQ(M.sh.norder, 2);
    CHECK_EQ(M.a[1].at, AIO_MS(2));
}

static int barrier_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    M.a[0].action = M.a[1].action = M.a[2].action = M.a[3].action = A_BARRIER;
    spawn_actors(t);
    AIO_SLEEP(rc, AIO_MS(1));
    M.r[0] = (int)aio_barrier_n_waiting(&M.sh.bar);
    aio_barrier_abort(&M.sh.bar);
    AIO_BARRIER_WAIT(rc, &M.sh.bar);
    M.r[1] = rc;
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

/* Three parties, four arrivals: the first three leave with indices 0..2; the
 * fourth waits until the abort breaks it, and so does a later arrival. */
TEST(barrier_releases_parties_with_distinct_indices_and_abort_breaks_it)
{
    int i, seen = 0, broken = 0;
    tmain_setup(4);
    CHECK_EQ(aio_run(&L, &mt, barrier_main, &M), 0);
    CHECK_EQ(M.r[0], 1);
    CHECK_EQ(M.r[1], AIO_EBROKEN);
    for (i = 0; i < 4; i++) {
        if (M.a[i].rc >= 0)
            seen |= 1 << M.a[i].rc;
        broken += M.a[i].rc == AIO_EBROKEN;
    }
    CHECK_EQ(seen, 7);
    CHECK_EQ(broken, 1);
}

static int barrier_cyclic_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    aio_barrier_init(&M.sh.bar, 2);
    M.a[0].action = M.a[1].action = A_BARRIER_TWICE;
    spawn_actors(t);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(barrier_is_cyclic)
{
    tmain_setup(2);
    CHECK_EQ(aio_run(&L, &mt, barrier_cyclic_main, &M), 0);
    CHECK_EQ(M.a[0].rc + M.a[1].rc, 1);   /* indices 0 and 1 */
    CHECK_EQ(M.a[0].rc2 + M.a[1].rc2, 1);
    CHECK(M.a[0].rc >= 0 && M.a[1].rc >= 0 && M.a[0].rc2 >= 0 && M.a[1].rc2 >= 0);
}

/* ---- dump -------------------------------------------------------------- */

static char dumpbuf[1024];
static void dump_out(void *ctx, const char *s)
{
    (void)ctx;
    if (strlen(dumpbuf) + strlen(s) < sizeof dumpbuf)
        strcat(dumpbuf, s);
}

static int dump_main(aio_task *t, void *p)
{
    int rc;
    (void)p;
    AIO_BEGIN(t, &M);
    aio_task_set_name(t, "main");
    AIO_LOCK_ACQUIRE(rc, &M.sh.lock);
    M.a[0].action = A_LOCK;
    spawn_actors(t);
    aio_task_set_name(&M.at[0], "worker");
    AIO_SLEEP(rc, AIO_MS(1));
    dumpbuf[0] = 0;
    aio_lock_dump(&M.sh.lock, dump_out, NULL);
    aio_lock_release(t, &M.sh.lock);
    AIO_GROUP_WAIT(rc, &M.g, 0);
    AIO_END(rc);
}

TEST(lock_dump_names_the_owner_and_the_waiters)
{
    tmain_setup(1);
    CHECK_EQ(aio_run(&L, &mt, dump_main, &M), 0);
    CHECK(strstr(dumpbuf, "lock 0x") == dumpbuf);
    CHECK(strstr(dumpbuf, " owner task 0x") != NULL);
    CHECK(strstr(dumpbuf, "waiters: task 0x") != NULL);
#ifdef AIO_DEBUG
    CHECK(strstr(dumpbuf, "\"main\"") != NULL);
    CHECK(strstr(dumpbuf, "\"worker\"") != NULL);
#endif
    dumpbuf[0] = 0;
    aio_lock_dump(&M.sh.lock, dump_out, NULL);
    CHECK(strstr(dumpbuf, " free waiters: none") != NULL);
}

int main(void)
{
    RUN(lock_whose_owner_finished_holding_it_is_broken_for_waiters_and_later_acquirers);
    RUN(lock_misuse_returns_codes_not_owner_and_reacquire);
    RUN(lock_release_hands_ownership_to_the_longest_waiter);
    RUN(condition_notify_wakes_waiters_in_order_each_owning_the_lock);
    RUN(condition_waiter_cancelled_before_notify_does_not_swallow_it);
    RUN(condition_notify_and_cancel_in_one_turn_lose_no_notification);
    RUN(condition_wait_cancelled_returns_only_after_reacquiring_the_lock);
    RUN(condition_wait_without_the_lock_is_eperm);
    RUN(bounded_semaphore_release_past_initial_value_is_eoverflow);
    RUN(semaphore_release_hands_permits_to_waiters_in_order);
    RUN(limiter_identifies_borrowers);
    RUN(limiter_raising_the_total_wakes_waiters);
    RUN(event_set_wakes_every_waiter_and_clear_does_not_unwake);
    RUN(waitgroup_wakes_waiters_when_the_count_reaches_zero);
    RUN(barrier_releases_parties_with_distinct_indices_and_abort_breaks_it);
    RUN(barrier_is_cyclic);
    RUN(lock_dump_names_the_owner_and_the_waiters);
    return harness_report();
}
