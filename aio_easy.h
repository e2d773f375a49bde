/*
 * aio_easy.h - shorthands for writing coroutines: less plumbing, and the
 * common mistakes caught before they run.
 *
 * Nothing here adds a mechanism: every macro expands to the aio.h,
 * aio_sync.h and aio_chan.h calls a program would otherwise write out, and
 * nothing allocates or needs a stack.  What it gives:
 *
 *   AIO_CORO(name, type, t, f)   a coroutine over a typed frame; the frame's
 *                                header must be its first member, named hdr,
 *                                or the definition does not compile
 *   AIO_TRY(expr)                a plain call: return its error from the coroutine
 *   AIO_TRY_AWAIT(rc, fn, child) await a sub-coroutine; return its error
 *   AIO_TRY_OP(rc, OP, ...)      any await macro (rc first); return its error
 *   AIO_CHILD(type), AIO_CHILD_OF(fn)
 *                                a task and its frame as one object
 *   AIO_SPAWN_CHILD(g, c, fn)    spawn such a child
 *   AIO_SPAWN_NEW(g, c, fn, .x = v, ...)
 *                                reset its frame to these fields, then spawn
 *                                (fn's frame type checked at compile time)
 *   AIO_NOW()                    the loop's time, inside a coroutine
 *   AIO_LOOP_CONFIG_INIT         an aio_config with every default
 *   aio_run_main(fn, frame)      the whole of main(): loop, run, exit status
 *   AIO_MAIN(fn), AIO_MAIN_VIRTUAL(fn)
 *                                define main() around aio_run_main
 *   AIO_QUEUE_PUT_ITEM / AIO_QUEUE_GET_ITEM / AIO_QUEUE_INIT_ARRAY
 *                                queue calls that pass sizeof *(p), checked
 *                                against the queue's item size
 *   AIO_RUN_IN_THREAD(rc, pool, job, fn, arg), aio_run_main_pool,
 *   AIO_MAIN_POOL(fn, pool, n)   asyncio.to_thread, and main() with a thread
 *                                pool, when aio_thread.h is included first
 *
 * Scoped "with" blocks (a limiter, a lock, a cancel scope released when the
 * block is left) are not offered: C runs nothing when a block is left by
 * `return` (AIO_RETURN) or `break`, and a coroutine returns at every
 * suspension too, so a cleanup attribute would run at each await.  A
 * for-statement wrapper releases on the normal end of the block only, which
 * is the case that needs no help.  What catches a forgotten release instead:
 * a lock still held when its owner finishes is broken (its waiters get
 * AIO_EBROKEN); a scope or group still open when its task finishes is an
 * assertion under AIO_DEBUG, and a group left without AIO_GROUP_WAIT fails
 * the task with AIO_EBUSY in every build.
 *
 * Usage: include after (or instead of) aio.h, aio_sync.h and aio_chan.h;
 * the function bodies are compiled where AIO_IMPLEMENTATION is defined.
 * On a hosted build aio_run_main prints a failure to stderr; without an OS
 * (AIO_NO_OS) it only returns the status.
 *
 * Map (declarations, then the implementation): coroutine definitions
 * (AIO_CORO); propagating errors (AIO_TRY...); children, time and loop
 * set-up (AIO_CHILD, AIO_SPAWN_NEW, AIO_NOW, aio_run_main, AIO_MAIN); typed
 * queue calls; thread offload (when aio_thread.h comes first).
 */
#ifndef AIO_EASY_H
#define AIO_EASY_H

#include "aio.h"
#include "aio_sync.h"
#include "aio_chan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Coroutine definitions                                                     */
/* ======================================================================== */

/**
 * Defines the coroutine `name` (a static aio_fn) over frames of `type`, a
 * struct whose first member is `aio_frame hdr`.  The body that follows
 * sees the task as `t` and the frame, already typed, as `f`; it is a normal
 * coroutine body, from AIO_BEGIN(t, f) to AIO_END(rc):
 *
 *     struct fetch { aio_frame hdr; int id; };
 *     AIO_CORO(fetch, struct fetch, t, f)
 *     {
 *         int rc;
 *         AIO_BEGIN(t, f);
 *         AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(10 * f->id));
 *         AIO_END(0);
 *     }
 *
 * Checked at compile time: a frame whose `hdr` is not the first member
 * fails with "size of array 'aio_frame_header_hdr_must_be_the_first_member_
 * of_the_frame_of_<name>' is negative"; a frame without a member `hdr`, or
 * with a `hdr` that is not an aio_frame, fails on that member.  The frame
 * type is remembered under the coroutine's name, for AIO_CHILD_OF and
 * AIO_SPAWN_NEW.
 */
