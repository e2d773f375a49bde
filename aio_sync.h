/*
 * aio_sync.h - task synchronisation for aio: events, locks, conditions,
 * semaphores, capacity limiters, wait groups and barriers.
 *
 * Every primitive is a caller-owned struct whose first member is an aio_lot,
 * the core's FIFO wait queue (trio's parking lot).  So:
 *  - fairness is FIFO everywhere, and ownership is handed to the
 *    longest-waiting task on release (a releasing task cannot barge back in);
 *  - every blocking wait honours cancel scopes and deadlines, and a cancelled
 *    waiter leaves the queue without consuming a permit or a wake-up: the
 *    waker takes a task off the queue and completes its operation in one
 *    step, and cancellation only succeeds while the task is still queued;
 *  - the core dump (aio_dump) shows a parked task "on wait queue 0x..." with
 *    the address of the primitive itself; aio_lock_dump and aio_waiters_dump
 *    print an owner and its waiters.
 *
 * Checkpoints follow trio: every blocking macro is a cancel point, and a
 * schedule point even when it completes at once (the task goes to the back
 * of the run queue, and that yield cannot be cancelled: an operation that
 * completed is never reported as cancelled).  The try_ and plain functions
 * (release, set, notify...) never suspend.
 *
 * Usage: include after aio.h (it includes aio.h itself).  The function
 * bodies are compiled where AIO_IMPLEMENTATION is defined, in the same
 * translation unit as aio.h's.  Nothing here allocates; no OS calls.
 *
 * Map (declarations, then the implementation in the same order):
 *   Event; Lock; Condition; Semaphore and BoundedSemaphore; CapacityLimiter;
 *   WaitGroup and Barrier; interrupt-safe event flags and notifications;
 *   debugging (lock and waiter dumps); internals the macros use.
 * A first reader needs Event and Lock: the others follow the same pattern
 * (an init function, a blocking macro, try_ and release functions).
 */
#ifndef AIO_SYNC_H
#define AIO_SYNC_H

#include "aio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Event                                                                     */
/* ------------------------------------------------------------------------ */

/**
 * A flag tasks can wait for (asyncio.Event, trio.Event, anyio.Event).
 * Zero-initialise it or call aio_event_init.  32 bytes on 64-bit targets.
 */
typedef struct aio_event {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    uint8_t is_set;
} aio_event;

/** Resets `e`: not set, no waiters. */
AIO_API void aio_event_init(aio_event *e);
/** Sets the flag and wakes every waiter (asyncio/trio Event.set).  Not a checkpoint; idempotent. */
AIO_API void aio_event_set(aio_event *e);
/**
 * Clears the flag (asyncio Event.clear; trio has none).  Waiters already
 * woken by a set stay woken.  Not a checkpoint.
 */
AIO_API void aio_event_clear(aio_event *e);
/** Nonzero while the flag is set (Event.is_set). */
#define aio_event_is_set(e) ((e)->is_set != 0)

/**
 * await event.wait(): suspends until `e` is set.  rc = 0, or AIO_ECANCELED
 * (the wait did not happen).  If `e` is already set it is a schedule point
 * only and rc = 0.
 */
#define AIO_EVENT_WAIT(rc, e) AIO_OP(rc, aio__event_wait_begin(aio__await_needs_AIO_BEGIN_first, (e)))

/* ------------------------------------------------------------------------ */
/* Lock                                                                      */
/* ------------------------------------------------------------------------ */

/**
 * A mutual-exclusion lock owned by a task (trio.Lock, anyio.Lock,
 * asyncio.Lock).  Release hands ownership to the longest waiter before it
 * runs, so acquisitions are strictly FIFO.  If the owner finishes without
 * releasing, the lock is broken: its waiters and every later acquirer get
 * AIO_EBROKEN (trio's "owner exited without releasing") until
 * aio_lock_init.  Zero-initialise it or call aio_lock_init.  64 bytes on
 * 64-bit targets.
 */
typedef struct aio_lock {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    aio_hold hold; /* hold.owner is the owning task; linked in the loop while owned */
    uint8_t broken;
} aio_lock;

/** trio.StrictFIFOLock: aio_lock already hands ownership in strict FIFO order. */
typedef aio_lock aio_strict_fifo_lock;

/** Resets `l`: unowned, no waiters, not broken.  The lock must not be held. */
AIO_API void aio_lock_init(aio_lock *l);

/**
 * async with lock / await lock.acquire(): suspends until the task owns `l`.
 * rc = 0 (the task owns it), AIO_ECANCELED (it does not), AIO_EBROKEN (the
 * owner finished while holding it), AIO_EBUSY (the task already owns it: a
 * certain self-deadlock).  Uncontended it is a schedule point only.
 */
#define AIO_LOCK_ACQUIRE(rc, l) AIO_OP(rc, aio__lock_acquire_begin(aio__await_needs_AIO_BEGIN_first, (l)))

/**
 * lock.acquire_nowait() / asyncio's locked()-then-acquire: takes `l` if it is
 * free and nobody waits (no barging past waiters).  Never suspends.
 * Returns 0, AIO_EAGAIN, AIO_EBROKEN, or AIO_EBUSY (already the owner).
 */
AIO_API int aio_lock_try_acquire(aio_task *t, aio_lock *l);

/**
 * lock.release(): gives `l` to the longest waiter (which resumes owning it),
 * or leaves it free.  Not a checkpoint: a task that releases and acquires
 * again queues behind the waiters.  Returns 0, or AIO_EPERM if `t` is not
 * the owner (trio's RuntimeError; asyncio lets any task release).
 */
