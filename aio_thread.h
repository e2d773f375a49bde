/*
 * aio_thread.h - thread offload and thread-safe entry for aio.
 *
 * A fixed pool of POSIX threads over caller-owned storage runs blocking C
 * functions (file I/O, getaddrinfo, CPU work) off the loop, and a task
 * awaits the result:
 *
 *     static pthread_t threads[4];
 *     static aio_pool pool;
 *     aio_pool_init(&pool, threads, 4);             // before the loop runs
 *     ...
 *     struct frame { aio_frame hdr; aio_job job; ... };
 *     aio_job_init(&f->job, checksum_file, f, &f->limiter, 0);
 *     AIO_TO_THREAD(rc, &pool, &f->job);            // suspends; rc = checksum_file(f)
 *     ...
 *     aio_pool_shutdown(&pool);                     // after the loop, joins the threads
 *
 * Completion comes back through the loop's cross-thread post path
 * (aio_loop_post), which the first AIO_TO_THREAD arms by itself.  One pool
 * may serve several loops; each job belongs to the loop of the task that
 * submits it.
 *
 * Cancellation (anyio's abandon_on_cancel, trio's to_thread.run_sync):
 *  - a job still queued when its task is cancelled is taken off the queue
 *    and never runs: the await returns AIO_ECANCELED ("did not happen");
 *  - a job already running cannot be stopped.  By default the wait is then
 *    uncancellable: the task stays parked until the function returns and
 *    gets its result (the cancellation shows at its next checkpoint);
 *  - with AIO_JOB_ABANDON_ON_CANCEL the task resumes at once with
 *    AIO_ECANCELED and the function's result is discarded when it returns.
 *    The job node (and whatever its argument points at) must stay alive
 *    until then: aio_job_busy(job) tells, and AIO_JOB_JOIN(rc, job) waits.
 * In both modes the job holds its limiter token until the function has
 * returned, so the limiter bounds the threads actually busy.
 *
 * Thread-safe entry: aio_from_thread_post (asyncio call_soon_threadsafe,
 * trio TrioToken.run_sync_soon) is aio_loop_post; aio_tevent is an event a
 * task awaits in the loop and any thread sets.
 *
 * Files: aio_file_op runs read / write / read-all / write-all of a file by
 * path as a job (anyio's Path.read_bytes / write_bytes).
 *
 * Usage: include after aio.h (it includes aio_reactor.h and aio_sync.h; the
 * loop needs the OS reactor, aio_reactor_init); function
 * bodies are compiled where AIO_IMPLEMENTATION is defined.  Needs pthreads.
 * Nothing here allocates.
 *
 * Map (declarations, then the implementation in the same order):
 *   Pool and jobs (aio_pool, aio_job, AIO_TO_THREAD); thread-safe entry
 *   (aio_tevent); the blocking portal; files through the pool.
 * A first reader needs the pool and AIO_TO_THREAD.
 */
#ifndef AIO_THREAD_H
#define AIO_THREAD_H

#include "aio_reactor.h"
#ifdef AIO_TIME32
#error "aio_thread.h needs nanosecond time: AIO_TIME32 (32-bit ticks) is a firmware option"
#endif
#include "aio_sync.h"
#include <pthread.h>

/*
 * Syscall hooks: the thread, signal-mask and file calls here are spelled through
 * AIO_SYS_<name> macros that default to the calls themselves (close through
 * aio.h's AIO_SYS_close); see "Syscall hooks" in aio.h.  The file calls run
 * on pool threads, so a hook must be thread-safe.
 */
#ifndef AIO_SYS_pthread_create
#define AIO_SYS_pthread_create pthread_create
#endif
#ifndef AIO_SYS_pthread_join
#define AIO_SYS_pthread_join pthread_join
#endif
#ifndef AIO_SYS_pthread_mutex_init
#define AIO_SYS_pthread_mutex_init pthread_mutex_init
#endif
#ifndef AIO_SYS_pthread_cond_init
#define AIO_SYS_pthread_cond_init pthread_cond_init
#endif
#ifndef AIO_SYS_open
#define AIO_SYS_open open
#endif
#ifndef AIO_SYS_pread
#define AIO_SYS_pread pread
#endif
#ifndef AIO_SYS_pwrite
#define AIO_SYS_pwrite pwrite
#endif
#ifndef AIO_SYS_pthread_sigmask
#define AIO_SYS_pthread_sigmask pthread_sigmask
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Pool and jobs                                                             */
/* ------------------------------------------------------------------------ */