#define AIO_CORO(name, type, t, f) \
    typedef type AIO__CAT(aio__coro_frame_, name); \
    typedef char AIO__CAT(aio_frame_header_hdr_must_be_the_first_member_of_the_frame_of_, name) \
        [offsetof(type, hdr) == 0 ? 1 : -1]; \
    static int AIO__CAT(aio__coro_body_, name)(aio_task *t, type *f); \
    static int name(aio_task *aio__task, void *aio__frame) \
    { \
        aio_frame *aio__hdr = &((type *)aio__frame)->hdr; /* hdr must be an aio_frame */ \
        return AIO__CAT(aio__coro_body_, name)(aio__task, (type *)(void *)aio__hdr); \
    } \
    static int AIO__CAT(aio__coro_body_, name)(aio_task *t, type *f)

/** Declares a coroutine defined later with AIO_CORO (for use before its definition). */
#define AIO_CORO_DECL(name) static int name(aio_task *aio__task, void *aio__frame)

/* ======================================================================== */
/* Propagating errors                                                        */
/* ======================================================================== */

/**
 * Evaluates `expr` (a plain call returning an int code, not an await) and,
 * if it is negative, finishes the coroutine with it (AIO_RETURN, so the
 * file:line of this line is recorded).  Only inside a coroutine body.
 */
#define AIO_TRY(expr) \
    do { \
        int aio__try_rc = (expr); \
        if (aio__try_rc < 0) \
            AIO_RETURN(aio__try_rc); \
    } while (0)

/**
 * AIO_AWAIT(rc, fn, child), then finishes the coroutine with rc if it is
 * negative (AIO_ECANCELED included: a cancellation passes on).
 */
#define AIO_TRY_AWAIT(rc, fn, child) \
    do { \
        AIO_AWAIT(rc, fn, child); \
        if ((rc) < 0) \
            AIO_RETURN(rc); \
    } while (0)

/**
 * Runs the await macro `op` as op(rc, ...) and finishes the coroutine with
 * rc if it is negative: AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(5)),
 * AIO_TRY_OP(rc, AIO_QUEUE_GET, &f->q, &f->item).  `op` must take rc first
 * and at least one more argument.
 */
#define AIO_TRY_OP(rc, op, ...) \
    do { \
        op(rc, __VA_ARGS__); \
        if ((rc) < 0) \
            AIO_RETURN(rc); \
    } while (0)

/* ======================================================================== */
/* Children, time, loop set-up                                               */
/* ======================================================================== */

/**
 * A task and its frame as one object, so N children are one array:
 * `AIO_CHILD(struct fetch) kids[8];` in the parent's frame, then
 * `kids[i].frame.id = i; AIO_SPAWN_CHILD(&f->g, &f->kids[i], fetch);`.
 * Zero-initialise it like any task and frame.  Every field is API: `task`
 * (the child's task) and `frame` (its frame).
 */
#define AIO_CHILD(type) struct { aio_task task; type frame; }

/** aio_spawn of an AIO_CHILD `c` running `fn`; same results as aio_spawn. */
#define AIO_SPAWN_CHILD(g, c, fn) aio_spawn((g), &(c)->task, (fn), &(c)->frame)

/**
 * AIO_CHILD over the frame type of `fn`, a coroutine defined with AIO_CORO:
 * `AIO_CHILD_OF(fetch) kids[8];`.  The task is the first member, so a task
 * pointer the group hands back (aio_group_failed_first) converts to the
 * child.
 */
#define AIO_CHILD_OF(fn) AIO_CHILD(AIO__CAT(aio__coro_frame_, fn))

/**
 * Resets the frame of child `c` to the designated initialisers that follow
 * (every other field zero, the header included), then spawns `fn` over it:
 * `AIO_SPAWN_NEW(&f->g, &f->kids[i], fetch, .id = i, .limiter = &f->lim)`.
 * `fn` must be an AIO_CORO coroutine whose frame type is the child's: a
 * child of another frame type does not compile.  Same results as
 * aio_spawn.  Give at least one initialiser (`.hdr = {0}` for none).
 * C only: a compound literal with designated initialisers.
 */
#define AIO_SPAWN_NEW(g, c, fn, ...) \
    ((c)->frame = (AIO__CAT(aio__coro_frame_, fn)){ __VA_ARGS__ }, \
     aio_spawn((g), &(c)->task, (fn), &(c)->frame))