AIO_API int aio_lock_release(aio_task *t, aio_lock *l);

/** The owning task, or NULL (trio's Lock.statistics().owner). */
#define aio_lock_owner(l) ((l)->hold.owner)
/** Nonzero while owned (Lock.locked()). */
#define aio_lock_locked(l) ((l)->hold.owner != NULL)
/** Nonzero after the owner finished while holding it. */
#define aio_lock_broken(l) ((l)->broken != 0)

/* ------------------------------------------------------------------------ */
/* Condition                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * A condition variable bound to a lock (asyncio/trio/anyio Condition).
 * Notify moves waiters to the lock's queue, so each wakes owning the lock,
 * in FIFO order.  32 bytes on 64-bit targets.
 */
typedef struct aio_cond {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    aio_lock *lock;
} aio_cond;

/** Binds `c` to `lock` (which must outlive it); no waiters. */
AIO_API void aio_cond_init(aio_cond *c, aio_lock *lock);

/**
 * await cond.wait(): the task must own the lock.  Releases it, suspends
 * until notified, and returns owning the lock again.  rc = 0; AIO_ECANCELED
 * (not notified; the lock is re-acquired, shielded from the cancellation,
 * before returning, as in trio); AIO_EPERM (the task does not own the lock:
 * nothing happens); AIO_EBROKEN (the lock broke while waiting: not owned).
 */
#define AIO_COND_WAIT(rc, c) \
    do { \
        AIO_OP(rc, aio__cond_wait_begin(aio__await_needs_AIO_BEGIN_first, (c))); \
        if ((rc) == AIO_ECANCELED && aio_lock_owner((c)->lock) != aio__await_needs_AIO_BEGIN_first) { \
            AIO_OP(rc, aio__cond_relock_begin(aio__await_needs_AIO_BEGIN_first, (c))); \
            if ((rc) == 0) \
                (rc) = AIO_ECANCELED; \
        } \
    } while (0)

/**
 * cond.notify(n): moves up to `n` waiters, longest first, to the lock's
 * queue; they resume once they own the lock.  The task must own the lock.
 * Not a checkpoint.  Returns how many were moved, or AIO_EPERM.
 *
 * A notified wait has completed: a cancellation that reaches the waiter
 * after the notify (even in the same turn, before it runs) does not undo it.
 * The waiter stays queued for the lock, shielded, and its AIO_COND_WAIT
 * returns 0; it sees the cancellation at its next checkpoint.  So a
 * notification is never lost to a cancelled waiter: either the waiter was
 * cancelled first (it leaves the condition's queue and the notify goes to
 * the next one) or it was notified first (it reports the notification).
 */
AIO_API int aio_cond_notify(aio_task *t, aio_cond *c, uint32_t n);
/** cond.notify_all(): as aio_cond_notify for every waiter. */
AIO_API int aio_cond_notify_all(aio_task *t, aio_cond *c);

/* ------------------------------------------------------------------------ */
/* Semaphore and BoundedSemaphore                                            */
/* ------------------------------------------------------------------------ */

/**
 * A counting semaphore (asyncio/trio/anyio Semaphore; BoundedSemaphore or
 * trio's max_value when initialised with aio_bsem_init).  Release hands the
 * permit straight to the longest waiter.  32 bytes on 64-bit targets.
 */
typedef struct aio_sem {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    uint32_t value;
    uint32_t max; /* release beyond this is AIO_EOVERFLOW */
} aio_sem;

/** Semaphore(value): release may raise the value up to UINT32_MAX. */
AIO_API void aio_sem_init(aio_sem *s, uint32_t value);
/** BoundedSemaphore(value): release past the initial value is AIO_EOVERFLOW. */
AIO_API void aio_bsem_init(aio_sem *s, uint32_t value);

/**
 * async with sem / await sem.acquire(): takes one permit, suspending while
 * there is none.  rc = 0 or AIO_ECANCELED (no permit taken).  A schedule
 * point only when a permit is free.
 */
#define AIO_SEM_ACQUIRE(rc, s) AIO_OP(rc, aio__sem_acquire_begin(aio__await_needs_AIO_BEGIN_first, (s)))

/** sem.acquire_nowait(): 0, or AIO_EAGAIN when no permit is free.  Never suspends. */
AIO_API int aio_sem_try_acquire(aio_sem *s);
/**
 * sem.release(): gives a permit to the longest waiter, or adds it to the
 * value.  Not a checkpoint.  Returns 0, or AIO_EOVERFLOW past the bound
 * (nothing changes).
 */
AIO_API int aio_sem_release(aio_sem *s);
/** Permits free now (Semaphore.value / _value). */
#define aio_sem_value(s) ((s)->value)

/* ------------------------------------------------------------------------ */
/* CapacityLimiter                                                           */
/* ------------------------------------------------------------------------ */

typedef struct aio_limiter aio_limiter;

/**
 * One borrowed token of a limiter, owned by the borrower (a frame field):
 * it records who borrows (by default the task) and links the borrower in
 * the limiter's list.  Zero-initialise it; it is reusable once released.
 * 32 bytes on 64-bit targets.
 */
typedef struct aio_borrow {
    /* private: no field is API; pass it to the limiter functions */
    struct aio_borrow *next, *prev;
    aio_limiter *limiter;  /* the limiter it is borrowed from, or NULL */
    const void *borrower;  /* identity of the borrower */
} aio_borrow;