typedef struct aio_job aio_job;

/** A function run on a pool thread: its int result is what AIO_TO_THREAD gives back. */
typedef int (*aio_job_fn)(void *arg);

/** Job flags. */
#define AIO_JOB_ABANDON_ON_CANCEL 0x01u /**< cancellation while running resumes the task at once (result discarded) */

/** Job states (aio_job.state). */
enum { AIO__JOB_IDLE = 0, AIO__JOB_QUEUED, AIO__JOB_RUNNING, AIO__JOB_POSTED };

/**
 * One offloaded call, owned by the caller (a frame field).  Initialise with
 * aio_job_init; reusable once it is idle again (aio_job_busy is 0).
 * 160 bytes on x86-64.
 */
struct aio_job {
    /* private: no field is API; use the functions and macros declared below */
    aio_job *next;          /* pool queue (under the pool's mutex) */
    aio_job_fn fn;
    void *arg;
    aio_limiter *limiter;   /* bounds concurrent jobs, or NULL */
    aio_borrow borrow;      /* the job's token of `limiter` */
    aio_loop *loop;         /* loop the completion is posted to */
    aio_task *task;         /* waiting task; NULL once abandoned */
    aio_post post;          /* completion node */
    aio_lot joiners;        /* AIO_JOB_JOIN waiters */
    struct aio_pool *pool;
    int result;             /* fn's result once finished */
    int state;              /* AIO_JOB_*; under the pool's mutex */
    int busy;               /* submitted and not yet settled; loop thread only */
    unsigned flags;         /* AIO_JOB_* flags */
};

/**
 * A fixed thread pool over caller-owned storage: `threads` (an array of
 * nthreads pthread_t) and the jobs themselves (an intrusive FIFO queue).
 * Jobs run in submission order as threads free up.  Worker threads block
 * every asynchronous signal, so process signals reach the loop's thread.
 */
typedef struct aio_pool {
    /* private: no field is API; use aio_pool_init, AIO_TO_THREAD and aio_pool_shutdown */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    aio_job *head, *tail;   /* queued jobs */
    pthread_t *threads;
    uint32_t nthreads;      /* threads started */
    uint32_t queued;        /* jobs waiting for a thread */
    uint32_t running;       /* jobs being run */
    int stopping;
} aio_pool;

/**
 * Starts `n` worker threads whose handles are stored in `threads` (caller
 * storage, n entries).  Call from any thread, before submitting.  Returns
 * 0, AIO_EINVAL (n == 0 or NULL), or -errno (on failure no thread is left
 * running).
 */
AIO_API int aio_pool_init(aio_pool *pool, pthread_t *threads, uint32_t n);

/**
 * Stops the pool: every job already queued still runs, then the threads
 * exit and are joined.  Blocks the calling thread; call it outside any
 * loop turn (after aio_run).  Completions of jobs that finish meanwhile
 * are posted to their loops and run at those loops' next turn.  The pool
 * stays a valid object: AIO_TO_THREAD on it fails with AIO_ECLOSED, and
 * aio_pool_init may start it again.  Returns 0, or AIO_EINVAL if the pool
 * is not running.
 */
AIO_API int aio_pool_shutdown(aio_pool *pool);

/**
 * Prepares `job` to run fn(arg).  `limiter` (may be NULL) bounds how many
 * jobs sharing it run at once (anyio's to_thread limiter; the job is the
 * borrower).  `flags`: 0 or AIO_JOB_ABANDON_ON_CANCEL.  Returns 0, or
 * AIO_EBUSY if the job is still in flight (the job is left unchanged).
 */
AIO_API int aio_job_init(aio_job *job, aio_job_fn fn, void *arg, aio_limiter *limiter, unsigned flags);

/** Nonzero while the job is queued, running, or its completion has not reached the loop. */
#define aio_job_busy(job) ((job)->busy != 0)