/** The loop's time (aio_now of the task's loop), inside a coroutine body. */
#define AIO_NOW() aio_now(aio_task_loop(aio__await_needs_AIO_BEGIN_first))

/**
 * An aio_config with every default (real monotonic clock, no hooks, no
 * seed): `aio_config cfg = AIO_LOOP_CONFIG_INIT; cfg.virtual_clock = 1;`.
 */
#define AIO_LOOP_CONFIG_INIT { 0 }

/**
 * The whole of a common main(): initialises a loop with `cfg` (NULL: the
 * defaults), runs `fn` over `frame` as the main task (aio_run), closes the
 * loop, and returns an exit status: 0 when the main task's result is not
 * negative; otherwise 1, after printing the error to stderr as
 * "aio: main task failed: <aio_strerror> (<file>:<line>)", with the
 * reason given to AIO_FAIL when there is one.  The loop and the main task
 * live in this call's own stack frame.  When aio_reactor.h (or aio_net.h,
 * aio_proc.h, aio_thread.h, which include it) is included before this
 * header in the implementation file, the loop also gets an OS reactor (a
 * static aio_reactor of this function, so one aio_run_main runs at a time),
 * and returns 1 if the reactor cannot be set up.
 */
AIO_API int aio_run_main_cfg(const aio_config *cfg, aio_fn fn, void *frame);
/** aio_run_main_cfg with the default configuration (the real monotonic clock). */
#define aio_run_main(fn, frame) aio_run_main_cfg(NULL, (fn), (frame))

/**
 * Defines `int main(void)` that runs the AIO_CORO coroutine `fn` over a
 * zeroed static frame of its type with aio_run_main and returns its exit
 * status.  AIO_MAIN_VIRTUAL does the same on the virtual clock (time
 * starts at 0 and jumps to the next deadline when every task waits).
 */
#define AIO_MAIN(fn) \
    int main(void) \
    { \
        static AIO__CAT(aio__coro_frame_, fn) aio__main_frame; \
        return aio_run_main((fn), &aio__main_frame); \
    }
#define AIO_MAIN_VIRTUAL(fn) \
    int main(void) \
    { \
        static AIO__CAT(aio__coro_frame_, fn) aio__main_frame; \
        aio_config aio__cfg = AIO_LOOP_CONFIG_INIT; \
        aio__cfg.virtual_clock = 1; \
        return aio_run_main_cfg(&aio__cfg, (fn), &aio__main_frame); \
    }

/* ======================================================================== */
/* Typed queue calls                                                         */
/* ======================================================================== */

/**
 * aio_queue_init over the array `arr` (its element type is the item type,
 * its length the capacity): a FIFO, LIFO or priority queue of `kind`; the
 * priority queue's `cmp` and `ctx` are passed as NULL (use aio_queue_init
 * for one).
 */
#define AIO_QUEUE_INIT_ARRAY(q, kind, arr) \
    aio_queue_init((q), (kind), (arr), sizeof (arr)[0], (uint32_t)(sizeof (arr) / sizeof (arr)[0]), NULL, NULL)

/**
 * AIO_QUEUE_PUT of the item at `p`, checking that sizeof *(p) is the
 * queue's item size: a char put into a queue of long long is an assertion
 * under AIO_DEBUG and rc = AIO_EINVAL (nothing put, no suspension) in
 * every build.  Otherwise as AIO_QUEUE_PUT.
 */
#define AIO_QUEUE_PUT_ITEM(rc, q, p) AIO_OP(rc, aio__queue_put_item_begin(aio__await_needs_AIO_BEGIN_first, (q), (p), sizeof *(p)))

/** AIO_QUEUE_GET into `p`, with the same item-size check as AIO_QUEUE_PUT_ITEM. */
#define AIO_QUEUE_GET_ITEM(rc, q, p) AIO_OP(rc, aio__queue_get_item_begin(aio__await_needs_AIO_BEGIN_first, (q), (p), sizeof *(p)))

AIO_API int aio__queue_put_item_begin(aio_task *t, aio_queue *q, const void *src, size_t size);
AIO_API int aio__queue_get_item_begin(aio_task *t, aio_queue *q, void *dst, size_t size);

/* ======================================================================== */
/* Thread offload (when aio_thread.h is included before this header)         */
/* ======================================================================== */
#ifdef AIO_THREAD_H
/**
 * asyncio.to_thread(fn, arg) in one await: aio_job_init(job, fn, arg,
 * NULL, 0), then AIO_TO_THREAD(rc, pool, job); rc = fn's result or the
 * errors of AIO_TO_THREAD (AIO_EBUSY, leaving the job unchanged, if it is
 * still in flight).  Defined only when aio_thread.h was included first.
 */