/**
 * trio/anyio CapacityLimiter: at most `total` tokens are out at once, each
 * held by an identified borrower (one token per borrower); the total can be
 * changed while in use.  Tokens go to waiters FIFO.  40 bytes on 64-bit.
 */
struct aio_limiter {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    aio_borrow *borrowers;
    uint32_t total;
    uint32_t borrowed;
};

/** CapacityLimiter(total): 0, or AIO_EINVAL if total is 0. */
AIO_API int aio_limiter_init(aio_limiter *l, uint32_t total);

/**
 * async with limiter / await limiter.acquire(): borrows a token for the task
 * through `b`.  rc = 0, AIO_ECANCELED (no token taken), AIO_EBUSY (the task
 * already borrows from `l`, or `b` is in use).  A schedule point only when a
 * token is free.
 */
#define AIO_LIMITER_ACQUIRE(rc, l, b) AIO_OP(rc, aio__limiter_acquire_begin(aio__await_needs_AIO_BEGIN_first, (l), (b), aio__await_needs_AIO_BEGIN_first))
/** limiter.acquire_on_behalf_of(borrower): as AIO_LIMITER_ACQUIRE for any borrower identity. */
#define AIO_LIMITER_ACQUIRE_ON_BEHALF_OF(rc, l, b, who) \
    AIO_OP(rc, aio__limiter_acquire_begin(aio__await_needs_AIO_BEGIN_first, (l), (b), (who)))

/**
 * limiter.acquire_on_behalf_of_nowait(borrower) (pass the task for
 * acquire_nowait): 0, AIO_EAGAIN (no token free, or others wait), AIO_EBUSY.
 * Never suspends.
 */
AIO_API int aio_limiter_try_acquire(aio_limiter *l, aio_borrow *b, const void *borrower);
/**
 * limiter.release() / release_on_behalf_of(): returns the token of `b`,
 * which goes to the longest waiter if the total allows.  Not a checkpoint.
 * Returns 0, or AIO_EPERM if `b` does not borrow from `l`.
 */
AIO_API int aio_limiter_release(aio_limiter *l, aio_borrow *b);
/**
 * limiter.total_tokens = total: raising it wakes waiters at once; lowering
 * it takes effect as tokens come back.  0, or AIO_EINVAL for 0.
 */
AIO_API int aio_limiter_set_total(aio_limiter *l, uint32_t total);
/** Tokens free now (available_tokens). */
#define aio_limiter_available(l) ((l)->borrowed < (l)->total ? (l)->total - (l)->borrowed : 0u)
/** Tokens out (borrowed_tokens). */
#define aio_limiter_borrowed(l) ((l)->borrowed)

/* ------------------------------------------------------------------------ */
/* WaitGroup and Barrier                                                     */
/* ------------------------------------------------------------------------ */

/**
 * Go's sync.WaitGroup (a countdown latch): tasks wait until the count drops
 * to zero.  Zero-initialise or aio_waitgroup_init.  32 bytes on 64-bit.
 */
typedef struct aio_waitgroup {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    uint32_t count;
} aio_waitgroup;

/** Resets `wg`: count 0, no waiters. */
AIO_API void aio_waitgroup_init(aio_waitgroup *wg);
/**
 * wg.Add(delta): adds `delta` (may be negative) to the count; reaching zero
 * wakes every waiter.  Not a checkpoint.  Returns 0; AIO_EINVAL if the count
 * would drop below zero, AIO_EOVERFLOW past UINT32_MAX (nothing changes).
 */
AIO_API int aio_waitgroup_add(aio_waitgroup *wg, int32_t delta);
/** wg.Done(): aio_waitgroup_add(wg, -1). */
#define aio_waitgroup_done(wg) aio_waitgroup_add((wg), -1)
/** The current count. */
#define aio_waitgroup_count(wg) ((wg)->count)
/**
 * wg.Wait(): suspends until the count is zero.  rc = 0 or AIO_ECANCELED.  A
 * schedule point only when it is already zero.
 */
#define AIO_WAITGROUP_WAIT(rc, wg) AIO_OP(rc, aio__waitgroup_wait_begin(aio__await_needs_AIO_BEGIN_first, (wg)))

/**
 * asyncio.Barrier(parties): each round releases the waiters together once
 * `parties` tasks wait.  Cyclic.  32 bytes on 64-bit targets.
 */
typedef struct aio_barrier {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    uint32_t parties;
    uint8_t broken;
} aio_barrier;

/** Barrier(parties): 0, or AIO_EINVAL for 0 parties. */
AIO_API int aio_barrier_init(aio_barrier *b, uint32_t parties);
/**
 * await barrier.wait(): rc = this task's arrival index in the round
 * (0 .. parties-1, the last arriver gets parties-1 and does not suspend
 * beyond a schedule point); AIO_ECANCELED (the task left the round, which
 * then needs another arrival); AIO_EBROKEN (aborted or reset).
 */
#define AIO_BARRIER_WAIT(rc, b) AIO_OP(rc, aio__barrier_wait_begin(aio__await_needs_AIO_BEGIN_first, (b)))
/** barrier.abort(): waiters and later arrivals get AIO_EBROKEN until reset.  Not a checkpoint. */
AIO_API void aio_barrier_abort(aio_barrier *b);
/** barrier.reset(): current waiters get AIO_EBROKEN; the barrier is usable again. */
AIO_API void aio_barrier_reset(aio_barrier *b);
/** Tasks waiting in the current round (n_waiting). */
#define aio_barrier_n_waiting(b) ((b)->waiters.len)

/* ------------------------------------------------------------------------ */
/* Interrupt-safe signals: event flags and counting notifications           */
/* ------------------------------------------------------------------------ */