/** The function's result, valid once the job is idle again (also after an abandon). */
#define aio_job_result(job) ((job)->result)

/**
 * anyio to_thread.run_sync / trio to_thread.run_sync / asyncio to_thread:
 * takes a token of the job's limiter (FIFO, cancellable), queues the job on
 * `pool`, and suspends the task until fn has returned on a pool thread.
 * rc = fn's result (any int, so keep fn's own error codes apart from the
 * library's), or: AIO_ECANCELED (cancelled while waiting for a token or
 * while queued: fn never runs; or, with AIO_JOB_ABANDON_ON_CANCEL, while
 * running: fn's result is discarded), AIO_EBUSY (the job is still in
 * flight), AIO_ECLOSED (the pool is shut down), AIO_EINVAL (job not
 * initialised), -errno (the loop's wake path could not be armed).
 * Always suspends at least once; a cancel point until fn starts.
 */
#define AIO_TO_THREAD(rc, pool, job) \
    do { \
        AIO_OP(rc, aio__job_acquire_begin(aio__await_needs_AIO_BEGIN_first, (job))); \
        if ((rc) == 0) \
            AIO_OP(rc, aio__to_thread_begin(aio__await_needs_AIO_BEGIN_first, (pool), (job))); \
    } while (0)

/**
 * Waits until `job` is idle: its function has returned and its completion
 * has been handled in the loop (after an abandon, the point where the job
 * node and its argument may be reused).  rc = 0 (at once, without
 * suspending, if the job is idle), or AIO_ECANCELED.
 */
#define AIO_JOB_JOIN(rc, job) AIO_OP(rc, aio__job_join_begin(aio__await_needs_AIO_BEGIN_first, (job)))

/* ------------------------------------------------------------------------ */
/* Thread-safe entry                                                         */
/* ------------------------------------------------------------------------ */

/**
 * asyncio loop.call_soon_threadsafe / trio TrioToken.run_sync_soon /
 * anyio from_thread.run_sync (without the wait): runs cb(loop, arg) on the
 * loop's thread at its next turn.  Callable from any thread or a signal
 * handler; lock-free (one compare-and-swap), and the wake-up write is
 * coalesced with every other post and wake made before the loop notices.
 * `node` belongs to the loop until cb has been called.  The loop must have
 * armed its wake path (aio_loop_wake_enable, or any AIO_TO_THREAD).
 * Returns 0 or AIO_EINVAL.  The same function as aio_loop_post.
 */
#define aio_from_thread_post(loop, node, cb, arg) aio_loop_post((loop), (node), (cb), (arg))

/**
 * A thread-safe event: tasks of one loop wait for it, any thread sets it
 * (trio's from_thread "wake a task", asyncio's Future set through
 * call_soon_threadsafe).  Initialise with aio_tevent_init on the loop's
 * thread.  80 bytes on x86-64.
 */
typedef struct aio_tevent {
    aio_event ev;           /* the loop-side event: clear it with aio_event_clear(&e->ev) on the loop's thread */
    /* private: the fields below are not API */
    aio_loop *loop;
    aio_post post;          /* the cross-thread hand-off */
    int posted;             /* a set is in flight (atomic) */
} aio_tevent;

/**
 * Prepares `e` for `loop` and arms the loop's wake path.  Loop thread only.
 * Returns 0 or -errno.
 */
AIO_API int aio_tevent_init(aio_tevent *e, aio_loop *loop);

/**
 * Sets `e` from any thread (and from a signal handler): every task waiting
 * on it wakes at the loop's next turn.  Lock-free; sets made while one is in
 * flight coalesce.  Returns 0 or AIO_EINVAL.
 */
AIO_API int aio_tevent_set(aio_tevent *e);

/**
 * Waits until `e` is set (the loop-side flag, as AIO_EVENT_WAIT).  rc = 0 or
 * AIO_ECANCELED.  Clear it on the loop's thread with aio_event_clear(&e->ev).
 */
#define AIO_TEVENT_WAIT(rc, e) AIO_OP(rc, aio__event_wait_begin(aio__await_needs_AIO_BEGIN_first, &(e)->ev))

/* ------------------------------------------------------------------------ */
/* Blocking portal                                                           */
/* ------------------------------------------------------------------------ */

