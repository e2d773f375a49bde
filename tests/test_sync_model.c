/*
 * tests/test_sync_model.c - random acquire / hold / release / cancel
 * sequences on every permit-counting primitive, under many seeded
 * schedules.  The test drives the loop one turn at a time and, after every
 * turn, takes a census of the permits: free ones, ones held by workers, and
 * ones handed to a worker that has not resumed yet must add up to the
 * capacity (none lost, none duplicated), and nobody may wait while a permit
 * is free (no lost wake-up).
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"

enum { K_LOCK, K_SEM, K_BSEM, K_LIMITER };
#define NW 8
#define CAP 2 /* semaphore and limiter capacity */
#define NSEEDS 200

struct world {
    int kind;
    aio_lock lock;
    aio_sem sem;
    aio_limiter lim;
    int acquisitions, releases, cancels_seen, errors;
};

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

struct worker {
    aio_frame hdr;
    struct world *w;
    uint64_t rng;
    int i;
    int in_acquire, holding;
    aio_scope sc;
    aio_borrow b;
};

static int worker(aio_task *t, void *p)
{
    struct worker *f = (struct worker *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 6; f->i++) {
        aio_move_on_after(t, &f->sc, AIO_US(rnd(&f->rng) % 3000));
        f->in_acquire = 1;
        if (f->w->kind == K_LOCK)
            AIO_LOCK_ACQUIRE(rc, &f->w->lock);
        else if (f->w->kind == K_LIMITER)
            AIO_LIMITER_ACQUIRE(rc, &f->w->lim, &f->b);
        else
            AIO_SEM_ACQUIRE(rc, &f->w->sem);
        f->in_acquire = 0;
        if (rc == 0) {
            f->holding = 1;
            f->w->acquisitions++;
            /* Hold for a while; the scope may expire meanwhile. */
            AIO_SLEEP(rc, AIO_US(rnd(&f->rng) % 1500));
            f->holding = 0;
            f->w->releases++;
            if (f->w->kind == K_LOCK)
                rc = aio_lock_release(t, &f->w->lock);
            else if (f->w->kind == K_LIMITER)
                rc = aio_limiter_release(&f->w->lim, &f->b);
            else
                rc = aio_sem_release(&f->w->sem);
            if (rc)
                f->w->errors++;
        } else if (rc == AIO_ECANCELED) {
            f->w->cancels_seen++;
        } else {
            f->w->errors++;
        }
        (void)aio_scope_exit(t, &f->sc, AIO_ECANCELED);
    }
    AIO_END(0);
}

static aio_loop L;
static aio_task tasks[NW];
static struct worker wk[NW];
static struct world W;

/* Checks the permit census after a loop turn; returns 0 if it holds. */
static int census(void)
{
    int i, held = 0, granted = 0, waiting, free_, cap;
    for (i = 0; i < NW; i++) {
        held += wk[i].holding;
        /* Handed a permit but not resumed yet: runnable with wake-up code 0. */
        if (wk[i].in_acquire && tasks[i].state == AIO__TASK_READY && tasks[i].top->rc == 0)
            granted++;
    }
    switch (W.kind) {
    case K_LOCK:
        cap = 1;
        free_ = aio_lock_locked(&W.lock) ? 0 : 1;
        waiting = (int)aio_lot_len(&W.lock.waiters);
        break;
    case K_LIMITER:
        cap = CAP;
        free_ = (int)aio_limiter_available(&W.lim);
        waiting = (int)aio_lot_len(&W.lim.waiters);
        CHECK_EQ(aio_limiter_borrowed(&W.lim), held + granted);
        break;
    default:
        cap = CAP;
        free_ = (int)aio_sem_value(&W.sem);
        waiting = (int)aio_lot_len(&W.sem.waiters);
        break;
    }
    CHECK_EQ(free_ + held + granted, cap);
    CHECK(!(waiting > 0 && free_ > 0));
    return free_ + held + granted != cap || (waiting > 0 && free_ > 0);
}

static int live(void)
{
    int i, n = 0;
    for (i = 0; i < NW; i++)
        n += !aio_task_done(&tasks[i]);
    return n;
}

static void run_model(int kind, uint64_t seed)
{
    aio_config cfg;
    uint64_t drv = seed * 7919u + 1u;
    int i, turns = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = seed;
    aio_loop_init(&L, &cfg);
    test_reactor_attach(&L);
    memset(&W, 0, sizeof W);
    memset(tasks, 0, sizeof tasks);
    memset(wk, 0, sizeof wk);
    W.kind = kind;
    aio_lock_init(&W.lock);
    if (kind == K_BSEM)
        aio_bsem_init(&W.sem, CAP);
    else
        aio_sem_init(&W.sem, CAP);
    aio_limiter_init(&W.lim, CAP);
    for (i = 0; i < NW; i++) {
        wk[i].w = &W;
        wk[i].rng = seed * 131u + (uint64_t)i;
        aio_spawn(&L.root, &tasks[i], worker, &wk[i]);
    }
    while (live() && turns++ < 100000) {
        aio_loop_step(&L);
        if (census())
            break;
        /* Now and then cancel a whole task, wherever it is. */
        if (rnd(&drv) % 16 == 0) {
            i = (int)(rnd(&drv) % NW);
            if (!aio_task_done(&tasks[i]))
                aio_task_cancel(&tasks[i]);
        }
        if (!L.nready && live()) {
            aio_time dl = aio_loop_next_deadline(&L);
            CHECK(dl != AIO_TIME_INF); /* somebody must be able to wake */
            if (dl == AIO_TIME_INF)
                break;
            aio_clock_advance(&L, dl - aio_now(&L));
        }
    }
    CHECK_EQ(live(), 0);
    CHECK_EQ(W.errors, 0);
    CHECK_EQ(W.acquisitions, W.releases);
    CHECK(W.acquisitions > 0);
    CHECK(L.holds == NULL);
    (void)census();
}

static void model(int kind)
{
    uint64_t s;
    int cancels = 0;
    for (s = 1; s <= NSEEDS && !harness_failed_checks; s++) {
        run_model(kind, s);
        cancels += W.cancels_seen;
        if (harness_failed_checks)
            printf("  (model seed %llu)\n", (unsigned long long)s);
    }
    CHECK(cancels > 0); /* the schedules did exercise cancellation */
}

TEST(random_acquire_release_cancel_never_loses_or_duplicates_lock_ownership) { model(K_LOCK); }
TEST(random_acquire_release_cancel_never_loses_or_duplicates_a_semaphore_permit) { model(K_SEM); }
TEST(random_acquire_release_cancel_never_loses_or_duplicates_a_bounded_semaphore_permit) { model(K_BSEM); }
TEST(random_acquire_release_cancel_never_loses_or_duplicates_a_limiter_token) { model(K_LIMITER); }

int main(void)
{
    /* Each test runs its own NSEEDS seeded schedules. */
    RUN_ONCE(random_acquire_release_cancel_never_loses_or_duplicates_lock_ownership);
    RUN_ONCE(random_acquire_release_cancel_never_loses_or_duplicates_a_semaphore_permit);
    RUN_ONCE(random_acquire_release_cancel_never_loses_or_duplicates_a_bounded_semaphore_permit);
    RUN_ONCE(random_acquire_release_cancel_never_loses_or_duplicates_a_limiter_token);
    return harness_report();
}