/*
 * Two objects an interrupt handler or another thread signals directly,
 * without a callback of its own (FreeRTOS's xEventGroupSetBitsFromISR and
 * xTaskNotifyFromISR).  The signalling side changes one word atomically
 * (lock-free atomics where the target has them, else with interrupts masked
 * for a few instructions) and posts the object's own aio_post node, so a
 * burst of signals before the loop looks costs one wake-up; the loop then
 * completes the waits that are now satisfied, oldest waiter first.  A wait
 * completes as soon as its condition holds, so a waiter that needs more
 * than the others may be overtaken by later ones.  Call the init function on
 * the loop's thread: it arms the loop's wake path (aio_loop_wake_enable).
 */

/** The flags an aio_flags word holds: bits 0..14 where int is 16 bits (AVR), 0..30 where it is 32. */
#define AIO_FLAGS_MAX ((unsigned)INT_MAX)

/**
 * Event flags (FreeRTOS event group): a word of up to AIO_FLAGS_MAX bits
 * that interrupts and threads set and tasks wait for, any or all of a mask.
 * A completed wait consumes (clears) the bits it waited for.  Initialise
 * with aio_flags_init.
 */
typedef struct aio_flags {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    aio_loop *loop;
    aio_post post;   /* the set's hand-off to the loop */
    unsigned bits;   /* atomic */
} aio_flags;

/** Prepares `f` for `loop`: no bits set, no waiters; arms the loop's wake path.  Loop thread.  Returns 0 or -errno. */
AIO_API int aio_flags_init(aio_flags *f, aio_loop *loop);
/**
 * Sets `bits` in `f` and wakes the tasks whose wait they complete (at the
 * loop's next pass over its posts, the start of its next turn).  Safe from
 * an interrupt handler, another thread and a task.  Returns 0, or
 * AIO_EINVAL (bits outside AIO_FLAGS_MAX, or `f` not initialised).
 */
AIO_API int aio_flags_set(aio_flags *f, unsigned bits);
/** Clears `bits` in `f`; returns the flags before.  Safe from anywhere. */
AIO_API unsigned aio_flags_clear(aio_flags *f, unsigned bits);
/** The flags set now.  Safe from anywhere. */
AIO_API unsigned aio_flags_get(aio_flags *f);
/**
 * Waits until any of `bits` is set in `f`, then clears the ones of `bits`
 * that are set.  rc = those bits (> 0), AIO_ECANCELED (nothing was
 * cleared), or AIO_EINVAL (`bits` is 0 or outside AIO_FLAGS_MAX).  A
 * schedule point when the bits are already set.
 */
#define AIO_FLAGS_WAIT_ANY(rc, f, bits) AIO_OP(rc, aio__flags_wait_begin(aio__await_needs_AIO_BEGIN_first, (f), (bits), 0))
/** As AIO_FLAGS_WAIT_ANY, but waits until every one of `bits` is set; rc = `bits`. */
#define AIO_FLAGS_WAIT_ALL(rc, f, bits) AIO_OP(rc, aio__flags_wait_begin(aio__await_needs_AIO_BEGIN_first, (f), (bits), 1))

/**
 * A counting notification (FreeRTOS's xTaskNotifyGiveFromISR with
 * ulTaskNotifyTake): interrupts and threads give, a task waits until `n`
 * gives have arrived and takes them.  Initialise with aio_notify_init.
 */
typedef struct aio_notify {
    /* private: no field is API; use the functions and macros declared below */
    aio_lot waiters;
    aio_loop *loop;
    aio_post post;   /* the give's hand-off to the loop */
    unsigned count;  /* gives not yet taken; atomic */
} aio_notify;

/** Prepares `n` for `loop`: count 0, no waiters; arms the loop's wake path.  Loop thread.  Returns 0 or -errno. */
AIO_API int aio_notify_init(aio_notify *n, aio_loop *loop);
/**
 * Adds `k` to the count of `n` and wakes the tasks whose wait it completes
 * (at the loop's next pass over its posts).  Safe from an interrupt handler,
 * another thread and a task.  Returns 0, AIO_EOVERFLOW (the count would pass
 * UINT_MAX: nothing added), or AIO_EINVAL (`n` not initialised).
 */
AIO_API int aio_notify_give(aio_notify *n, unsigned k);
/** Gives not yet taken.  Safe from anywhere. */
AIO_API unsigned aio_notify_count(aio_notify *n);
/** Takes `k` gives if that many have arrived.  Never suspends; loop thread.  Returns 0 or AIO_EAGAIN. */
AIO_API int aio_notify_try_take(aio_notify *n, unsigned k);
/**
 * Waits until `k` gives have arrived (k >= 1), and takes them.  rc = 0,
 * AIO_ECANCELED (nothing taken), or AIO_EINVAL (k = 0).  A schedule point
 * when they have already arrived.
 */
#define AIO_NOTIFY_WAIT(rc, n, k) AIO_OP(rc, aio__notify_wait_begin(aio__await_needs_AIO_BEGIN_first, (n), (k)))

/* ------------------------------------------------------------------------ */
/* Debugging                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Prints "lock 0x.. owner task 0x.. ["name"] waiters: task 0x.., ..." (and
 * "broken") for `l` through `out`.  Names are kept with AIO_DEBUG.
 */
AIO_API void aio_lock_dump(const aio_lock *l, void (*out)(void *ctx, const char *text), void *ctx);
/** Prints the tasks queued on any primitive's wait queue, longest waiting first. */
AIO_API void aio_waiters_dump(const aio_lot *lot, void (*out)(void *ctx, const char *text), void *ctx);