/**
 * A blocking portal (anyio's BlockingPortal, asyncio's
 * run_coroutine_threadsafe): lets threads other than the loop's run a
 * coroutine inside the loop and wait for its result.  The portal is the
 * frame of a serving task: initialise it with aio_portal_init, spawn
 * aio_portal_serve over it in the loop, and call aio_portal_call from other
 * threads.  Each call runs as a child of the portal's task group.
 */
typedef struct aio_portal {
    /* private: no field is API; use the portal functions declared below */
    aio_frame hdr;          /* the frame of aio_portal_serve */
    aio_group group;        /* hosts one task per call */
    aio_tevent stop;        /* set by aio_portal_stop from any thread */
    aio_loop *loop;
    pthread_mutex_t mu;     /* guards every call's done flag and `open` */
    pthread_cond_t cv;
    int open;               /* serving: calls are accepted */
    int rc;
} aio_portal;

/**
 * One call through a portal, owned by the calling thread (typically on its
 * stack) for the duration of aio_portal_call.  It is the frame of the task
 * that runs the coroutine.
 */
typedef struct aio_portal_req {
    /* private: no field is API; pass it to aio_portal_call */
    aio_frame hdr;
    aio_frame *child;       /* the coroutine's frame */
    aio_fn fn;
    aio_portal *portal;
    aio_task task;
    aio_post post;          /* hands the call to the loop */
    aio_call finished;      /* hands the result back, once the task is gone */
    int rc;
    int done;
} aio_portal_req;

/** Prepares `p` for `loop` (loop thread, before spawning the server).  Returns 0 or -errno. */
AIO_API int aio_portal_init(aio_portal *p, aio_loop *loop);

/**
 * The portal's serving coroutine: spawn it over the portal (`aio_spawn(&g,
 * &task, aio_portal_serve, &portal)`).  It accepts calls until
 * aio_portal_stop, then waits for the calls in progress and finishes with
 * 0.  Cancelling it cancels the calls in progress (they report
 * AIO_ECANCELED to their callers).
 */
AIO_API int aio_portal_serve(aio_task *t, void *portal);

/**
 * From a thread that is not the loop's: runs fn over `frame` as a task in
 * the loop and blocks until it finishes; returns its result.  AIO_ECLOSED if
 * the portal is not serving: its task has not run yet (the portal opens,
 * under its mutex, once it has), or it was stopped; AIO_EINVAL for NULL arguments.  The
 * loop must keep turning until the call returns.  Calling it from the loop's own thread would deadlock.  `call`
 * and `frame` must stay valid until it returns.
 */
AIO_API int aio_portal_call(aio_portal *p, aio_portal_req *call, aio_fn fn, void *frame);

/**
 * Stops the portal from any thread: no new calls are accepted, and
 * aio_portal_serve finishes once the calls in progress have.  Returns 0, or
 * AIO_EINVAL where the build has no atomic operations for the wake-up.
 */
AIO_API int aio_portal_stop(aio_portal *p);

/* ------------------------------------------------------------------------ */
/* Files through the pool                                                    */
/* ------------------------------------------------------------------------ */

/** File operation kinds (aio_file_op.kind). */
enum { AIO_FILE_READ = 1, AIO_FILE_WRITE, AIO_FILE_READ_ALL, AIO_FILE_WRITE_ALL };

/**
 * A file operation by path, run as a pool job: caller-owned, usually a
 * frame field.  Set it up with aio_file_op_init, run it with AIO_TO_THREAD
 * on &op->job (or use the AIO_FILE_* macros below, which do both).
 */
typedef struct aio_file_op {
    aio_job job;            /* the pool job: run it with AIO_TO_THREAD on &op->job */
    /* private: the fields below are not API */
    const char *path;
    void *buf;
    size_t len;
    int64_t offset;
    int kind;
} aio_file_op;