#define AIO_RUN_IN_THREAD(rc, pool, job, fn, arg) \
    do { \
        if (((rc) = aio_job_init((job), (fn), (arg), NULL, 0)) == 0) \
            AIO_TO_THREAD(rc, pool, job); \
    } while (0)

/**
 * aio_run_main_cfg with a thread pool around it: starts `pool` with `n`
 * threads (handles in `threads`), runs the loop, then shuts the pool down
 * (after the loop, as aio_pool_shutdown requires).  Returns the exit status
 * of aio_run_main_cfg, or 1 after printing the error when the pool cannot
 * start.  Defined only when aio_thread.h was included first.
 */
AIO_API int aio_run_main_pool(const aio_config *cfg, aio_pool *pool, pthread_t *threads, uint32_t n, aio_fn fn,
                              void *frame);
/** AIO_MAIN with aio_run_main_pool: `nthreads` threads (a constant) for `pool`. */
#define AIO_MAIN_POOL(fn, pool, nthreads) \
    int main(void) \
    { \
        static AIO__CAT(aio__coro_frame_, fn) aio__main_frame; \
        static pthread_t aio__threads[nthreads]; \
        return aio_run_main_pool(NULL, (pool), aio__threads, (nthreads), (fn), &aio__main_frame); \
    }
#endif

#ifdef __cplusplus
}
#endif
#endif /* AIO_EASY_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__EASY_IMPLEMENTED)
#define AIO__EASY_IMPLEMENTED

#if AIO__HOSTED
#include <stdio.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

AIO_IMPL int aio_run_main_cfg(const aio_config *cfg, aio_fn fn, void *frame)
{
    aio_loop loop;
    aio_task main_task;
    int rc;
    {
        unsigned char *p = (unsigned char *)&main_task;
        size_t i;
        for (i = 0; i < sizeof main_task; i++)
            p[i] = 0;
    }
    rc = aio_loop_init(&loop, cfg);
#if defined(AIO_REACTOR_H) && AIO__BACKEND != AIO__BE_NONE
    if (rc == 0) {
        static aio_reactor io; /* fd waits, sockets, subprocesses, the thread pool's wake-ups */
        rc = aio_reactor_init(&io, &loop);
        if (rc != 0)
            aio_loop_close(&loop);
    }
#endif
    if (rc == 0) {
        rc = aio_run(&loop, &main_task, fn, frame);
        aio_loop_close(&loop);
    }
    if (rc >= 0)
        return 0;
#if AIO__HOSTED
    {
        unsigned line = 0;
        const char *file = aio_task_error_site(&main_task, &line);
        const char *why = aio_task_error_reason(&main_task);
        fprintf(stderr, "aio: main task failed: %s", aio_strerror(rc));
        if (why)
            fprintf(stderr, ": %s", why);
        if (file)
            fprintf(stderr, " (%s:%u)", file, line);
        fputc('\n', stderr);
    }
#endif
    return 1;
}

#ifdef AIO_THREAD_H
AIO_IMPL int aio_run_main_pool(const aio_config *cfg, aio_pool *pool, pthread_t *threads, uint32_t n, aio_fn fn,
                               void *frame)
{
    int status, rc = aio_pool_init(pool, threads, n);
    if (rc != 0) {
        fprintf(stderr, "aio: thread pool did not start: %s\n", aio_strerror(rc));
        return 1;
    }
    status = aio_run_main_cfg(cfg, fn, frame);
    aio_pool_shutdown(pool);
    return status;
}
#endif

static int aio__queue_item_size_ok(aio_task *t, const aio_queue *q, size_t size)
{
    (void)t;
    AIO__ASSERT(aio_task_loop(t), q->item_size == size,
                "AIO_QUEUE_PUT_ITEM/AIO_QUEUE_GET_ITEM: the item's size is not the queue's item size");
    return q->item_size == size;
}

AIO_IMPL int aio__queue_put_item_begin(aio_task *t, aio_queue *q, const void *src, size_t size)
{
    if (!aio__queue_item_size_ok(t, q, size))
        return AIO_EINVAL;
    return aio__queue_put_begin(t, q, src);
}

AIO_IMPL int aio__queue_get_item_begin(aio_task *t, aio_queue *q, void *dst, size_t size)
{
    if (!aio__queue_item_size_ok(t, q, size))
        return AIO_EINVAL;
    return aio__queue_get_begin(t, q, dst);
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