/* ------------------------------------------------------------------------ */
/* Internals used by the macros                                              */
/* ------------------------------------------------------------------------ */

AIO_API int aio__event_wait_begin(aio_task *t, aio_event *e);
AIO_API int aio__lock_acquire_begin(aio_task *t, aio_lock *l);
AIO_API int aio__cond_wait_begin(aio_task *t, aio_cond *c);
AIO_API int aio__cond_relock_begin(aio_task *t, aio_cond *c);
AIO_API int aio__sem_acquire_begin(aio_task *t, aio_sem *s);
AIO_API int aio__limiter_acquire_begin(aio_task *t, aio_limiter *l, aio_borrow *b, const void *borrower);
AIO_API int aio__waitgroup_wait_begin(aio_task *t, aio_waitgroup *wg);
AIO_API int aio__barrier_wait_begin(aio_task *t, aio_barrier *b);
AIO_API int aio__flags_wait_begin(aio_task *t, aio_flags *f, unsigned bits, int all);
AIO_API int aio__notify_wait_begin(aio_task *t, aio_notify *n, unsigned k);

#ifdef __cplusplus
}
#endif
#endif /* AIO_SYNC_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__SYNC_IMPLEMENTED)
#define AIO__SYNC_IMPLEMENTED

#ifdef __cplusplus
extern "C" {
#endif

/* The fast path of a blocking operation: it has completed; the task still
 * goes to the back of the run queue (a schedule point that cannot be
 * cancelled) and resumes with `rc`. */
static int aio__sync_done(aio_task *t, int rc)
{
    aio__yield(t, 0);
    t->top->rc = rc;
    return AIO_PARKED;
}

/* ---- event ------------------------------------------------------------- */

AIO_IMPL void aio_event_init(aio_event *e)
{
    e->waiters.head = e->waiters.tail = NULL;
    e->waiters.len = 0;
    e->is_set = 0;
}

AIO_IMPL void aio_event_set(aio_event *e)
{
    e->is_set = 1;
    aio_lot_wake(&e->waiters, UINT32_MAX, 0);
}

AIO_IMPL void aio_event_clear(aio_event *e)
{
    e->is_set = 0;
}

AIO_IMPL int aio__event_wait_begin(aio_task *t, aio_event *e)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (e->is_set)
        return aio__sync_done(t, 0);
    aio_park_lot(t, &e->waiters);
    return AIO_PARKED;
}

/* ---- lock -------------------------------------------------------------- */

static aio_lock *aio__lock_of_hold(aio_hold *h)
{
    return (aio_lock *)(void *)((char *)h - offsetof(aio_lock, hold));
}

/* The owner finished while holding the lock (called by the loop, which has
 * already unlinked the hold): every waiter gets AIO_EBROKEN. */
static void aio__lock_broken(aio_loop *L, aio_hold *h)
{
    aio_lock *l = aio__lock_of_hold(h);
    (void)L;
    l->broken = 1;
    aio_lot_wake(&l->waiters, UINT32_MAX, AIO_EBROKEN);
}

/* Makes `t` the owner and registers the hold with the loop. */
static void aio__lock_take(aio_lock *l, aio_task *t)
{
    aio_loop *L = aio_task_loop(t);
    l->hold.owner = t;
    l->hold.broken = aio__lock_broken;
    l->hold.prev = NULL;
    l->hold.next = L->holds;
    if (L->holds)
        L->holds->prev = &l->hold;
    L->holds = &l->hold;
}

/* Unregisters the current owner and hands the lock to the longest waiter. */
static void aio__lock_handoff(aio_lock *l)
{
    aio_loop *L = aio_task_loop(l->hold.owner);
    aio_task *w;
    if (l->hold.prev)
        l->hold.prev->next = l->hold.next;
    else
        L->holds = l->hold.next;
    if (l->hold.next)
        l->hold.next->prev = l->hold.prev;
    l->hold.next = l->hold.prev = NULL;
    l->hold.owner = NULL;
    w = aio_lot_pop(&l->waiters);
    if (w) {
        aio__lock_take(l, w);
        aio_reschedule(w, 0);
    }
}

AIO_IMPL void aio_lock_init(aio_lock *l)
{
    l->waiters.head = l->waiters.tail = NULL;
    l->waiters.len = 0;
    l->hold.next = l->hold.prev = NULL;
    l->hold.owner = NULL;
    l->hold.broken = aio__lock_broken;
    l->broken = 0;
}

AIO_IMPL int aio_lock_try_acquire(aio_task *t, aio_lock *l)
{
    if (l->broken)
        return AIO_EBROKEN;
    if (l->hold.owner == t)
        return AIO_EBUSY;
    if (l->hold.owner || l->waiters.head)
        return AIO_EAGAIN;
    aio__lock_take(l, t);
    return 0;
}

AIO_IMPL int aio__lock_acquire_begin(aio_task *t, aio_lock *l)
{
    int rc;
    if (l->broken)
        return AIO_EBROKEN;
    if (l->hold.owner == t)
        return AIO_EBUSY;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (!l->hold.owner && !l->waiters.head) {
        aio__lock_take(l, t);
        return aio__sync_done(t, 0);
    }
    aio_park_lot(t, &l->waiters);
    return AIO_PARKED;
}

AIO_IMPL int aio_lock_release(aio_task *t, aio_lock *l)
{
    if (!t || l->hold.owner != t)
        return AIO_EPERM;
    aio__lock_handoff(l);
    return 0;
}