/**
 * Prepares `op`:
 *  - AIO_FILE_READ: read up to len bytes at `offset` (pread);
 *  - AIO_FILE_WRITE: write len bytes at `offset` of an existing or new file
 *    (pwrite, no truncation);
 *  - AIO_FILE_READ_ALL: read the whole file into buf (capacity len);
 *    AIO_EOVERFLOW if it does not fit (buf then holds the first len bytes);
 *  - AIO_FILE_WRITE_ALL: replace the file's contents with buf[0..len)
 *    (create or truncate, mode 0666 before umask).
 * The result is the byte count (read or written) or -errno.  `limiter` and
 * `flags` as for aio_job_init.  Returns 0 or AIO_EBUSY.
 */
AIO_API int aio_file_op_init(aio_file_op *op, int kind, const char *path, void *buf, size_t len, int64_t offset,
                             aio_limiter *limiter, unsigned flags);

/** anyio Path.read_bytes: rc = bytes read into buf (at most cap), AIO_EOVERFLOW, -errno, or AIO_TO_THREAD's errors. */
#define AIO_FILE_READ_ALL(rc, pool, op, path, buf, cap, limiter) \
    do { aio_file_op_init((op), AIO_FILE_READ_ALL, (path), (buf), (cap), 0, (limiter), 0); \
         AIO_TO_THREAD(rc, pool, &(op)->job); } while (0)
/** anyio Path.write_bytes: rc = bytes written (all of len), -errno, or AIO_TO_THREAD's errors. */
#define AIO_FILE_WRITE_ALL(rc, pool, op, path, buf, len, limiter) \
    do { aio_file_op_init((op), AIO_FILE_WRITE_ALL, (path), (void *)(buf), (len), 0, (limiter), 0); \
         AIO_TO_THREAD(rc, pool, &(op)->job); } while (0)
/** anyio AsyncFile.read at an offset: rc = bytes read (0 at end of file), -errno, or AIO_TO_THREAD's errors. */
#define AIO_FILE_READ(rc, pool, op, path, buf, cap, offset, limiter) \
    do { aio_file_op_init((op), AIO_FILE_READ, (path), (buf), (cap), (offset), (limiter), 0); \
         AIO_TO_THREAD(rc, pool, &(op)->job); } while (0)
/** anyio AsyncFile.write at an offset: rc = bytes written, -errno, or AIO_TO_THREAD's errors. */
#define AIO_FILE_WRITE(rc, pool, op, path, buf, len, offset, limiter) \
    do { aio_file_op_init((op), AIO_FILE_WRITE, (path), (void *)(buf), (len), (offset), (limiter), 0); \
         AIO_TO_THREAD(rc, pool, &(op)->job); } while (0)

/* Internals used by the macros. */
AIO_API int aio__job_acquire_begin(aio_task *t, aio_job *job);
AIO_API int aio__to_thread_begin(aio_task *t, aio_pool *pool, aio_job *job);
AIO_API int aio__job_join_begin(aio_task *t, aio_job *job);

#ifdef __cplusplus
}
#endif
#endif /* AIO_THREAD_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__THREAD_IMPLEMENTED)
#define AIO__THREAD_IMPLEMENTED

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pool -------------------------------------------------------------- */

static void aio__job_done_cb(aio_loop *loop, void *arg);

