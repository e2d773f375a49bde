/*
 * tests/test_sync.c - aio_sync.h: the shared suite over every lock-like type,
 * the four contract cases of every blocking operation, fairness, and the
 * behaviour of each primitive.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"

static aio_loop L;
static aio_task mt;

/* ---- lock-like types behind one interface ------------------------------ */

enum { K_LOCK, K_FIFO_LOCK, K_SEM, K_BSEM, K_LIMITER, K_NKINDS };
static const char *const kind_names[] = { "Lock", "StrictFIFOLock", "Semaphore(1)", "BoundedSemaphore(1)",
                                          "CapacityLimiter(1)" };

struct lockish {
    int kind;
    aio_lock lock;
    aio_strict_fifo_lock fifo;
    aio_sem sem;
    aio_limiter lim;
};

static void lockish_init(struct lockish *x, int kind)
{
    memset(x, 0, sizeof *x);
    x->kind = kind;
    aio_lock_init(&x->lock);
    aio_lock_init(&x->fifo);
    if (kind == K_BSEM)
        aio_bsem_init(&x->sem, 1);
    else
        aio_sem_init(&x->sem, 1);
    aio_limiter_init(&x->lim, 1);
}

/* Acquire as a sub-coroutine, so one worker body serves every type. */
struct acq { aio_frame hdr; struct lockish *x; aio_borrow *b; };
static int acquire(aio_task *t, void *p)
{
    struct acq *f = (struct acq *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->x->kind == K_LOCK)
        AIO_LOCK_ACQUIRE(rc, &f->x->lock);
    else if (f->x->kind == K_FIFO_LOCK)
        AIO_LOCK_ACQUIRE(rc, &f->x->fifo);
    else if (f->x->kind == K_SEM || f->x->kind == K_BSEM)
        AIO_SEM_ACQUIRE(rc, &f->x->sem);
    else
        AIO_LIMITER_ACQUIRE(rc, &f->x->lim, f->b);
    AIO_END(rc);
}

static int try_acquire(aio_task *t, struct lockish *x, aio_borrow *b)
{
    switch (x->kind) {
    case K_LOCK: return aio_lock_try_acquire(t, &x->lock);
    case K_FIFO_LOCK: return aio_lock_try_acquire(t, &x->fifo);
    case K_SEM: case K_BSEM: return aio_sem_try_acquire(&x->sem);
    default: return aio_limiter_try_acquire(&x->lim, b, t);
    }
}

static int release(aio_task *t, struct lockish *x, aio_borrow *b)
{
    switch (x->kind) {
    case K_LOCK: return aio_lock_release(t, &x->lock);
    case K_FIFO_LOCK: return aio_lock_release(t, &x->fifo);
    case K_SEM: case K_BSEM: return aio_sem_release(&x->sem);
    default: return aio_limiter_release(&x->lim, b);
    }
}

/* Number of tasks queued on the type's wait queue. */
static uint32_t waiting(const struct lockish *x)
{
    switch (x->kind) {
    case K_LOCK: return x->lock.waiters.len;
    case K_FIFO_LOCK: return x->fifo.waiters.len;
    case K_SEM: case K_BSEM: return x->sem.waiters.len;
    default: return x->lim.waiters.len;
    }
}

/* Nonzero when nobody holds it. */
static int is_free(const struct lockish *x)
{
    switch (x->kind) {
    case K_LOCK: return !aio_lock_locked(&x->lock);
    case K_FIFO_LOCK: return !aio_lock_locked(&x->fifo);
    case K_SEM: case K_BSEM: return aio_sem_value(&x->sem) == 1;
    default: return aio_limiter_borrowed(&x->lim) == 0;
    }
}

/* ---- generic suite: exclusion ------------------------------------------ */

struct excl_shared { struct lockish x; int in_cs, violations, done; int order[64]; int norder; };
struct excl_worker {
    aio_frame hdr;
    struct excl_shared *sh;
    int id, loops, i;
    aio_borrow b;
    struct acq acq;
};
static int excl_worker(aio_task *t, void *p)
{
    struct excl_worker *f = (struct excl_worker *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->loops; f->i++) {
        f->acq.x = &f->sh->x;
        f->acq.b = &f->b;
        AIO_AWAIT(rc, acquire, &f->acq);
        if (rc)
            AIO_RETURN(rc);
        if (f->sh->norder < 64)
            f->sh->order[f->sh->norder++] = f->id;
        if (f->sh->in_cs)
            f->sh->violations++;
        f->sh->in_cs = 1;
        AIO_CHECKPOINT(rc);
        AIO_CHECKPOINT(rc);
        f->sh->in_cs = 0;
        rc = release(t, &f->sh->x, &f->b);
        if (rc)
            AIO_RETURN(rc);
    }
    f->sh->done++;
    AIO_END(0);
}