/* ---- condition --------------------------------------------------------- */

AIO_IMPL void aio_cond_init(aio_cond *c, aio_lock *lock)
{
    c->waiters.head = c->waiters.tail = NULL;
    c->waiters.len = 0;
    c->lock = lock;
}

AIO_IMPL int aio__cond_wait_begin(aio_task *t, aio_cond *c)
{
    int rc;
    if (c->lock->hold.owner != t)
        return AIO_EPERM;
    rc = aio_check_cancel(t);
    if (rc)
        return rc; /* still owning the lock: nothing happened */
    aio__lock_handoff(c->lock);
    aio_park_lot(t, &c->waiters);
    return AIO_PARKED;
}

/* After a cancelled wait: takes the lock back, queued FIFO behind its
 * waiters but shielded from the cancellation (the core's abort is marked as
 * already tried for this park, so it leaves the task queued). */
AIO_IMPL int aio__cond_relock_begin(aio_task *t, aio_cond *c)
{
    aio_lock *l = c->lock;
    if (l->broken)
        return AIO_EBROKEN;
    if (!l->hold.owner && !l->waiters.head) {
        aio__lock_take(l, t);
        return 0;
    }
    aio_park_lot(t, &l->waiters);
    t->flags |= AIO__TF_ABORTED;
    return AIO_PARKED;
}

AIO_IMPL int aio_cond_notify(aio_task *t, aio_cond *c, uint32_t n)
{
    uint32_t k, i;
    aio_task *w;
    if (!t || c->lock->hold.owner != t)
        return AIO_EPERM;
    k = aio_lot_repark(&c->waiters, &c->lock->waiters, n > (uint32_t)INT32_MAX ? (uint32_t)INT32_MAX : n);
    /* The moved waiters are the last k of the lock's queue: their wait is
     * complete, so a cancellation may no longer take them out of it (the
     * core's abort is marked as already tried for this park). */
    for (w = c->lock->waiters.tail, i = 0; i < k; i++, w = w->u.q.prev)
        w->flags |= AIO__TF_ABORTED;
    return (int)k;
}

AIO_IMPL int aio_cond_notify_all(aio_task *t, aio_cond *c)
{
    return aio_cond_notify(t, c, UINT32_MAX);
}

/* ---- semaphore --------------------------------------------------------- */

AIO_IMPL void aio_sem_init(aio_sem *s, uint32_t value)
{
    s->waiters.head = s->waiters.tail = NULL;
    s->waiters.len = 0;
    s->value = value;
    s->max = UINT32_MAX;
}

AIO_IMPL void aio_bsem_init(aio_sem *s, uint32_t value)
{
    aio_sem_init(s, value);
    s->max = value;
}

AIO_IMPL int aio_sem_try_acquire(aio_sem *s)
{
    if (s->value == 0)
        return AIO_EAGAIN;
    s->value--;
    return 0;
}

AIO_IMPL int aio__sem_acquire_begin(aio_task *t, aio_sem *s)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (s->value) { /* a free permit means nobody waits: release hands permits over */
        s->value--;
        return aio__sync_done(t, 0);
    }
    aio_park_lot(t, &s->waiters);
    return AIO_PARKED;
}

AIO_IMPL int aio_sem_release(aio_sem *s)
{
    aio_task *w;
    if (s->value >= s->max)
        return AIO_EOVERFLOW;
    w = aio_lot_pop(&s->waiters);
    if (w)
        aio_reschedule(w, 0); /* the permit goes straight to the waiter */
    else
        s->value++;
    return 0;
}

/* ---- capacity limiter -------------------------------------------------- */

AIO_IMPL int aio_limiter_init(aio_limiter *l, uint32_t total)
{
    if (total == 0)
        return AIO_EINVAL;
    l->waiters.head = l->waiters.tail = NULL;
    l->waiters.len = 0;
    l->borrowers = NULL;
    l->total = total;
    l->borrowed = 0;
    return 0;
}

static void aio__borrow_link(aio_limiter *l, aio_borrow *b)
{
    b->limiter = l;
    b->prev = NULL;
    b->next = l->borrowers;
    if (l->borrowers)
        l->borrowers->prev = b;
    l->borrowers = b;
    l->borrowed++;
}

/* AIO_EBUSY if `b` is in use or `who` already borrows from `l`. */
static int aio__borrow_check(const aio_limiter *l, const aio_borrow *b, const void *who)
{
    const aio_borrow *x;
    if (b->limiter)
        return AIO_EBUSY;
    for (x = l->borrowers; x; x = x->next)
        if (x->borrower == who)
            return AIO_EBUSY;
    return 0;
}

/* Hands free tokens to waiters, longest first. */
static void aio__limiter_fill(aio_limiter *l)
{
    while (l->borrowed < l->total && l->waiters.head) {
        aio_task *w = aio_lot_pop(&l->waiters);
        aio__borrow_link(l, (aio_borrow *)aio_task_wait_ptr(w));
        aio_reschedule(w, 0);
    }
}

AIO_IMPL int aio_limiter_try_acquire(aio_limiter *l, aio_borrow *b, const void *who)
{
    int rc = aio__borrow_check(l, b, who);
    if (rc)
        return rc;
    if (l->borrowed >= l->total || l->waiters.head)
        return AIO_EAGAIN;
    b->borrower = who;
    aio__borrow_link(l, b);
    return 0;
}