static void *aio__pool_worker(void *arg)
{
    aio_pool *p = (aio_pool *)arg;
    sigset_t all;
    sigfillset(&all);
    AIO_SYS_pthread_sigmask(SIG_BLOCK, &all, NULL); /* process signals go to the loop's thread */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        aio_job *j;
        aio_loop *loop;
        int r;
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        j = p->head;
        if (!j)
            break; /* stopping and drained */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        j->next = NULL;
        j->state = AIO__JOB_RUNNING;
        p->queued--;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        r = j->fn(j->arg);
        pthread_mutex_lock(&p->mu);
        j->result = r;
        j->state = AIO__JOB_POSTED;
        p->running--;
        loop = j->loop;
        pthread_mutex_unlock(&p->mu);
        /* The last touch of the job on this thread: the loop owns it from here. */
        aio_loop_post(loop, &j->post, aio__job_done_cb, j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

AIO_IMPL int aio_pool_init(aio_pool *p, pthread_t *threads, uint32_t n)
{
    uint32_t i;
    int rc;
    if (!p || !threads || n == 0)
        return AIO_EINVAL;
    memset(p, 0, sizeof *p);
    if ((rc = AIO_SYS_pthread_mutex_init(&p->mu, NULL)) != 0)
        return -rc;
    if ((rc = AIO_SYS_pthread_cond_init(&p->cv, NULL)) != 0) {
        pthread_mutex_destroy(&p->mu);
        return -rc;
    }
    p->threads = threads;
    for (i = 0; i < n; i++) {
        rc = AIO_SYS_pthread_create(&threads[i], NULL, aio__pool_worker, p);
        if (rc != 0) {
            p->nthreads = i;
            aio_pool_shutdown(p);
            return -rc;
        }
    }
    p->nthreads = n;
    return 0;
}

AIO_IMPL int aio_pool_shutdown(aio_pool *p)
{
    uint32_t i;
    if (!p || !p->threads)
        return AIO_EINVAL;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++)
        AIO_SYS_pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
    p->threads = NULL; /* the mutex stays valid: later submissions get AIO_ECLOSED */
    return 0;
}

/* ---- jobs -------------------------------------------------------------- */

AIO_IMPL int aio_job_init(aio_job *j, aio_job_fn fn, void *arg, aio_limiter *limiter, unsigned flags)
{
    if (!j || !fn)
        return AIO_EINVAL;
    if (j->busy)
        return AIO_EBUSY;
    memset(j, 0, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->limiter = limiter;
    j->flags = flags;
    return 0;
}

/* The job is finished (it ran, or it was dequeued unrun): gives back the
 * limiter token and wakes joiners.  Loop thread. */
static void aio__job_settle(aio_job *j)
{
    if (j->borrow.limiter)
        aio_limiter_release(j->limiter, &j->borrow);
    j->task = NULL;
    j->busy = 0;
    aio_lot_wake(&j->joiners, UINT32_MAX, 0);
}

/* Completion, on the loop's thread (posted by the worker). */
static void aio__job_done_cb(aio_loop *loop, void *arg)
{
    aio_job *j = (aio_job *)arg;
    aio_task *t = j->task;
    (void)loop;
    aio__job_settle(j);
    if (t)
        aio_reschedule(t, j->result); /* abandoned jobs have no task: the result is dropped */
}

/* Cancellation of a task waiting in AIO_TO_THREAD. */
static int aio__job_abort(aio_task *t, aio_waiter *w)
{
    aio_job *j = (aio_job *)aio_task_wait_ptr(t);
    aio_pool *p = j->pool;
    int queued;
    (void)w;
    pthread_mutex_lock(&p->mu);
    queued = j->state == AIO__JOB_QUEUED;
    if (queued) { /* not started: take it off the queue, it never runs */
        aio_job **pp = &p->head, *prev = NULL;
        while (*pp != j) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = j->next;
        if (p->tail == j)
            p->tail = prev;
        j->next = NULL;
        p->queued--;
    }
    pthread_mutex_unlock(&p->mu);
    if (queued) {
        aio__job_settle(j);
        return AIO_ABORT_OK;
    }
    if (j->flags & AIO_JOB_ABANDON_ON_CANCEL) {
        j->task = NULL; /* the completion finds no task and drops the result */
        return AIO_ABORT_OK;
    }
    return AIO_ABORT_FAIL; /* the default: wait for fn to return */
}
static const aio_waiter aio__job_waiter = { aio__job_abort };

AIO_IMPL int aio__job_acquire_begin(aio_task *t, aio_job *j)
{
    int rc;
    if (!j->fn)
        return AIO_EINVAL;
    if (j->busy)
        return AIO_EBUSY;
    if (!j->limiter) {
        rc = aio_check_cancel(t);
        return rc ? rc : 0;
    }
    return aio__limiter_acquire_begin(t, j->limiter, &j->borrow, j);
}

AIO_IMPL int aio__to_thread_begin(aio_task *t, aio_pool *p, aio_job *j)
{
    aio_loop *L = aio_task_loop(t);
    int rc = aio_loop_wake_enable(L);
    if (rc == 0) {
        pthread_mutex_lock(&p->mu);
        if (p->stopping || !p->threads) {
            rc = AIO_ECLOSED;
        } else {
            j->loop = L;
            j->task = t;
            j->pool = p;
            j->next = NULL;
            j->state = AIO__JOB_QUEUED;
            j->busy = 1;
            if (p->tail)
                p->tail->next = j;
            else
                p->head = j;
            p->tail = j;
            p->queued++;
            pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (rc) {
        if (j->borrow.limiter)
            aio_limiter_release(j->limiter, &j->borrow);
        return rc;
    }
    aio_task_wait_ptr(t) = j;
    aio_park_custom(t, (aio_waiter *)&aio__job_waiter);
    return AIO_PARKED;
}

AIO_IMPL int aio__job_join_begin(aio_task *t, aio_job *j)
{
    int rc;
    if (!j->busy)
        return 0;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    aio_park_lot(t, &j->joiners);
    return AIO_PARKED;
}

/* ---- thread-safe event --------------------------------------------------- */

static void aio__tevent_cb(aio_loop *loop, void *arg)
{
    aio_tevent *e = (aio_tevent *)arg;
    (void)loop;
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&e->posted, 0, __ATOMIC_RELEASE);
#else
    e->posted = 0;
#endif
    aio_event_set(&e->ev);
}

AIO_IMPL int aio_tevent_init(aio_tevent *e, aio_loop *loop)
{
    memset(e, 0, sizeof *e);
    aio_event_init(&e->ev);
    e->loop = loop;
    return aio_loop_wake_enable(loop);
}

AIO_IMPL int aio_tevent_set(aio_tevent *e)
{
#if defined(__GNUC__) || defined(__clang__)
    if (__atomic_exchange_n(&e->posted, 1, __ATOMIC_ACQ_REL))
        return 0; /* one set is already on its way */
    return aio_loop_post(e->loop, &e->post, aio__tevent_cb, e);
#else
    (void)e;
    return AIO_EINVAL;
#endif
}

/* ---- blocking portal ---------------------------------------------------- */

AIO_IMPL int aio_portal_init(aio_portal *p, aio_loop *loop)
{
    int rc;
    if (!p || !loop)
        return AIO_EINVAL;
    memset(p, 0, sizeof *p);
    p->loop = loop;
    rc = aio_tevent_init(&p->stop, loop);
    if (rc)
        return rc;
    if ((rc = AIO_SYS_pthread_mutex_init(&p->mu, NULL)) != 0)
        return -rc;
    if ((rc = AIO_SYS_pthread_cond_init(&p->cv, NULL)) != 0) {
        pthread_mutex_destroy(&p->mu);
        return -rc;
    }
    return 0;
}

/* Marks a call finished and wakes its caller. */
static void aio__portal_done(aio_portal *p, aio_portal_req *c, int rc)
{
    pthread_mutex_lock(&p->mu);
    c->rc = rc;
    c->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Loop thread, at the turn after the call's task finished: the caller may
 * now reuse the request, which the loop no longer touches. */
static void aio__portal_finished(aio_loop *loop, void *arg)
{
    aio_portal_req *c = (aio_portal_req *)arg;
    (void)loop;
    aio__portal_done(c->portal, c, c->rc);
}

/* The task of one call: awaits the caller's coroutine and keeps its result.
 * It returns 0 itself, so one failing call does not cancel the others.  The
 * caller is told one turn later, from a timer callback, because the request
 * holds this very task, which the loop still touches as it finishes. */
static int aio__portal_runner(aio_task *t, void *frame)
{
    aio_portal_req *c = (aio_portal_req *)frame;
    int rc;
    AIO_BEGIN(t, c);
    AIO_AWAIT(rc, c->fn, c->child);
    c->rc = rc;
    aio_call_later(aio_task_loop(t), &c->finished, 0, aio__portal_finished, c);
    AIO_END(0);
}

/* Loop thread: spawn the call's task (or refuse it). */
static void aio__portal_spawn(aio_loop *loop, void *arg)
{
    aio_portal_req *c = (aio_portal_req *)arg;
    aio_portal *p = c->portal;
    int rc;
    (void)loop;
    rc = p->open ? aio_spawn(&p->group, &c->task, aio__portal_runner, c) : AIO_ECLOSED;
    if (rc)
        aio__portal_done(p, c, rc);
}

AIO_IMPL int aio_portal_serve(aio_task *t, void *frame)
{
    aio_portal *p = (aio_portal *)frame;
    int rc;
    AIO_BEGIN(t, p);
    rc = aio_group_enter(t, &p->group, AIO_GROUP_ALL_SETTLED);
    if (rc)
        AIO_RETURN(rc);
    pthread_mutex_lock(&p->mu);
    p->open = 1;
    pthread_mutex_unlock(&p->mu);
    AIO_TEVENT_WAIT(p->rc, &p->stop);
    pthread_mutex_lock(&p->mu);
    p->open = 0;
    pthread_mutex_unlock(&p->mu);
    AIO_GROUP_WAIT(rc, &p->group, p->rc);
    AIO_END(rc);
}

AIO_IMPL int aio_portal_call(aio_portal *p, aio_portal_req *c, aio_fn fn, void *frame)
{
    int rc, open;
    if (!p || !c || !fn || !frame)
        return AIO_EINVAL;
    memset(c, 0, sizeof *c);
    c->fn = fn;
    c->child = (aio_frame *)frame;
    c->portal = p;
    pthread_mutex_lock(&p->mu);
    open = p->open;
    pthread_mutex_unlock(&p->mu);
    if (!open)
        return AIO_ECLOSED;
    rc = aio_loop_post(p->loop, &c->post, aio__portal_spawn, c);
    if (rc)
        return rc;
    pthread_mutex_lock(&p->mu);
    while (!c->done)
        pthread_cond_wait(&p->cv, &p->mu);
    rc = c->rc;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

AIO_IMPL int aio_portal_stop(aio_portal *p)
{
    return aio_tevent_set(&p->stop);
}

/* ---- files ------------------------------------------------------------- */

static int aio__file_job(void *arg)
{
    aio_file_op *op = (aio_file_op *)arg;
    char *buf = (char *)op->buf;
    size_t done = 0;
    int fd, rc = 0;
    switch (op->kind) {
    case AIO_FILE_READ:
    case AIO_FILE_READ_ALL:
        fd = AIO_SYS_open(op->path, O_RDONLY | O_CLOEXEC);
        break;
    case AIO_FILE_WRITE:
        fd = AIO_SYS_open(op->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        break;
    default:
        fd = AIO_SYS_open(op->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        break;
    }
    if (fd < 0)
        return -errno;
    while (done < op->len) {
        ssize_t n;
        off_t at = (off_t)(op->offset + (int64_t)done);
        if (op->kind == AIO_FILE_READ || op->kind == AIO_FILE_READ_ALL)
            n = AIO_SYS_pread(fd, buf + done, op->len - done, at);
        else
            n = AIO_SYS_pwrite(fd, buf + done, op->len - done, at);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (n == 0)
            break; /* end of file */
        done += (size_t)n;
        if (op->kind == AIO_FILE_READ && done > 0)
            break; /* one read, like read(2) */
    }
    if (rc == 0 && op->kind == AIO_FILE_READ_ALL && done == op->len) {
        char extra;
        ssize_t n = AIO_SYS_pread(fd, &extra, 1, (off_t)done);
        if (n > 0)
            rc = AIO_EOVERFLOW;
    }
    if (AIO_SYS_close(fd) != 0 && rc == 0 && op->kind != AIO_FILE_READ && op->kind != AIO_FILE_READ_ALL)
        rc = -errno;
    if (rc)
        return rc;
    return done > (size_t)INT32_MAX ? INT32_MAX : (int)done;
}

AIO_IMPL int aio_file_op_init(aio_file_op *op, int kind, const char *path, void *buf, size_t len, int64_t offset,
                              aio_limiter *limiter, unsigned flags)
{
    int rc;
    if (kind < AIO_FILE_READ || kind > AIO_FILE_WRITE_ALL || !path || (!buf && len) || offset < 0)
        return AIO_EINVAL;
    rc = aio_job_init(&op->job, aio__file_job, op, limiter, flags);
    if (rc)
        return rc;
    op->kind = kind;
    op->path = path;
    op->buf = buf;
    op->len = len > (size_t)INT32_MAX ? (size_t)INT32_MAX : len;
    op->offset = offset;
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION && !AIO__THREAD_IMPLEMENTED */