struct excl_main { aio_frame hdr; aio_group g; aio_task t[5]; struct excl_worker w[5]; struct excl_shared sh; int grc; };
static int excl_main(aio_task *t, void *p)
{
    struct excl_main *f = (struct excl_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 5; i++) {
        f->w[i].sh = &f->sh;
        f->w[i].id = i;
        f->w[i].loops = 10;
        aio_spawn(&f->g, &f->t[i], excl_worker, &f->w[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    AIO_END(0);
}

static struct excl_main em;

static void suite_exclusion(int kind)
{
    memset(&em, 0, sizeof em);
    memset(&mt, 0, sizeof mt);
    lockish_init(&em.sh.x, kind);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, excl_main, &em), 0);
    CHECK_EQ(em.grc, 0);
    CHECK_EQ(em.sh.violations, 0);
    CHECK_EQ(em.sh.done, 5);
    CHECK(is_free(&em.sh.x));
    CHECK_EQ(waiting(&em.sh.x), 0);
    if (harness_failed_checks)
        printf("  (lock-like type %s)\n", kind_names[kind]);
}

/* ---- generic suite: FIFO fairness --------------------------------------- */

/* After the first round, every round acquires in the same order: a released
 * lock goes to the longest waiter, and the releaser queues behind. */
static void suite_fifo_fairness(int kind)
{
    int i;
    suite_exclusion(kind);
    CHECK_EQ(em.sh.norder, 50);
    for (i = 5; i < em.sh.norder; i++)
        CHECK_EQ(em.sh.order[i], em.sh.order[i - 5]);
    if (harness_failed_checks)
        printf("  (lock-like type %s)\n", kind_names[kind]);
}

/* ---- generic suite: try_acquire does not barge past a waiter ------------ */

struct barge_waiter { aio_frame hdr; struct lockish *x; aio_borrow b; struct acq acq; int rc; };
static int barge_waiter(aio_task *t, void *p)
{
    struct barge_waiter *f = (struct barge_waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->acq.x = f->x;
    f->acq.b = &f->b;
    AIO_AWAIT(rc, acquire, &f->acq);
    f->rc = rc;
    if (rc == 0)
        release(t, f->x, &f->b);
    AIO_END(0);
}

struct barge_main {
    aio_frame hdr;
    struct lockish x;
    aio_borrow b, b2;
    aio_group g;
    aio_task wt;
    struct barge_waiter w;
    int first, after_release, rel;
    uint32_t waiting_before;
};
static int barge_main(aio_task *t, void *p)
{
    struct barge_main *f = (struct barge_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->first = try_acquire(t, &f->x, &f->b);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->w.x = &f->x;
    aio_spawn(&f->g, &f->wt, barge_waiter, &f->w);
    AIO_SLEEP(rc, AIO_MS(1)); /* the waiter parks */
    f->waiting_before = waiting(&f->x);
    f->rel = release(t, &f->x, &f->b);
    /* Released with a waiter: it belongs to the waiter, not to us. */
    f->after_release = try_acquire(t, &f->x, &f->b2);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static void suite_acquire_nowait_does_not_barge(int kind)
{
    static struct barge_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    lockish_init(&f.x, kind);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, barge_main, &f), 0);
    CHECK_EQ(f.first, 0);
    CHECK_EQ(f.waiting_before, 1);
    CHECK_EQ(f.rel, 0);
    CHECK_EQ(f.after_release, AIO_EAGAIN);
    CHECK_EQ(f.w.rc, 0);
    CHECK(is_free(&f.x));
    if (harness_failed_checks)
        printf("  (lock-like type %s)\n", kind_names[kind]);
}

#define LOCK_SUITE(K) \
    TEST(exclusion_##K) { suite_exclusion(K); } \
    TEST(fifo_fairness_##K) { suite_fifo_fairness(K); } \
    TEST(acquire_nowait_does_not_barge_##K) { suite_acquire_nowait_does_not_barge(K); }
LOCK_SUITE(K_LOCK)
LOCK_SUITE(K_FIFO_LOCK)
LOCK_SUITE(K_SEM)
LOCK_SUITE(K_BSEM)
LOCK_SUITE(K_LIMITER)

/* ---- the four contract cases of every blocking operation ---------------- */

enum { OP_EVENT, OP_LOCK, OP_SEM, OP_LIMITER, OP_WAITGROUP, OP_BARRIER, OP_COND, OP_N };
static const char *const op_names[] = { "event wait", "lock acquire", "semaphore acquire", "limiter acquire",
                                        "waitgroup wait", "barrier wait", "condition wait" };

struct prims {
    aio_event ev;
    aio_lock lock;
    aio_sem sem;
    aio_limiter lim;
    aio_waitgroup wg;
    aio_barrier bar;
    aio_cond cond;
    aio_borrow held; /* the limiter token the main task holds to block others */
};

struct op { aio_frame hdr; struct prims *p; int op; aio_borrow b; int rc; int ran; int held_after; };
static int do_op(aio_task *t, void *p)
{
    struct op *f = (struct op *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    f->ran = 1;
    if (f->op == OP_EVENT)
        AIO_EVENT_WAIT(rc, &f->p->ev);
    else if (f->op == OP_LOCK)
        AIO_LOCK_ACQUIRE(rc, &f->p->lock);
    else if (f->op == OP_SEM)
        AIO_SEM_ACQUIRE(rc, &f->p->sem);
    else if (f->op == OP_LIMITER)
        AIO_LIMITER_ACQUIRE(rc, &f->p->lim, &f->b);
    else if (f->op == OP_WAITGROUP)
        AIO_WAITGROUP_WAIT(rc, &f->p->wg);
    else if (f->op == OP_BARRIER)
        AIO_BARRIER_WAIT(rc, &f->p->bar);
    else {
        rc = aio_lock_try_acquire(t, &f->p->lock);
        if (rc == 0)
            AIO_COND_WAIT(rc, &f->p->cond);
        /* A condition wait returns owning the lock, cancelled or not. */
        f->held_after = aio_lock_owner(&f->p->lock) == t;
        if (f->held_after)
            aio_lock_release(t, &f->p->lock);
    }
    f->rc = rc;
    AIO_END(0);
}

/* Primitives in the state where `op` completes at once. */
static void prims_ready(struct prims *p)
{
    memset(p, 0, sizeof *p);
    aio_event_init(&p->ev);
    aio_event_set(&p->ev);
    aio_lock_init(&p->lock);
    aio_sem_init(&p->sem, 1);
    aio_limiter_init(&p->lim, 1);
    aio_waitgroup_init(&p->wg);
    aio_barrier_init(&p->bar, 1);
    aio_cond_init(&p->cond, &p->lock);
}

/* Primitives in the state where `op` must wait; `t` holds what blocks it. */
static void prims_blocked(struct prims *p, aio_task *t)
{
    prims_ready(p);
    aio_event_clear(&p->ev);
    if (t)
        aio_lock_try_acquire(t, &p->lock);
    aio_sem_try_acquire(&p->sem);
    aio_limiter_try_acquire(&p->lim, &p->held, t);
    aio_waitgroup_add(&p->wg, 1);
    aio_barrier_init(&p->bar, 2);
}

/* The side effect of a completed op, as seen from outside: 1 if it happened. */
static int op_happened(const struct prims *p, int op, const aio_task *by)
{
    switch (op) {
    case OP_LOCK: case OP_COND: return aio_lock_owner(&p->lock) == by;
    case OP_SEM: return aio_sem_value(&p->sem) == 0;
    case OP_LIMITER: return aio_limiter_borrowed(&p->lim) == 1;
    default: return 1;
    }
}

static aio_lot *op_lot(struct prims *p, int op)
{
    switch (op) {
    case OP_EVENT: return &p->ev.waiters;
    case OP_LOCK: return &p->lock.waiters;
    case OP_SEM: return &p->sem.waiters;
    case OP_LIMITER: return &p->lim.waiters;
    case OP_WAITGROUP: return &p->wg.waiters;
    case OP_BARRIER: return &p->bar.waiters;
    default: return &p->cond.waiters;
    }
}

static void cancel_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    aio_scope_cancel((aio_scope *)arg, "test");
}

/* (a) Completes without parking: one schedule point, and a cancellation that
 * arrives during that yield does not undo it. */
struct fast_main { aio_frame hdr; struct prims p; aio_scope sc; aio_call c; struct op o; uint32_t sp0, sp1, cp0, cp1; int scope_rc, happened; };
static int fast_main(aio_task *t, void *p)
{
    struct fast_main *f = (struct fast_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    aio_call_at(aio_task_loop(t), &f->c, aio_now(aio_task_loop(t)), cancel_cb, &f->sc);
    f->o.p = &f->p;
#ifdef AIO_DEBUG
    f->sp0 = t->schedule_points;
    f->cp0 = t->cancel_points;
#endif
    AIO_AWAIT(rc, do_op, &f->o);
#ifdef AIO_DEBUG
    f->sp1 = t->schedule_points;
    f->cp1 = t->cancel_points;
#endif
    f->scope_rc = aio_scope_exit(t, &f->sc, rc);
    f->happened = op_happened(&f->p, f->o.op, t);
    aio_lock_release(t, &f->p.lock);
    AIO_END(0);
}

TEST(contract_fast_path_is_one_uncancellable_schedule_point)
{
    static struct fast_main f;
    int op;
    for (op = OP_EVENT; op < OP_COND; op++) { /* a condition wait always waits */
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        prims_ready(&f.p);
        f.o.op = op;
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, fast_main, &f), 0);
        CHECK_EQ(f.o.rc, 0);
        CHECK(f.happened);
        CHECK(aio_scope_cancel_called(&f.sc)); /* the cancel did arrive, during the yield */
#ifdef AIO_DEBUG
        CHECK_EQ(f.sp1 - f.sp0, 1);
        CHECK_EQ(f.cp1 - f.cp0, 1);
#endif
        if (harness_failed_checks) {
            printf("  (operation %s)\n", op_names[op]);
            return;
        }
    }
}

/* (b) Pre-cancelled: AIO_ECANCELED, no suspension, no side effect. */
struct pre_main { aio_frame hdr; struct prims p; aio_scope sc; struct op o; uint32_t sp0, sp1; };
static int pre_main(aio_task *t, void *p)
{
    struct pre_main *f = (struct pre_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->o.op == OP_COND)
        aio_lock_init(&f->p.lock);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    aio_scope_cancel(&f->sc, "test");
    f->o.p = &f->p;
#ifdef AIO_DEBUG
    f->sp0 = t->schedule_points;
#endif
    AIO_AWAIT(rc, do_op, &f->o);
#ifdef AIO_DEBUG
    f->sp1 = t->schedule_points;
#endif
    rc = aio_scope_exit(t, &f->sc, rc);
    AIO_END(rc);
}

TEST(contract_pre_cancelled_has_no_side_effect)
{
    static struct pre_main f;
    int op;
    for (op = OP_EVENT; op < OP_N; op++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        prims_ready(&f.p);
        f.o.op = op;
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, pre_main, &f), 0);
        CHECK_EQ(f.o.rc, AIO_ECANCELED);
        CHECK_EQ(f.sp1 - f.sp0, 0);
        switch (op) {
        case OP_LOCK: CHECK(!aio_lock_locked(&f.p.lock)); break;
        case OP_COND: CHECK(f.o.held_after); CHECK_EQ(f.p.cond.waiters.len, 0); break;
        case OP_SEM: CHECK_EQ(aio_sem_value(&f.p.sem), 1); break;
        case OP_LIMITER: CHECK_EQ(aio_limiter_borrowed(&f.p.lim), 0); CHECK(f.o.b.limiter == NULL); break;
        case OP_BARRIER: CHECK_EQ(aio_barrier_n_waiting(&f.p.bar), 0); break;
        default: break;
        }
        if (harness_failed_checks) {
            printf("  (operation %s)\n", op_names[op]);
            return;
        }
    }
}

/* (c) Cancelled while parked: AIO_ECANCELED, nothing left queued, and the
 * wake-up that follows goes elsewhere (the permit is not consumed). */
struct parked_main {
    aio_frame hdr;
    struct prims p;
    aio_group g;
    aio_task ct;
    aio_scope sc;
    struct op o;
    struct sub { aio_frame hdr; struct parked_main *m; } sub;
    uint32_t queued_while_parked, queued_after;
};
static int parked_child(aio_task *t, void *p)
{
    struct parked_main *m = ((struct sub *)p)->m;
    int rc;
    AIO_BEGIN(t, p);
    aio_move_on_after(t, &m->sc, AIO_MS(1));
    AIO_AWAIT(rc, do_op, &m->o);
    rc = aio_scope_exit(t, &m->sc, rc);
    AIO_END(rc);
}
static int parked_main(aio_task *t, void *p)
{
    struct parked_main *f = (struct parked_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    prims_blocked(&f->p, f->o.op == OP_COND ? NULL : t);
    f->o.p = &f->p;
    f->sub.m = f;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->ct, parked_child, &f->sub);
    AIO_SLEEP(rc, AIO_US(500));
    f->queued_while_parked = aio_lot_len(op_lot(&f->p, f->o.op));
    AIO_SLEEP(rc, AIO_MS(1));
    f->queued_after = aio_lot_len(op_lot(&f->p, f->o.op));
    /* Wake-ups after the cancellation find nobody. */
    aio_event_set(&f->p.ev);
    if (f->o.op != OP_COND)
        aio_lock_release(t, &f->p.lock);
    aio_sem_release(&f->p.sem);
    aio_limiter_release(&f->p.lim, &f->p.held);
    aio_waitgroup_done(&f->p.wg);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(contract_cancelled_while_parked_leaves_nothing_behind)
{
    static struct parked_main f;
    int op;
    for (op = OP_EVENT; op < OP_N; op++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        f.o.op = op;
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, parked_main, &f), 0);
        CHECK_EQ(f.o.rc, AIO_ECANCELED);
        CHECK_EQ(f.queued_while_parked, 1);
        CHECK_EQ(f.queued_after, 0);
        CHECK_EQ(aio_now(&L), AIO_US(1500));
        if (op == OP_COND)
            CHECK(f.o.held_after); /* re-acquired before returning */
        CHECK(!aio_lock_locked(&f.p.lock));
        CHECK(!aio_lock_broken(&f.p.lock));
        CHECK_EQ(aio_sem_value(&f.p.sem), 1);
        CHECK_EQ(aio_limiter_borrowed(&f.p.lim), 0);
        CHECK(f.o.b.limiter == NULL);
        CHECK_EQ(aio_barrier_n_waiting(&f.p.bar), 0);
        if (harness_failed_checks) {
            printf("  (operation %s)\n", op_names[op]);
            return;
        }
    }
}

/* (d) The non-blocking variants never suspend. */
struct nowait_main { aio_frame hdr; struct prims p; aio_borrow b; int r_ready[3], r_blocked[3]; uint32_t sp0, sp1; };
static int nowait_main(aio_task *t, void *p)
{
    struct nowait_main *f = (struct nowait_main *)p;
    AIO_BEGIN(t, f);
#ifdef AIO_DEBUG
    f->sp0 = t->schedule_points;
#endif
    prims_ready(&f->p);
    f->r_ready[0] = aio_lock_try_acquire(t, &f->p.lock);
    f->r_ready[1] = aio_sem_try_acquire(&f->p.sem);
    f->r_ready[2] = aio_limiter_try_acquire(&f->p.lim, &f->b, t);
    aio_lock_release(t, &f->p.lock);
    prims_blocked(&f->p, t);
    memset(&f->b, 0, sizeof f->b);
    f->r_blocked[0] = aio_lock_try_acquire(t, &f->p.lock); /* already ours */
    f->r_blocked[1] = aio_sem_try_acquire(&f->p.sem);
    f->r_blocked[2] = aio_limiter_try_acquire(&f->p.lim, &f->b, &f->b);
#ifdef AIO_DEBUG
    f->sp1 = t->schedule_points;
#endif
    aio_lock_release(t, &f->p.lock);
    AIO_END(0);
}

TEST(contract_nowait_variants_never_suspend)
{
    static struct nowait_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, nowait_main, &f), 0);
    CHECK_EQ(f.r_ready[0], 0);
    CHECK_EQ(f.r_ready[1], 0);
    CHECK_EQ(f.r_ready[2], 0);
    CHECK_EQ(f.r_blocked[0], AIO_EBUSY);
    CHECK_EQ(f.r_blocked[1], AIO_EAGAIN);
    CHECK_EQ(f.r_blocked[2], AIO_EAGAIN);
    CHECK_EQ(f.sp1 - f.sp0, 0);
    CHECK_EQ(L.steps, 1);
}

int main(void)
{
#define RUN_SUITE(K) RUN(exclusion_##K); RUN(fifo_fairness_##K); RUN(acquire_nowait_does_not_barge_##K)
    RUN_SUITE(K_LOCK);
    RUN_SUITE(K_FIFO_LOCK);
    RUN_SUITE(K_SEM);
    RUN_SUITE(K_BSEM);
    RUN_SUITE(K_LIMITER);
    RUN(contract_fast_path_is_one_uncancellable_schedule_point);
    RUN(contract_pre_cancelled_has_no_side_effect);
    RUN(contract_cancelled_while_parked_leaves_nothing_behind);
    RUN(contract_nowait_variants_never_suspend);
    return harness_report();
}