AIO_IMPL int aio__limiter_acquire_begin(aio_task *t, aio_limiter *l, aio_borrow *b, const void *who)
{
    int rc = aio__borrow_check(l, b, who);
    if (rc)
        return rc;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    b->borrower = who;
    if (l->borrowed < l->total && !l->waiters.head) {
        aio__borrow_link(l, b);
        return aio__sync_done(t, 0);
    }
    aio_task_wait_ptr(t) = b;
    aio_park_lot(t, &l->waiters);
    return AIO_PARKED;
}

AIO_IMPL int aio_limiter_release(aio_limiter *l, aio_borrow *b)
{
    if (b->limiter != l)
        return AIO_EPERM;
    if (b->prev)
        b->prev->next = b->next;
    else
        l->borrowers = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->next = b->prev = NULL;
    b->limiter = NULL;
    l->borrowed--;
    aio__limiter_fill(l);
    return 0;
}

AIO_IMPL int aio_limiter_set_total(aio_limiter *l, uint32_t total)
{
    if (total == 0)
        return AIO_EINVAL;
    l->total = total;
    aio__limiter_fill(l);
    return 0;
}

/* ---- wait group and barrier -------------------------------------------- */

AIO_IMPL void aio_waitgroup_init(aio_waitgroup *wg)
{
    wg->waiters.head = wg->waiters.tail = NULL;
    wg->waiters.len = 0;
    wg->count = 0;
}

AIO_IMPL int aio_waitgroup_add(aio_waitgroup *wg, int32_t delta)
{
    if (delta < 0 && (uint32_t)(-(int64_t)delta) > wg->count)
        return AIO_EINVAL;
    if (delta > 0 && (uint32_t)delta > UINT32_MAX - wg->count)
        return AIO_EOVERFLOW;
    wg->count = (uint32_t)((int64_t)wg->count + delta);
    if (wg->count == 0)
        aio_lot_wake(&wg->waiters, UINT32_MAX, 0);
    return 0;
}

AIO_IMPL int aio__waitgroup_wait_begin(aio_task *t, aio_waitgroup *wg)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (wg->count == 0)
        return aio__sync_done(t, 0);
    aio_park_lot(t, &wg->waiters);
    return AIO_PARKED;
}

AIO_IMPL int aio_barrier_init(aio_barrier *b, uint32_t parties)
{
    if (parties == 0)
        return AIO_EINVAL;
    b->waiters.head = b->waiters.tail = NULL;
    b->waiters.len = 0;
    b->parties = parties;
    b->broken = 0;
    return 0;
}

AIO_IMPL int aio__barrier_wait_begin(aio_task *t, aio_barrier *b)
{
    int rc;
    uint32_t i;
    if (b->broken)
        return AIO_EBROKEN;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (b->waiters.len + 1 < b->parties) {
        aio_park_lot(t, &b->waiters);
        return AIO_PARKED;
    }
    for (i = 0; b->waiters.head; i++)
        aio_reschedule(aio_lot_pop(&b->waiters), (int)i);
    return aio__sync_done(t, (int)(b->parties - 1));
}

AIO_IMPL void aio_barrier_abort(aio_barrier *b)
{
    b->broken = 1;
    aio_lot_wake(&b->waiters, UINT32_MAX, AIO_EBROKEN);
}

AIO_IMPL void aio_barrier_reset(aio_barrier *b)
{
    aio_lot_wake(&b->waiters, UINT32_MAX, AIO_EBROKEN);
    b->broken = 0;
}

/* ---- dump -------------------------------------------------------------- */

#ifndef AIO_NO_STRINGS
static void aio__sync_put_hex(void (*out)(void *, const char *), void *ctx, const void *p)
{
    char buf[2 + 2 * sizeof(uintptr_t) + 1];
    uintptr_t v = (uintptr_t)p;
    size_t i, n = 2 * sizeof v;
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < n; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (4 * (n - 1 - i))) & 15];
    buf[2 + n] = 0;
    out(ctx, buf);
}

static void aio__sync_put_task(void (*out)(void *, const char *), void *ctx, const aio_task *t)
{
    out(ctx, "task ");
    aio__sync_put_hex(out, ctx, t);
#ifdef AIO_DEBUG
    if (t->name) {
        out(ctx, " \"");
        out(ctx, t->name);
        out(ctx, "\"");
    }
#endif
}

#endif /* AIO_NO_STRINGS */

AIO_IMPL void aio_waiters_dump(const aio_lot *lot, void (*out)(void *, const char *), void *ctx)
{
#ifdef AIO_NO_STRINGS
    (void)lot;
    (void)out;
    (void)ctx;
#else
    const aio_task *t;
    out(ctx, "waiters:");
    if (!lot->head)
        out(ctx, " none");
    for (t = lot->head; t; t = t->u.q.next) {
        out(ctx, t == lot->head ? " " : ", ");
        aio__sync_put_task(out, ctx, t);
    }
    out(ctx, "\n");
#endif
}

AIO_IMPL void aio_lock_dump(const aio_lock *l, void (*out)(void *, const char *), void *ctx)
{
#ifdef AIO_NO_STRINGS
    (void)l;
    (void)out;
    (void)ctx;
#else
    out(ctx, "lock ");
    aio__sync_put_hex(out, ctx, l);
    if (l->broken)
        out(ctx, " broken (owner finished holding it)");
    else if (l->hold.owner) {
        out(ctx, " owner ");
        aio__sync_put_task(out, ctx, l->hold.owner);
    } else
        out(ctx, " free");
    out(ctx, " ");
    aio_waiters_dump(&l->waiters, out, ctx);
#endif
}

/* ---- interrupt-safe signals ---------------------------------------------- */

/* A parked flags wait keeps its mask in the wait pointer, with "all" in the
 * bit above AIO_FLAGS_MAX; a notify wait keeps its count there. */
#define AIO__FLAGS_ALL (AIO_FLAGS_MAX + 1u)

/* The waited-for bits of `f` a wait for `want` (AIO__FLAGS_ALL: every bit)
 * would take now, or 0. */
static unsigned aio__flags_hit(aio_flags *f, unsigned want)
{
    unsigned mask = want & AIO_FLAGS_MAX, hit = aio__u_load(&f->bits) & mask;
    return (want & AIO__FLAGS_ALL) ? (hit == mask ? hit : 0u) : hit;
}

/* On the loop, after a set: completes the satisfied waits, oldest first. */
static void aio__flags_cb(aio_loop *L, void *arg)
{
    aio_flags *f = (aio_flags *)arg;
    aio_task *t = f->waiters.head;
    (void)L;
    while (t) {
        aio_task *nx = t->u.q.next;
        unsigned hit = aio__flags_hit(f, (unsigned)(uintptr_t)aio_task_wait_ptr(t));
        if (hit) {
            aio__u_and(&f->bits, ~hit);
            aio_lot_remove(&f->waiters, t);
            aio_reschedule(t, (int)hit);
        }
        t = nx;
    }
}

AIO_IMPL int aio_flags_init(aio_flags *f, aio_loop *loop)
{
    f->waiters.head = f->waiters.tail = NULL;
    f->waiters.len = 0;
    f->post.next = NULL;
    f->post.queued = 0;
    f->bits = 0u;
    f->loop = loop;
    return aio_loop_wake_enable(loop);
}

AIO_IMPL int aio_flags_set(aio_flags *f, unsigned bits)
{
    int rc;
    if ((bits & ~AIO_FLAGS_MAX) || !f->loop)
        return AIO_EINVAL;
    if (!bits)
        return 0;
    aio__u_or(&f->bits, bits);
    rc = aio_loop_post(f->loop, &f->post, aio__flags_cb, f);
    return rc == AIO_EBUSY ? 0 : rc; /* busy: the pending hand-off sees these bits too */
}

AIO_IMPL unsigned aio_flags_clear(aio_flags *f, unsigned bits)
{
    return aio__u_and(&f->bits, ~bits);
}

AIO_IMPL unsigned aio_flags_get(aio_flags *f)
{
    return aio__u_load(&f->bits);
}

AIO_IMPL int aio__flags_wait_begin(aio_task *t, aio_flags *f, unsigned bits, int all)
{
    unsigned want, hit;
    int rc;
    if (!bits || (bits & ~AIO_FLAGS_MAX))
        return AIO_EINVAL;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    want = bits | (all ? AIO__FLAGS_ALL : 0u);
    hit = aio__flags_hit(f, want);
    if (hit) {
        aio__u_and(&f->bits, ~hit);
        return aio__sync_done(t, (int)hit);
    }
    aio_task_wait_ptr(t) = (void *)(uintptr_t)want;
    aio_park_lot(t, &f->waiters);
    return AIO_PARKED;
}

/* On the loop, after a give: completes the waits the count now covers. */
static void aio__notify_cb(aio_loop *L, void *arg)
{
    aio_notify *n = (aio_notify *)arg;
    aio_task *t = n->waiters.head;
    (void)L;
    while (t) {
        aio_task *nx = t->u.q.next;
        unsigned k = (unsigned)(uintptr_t)aio_task_wait_ptr(t);
        if (aio_notify_try_take(n, k) == 0) {
            aio_lot_remove(&n->waiters, t);
            aio_reschedule(t, 0);
        }
        t = nx;
    }
}

AIO_IMPL int aio_notify_init(aio_notify *n, aio_loop *loop)
{
    n->waiters.head = n->waiters.tail = NULL;
    n->waiters.len = 0;
    n->post.next = NULL;
    n->post.queued = 0;
    n->count = 0u;
    n->loop = loop;
    return aio_loop_wake_enable(loop);
}

AIO_IMPL int aio_notify_give(aio_notify *n, unsigned k)
{
    int rc;
    if (!n->loop)
        return AIO_EINVAL;
    if (!k)
        return 0;
    if (aio__u_add(&n->count, k) > UINT_MAX - k) {
        /* Undone in the same modular arithmetic: a take that ran in
         * between still leaves the count right. */
        aio__u_add(&n->count, 0u - k);
        return AIO_EOVERFLOW;
    }
    rc = aio_loop_post(n->loop, &n->post, aio__notify_cb, n);
    return rc == AIO_EBUSY ? 0 : rc; /* busy: the pending hand-off sees this give too */
}

AIO_IMPL unsigned aio_notify_count(aio_notify *n)
{
    return aio__u_load(&n->count);
}

AIO_IMPL int aio_notify_try_take(aio_notify *n, unsigned k)
{
    /* Only the loop takes, and gives only add: a count seen >= k stays so. */
    if (aio__u_load(&n->count) < k)
        return AIO_EAGAIN;
    aio__u_add(&n->count, 0u - k);
    return 0;
}

AIO_IMPL int aio__notify_wait_begin(aio_task *t, aio_notify *n, unsigned k)
{
    int rc;
    if (!k)
        return AIO_EINVAL;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (aio_notify_try_take(n, k) == 0)
        return aio__sync_done(t, 0);
    aio_task_wait_ptr(t) = (void *)(uintptr_t)k;
    aio_park_lot(t, &n->waiters);
    return AIO_PARKED;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
