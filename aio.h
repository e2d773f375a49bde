/*
 * aio.h - stackless coroutines, structured concurrency and timers for C.
 *
 * Core layer: resume points, frames and nested calls, tasks, the loop and its
 * run queue, the clock, timers, cancel scopes with deadlines and shields, task
 * groups (nurseries), and the wait/abort primitive every blocking operation in
 * aio_sync.h and aio_chan.h is built on.
 *
 * Usage: include this header anywhere; in exactly one translation unit define
 * AIO_IMPLEMENTATION before including it to compile the function bodies.
 * Define AIO_STATIC as well to make every function static (single-file
 * programs).  Define AIO_DEBUG to turn misuse into assertions with a message,
 * and to count checkpoints per task.  Define AIO_NO_OS (or build with
 * -ffreestanding) for a firmware build that needs only <stddef.h>,
 * <stdint.h> and <limits.h>; the platform then supplies the clock and the
 * idle hook.
 *
 * Nothing here allocates.  Every object is owned by the caller, and all state
 * lives in an aio_loop: any number of loops, one per thread.
 *
 * Map.  Declarations, in the order a reader learns them:
 *   configuration (options, AIO_LEAN) -> error codes and time (aio_time,
 *   AIO_MS..., 32-bit ticks) -> types (the structs: what a field marked
 *   "internal" holds is not API) -> resume points -> coroutines (AIO_BEGIN,
 *   AIO_END, AIO_AWAIT, AIO_SLEEP, AIO_JOIN, the group and start macros) ->
 *   the loop (aio_loop_init, aio_run, aio_loop_step) -> tasks (aio_spawn,
 *   cancel, names, error sites) -> cancel scopes -> task groups -> timers
 *   (aio_call_at) -> wait queues and the park/wake protocol (for writing
 *   new primitives) -> the I/O backend seam and the cross-thread wake path ->
 *   debugging (aio_dump, stats) -> instruments and slow-step reports ->
 *   internals the macros use.
 * A first program needs: coroutines, the loop, tasks, cancel scopes and
 * groups (docs/API.md, "Essentials").  The implementation below follows
 * the same order: errors and panics, the clock, frames, the loop's run
 * queue and step, aio_run, tasks, cancellation, task groups, the timer heap
 * and firing timers, wait queues and parking, the wake path and the backend
 * seam, the dump and stats, instruments; its banners name each part.
 */
#ifndef AIO_H
#define AIO_H

/* The implementation uses POSIX clocks on hosted builds.  Strict -std=c99
 * hides them unless a feature macro is set before the first system header,
 * so the implementation translation unit sets one if the user has not (this
 * works when aio.h is included before any system header there). */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO_NO_OS) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE) && \
    !defined(_XOPEN_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE) && !defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/** Version of this header, as numbers and as a string. */
#define AIO_VERSION_MAJOR 0
#define AIO_VERSION_MINOR 1
#define AIO_VERSION_PATCH 0
#define AIO_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

/* AIO__HOSTED is 1 when an operating system (POSIX) is present. */
#if defined(AIO_NO_OS) || (defined(__STDC_HOSTED__) && __STDC_HOSTED__ == 0)
#define AIO__HOSTED 0
#elif defined(__unix__) || defined(__unix) || defined(__APPLE__)
#define AIO__HOSTED 1
#else
#define AIO__HOSTED 0
#endif

/* Lean profile for release firmware: AIO_LEAN turns on every AIO_NO_* option
 * below; each can also be set alone.
 *   AIO_NO_SHUFFLE  no run-order perturbation: cfg.seed is ignored.
 *   AIO_NO_STRINGS  no message or dump text: aio_strerror returns "",
 *                   aio_dump, aio_waiters_dump and aio_lock_dump print nothing,
 *                   the library's own cancels give a NULL reason, and tasks
 *                   keep no AIO_FAIL reason (aio_task_error_reason: NULL).
 *   AIO_NO_SITES    no __FILE__ strings: aio_spawn and AIO_RETURN record a
 *                   NULL file (aio_task_error_site and aio_frame_error_site
 *                   then give NULL; the line is kept).
 *   AIO_NO_STATS    the loop's step and poll counters stay 0 (turns are
 *                   still counted: the cached time goes stale by them).
 *   AIO_NO_INSTRUMENTS  no instruments and no slow-step reports:
 *                   aio_instrument_add, and aio_loop_set_slow_step with a
 *                   threshold, return AIO_EINVAL, and the loop's steps, spawns,
 *                   exits and waits test for none (about 1.2 KB of AVR flash).
 * With -ffunction-sections -fdata-sections -Wl,--gc-sections. */
#ifdef AIO_LEAN
#ifndef AIO_NO_SHUFFLE
#define AIO_NO_SHUFFLE
#endif
#ifndef AIO_NO_STRINGS
#define AIO_NO_STRINGS
#endif
#ifndef AIO_NO_SITES
#define AIO_NO_SITES
#endif
#ifndef AIO_NO_STATS
#define AIO_NO_STATS
#endif
#ifndef AIO_NO_INSTRUMENTS
#define AIO_NO_INSTRUMENTS
#endif
#endif
#ifdef AIO_NO_SITES
#define AIO__FILE ((const char *)0)
#else
#define AIO__FILE __FILE__
#endif
#ifdef AIO_NO_STRINGS
#define AIO__REASON(text) ((const char *)0) /* the library's own cancel reasons */
#else
#define AIO__REASON(text) (text)
#endif
#ifdef AIO_NO_STATS
#define AIO__STAT(stmt) ((void)0)
#else
#define AIO__STAT(stmt) ((void)(stmt))
#endif
#ifdef AIO_NO_INSTRUMENTS
#define AIO__INSTRUMENTED(L) 0 /* instruments registered? */
#define AIO__WATCHED(L) 0      /* steps take the watched path? */
#else
#define AIO__INSTRUMENTED(L) ((L)->instruments != NULL)
#define AIO__WATCHED(L) ((L)->watched)
#endif

#ifdef AIO_STATIC
#define AIO_API static AIO__UNUSED /* a program need not call every function */
#else
#define AIO_API extern
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AIO__UNUSED __attribute__((unused))
#define AIO__NOINLINE __attribute__((noinline))
#define AIO__INLINE inline __attribute__((always_inline))
#define AIO__LIKELY(x) __builtin_expect(!!(x), 1)
#define AIO__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define AIO__UNUSED
#define AIO__NOINLINE
#define AIO__INLINE
#define AIO__LIKELY(x) (x)
#define AIO__UNLIKELY(x) (x)
#endif

/* Fall-through annotation placed before every resume label, so that
 * -Wimplicit-fallthrough stays quiet on the switch-based resume points. */
#if defined(__cplusplus) && __cplusplus >= 201703L
#define AIO__FALLTHROUGH [[fallthrough]]
#elif (defined(__GNUC__) && __GNUC__ >= 7) || (defined(__clang__) && __clang_major__ >= 10)
#define AIO__FALLTHROUGH __attribute__((fallthrough))
#else
#define AIO__FALLTHROUGH ((void)0)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Error codes and time                                                      */
/* ------------------------------------------------------------------------ */

/*
 * Every operation returns an int: 0 for success, a negative code for failure,
 * and (for operations that transfer data) a positive count.  The library's
 * own codes sit far below the errno range, so OS errors can come back as
 * -errno beside them.  aio_strerror() names every code.
 */
#define AIO_OK 0
#define AIO_ECANCELED (-10001)   /**< the enclosing cancel scope (or the task) was cancelled: the operation did not happen */
#define AIO_ETIMEDOUT (-10002)   /**< a fail_after/fail_at scope's deadline was reached */
#define AIO_ECLOSED (-10003)     /**< the object (group, channel end, queue) is closed to this operation */
#define AIO_EBROKEN (-10004)     /**< the other side is gone (no receivers; lock owner exited) */
#define AIO_EEND (-10005)        /**< end of stream: closed and drained */
#define AIO_EAGAIN (-10006)      /**< a non-blocking variant would have to wait */
#define AIO_EBUSY (-10007)       /**< the object is in use (task still linked, group open, fd already waited on) */
#define AIO_EINVAL (-10008)      /**< invalid argument (negative duration, NULL, wrong state) */
#define AIO_ENOTSTARTED (-10009) /**< a started child finished without calling aio_started() */
#define AIO_EDEADLK (-10010)     /**< every task is parked and nothing can ever wake one */
#define AIO_EPERM (-10011)       /**< the caller is not the owner (release of a lock held by another task) */
#define AIO_EOVERFLOW (-10012)   /**< a counter would pass its bound (bounded semaphore released too often) */
#define AIO_EMISUSE (-10013)     /**< the coroutine was resumed at an unknown point (an await inside a user switch) */
#define AIO_ETOOLONG (-10014)    /**< a line or frame is longer than the read limit (the bytes stay buffered) */

#ifndef AIO_TIME32
/** Time in nanoseconds on the loop's monotonic clock (AIO_TIME32: 32-bit ticks, below). */
typedef int64_t aio_time;

/** A deadline that never comes, and one that has always passed. */
#define AIO_TIME_INF INT64_MAX
#define AIO_TIME_NEG_INF INT64_MIN

/** Durations in nanoseconds. */
#define AIO_NS(n) ((aio_time)(n))
#define AIO_US(n) ((aio_time)(n) * 1000)
#define AIO_MS(n) ((aio_time)(n) * 1000000)
#define AIO_SEC(n) ((aio_time)(n) * 1000000000)

/** Is time `a` before time `b`?  (Plain `<` here; wrap-safe with AIO_TIME32.) */
#define AIO_TIME_BEFORE(a, b) ((a) < (b))
/** `b - a`: how long from `a` until `b` (negative if `b` is earlier; wrap-safe with AIO_TIME32). */
#define AIO_TIME_DIFF(b, a) ((aio_time)((b) - (a)))
#define AIO__TIME_ADD(a, d) ((a) + (d))
#else
/*
 * AIO_TIME32: time is a 32-bit count of ticks of AIO_TICK_HZ (default 1000:
 * milliseconds), for 8- and 32-bit parts where a 64-bit clock cannot be read
 * atomically and 64-bit arithmetic costs flash.  The clock hook returns the
 * tick counter (wrapping at 2^32 is fine); every comparison the library
 * makes is wrap-safe as long as the deadlines in play lie within 2^31 ticks
 * of each other, which AIO_TIME_MAX_DELAY guarantees: a longer relative
 * delay (sleep, move_on_after, call_later...) is cut to it (12.4 days at
 * 1 kHz).  AIO_TICK_HZ must be a multiple of 1000 that divides 1,000,000.
 * A firmware option: the OS reactor (aio_reactor.h, unless its backend is
 * "none") and the hosted headers (net, proc, thread, trace) refuse it.  Compare times with
 * AIO_TIME_BEFORE and AIO_TIME_DIFF, never with < or -.
 */
typedef int32_t aio_time;

#define AIO_TIME_INF INT32_MAX
#define AIO_TIME_NEG_INF INT32_MIN
/** The longest relative delay (ticks); a longer one is cut to it. */
#define AIO_TIME_MAX_DELAY ((aio_time)0x3FFFFFFF)
#ifndef AIO_TICK_HZ
#define AIO_TICK_HZ 1000
#endif
#if AIO_TICK_HZ < 1000 || AIO_TICK_HZ % 1000 != 0 || 1000000 % AIO_TICK_HZ != 0
#error "AIO_TICK_HZ must be a multiple of 1000 that divides 1000000 (1000, 2000, 5000, 10000 ... 1000000)"
#endif

/** Durations in ticks (truncated towards zero). */
#define AIO_NS(n) ((aio_time)((n) / (1000000000L / AIO_TICK_HZ)))
#define AIO_US(n) ((aio_time)((n) / (1000000L / AIO_TICK_HZ)))
#define AIO_MS(n) ((aio_time)(n) * (aio_time)(AIO_TICK_HZ / 1000))
#define AIO_SEC(n) ((aio_time)(n) * (aio_time)AIO_TICK_HZ)

/** Is time `a` before time `b`?  Wrap-safe; AIO_TIME_INF is after every time, AIO_TIME_NEG_INF before. */
#define AIO_TIME_BEFORE(a, b) aio_time_before((a), (b))
/** `b - a` in ticks, wrap-safe (the two within 2^31 ticks). */
#define AIO_TIME_DIFF(b, a) ((aio_time)(int32_t)((uint32_t)(b) - (uint32_t)(a)))
#define AIO__TIME_ADD(a, d) ((aio_time)((uint32_t)(a) + (uint32_t)(d)))
static inline int aio_time_before(aio_time a, aio_time b)
{
    if (a == b || a == AIO_TIME_INF || b == AIO_TIME_NEG_INF)
        return 0;
    if (b == AIO_TIME_INF || a == AIO_TIME_NEG_INF)
        return 1;
    return (int32_t)((uint32_t)a - (uint32_t)b) < 0;
}
#endif

/** Name of an error code (library codes, and -errno on hosted builds). */
AIO_API const char *aio_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct aio_loop aio_loop;
typedef struct aio_task aio_task;
typedef struct aio_frame aio_frame;
typedef struct aio_scope aio_scope;
typedef struct aio_group aio_group;
typedef struct aio_timer aio_timer;
typedef struct aio_call aio_call;
typedef struct aio_lot aio_lot;
typedef struct aio_waiter aio_waiter;
typedef struct aio_hold aio_hold;
typedef struct aio_instrument aio_instrument;
typedef struct aio_slow_step aio_slow_step;

/**
 * A coroutine: a function over a caller-owned frame.  It returns
 * AIO__SUSPENDED while it is suspended, and its final result (0, a negative
 * code, or a positive value of the caller's choosing) when it is done.
 * Write it with AIO_BEGIN / AIO_END; see the coroutine section below.
 */
typedef int (*aio_fn)(aio_task *task, void *frame);

/**
 * Frame header.  Must be the first member of every coroutine frame struct.
 * Zero-initialise it, or let AIO_AWAIT / aio_spawn set it up.  32 bytes on
 * 64-bit targets.
 */
struct aio_frame {
    /* private: fields not tagged API: are not API */
    uint32_t pc;       /* API: resume point (0 = start), read-only; AIO_PC_LINE(pc) is its line */
    int32_t rc;        /* result when done; wake-up code while parked */
    aio_fn fn;         /* the coroutine; NULL once it has finished */
    aio_frame *parent; /* the frame that awaits this one, or NULL for a task's root */
    union {
        void *ptr;        /* per-wait data for the operation parked here */
        const char *file; /* once finished with an error: file of the return */
    } wait;
#ifdef AIO_DEBUG
    const char *dbg_file; /* where this frame last suspended */
#endif
};

/**
 * Timer node, owned by the caller, ordered in the loop's pairing heap by
 * (deadline, arming order): equal deadlines fire first-come-first-served.
 */
struct aio_timer {
    /* private: no field is API; embedded in tasks, scopes and aio_call */
    aio_timer *child, *next, *prev;
    aio_time deadline;
    uint32_t seq;
    uint8_t kind;  /* AIO__TM_* */
    uint8_t armed; /* 1 while in the heap */
};

/** A low-level timer callback (asyncio's call_later), owned by the caller. */
struct aio_call {
    /* private: no field is API; use aio_call_later, aio_call_at and aio_call_cancel */
    aio_timer tm;
    void (*cb)(aio_loop *loop, void *arg);
    void *arg;
};

/**
 * A FIFO wait queue of parked tasks (trio's parking lot).  Zero-initialise.
 * Every primitive in aio_sync.h and aio_chan.h parks its waiters here, so
 * fairness and cancellation are implemented once.
 */
struct aio_lot {
    /* private: no field is API; use aio_lot_first, aio_lot_len and the park/wake functions */
    aio_task *head, *tail;
    uint32_t len;
};

/**
 * Custom wait: a task parked with aio_park_custom() points at one of these.
 * On cancellation the loop calls abort(task, waiter) at most once per park:
 * return AIO_ABORT_OK after undoing the registration (the task then resumes
 * with AIO_ECANCELED), or AIO_ABORT_FAIL when the operation cannot be undone
 * now (whoever completes it must call aio_reschedule later).
 * Every field is API.
 */
struct aio_waiter {
    int (*abort)(aio_task *task, aio_waiter *w); /* set before aio_park_custom */
};
#define AIO_ABORT_OK 0
#define AIO_ABORT_FAIL 1

/**
 * Something a task owns (a lock), registered in the loop's list while held,
 * so that a task finishing without giving it up cannot strand its waiters:
 * when `owner` finishes, the loop unlinks the hold and calls broken(loop, h).
 * Linked and unlinked by aio_sync.h.
 */
struct aio_hold {
    /* private: no field is API */
    aio_hold *next, *prev;
    aio_task *owner;
    void (*broken)(aio_loop *loop, aio_hold *h);
};

/** Task states (aio_task.state). */
enum {
    AIO__TASK_IDLE = 0, /* never spawned, or finished and unlinked: may be spawned again */
    AIO__TASK_READY,    /* in the run queue */
    AIO__TASK_RUNNING,  /* being stepped by the loop (AIO_DEBUG builds; a release build leaves READY) */
    AIO__TASK_PARKED,   /* suspended until something reschedules it */
    AIO__TASK_DONE,     /* finished; result in aio_task_rc() */
    AIO__TASK_FAILED    /* finished with an error; linked in its group's failed list until the group is waited */
};

/**
 * A task: a frame chain plus scheduling state.  Owned by the caller,
 * zero-initialised before first use, and reusable once it is finished (a
 * failed task becomes reusable when its group has been waited).
 */
struct aio_task {
    /* private: fields not tagged API: are not API */
    union {
        aio_timer tm; /* while sleeping: node in the timer heap */
        struct {
            aio_task *next, *prev; /* run queue (next) or the lot it is parked in */
            void *obj;             /* what it is parked on: aio_lot* or aio_waiter* */
        } q;
    } u;
    aio_frame *top;     /* innermost frame: resumed directly */
    aio_scope *scope;   /* innermost cancel scope */
    aio_group *group;   /* the group this task is a child of */
    aio_task *sib_next, *sib_prev; /* the group's live or failed list */
    uint8_t state;      /* AIO__TASK_* */
    uint8_t flags;      /* AIO__TF_* */
    uint8_t wait_kind;  /* AIO__WAIT_* while parked */
#ifdef AIO_DEBUG
    const char *name;   /* set with aio_task_set_name() */
    const char *spawn_file;
    int spawn_line;
    uint32_t cancel_points;   /* API: awaits that checked for cancellation (read-only) */
    uint32_t schedule_points; /* API: times the task suspended (read-only) */
    aio_time parked_at;       /* the loop's time when it last parked (the dump's "for") */
#endif
};

/** Cancel-scope flags (aio_scope.flags). */
#define AIO__SCOPE_CANCEL_CALLED 0x01u   /* cancel was requested (sticky) */
#define AIO__SCOPE_CANCELLED_CAUGHT 0x02u /* this scope caught the cancellation on exit */
#define AIO__SCOPE_SHIELD 0x04u           /* outer cancellations do not reach inside */
#define AIO__SCOPE_ACTIVE 0x08u           /* entered and not yet exited */
#define AIO__SCOPE_EXITED 0x10u           /* exited; entering again reuses it, keeping a sticky cancel (aio_scope_init resets) */
#define AIO__SCOPE_FAIL 0x20u             /* fail_after/fail_at: a caught cancellation becomes AIO_ETIMEDOUT */
#define AIO__SCOPE_GROUP 0x40u            /* the scope is embedded in an aio_group */

/** Why a scope was cancelled (aio_scope.source). */
enum {
    AIO_CANCEL_NONE = 0,
    AIO_CANCEL_EXPLICIT, /* aio_scope_cancel / aio_group_cancel / aio_task_cancel */
    AIO_CANCEL_DEADLINE, /* the scope's deadline passed */
    AIO_CANCEL_GROUP,    /* a sibling in the group failed */
    AIO_CANCEL_RACE,     /* a FIRST_DONE group's first child finished */
    AIO_CANCEL_DEADLOCK  /* the loop found every task parked with nothing to wake them */
};

/**
 * A cancel scope (trio's CancelScope).  Owned by the caller, usually a frame
 * field; zero-initialise it (or call aio_scope_init) before each use.
 */
struct aio_scope {
    /* private: fields not tagged API: are not API (tm stays first: a fired timer is cast back to its scope) */
    aio_timer tm;       /* deadline node; tm.deadline is the absolute deadline */
    aio_scope *parent;  /* enclosing scope (possibly in another task) */
    aio_task *owner;    /* the task that entered it */
    const char *reason; /* API: reason given to the first cancel, or NULL (read-only) */
    uint8_t flags;      /* AIO__SCOPE_* */
    uint8_t source;     /* API: AIO_CANCEL_* of the first cancel (read-only) */
};

/** Task-group modes. */
enum {
    AIO_GROUP_FAIL_FAST = 0, /* trio nursery / asyncio TaskGroup: the first failure cancels the rest */
    AIO_GROUP_ALL_SETTLED,   /* asyncio.gather(return_exceptions=True): failures cancel nothing */
    AIO_GROUP_FIRST_DONE     /* asyncio.wait(FIRST_COMPLETED) / race: the first child to finish cancels the rest */
};

/** Group states. */
enum { AIO__GROUP_IDLE = 0, AIO__GROUP_OPEN, AIO__GROUP_JOINING, AIO__GROUP_CLOSED };

/**
 * A task group (trio nursery, asyncio TaskGroup, anyio TaskGroup).  Owned by
 * the caller; zero-initialise it.  Its embedded scope is the parent of every
 * child's scopes, so cancelling the group cancels every child.
 */
struct aio_group {
    /* private: no field is API; use aio_group_winner, aio_group_failed_first/_next/_count */
    aio_scope scope;                /* the group's cancel scope (entered by aio_group_enter) */
    aio_loop *loop;                 /* the loop the group lives in */
    aio_task *live_head, *live_tail;
    aio_task *failed_head, *failed_tail;
    aio_task *winner;               /* FIRST_DONE: the child that finished first */
    aio_lot joiners;                /* tasks in AIO_JOIN on one of the children */
    uint32_t live;                  /* children not yet finished */
    uint32_t pending_starts;        /* AIO_START calls waiting for aio_started() */
    uint32_t err_count;             /* failed children, plus the body if it failed */
    int32_t err_first;              /* first error (child or body), 0 if none */
    const char *err_file;           /* file:line of the first error's return */
    uint32_t err_line;
    uint8_t state;                  /* AIO__GROUP_* */
    uint8_t mode;                   /* AIO_GROUP_FAIL_FAST / ALL_SETTLED / FIRST_DONE */
    uint8_t saw_cancel;             /* the body or a child ended with AIO_ECANCELED */
};

/** Loop configuration; pass NULL to aio_loop_init for the defaults.  Every field is API. */
typedef struct aio_config {
    /** Clock in ns; NULL = CLOCK_MONOTONIC on hosted builds (required with AIO_NO_OS unless virtual). */
    aio_time (*clock)(void *ctx);
    void *clock_ctx;
    /**
     * Nonzero: virtual time (trio's autojump MockClock).  Time starts at 0 and
     * jumps straight to the next deadline whenever no task is runnable, so
     * timeout tests run instantly and see exact times.
     */
    int virtual_clock;
    /**
     * Idle hook (no-OS builds, or hosted builds that want their own wait):
     * called with the next deadline (AIO_TIME_INF if none) when no task is
     * runnable.  It may return early (an interrupt); e.g. WFI.  A wake-up
     * (aio_loop_post, an interrupt-safe signal) can land after the loop's
     * own check and before the sleep: mask interrupts, sleep only if
     * aio_loop_wake_pending() is 0, then unmask (cpsid i; check; wfi;
     * cpsie i on Cortex-M; cli; check; sei; sleep on AVR).
     */
    void (*idle)(void *ctx, aio_time deadline);
    void *idle_ctx;
    /** Nonzero: perturb the run order from this seed (tests). */
    uint64_t seed;
    /** Called for a failed AIO_DEBUG assertion; NULL = print and abort (hosted) or spin. */
    void (*panic)(const char *msg, const char *file, int line);
} aio_config;

/* ---- I/O backend seam ------------------------------------------------- */

typedef struct aio_post aio_post;

/**
 * The interface between the loop and an I/O backend (the OS reactor of
 * aio_reactor.h, or a program's own), installed with aio_loop_set_backend.
 * Without one, the loop's idle step is the platform's idle hook
 * (aio_config.idle) and fd waits do not exist; that is the firmware
 * configuration.  Every operation gets the `ctx` given at installation.
 * Every field is API.
 *
 *   wait(ctx, timeout)  one wait for I/O of at most `timeout` ns (0: just
 *                       look; AIO_TIME_INF: until an event or a wake).  It
 *                       reschedules (aio_reschedule) the tasks whose I/O is
 *                       ready and consumes an OS wake-up it sees.  May return
 *                       at once without a system call when nothing is
 *                       watched and timeout is 0.  Returns 0 or more (it
 *                       looked), AIO_EAGAIN (interrupted by a signal before
 *                       it looked) or -errno.  Called on the loop's thread,
 *                       at most once per loop turn.
 *   wake(ctx)           makes a wait in progress, or the next one, return.
 *                       Called by aio_loop_wake from any thread, a signal
 *                       handler or an interrupt, once per wake-up the loop
 *                       has not yet consumed (wakes coalesce before it).
 *                       NULL: the backend has no OS wake-up.
 *   wake_enable(ctx)    arms the OS side of the wake path (aio_loop_wake_enable);
 *                       0 or -errno.  NULL: nothing to arm.
 *   parked(ctx)         tasks now parked on the backend; while nonzero the
 *                       loop consults the backend when idle and never reports
 *                       a deadlock.
 *   close(ctx)          releases the backend's OS resources (aio_loop_close).
 *                       NULL: nothing to release.
 */
typedef struct aio_backend {
    int (*wait)(void *ctx, aio_time timeout);
    void (*wake)(void *ctx);
    int (*wake_enable)(void *ctx);
    uint32_t (*parked)(void *ctx);
    void (*close)(void *ctx);
} aio_backend;

/* The loop side of I/O and wake-ups.  wake_pending and posts are the only
 * fields other threads touch. */
typedef struct aio__io {
    const aio_backend *be;         /* the installed backend, or NULL */
    void *ctx;                     /* its context */
    uint32_t polls;                /* backend waits (or idle-hook waits) so far */
    uint8_t wake_armed;            /* aio_loop_wake_enable was called */
    int wake_pending;              /* set by aio_loop_wake (any thread, ISR); atomic */
    aio_post *posts;               /* aio_loop_post stack (any thread); atomic */
} aio__io;

/** The event loop.  Owned by the caller; initialise with aio_loop_init. */
struct aio_loop {
    /* private: fields not tagged API: are not API */
    aio_task *run_head;            /* FIFO run queue, chained through u.q.next */
    aio_task **run_tailp;          /* where the next runnable task is linked (&run_head when empty) */
    uint32_t nready;               /* tasks in the run queue */
    uint32_t batch;                /* tasks in the batch of the current (or last) turn */
    uint32_t ncancel;              /* active cancelled scopes + cancelled live tasks */
    aio_task *current;             /* the task being stepped, or NULL */
    aio_timer *heap;               /* pairing-heap root */
    uint32_t nheap;                /* timers armed */
    uint32_t seq;                  /* arming counter, for FCFS among equal deadlines */
    aio_time now;                  /* cached: read at most once per loop turn */
    uint64_t clock_turn;           /* the turn now was read in: stale once turns has moved on */
    aio_config cfg;
    uint64_t rng;                  /* perturbation state (cfg.seed) */
    aio_group root;                /* API: the root group: spawn the first task into &loop.root to run the
                                      loop without aio_run (aio_loop_step, aio_loop_poll) */
    uint64_t turns;                /* loop turns so far */
    uint64_t steps;                /* task steps so far */
    aio__io io;                    /* I/O backend and wake path */
    aio_hold *holds;               /* held locks (aio_hold), broken if their owner finishes */
    uint32_t ntasks;               /* live tasks: spawned or started, not yet finished */
    aio_instrument *instruments;   /* registered with aio_instrument_add, oldest first */
    uint8_t watched;               /* instruments registered or slow-step reports on: steps take the watched path */
    uint64_t timers_fired;         /* timers fired so far */
    aio_time timer_lag_max;        /* the latest a timer has fired after its deadline */
    aio_time timer_lag_total;      /* the sum of those delays */
    aio_time batch_time_max;       /* the longest batch of steps (measured while slow-step reports are on) */
    struct {                       /* slow-step reports (aio_loop_set_slow_step) */
        aio_time threshold;        /* 0: off */
        void (*report)(void *ctx, const aio_slow_step *info);
        void *ctx;
    } slow;
#ifdef AIO_DEBUG
    uint32_t dbg_magic;            /* AIO__LOOP_MAGIC once aio_loop_init has run */
#endif
};

/* ------------------------------------------------------------------------ */
/* Resume-point layer                                                        */
/* ------------------------------------------------------------------------ */

/*
 * A resume point is a 32-bit id: (__LINE__ << 8) | (__COUNTER__ & 255), so
 * two awaits on one line get distinct ids, and the line of a suspended frame
 * can be read back for dumps.  Without __COUNTER__, two awaits on one line
 * fail to compile with "duplicate case value".
 *
 * Two implementations, chosen at compile time:
 *  - switch/case (default, any C99 compiler): AIO_BEGIN opens a switch on the
 *    frame's pc; each await stores its id and returns, and its `case id:`
 *    label is where the next call resumes.  Limitation: an await may not sit
 *    inside a switch statement of the coroutine's own (its case label would
 *    belong to the inner switch).  That is caught when the coroutine is
 *    resumed: the default label reports AIO_EMISUSE (an assertion under
 *    AIO_DEBUG).
 *  - labels-as-values (define AIO_USE_LABELS, GCC and clang): each await
 *    stores the offset of its label from a base label; awaits inside a user
 *    switch work.
 * An await outside a coroutine body does not compile (aio__f is undeclared,
 * or a case label is outside a switch).
 */
#define AIO__CAT2(a, b) a##b
#define AIO__CAT(a, b) AIO__CAT2(a, b)
#ifdef __COUNTER__
#define AIO__ID ((((uint32_t)__LINE__) << 8) | (((uint32_t)__COUNTER__) & 255u))
#else
#define AIO__ID (((uint32_t)__LINE__) << 8)
#endif
/** Line number a resume point id was taken on. */
#define AIO_PC_LINE(pc) ((unsigned)((pc) >> 8))

/** Returned by a coroutine while it is suspended (internal). */
#define AIO__SUSPENDED INT_MIN /* int's own range: int is 16 bits on AVR */
/** Returned by a coroutine suspended at a plain yield: the loop requeues the
 * task at once (internal).  Results from INT_MIN to AIO__YIELDED are
 * reserved: they all mean "suspended". */
#define AIO__YIELDED (INT_MIN + 2)
#define AIO__IS_SUSPENDED(r) ((r) <= AIO__YIELDED)
/** Returned by the begin half of a blocking operation when it parked the task. */
#define AIO_PARKED (INT_MIN + 1)

#ifdef AIO_DEBUG
#define AIO__DBG_SUSPEND_SITE() (aio__f->dbg_file = __FILE__)
#else
#define AIO__DBG_SUSPEND_SITE() ((void)0)
#endif

#ifndef AIO_USE_LABELS
#define AIO__LC_BEGIN(f) switch ((f)->pc) { case 0:
#define AIO__LC_END(f) default: return aio__bad_resume(aio__await_needs_AIO_BEGIN_first, (f), AIO__FILE, __LINE__); }
/* Store the id, return SUSPENDED; resume right after. */
#define AIO__LC_YIELD(f, id) AIO__LC_SUSPEND(f, id, AIO__SUSPENDED)
#define AIO__LC_SUSPEND(f, id, ret) \
    do { (f)->pc = (id); AIO__DBG_SUSPEND_SITE(); return (ret); case (id):; } while (0)
/* Store the id and fall into its label (resume point that re-runs the code after it). */
#define AIO__LC_MARK(f, id) (f)->pc = (id); AIO__FALLTHROUGH; case (id):
#else
/* Computed goto and label addresses are GNU extensions: marked as such so
 * -Wpedantic builds stay quiet (tcc has both but no _Pragma, and no
 * -Wpedantic to quiet). */
#ifdef __TINYC__
#define AIO__PEDANTIC_OFF
#define AIO__PEDANTIC_ON
#else
#define AIO__PEDANTIC_OFF _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wpedantic\"")
#define AIO__PEDANTIC_ON _Pragma("GCC diagnostic pop")
#endif
#define AIO__LC_BEGIN(f) \
    AIO__PEDANTIC_OFF \
    if ((f)->pc) { goto *(void *)(__extension__ ((char *)&&aio__lc_base + (int32_t)(f)->pc)); } \
    AIO__PEDANTIC_ON { aio__lc_base:
#define AIO__LC_END(f) return aio__bad_resume(aio__await_needs_AIO_BEGIN_first, (f), AIO__FILE, __LINE__); }
#define AIO__LC_OFF(l) (__extension__ ((uint32_t)(int32_t)((char *)&&l - (char *)&&aio__lc_base)))
#define AIO__LC_SUSPEND2(f, l, ret) \
    do { (f)->pc = AIO__LC_OFF(l); AIO__DBG_SUSPEND_SITE(); return (ret); l:; } while (0)
#define AIO__LC_SUSPEND(f, id, ret) AIO__LC_SUSPEND2(f, AIO__CAT(aio__lc_, id), ret)
#define AIO__LC_YIELD(f, id) AIO__LC_SUSPEND(f, id, AIO__SUSPENDED)
#define AIO__LC_MARK2(f, l) (f)->pc = AIO__LC_OFF(l); l:
#define AIO__LC_MARK(f, id) AIO__LC_MARK2(f, AIO__CAT(aio__lc_, id))
#endif

/* With labels the id must be a plain token for the label name. */
#ifdef AIO_USE_LABELS
#ifdef __COUNTER__
#define AIO__LID __COUNTER__
#else
#define AIO__LID __LINE__
#endif
#define AIO__SUSPEND_ID AIO__LID
#else
#define AIO__SUSPEND_ID AIO__ID
#endif

/* ------------------------------------------------------------------------ */
/* Coroutines                                                                */
/* ------------------------------------------------------------------------ */

/*
 * A coroutine is written like this:
 *
 *     struct worker { aio_frame hdr; int i; };       // aio_frame first
 *
 *     static int worker(aio_task *t, void *frame)
 *     {
 *         struct worker *f = frame;
 *         int rc;                                     // plain local: not kept across awaits
 *         AIO_BEGIN(t, f);
 *         for (f->i = 0; f->i < 3; f->i++) {          // f->i survives suspension
 *             AIO_SLEEP(rc, AIO_MS(100));
 *             if (rc < 0) AIO_RETURN(rc);             // cancelled: propagate
 *         }
 *         AIO_END(0);
 *     }
 *
 * Rules: every variable that must survive an await lives in the frame, never
 * in a `static` or a plain local; an await writes its result into its first
 * argument after it resumes, so a plain local works for that; no await inside
 * a switch statement of the coroutine (switch implementation).
 */

/**
 * Opens the coroutine body.  `t` is the task parameter, `frame` the frame
 * pointer (its first member is an aio_frame).  Declares the hidden locals the
 * other macros use.
 */
#define AIO_BEGIN(t, frame) \
    aio_task *const aio__await_needs_AIO_BEGIN_first AIO__UNUSED = (t); \
    aio_frame *const aio__f = (aio_frame *)(void *)(frame); \
    AIO__LC_BEGIN(aio__f)

/**
 * Closes the coroutine body: finishes it with result `rc`.  Falling off the
 * end is not possible; every path reaches AIO_END or AIO_RETURN.
 * AIO_BEGIN opens a block that AIO_END closes (in both resume-point
 * implementations), so a body without AIO_END does not compile: the
 * compiler reports the unbalanced brace at the end of the file ("expected
 * declaration or statement at end of input" with gcc, "expected '}'" with
 * clang and a note at the function's opening brace).  A plain `return` instead of
 * AIO_RETURN is an assertion under AIO_DEBUG when the loop sees the result.
 */
#define AIO_END(rc) \
    AIO_RETURN(rc); \
    AIO__LC_END(aio__f)

/**
 * Finishes the coroutine now with result `rc` (0, a negative code, or a
 * positive value).  Records file:line for a negative result, which a task
 * group reports for a failed child.
 */
#define AIO_RETURN(rc) return aio__finish(aio__f, (rc), AIO__FILE, __LINE__)

/**
 * Finishes the coroutine now with the negative code `rc` and the reason
 * string `why` (a string that outlives the task, usually a literal), which
 * aio_task_error_reason reads back from the failed task.  The reason is the
 * task's, so a nested coroutine sets it for the task it runs in.  Under
 * AIO_NO_STRINGS the reason is dropped.
 */
#ifndef AIO_NO_STRINGS
#define AIO_FAIL(rc, why) do { aio__set_reason(aio__await_needs_AIO_BEGIN_first, (why)); AIO_RETURN(rc); } while (0)
#else
#define AIO_FAIL(rc, why) do { (void)(why); AIO_RETURN(rc); } while (0)
#endif

/**
 * Awaits a sub-coroutine: `fn` runs over `child` (a frame struct whose first
 * member is an aio_frame) until it finishes; its result is stored in `rc`.
 * Suspends while the child is suspended; a child that never suspends costs
 * one direct call.  The task resumes the innermost frame directly.
 */
#define AIO_AWAIT(rc, fn, child) AIO__AWAIT(AIO__SUSPEND_ID, rc, fn, child)
#define AIO__AWAIT(id, rc, fn, child) \
    do { \
        int aio__r; \
        aio__call_setup(aio__f, (aio_frame *)(void *)(child), (fn)); \
        AIO__LC_MARK(aio__f, id) \
        aio__r = aio__call_step(aio__await_needs_AIO_BEGIN_first, aio__f, (aio_frame *)(void *)(child)); \
        if (AIO__IS_SUSPENDED(aio__r)) return aio__r; \
        (rc) = aio__r; \
    } while (0)

/**
 * Suspends the task after the begin half of an operation returned AIO_PARKED
 * (the task is parked or rescheduled), and stores the wake-up code in `rc`
 * when it resumes.  Building block for blocking operations in other headers:
 *
 *     rc = my_op_begin(aio__await_needs_AIO_BEGIN_first, obj);                  // check cancel, try, park
 *     if (rc == AIO_PARKED) AIO_WAIT_PARKED(rc);
 */
#define AIO_WAIT_PARKED(rc) AIO__WAIT_PARKED(AIO__SUSPEND_ID, rc)
#define AIO__WAIT_PARKED(id, rc) \
    do { AIO__LC_YIELD(aio__f, id); (rc) = aio__resumed_inline(aio__await_needs_AIO_BEGIN_first); } while (0)

/**
 * Runs `begin_expr` (which must check cancellation, try the operation, and
 * park or reschedule the task returning AIO_PARKED otherwise), then suspends
 * if it parked; `rc` gets the final code.
 */
#define AIO_OP(rc, begin_expr) \
    do { if (((rc) = (begin_expr)) == AIO_PARKED) AIO_WAIT_PARKED(rc); } while (0)

/**
 * Schedule point that is not a cancel point (trio's
 * cancel_shielded_checkpoint): the task goes to the back of the run queue.
 */
#define AIO_YIELD() AIO__YIELD(AIO__SUSPEND_ID)
#define AIO__YIELD(id) do { aio__yield_now(aio__await_needs_AIO_BEGIN_first); AIO__LC_SUSPEND(aio__f, id, AIO__YIELDED); } while (0)

/**
 * Checkpoint: a cancel point and a schedule point (trio's checkpoint, Python's
 * sleep(0)).  rc = 0, or AIO_ECANCELED if the task is cancelled before or
 * after the yield.
 */
#define AIO_CHECKPOINT(rc) AIO_OP(rc, aio__checkpoint_begin(aio__await_needs_AIO_BEGIN_first))

/**
 * Sleeps for `duration` ns.  rc = 0, AIO_ECANCELED, or AIO_EINVAL for a
 * negative duration (no suspension).  A zero duration is a checkpoint.
 */
#define AIO_SLEEP(rc, duration) AIO_OP(rc, aio__sleep_begin(aio__await_needs_AIO_BEGIN_first, (duration), 0))

/** Sleeps until the absolute time `when`; a time in the past is a checkpoint. */
#define AIO_SLEEP_UNTIL(rc, when) AIO_OP(rc, aio__sleep_begin(aio__await_needs_AIO_BEGIN_first, (when), 1))

/** Sleeps until cancelled; rc is always AIO_ECANCELED. */
#define AIO_SLEEP_FOREVER(rc) AIO_OP(rc, aio__sleep_begin(aio__await_needs_AIO_BEGIN_first, AIO_TIME_INF, 1))

/**
 * Waits for task `child` (a child of some group) to finish; rc = its result.
 * A cancel point: cancellation is checked first (AIO_ECANCELED, nothing
 * happened).  If the child has already finished, the join then completes
 * with a schedule point that can no longer be cancelled.  rc = AIO_EINVAL
 * for a task never spawned.
 */
#define AIO_JOIN(rc, child) AIO_OP(rc, aio__join_begin(aio__await_needs_AIO_BEGIN_first, (child)))

/**
 * Waits for every child of `g`, then leaves the group (the async `with` exit).
 * `body_rc` is the result of the group body: an error other than
 * AIO_ECANCELED fails the group like a failed child.  rc becomes the group's
 * result: the first error (a child's or the body's) if any; else
 * AIO_ECANCELED if a cancellation from outside the group must propagate;
 * else 0 (also when the group's own scope caught a cancellation).  A
 * schedule point, never a cancel point: the wait cannot be cancelled.
 * AIO_EINVAL (an assertion under AIO_DEBUG) if the group is not open in this
 * task or scopes entered in its body were not exited.
 */
#define AIO_GROUP_WAIT(rc, g, body_rc) AIO__GROUP_WAIT(AIO__SUSPEND_ID, rc, g, body_rc)
#define AIO__GROUP_WAIT(id, rc, g, body_rc) \
    do { \
        (rc) = aio__group_wait_begin(aio__await_needs_AIO_BEGIN_first, (g), (body_rc)); \
        while ((rc) == AIO_PARKED) { \
            AIO__LC_YIELD(aio__f, id); \
            (rc) = aio__group_wait_next(aio__await_needs_AIO_BEGIN_first, (g)); \
        } \
    } while (0)

/**
 * trio's nursery.start: spawns `fn` over `frame` as task `child` of group
 * `g`, and waits until the child calls aio_started(child, value) (rc = 0,
 * *value_out = value when value_out is not NULL) or finishes first (rc = its
 * error, or AIO_ENOTSTARTED if it returned without starting).  Until it
 * starts, the child runs under the caller's cancel scopes; aio_started moves
 * it under the group.  rc = AIO_ECLOSED for a closed group, AIO_EBUSY for a
 * task still in use, AIO_ECANCELED if the caller is cancelled first (the child
 * is cancelled with it, and start returns once the child has finished).
 */
#define AIO_START(rc, g, child, fn, frame, value_out) \
    AIO_OP(rc, aio__start_begin(aio__await_needs_AIO_BEGIN_first, (g), (child), (fn), (frame), (value_out)))

/* ------------------------------------------------------------------------ */
/* Loop                                                                      */
/* ------------------------------------------------------------------------ */

/* AIO_DEBUG changes the layout of tasks and frames, so every file of a
 * program must agree on it.  The functions every coroutine and every loop
 * set-up call are named after the setting, so a file built the other way
 * than the implementation fails to link, with an undefined reference to
 * aio__..._with_AIO_DEBUG (the file has AIO_DEBUG, the implementation has
 * not) or aio__..._without_AIO_DEBUG (the other way round), instead of
 * corrupting memory at run time.  An AIO_STATIC program is one file. */
#ifndef AIO_STATIC
#ifdef AIO_DEBUG
#define aio_loop_init aio__loop_init_with_AIO_DEBUG
#define aio__finish aio__finish_with_AIO_DEBUG
#else
#define aio_loop_init aio__loop_init_without_AIO_DEBUG
#define aio__finish aio__finish_without_AIO_DEBUG
#endif
#endif

/** Initialises `loop` (cfg may be NULL).  Returns 0, or AIO_EINVAL (no clock on a no-OS build). */
AIO_API int aio_loop_init(aio_loop *loop, const aio_config *cfg);

/**
 * asyncio.run / trio.run: spawns `fn` over `frame` as the main task `main`
 * and runs the loop until it has finished, with every task it started.
 * Returns the main task's result, or AIO_EDEADLK if every task is parked
 * with nothing that could wake one (the loop should then be discarded), or
 * AIO_EBUSY if `main` is still in use, or AIO_EINVAL for NULL arguments or a
 * call from inside a task (an assertion under AIO_DEBUG).
 */
AIO_API int aio_run(aio_loop *loop, aio_task *main, aio_fn fn, void *frame);

/**
 * One loop turn, for hosting aio inside another loop: runs callbacks posted
 * from other threads or interrupts (aio_loop_post), fires due timers, runs
 * the tasks that were runnable at the start of the turn, and returns.  Never
 * waits and never polls file descriptors (aio_loop_poll does).  Returns the
 * number of tasks stepped.  Not from inside a task (an assertion under
 * AIO_DEBUG).
 */
AIO_API uint32_t aio_loop_step(aio_loop *loop);

/**
 * When the loop next needs a turn: loop->now if tasks are runnable, else the
 * earliest timer deadline, else AIO_TIME_INF.
 */
AIO_API aio_time aio_loop_next_deadline(const aio_loop *loop);

/**
 * The loop's time.  The clock is read at most once per loop turn: at the
 * start of a turn when a timer is armed, otherwise on the first call that
 * needs the time (this one, or arming a relative deadline) in that turn.
 */
AIO_API aio_time aio_now(aio_loop *loop);

/** Re-reads the clock into the cache and returns it. */
AIO_API aio_time aio_loop_update_time(aio_loop *loop);

/**
 * Advances a virtual clock by `delta` ns (trio's MockClock.jump).  Timers
 * that become due fire at the next turn.  AIO_EINVAL on a real clock or for a
 * negative delta.
 */
AIO_API int aio_clock_advance(aio_loop *loop, aio_time delta);

/** The loop a task runs in. */
AIO_API aio_loop *aio_task_loop(const aio_task *t);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */
/* ------------------------------------------------------------------------ */

/**
 * Spawns `fn` over `frame` as task `child` in group `g` (trio's start_soon,
 * asyncio's create_task).  Enqueues; never runs the child inline.  The
 * child's scopes hang under the group's scope.  Returns 0, AIO_ECLOSED if the
 * group is not open (spawning while the group is being waited is allowed),
 * AIO_EBUSY if `child` is still in use, AIO_EINVAL for NULL arguments.
 */
#define aio_spawn(g, child, fn, frame) aio_spawn_at((g), (child), (fn), (frame), AIO__FILE, __LINE__)
AIO_API int aio_spawn_at(aio_group *g, aio_task *child, aio_fn fn, void *frame, const char *file, int line);

/**
 * Cancels one task by itself (level-triggered, like a scope wrapped around
 * the whole task): its awaits fail with AIO_ECANCELED until it finishes.  A
 * task that ends with AIO_ECANCELED is not a failure of its group.  Not a
 * checkpoint.  Returns 0, or AIO_EINVAL if the task is not live (never
 * spawned, or finished).
 */
AIO_API int aio_task_cancel(aio_task *t);

/** The result of a finished task (its root frame's result); 0 if not finished. */
AIO_API int aio_task_rc(const aio_task *t);

/** Nonzero once the task has finished. */
AIO_API int aio_task_done(const aio_task *t);

/** Names a task for dumps (kept only with AIO_DEBUG). */
AIO_API void aio_task_set_name(aio_task *t, const char *name);

/**
 * Cancel point only, no suspension (trio's checkpoint_if_cancelled without
 * the yield): AIO_ECANCELED if the task is effectively cancelled, else 0.
 */
AIO_API int aio_check_cancel(aio_task *t);

/**
 * Nonzero if `t` is effectively cancelled right now (a predicate: unlike
 * aio_check_cancel it is not counted as a cancel point).
 */
AIO_API int aio_task_cancelled(const aio_task *t);

/**
 * trio's task_status.started(value): the child of AIO_START signals that it
 * is ready.  Moves the task under its group's cancel scope and wakes the
 * starter with `value`.  Returns 0; AIO_EINVAL if the task was not started
 * with AIO_START or already called it.  If the starter has been cancelled
 * meanwhile, the call quietly does nothing and the child keeps running under
 * the starter, which then gets AIO_ECANCELED when the child finishes.
 */
AIO_API int aio_started(aio_task *t, void *value);

/* ------------------------------------------------------------------------ */
/* Cancel scopes                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Scopes nest inside a task and across tasks (a group's children hang under
 * the group's scope).  Cancellation is level-triggered: once a scope is
 * cancelled, every await inside it fails with AIO_ECANCELED until the scope
 * is exited.  A shielded scope hides outer cancellations (its own deadline
 * and inner scopes still work).  Enter and exit are plain calls, not awaits;
 * scopes must be exited in the reverse order of entry.
 *
 *     aio_move_on_after(t, &f->sc, AIO_MS(500));
 *     AIO_SLEEP(rc, AIO_SEC(10));                 // rc = AIO_ECANCELED at 500 ms
 *     rc = aio_scope_exit(t, &f->sc, rc);         // 0: the scope caught it
 */

/** Resets a scope for (re)use: no deadline, not shielded, not cancelled. */
AIO_API void aio_scope_init(aio_scope *s);

/**
 * Enters scope `s` in task `t` with absolute `deadline` (AIO_TIME_INF for
 * none).  A deadline at or before now cancels the scope at once.  The scope
 * may have been cancelled or shielded before entry.  Returns 0, AIO_EBUSY if
 * the scope is active, AIO_EINVAL for NULL arguments.
 */
AIO_API int aio_scope_enter(aio_task *t, aio_scope *s, aio_time deadline);

/** trio move_on_after / anyio move_on_after: enter `s` with a deadline `duration` from now. AIO_EINVAL if negative. */
AIO_API int aio_move_on_after(aio_task *t, aio_scope *s, aio_time duration);
/** trio move_on_at: enter `s` with absolute deadline `when`. */
AIO_API int aio_move_on_at(aio_task *t, aio_scope *s, aio_time when);
/** trio fail_after: as move_on_after, but a caught cancellation exits with AIO_ETIMEDOUT. */
AIO_API int aio_fail_after(aio_task *t, aio_scope *s, aio_time duration);
/** trio fail_at: as move_on_at, but a caught cancellation exits with AIO_ETIMEDOUT. */
AIO_API int aio_fail_at(aio_task *t, aio_scope *s, aio_time when);
/*
 * These four and aio_cleanup_enter reset `s` before entering it, so `s`
 * need not be initialised; but it must not be active: entering a scope again
 * before aio_scope_exit is misuse (an assertion under AIO_DEBUG, then
 * AIO_EBUSY; release builds do not check).
 */

/**
 * Safe async cleanup: enters `s` shielded from every outer cancellation, with
 * a grace deadline `grace` ns from now (AIO_TIME_INF: none).  Awaits inside
 * (closing a connection, flushing) run even when the task is cancelled, and
 * are cut off by the grace deadline only.
 */
AIO_API int aio_cleanup_enter(aio_task *t, aio_scope *s, aio_time grace);

/**
 * Leaves scope `s`.  `rc` is the result of the scope's body; the return value
 * is what the code after the scope should see: if rc is AIO_ECANCELED and
 * this scope is the outermost cancelled scope visible to it, the scope
 * catches it (cancelled_caught) and returns 0, or AIO_ETIMEDOUT for a
 * fail_after/fail_at scope; otherwise rc is returned unchanged.  Not a
 * checkpoint.  AIO_EINVAL if the scope is not the task's innermost active
 * scope (left twice, or out of order; an assertion under AIO_DEBUG).
 */
AIO_API int aio_scope_exit(aio_task *t, aio_scope *s, int rc);

/**
 * Cancels scope `s` (idempotent; the first reason is kept; not a checkpoint).
 * Parked tasks inside it are woken with AIO_ECANCELED.  Works before entry,
 * after which the first checkpoint inside fails.
 */
AIO_API void aio_scope_cancel(aio_scope *s, const char *reason);

/**
 * Moves the deadline of active scope `s`; takes effect at once (a deadline
 * at or before now cancels it).  On a scope that is not active it only
 * stores the value, which the deadline argument of aio_scope_enter replaces.
 */
AIO_API void aio_scope_set_deadline(aio_scope *s, aio_time deadline);

/** Turns the shield of `s` on or off; takes effect at once. */
AIO_API void aio_scope_set_shield(aio_scope *s, int on);

/** Nonzero once cancel was requested on `s` (explicitly or by its deadline). */
#define aio_scope_cancel_called(s) (((s)->flags & AIO__SCOPE_CANCEL_CALLED) != 0)
/** Nonzero if `s` caught a cancellation when it was exited. */
#define aio_scope_cancelled_caught(s) (((s)->flags & AIO__SCOPE_CANCELLED_CAUGHT) != 0)

/**
 * trio current_effective_deadline: AIO_TIME_NEG_INF if `t` is effectively
 * cancelled; else the minimum deadline over its scopes up to the first
 * shield; AIO_TIME_INF if none.
 */
AIO_API aio_time aio_effective_deadline(const aio_task *t);

/* ------------------------------------------------------------------------ */
/* Task groups                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Opens group `g` in task `t` (entry of `async with TaskGroup()`): enters its
 * scope, so the body and every child share it.  `mode` is one of
 * AIO_GROUP_FAIL_FAST, AIO_GROUP_ALL_SETTLED, AIO_GROUP_FIRST_DONE.  Not a
 * checkpoint.  Returns 0, AIO_EBUSY if the group is open, AIO_EINVAL.
 * Leave it with AIO_GROUP_WAIT.
 */
AIO_API int aio_group_enter(aio_task *t, aio_group *g, int mode);

/** Cancels every child and the body (asyncio TaskGroup.cancel / nursery.cancel_scope.cancel). */
AIO_API void aio_group_cancel(aio_group *g, const char *reason);

/** FIRST_DONE groups: the child that finished first (anyio race winner), or NULL. */
#define aio_group_winner(g) ((g)->winner)

/** First failed child (in order of failure), or NULL; valid until the group is reused. */
AIO_API aio_task *aio_group_failed_first(const aio_group *g);
/** Next failed child after `t`, or NULL. */
AIO_API aio_task *aio_group_failed_next(const aio_task *t);
/**
 * Number of failed children linked in `g` (the body's own error is not
 * one), valid until the group is reused.  O(failures): it walks the list.
 */
AIO_API uint32_t aio_group_failed_count(const aio_group *g);
/**
 * The clauses of a for statement over the failed children of `g`, in order
 * of failure, declaring `aio_task *t`: `for (AIO_GROUP_EACH_FAILED(g, t))`.
 * No await in the loop body (`t` is a plain local).
 */
#define AIO_GROUP_EACH_FAILED(g, t) aio_task *t = aio_group_failed_first(g); t; t = aio_group_failed_next(t)
/**
 * The reason string a finished task gave with AIO_FAIL, or NULL (it failed
 * with AIO_RETURN, did not fail, is not finished, or AIO_NO_STRINGS).
 */
AIO_API const char *aio_task_error_reason(const aio_task *t);
/**
 * The file:line of the AIO_RETURN/AIO_END that ended a failed task's root
 * coroutine (NULL and line 0 if the task did not fail).  When the root only
 * passed on a nested coroutine's error, this is the root's return; the
 * nested frame keeps its own site, see aio_frame_error_site.
 */
AIO_API const char *aio_task_error_site(const aio_task *t, unsigned *line);
/** The file:line where a finished frame returned a negative result (NULL, 0 otherwise). */
AIO_API const char *aio_frame_error_site(const aio_frame *f, unsigned *line);

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * asyncio call_later / call_at: runs cb(loop, arg) from the loop (not in a
 * task) once `delay` ns have passed / at absolute time `when`.  Re-arming an
 * armed call moves it.  Returns 0 or AIO_EINVAL (negative delay).
 */
AIO_API int aio_call_later(aio_loop *loop, aio_call *c, aio_time delay, void (*cb)(aio_loop *, void *), void *arg);
AIO_API int aio_call_at(aio_loop *loop, aio_call *c, aio_time when, void (*cb)(aio_loop *, void *), void *arg);
/** Disarms a call; returns 1 if it was armed, 0 if it had fired or was never armed. */
AIO_API int aio_call_cancel(aio_loop *loop, aio_call *c);

/* ------------------------------------------------------------------------ */
/* Wait queues and the park/wake protocol                                    */
/* ------------------------------------------------------------------------ */

/*
 * Every blocking operation follows one protocol, in its begin function:
 *   1. rc = aio_check_cancel(t); if cancelled, return it (nothing happened);
 *   2. try the non-blocking path; on success either return the result (an
 *      operation documented as not yielding) or call aio_reschedule(t, rc)
 *      and return AIO_PARKED (a schedule point that cannot be cancelled);
 *   3. otherwise park: aio_park_lot(t, lot) or aio_park_custom(t, w), and
 *      return AIO_PARKED.
 * The waker removes the task from the lot (aio_lot_pop) and completes the
 * operation in the same step, then calls aio_reschedule(t, rc); the abort hook
 * only succeeds while the task is still linked.  So "cancelled" always means
 * "did not happen".
 */

/** Parks `t` at the tail of `lot`; on cancellation it is unlinked and resumes with AIO_ECANCELED. */
AIO_API void aio_park_lot(aio_task *t, aio_lot *lot);
/** Parks `t` on a custom wait; see aio_waiter. */
AIO_API void aio_park_custom(aio_task *t, aio_waiter *w);
/** Parks `t` with no abort: only aio_reschedule wakes it (uncancellable waits). */
AIO_API void aio_park_noabort(aio_task *t);
/** Makes `t` runnable; it resumes with `rc` (stored as its wake-up code). `t` must not be linked anywhere. */
AIO_API void aio_reschedule(aio_task *t, int rc);
/** Per-wait data pointer of a parked (or about to park) task, shared by parker, waker and abort hook. */
#define aio_task_wait_ptr(t) ((t)->top->wait.ptr)

/** Removes and returns the longest-waiting task, or NULL. */
AIO_API aio_task *aio_lot_pop(aio_lot *lot);
/** Removes `t` from `lot` (it must be parked there). */
AIO_API void aio_lot_remove(aio_lot *lot, aio_task *t);
/** Wakes up to `n` tasks in FIFO order with `rc`; returns how many. */
AIO_API uint32_t aio_lot_wake(aio_lot *lot, uint32_t n, int rc);
/** Moves up to `n` waiters from `from` to the tail of `to` (trio's repark); returns how many. */
AIO_API uint32_t aio_lot_repark(aio_lot *from, aio_lot *to, uint32_t n);
/** The longest-waiting task, or NULL. */
#define aio_lot_first(lot) ((lot)->head)
/** Number of parked tasks. */
#define aio_lot_len(lot) ((lot)->len)

/* ------------------------------------------------------------------------ */
/* I/O backend seam and wake path                                            */
/* ------------------------------------------------------------------------ */

/**
 * Installs `be` (with its context `ctx`) as the loop's I/O backend; NULL
 * removes it.  The OS reactor does this for you (aio_reactor_init in
 * aio_reactor.h).  Call it on the loop's thread, after aio_loop_init and
 * before anything waits on the backend or another thread wakes the loop.
 * Returns 0, or AIO_EINVAL (NULL loop, or a backend without wait or parked).
 */
AIO_API int aio_loop_set_backend(aio_loop *loop, const aio_backend *be, void *ctx);

/**
 * Embedding: one turn for a host loop (a GUI, game or firmware super-loop).
 * Waits for I/O and cross-thread wakes for at most `timeout` ns (0: just
 * look; AIO_TIME_INF: until something happens), cut short by the next timer
 * deadline and not at all while tasks are runnable, wakes the tasks whose fds
 * are ready, runs posted callbacks, then runs one aio_loop_step.  Without a
 * backend the wait is the idle hook (or a sleep).  The wait is real time
 * even on a virtual clock (which never moves by itself here).
 * Returns the number of tasks stepped, AIO_EINVAL for a negative timeout or
 * a call from inside a task (an assertion under AIO_DEBUG), or AIO_EDEADLK
 * when asked to wait forever with nothing that could ever wake a task.
 */
AIO_API int aio_loop_poll(aio_loop *loop, aio_time timeout);

/**
 * Arms the cross-thread / interrupt wake path of `loop` (with the OS
 * reactor: an eventfd on Linux, a pipe on other POSIX systems; without a
 * backend: a flag the idle step checks).  Call it
 * on the loop's thread before another thread or an ISR calls aio_loop_wake
 * or aio_loop_post.  While armed, a loop with every task parked waits for a
 * wake instead of reporting AIO_EDEADLK.  Returns 0 or -errno.
 */
AIO_API int aio_loop_wake_enable(aio_loop *loop);

/**
 * Wakes `loop` from its backend wait (or its idle hook) at the start of the
 * next turn.  Safe from any thread, from a signal handler and from an ISR;
 * lock-free; wakes coalesce (many calls before the loop notices write the
 * eventfd or pipe once).  The loop must have called aio_loop_wake_enable.
 * asyncio: loop.call_soon_threadsafe's wake-up; trio: TrioToken.
 */
AIO_API void aio_loop_wake(aio_loop *loop);

/**
 * A callback posted to a loop from another thread or an interrupt; owned by
 * the poster.  Zero-initialise it before its first post (static nodes are):
 * `queued` is nonzero from a successful aio_loop_post until the loop takes
 * the node to run its callback.
 */
struct aio_post {
    /* private: no field is API; use aio_loop_post and aio_post_pending */
    aio_post *next;
    void (*cb)(aio_loop *loop, void *arg);
    void *arg;
    int queued; /* set by aio_loop_post, cleared by the loop just before cb runs; atomic */
};

/**
 * asyncio loop.call_soon_threadsafe / trio TrioToken.run_sync_soon: runs
 * cb(loop, arg) on the loop's thread, from its next turn's poll, in the order
 * posts were made.  Safe from any thread (multi-producer, lock-free push),
 * from a signal handler and from an interrupt handler.  The loop must have
 * called aio_loop_wake_enable.
 *
 * Posting a node that is still queued is harmless: the call is merged into
 * the pending post (its callback runs once, with the cb and arg of the post
 * that queued it), changes nothing and returns AIO_EBUSY.  The node is free
 * again as soon as the loop takes it, just before cb runs, so cb (or an
 * interrupt while cb runs) may post it again; aio_post_pending tells whether
 * it is still queued.  So a bouncing button or two interrupts in one loop
 * turn cost one callback, never a corrupted list.
 *
 * Returns 0 (queued), AIO_EBUSY (already queued: merged), or AIO_EINVAL
 * (NULL argument, wake path not armed, or no atomic operations on this
 * compiler).
 */
AIO_API int aio_loop_post(aio_loop *loop, aio_post *node, void (*cb)(aio_loop *loop, void *arg), void *arg);

/**
 * Nonzero while `node` is queued: posted, and its callback not yet started.
 * Safe from any thread and from an interrupt handler (one atomic load).
 */
AIO_API int aio_post_pending(aio_post *node);

/**
 * Nonzero when a wake (aio_loop_wake, aio_loop_post, or an interrupt-safe
 * signal of aio_sync.h) has arrived that the loop has not yet consumed.  For
 * an idle hook that must not sleep through a wake-up: mask interrupts, call
 * this, and sleep only if it returns 0, unmasking in the same instruction
 * sequence that sleeps (Cortex-M: cpsid i; check; wfi; cpsie i.  AVR: cli;
 * check; sei; sleep, since the instruction after sei runs before any
 * interrupt).  A wake that lands after the check leaves its interrupt
 * pending, which ends the sleep at once.  Safe with interrupts masked, from
 * any thread and from an interrupt handler (one atomic load, or a nested
 * save/restore of the interrupt mask on parts without atomics).
 */
AIO_API int aio_loop_wake_pending(aio_loop *loop);

/**
 * Closes the loop's OS descriptors through the backend's close (the OS
 * reactor: its epoll or kqueue set and wake path) and disarms the wake path.
 * Only closes: with the OS reactor it is one way to drop a loop inherited
 * across fork() (aio_reactor_fork keeps it).  The reactor waits for a thread
 * that is inside aio_loop_wake (or aio_loop_post) at that moment, so the
 * wake descriptor is never closed under its write; threads must not wake or
 * post after the call returns.  Returns 0, or AIO_EBUSY if tasks were still
 * parked on the backend (they stay parked; do not run the loop again).
 */
AIO_API int aio_loop_close(aio_loop *loop);

/* ------------------------------------------------------------------------ */
/* Debugging                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Prints every task of the loop as a tree (group -> task -> frame chain),
 * with the line each frame is suspended at, what the task waits on (in
 * AIO_DEBUG builds also for how long, from the loop's time when it parked),
 * and its cancel scopes.  `out` receives the text piece by piece; nothing
 * is allocated, so it may run in a live program on demand.
 */
AIO_API void aio_dump(const aio_loop *loop, void (*out)(void *ctx, const char *text), void *ctx);
#if AIO__HOSTED
/** aio_dump to stderr. */
AIO_API void aio_dump_stderr(const aio_loop *loop);
#endif

/**
 * What a loop holds right now, for leak checks (a long-running program
 * compares a snapshot taken at the end with one taken at the start).
 * Every field is API.
 */
typedef struct aio_stats {
    uint32_t tasks;    /* live tasks: spawned (or started with AIO_START, or run by aio_run) and not finished */
    uint32_t ready;    /* tasks in the run queue */
    uint32_t timers;   /* armed timers: sleeps, scope deadlines, aio_call callbacks */
    uint32_t fd_waits; /* tasks parked on a descriptor */
    uint32_t holds;    /* locks held (each aio_lock a task holds) */
    uint32_t cancels;  /* cancelled scopes still active, plus cancelled live tasks */
    uint64_t turns;    /* loop turns so far */
    uint64_t steps;    /* task steps so far */
    uint64_t timers_fired;   /* timers fired so far (sleeps, scope deadlines, aio_call callbacks) */
    aio_time timer_lag_max;  /* loop lag: the most a timer has fired after its deadline, ns */
    aio_time timer_lag_total; /* the sum of those delays (divide by timers_fired for the mean) */
    aio_time batch_time_max;  /* run-queue lag: the longest one turn's batch of steps ran, ns; a task made
                                 runnable during a batch waits that long at most before its own step.
                                 Measured only while slow-step reports are on (aio_loop_set_slow_step;
                                 the default in AIO_DEBUG builds), else 0 */
} aio_stats;

/**
 * Fills `*st` from `loop`.  Never suspends; O(1) plus one step per held
 * lock.  Callable from a task of the loop or from outside it.
 */
AIO_API void aio_loop_stats(const aio_loop *loop, aio_stats *st);

/* ------------------------------------------------------------------------ */
/* Instruments and slow-step reports                                         */
/* ------------------------------------------------------------------------ */

/**
 * An instrument (trio's Instrument): callbacks the loop makes as it works,
 * to build profilers, tracers and watchdogs on.  Owned by the caller:
 * zero-initialise it, set the hooks wanted (a NULL hook is skipped) and
 * register it with aio_instrument_add; several may be registered, and each
 * event calls them oldest first.  With none registered the loop pays one
 * test per turn, spawn, finish and wait, and none per task step.
 *
 * Hooks run on the loop's thread, inside the loop: they must not suspend,
 * run the loop (aio_loop_step, aio_loop_poll, aio_run) or reuse the task
 * they are given; they may read it (aio_task_resume_site) and the loop
 * (aio_now, aio_loop_stats, aio_dump), and add or remove instruments,
 * themselves included: the change applies from the next event.
 */
struct aio_instrument {
    void *ctx;            /* passed to every hook */
    /** `t` was queued to run for the first time (aio_spawn, AIO_START, aio_run). */
    void (*task_spawned)(void *ctx, aio_loop *loop, aio_task *t);
    /** The loop is about to resume `t`. */
    void (*before_step)(void *ctx, aio_loop *loop, aio_task *t);
    /** `t` has suspended (parked, rescheduled or yielded) or finished; after task_exited when it finished. */
    void (*after_step)(void *ctx, aio_loop *loop, aio_task *t);
    /** `t` has finished with result `rc` (its group has been told). */
    void (*task_exited)(void *ctx, aio_loop *loop, aio_task *t, int rc);
    /** aio_run or aio_loop_poll is about to wait (idle hook, backend, sleep or virtual jump) until `deadline` at
     *  most: the loop's time when tasks are runnable (the wait then only looks, and returns at once). */
    void (*before_wait)(void *ctx, aio_loop *loop, aio_time deadline);
    /** The wait has returned. */
    void (*after_wait)(void *ctx, aio_loop *loop);
    /* private: the fields below are not API */
    aio_instrument *next; /* the loop's list */
};

/**
 * Registers `ins` with `loop`.  Returns 0, AIO_EINVAL (NULL; always in
 * AIO_NO_INSTRUMENTS builds), or AIO_EBUSY (already registered with this loop).
 */
AIO_API int aio_instrument_add(aio_loop *loop, aio_instrument *ins);
/** Unregisters `ins`.  Returns 0, or AIO_EINVAL (not registered with `loop`). */
AIO_API int aio_instrument_remove(aio_loop *loop, aio_instrument *ins);

/**
 * Where a task resumes next, or where it last suspended: the innermost
 * frame's resume line (0 in labels-as-values builds, which keep no line)
 * and, in AIO_DEBUG builds, its file (NULL otherwise, or for a task that
 * has not run yet).  Returns the file; *line gets the line.
 */
AIO_API const char *aio_task_resume_site(const aio_task *t, unsigned *line);

/** What a slow-step report says (aio_loop_set_slow_step).  Every field is API. */
struct aio_slow_step {
    aio_task *task;          /* the task that ran the step */
    const char *name;        /* aio_task_set_name's name (AIO_DEBUG builds), or NULL */
    aio_time duration;       /* how long the step ran, ns, on the loop's clock */
    const char *resume_file; /* where it resumed (AIO_DEBUG builds; else NULL) */
    unsigned resume_line;
    const char *suspend_file; /* where it suspended again, or where it returned */
    unsigned suspend_line;
};

/**
 * asyncio's slow-callback warning: after every task step that ran for more
 * than `threshold` ns on the loop's clock (the real or injected clock; a
 * virtual clock does not move inside a step), calls report(ctx, info) on the
 * loop's thread.  report NULL prints one line to stderr on hosted builds
 * (nothing without an OS).  threshold 0 turns it off.  On by default at
 * 100 ms in AIO_DEBUG builds, off otherwise.  While on, the loop reads the
 * clock twice per step (the steps take the instrumented path).  Returns 0,
 * or AIO_EINVAL (NULL loop, negative threshold; in AIO_NO_INSTRUMENTS
 * builds, any threshold but 0).
 */
AIO_API int aio_loop_set_slow_step(aio_loop *loop, aio_time threshold,
                                   void (*report)(void *ctx, const aio_slow_step *info), void *ctx);

/* ------------------------------------------------------------------------ */
/* Internals used by the macros                                              */
/* ------------------------------------------------------------------------ */

enum { AIO__TM_SLEEP = 1, AIO__TM_SCOPE, AIO__TM_CALL };
enum { AIO__WAIT_NONE = 0, AIO__WAIT_LOT, AIO__WAIT_CUSTOM, AIO__WAIT_SLEEP, AIO__WAIT_NOABORT,
       AIO__WAIT_GROUP, AIO__WAIT_START };
#define AIO__TF_CANCELLED 0x01u /* aio_task_cancel was called */
#define AIO__TF_PRESTART 0x02u  /* AIO_START child that has not called aio_started */
#define AIO__TF_STARTED 0x04u   /* aio_started was called while the starter was cancelled */
#define AIO__TF_ABORTED 0x08u   /* the abort hook was tried during this park */
#define AIO__TF_RECHECK 0x10u   /* resumed from a checkpoint: check cancellation again */
#define AIO__TF_CANCEL_COUNTED 0x20u
#define AIO__TF_REASON 0x40u   /* u.q.obj holds the reason AIO_FAIL gave (until the task parks again) */

/* AIO_FAIL's reason (internal): kept in the task's wait links, which a
 * running or finished task does not use, so a task needs no field for it;
 * parking again forgets it. */
static inline void aio__set_reason(aio_task *t, const char *why)
{
    t->u.q.obj = (void *)(uintptr_t)why;
    t->flags |= AIO__TF_REASON;
}

AIO_API int aio__finish(aio_frame *f, int rc, const char *file, int line);
AIO_API int aio__bad_resume(aio_task *t, aio_frame *f, const char *file, int line);
AIO_API int aio__resumed(aio_task *t);
AIO_API void aio__yield(aio_task *t, int recheck);
AIO_API int aio__checkpoint_begin(aio_task *t);
AIO_API int aio__sleep_begin(aio_task *t, aio_time value, int absolute);
AIO_API int aio__join_begin(aio_task *t, aio_task *child);
AIO_API int aio__group_wait_begin(aio_task *t, aio_group *g, int body_rc);
AIO_API int aio__group_wait_next(aio_task *t, aio_group *g);
AIO_API int aio__start_begin(aio_task *t, aio_group *g, aio_task *child, aio_fn fn, void *frame, void **value_out);
AIO_API void aio__panic(const aio_loop *loop, const char *msg, const char *file, int line);

/** The wake-up code of a resumed wait: inline unless a checkpoint must
 * look at cancellation again (internal). */
static inline int aio__resumed_inline(aio_task *t)
{
    if (AIO__UNLIKELY(t->flags & AIO__TF_RECHECK))
        return aio__resumed(t);
    return t->top->rc;
}

/* A frame that finished through AIO_RETURN/AIO_END has fn == NULL (set by
 * aio__finish); one that still has it returned with a plain `return`. */
#ifdef AIO_DEBUG
AIO_API void aio__plain_return(aio_task *t);
#define AIO__CHECK_FINISHED(t, f) do { if ((f)->fn) aio__plain_return(t); } while (0)
#else
#define AIO__CHECK_FINISHED(t, f) ((void)0)
#endif

/** Sets up `child` to be awaited from `parent` (internal). */
static inline void aio__call_setup(aio_frame *parent, aio_frame *child, aio_fn fn)
{
    child->pc = 0;
    child->rc = 0;
    child->fn = fn;
    child->parent = parent;
    child->wait.ptr = NULL;
}

/**
 * Runs the awaited child one step: on the first pass it calls the child
 * directly; after the loop resumed the finished child it just reads the
 * result (internal).
 */
static inline int aio__call_step(aio_task *t, aio_frame *parent, aio_frame *child)
{
    int r;
    if (!child->fn)
        return child->rc;
    t->top = child;
    r = child->fn(t, child);
    if (AIO__IS_SUSPENDED(r))
        return r;
    AIO__CHECK_FINISHED(t, child);
    child->fn = NULL;
    child->rc = r;
    t->top = parent;
    return r;
}

/**
 * The schedule point of AIO_YIELD (internal).  The task just returns
 * AIO__YIELDED; the loop, which holds the run queue at hand, puts it at the
 * back of the queue.  This keeps the hottest path free of any loop lookup.
 */
static inline void aio__yield_now(aio_task *t)
{
#ifdef AIO_DEBUG
    t->schedule_points++;
#else
    (void)t;
#endif
}

#ifdef AIO_DEBUG
#define AIO__ASSERT(loop, cond, msg) \
    do { if (!(cond)) aio__panic((loop), (msg), __FILE__, __LINE__); } while (0)
#else
#define AIO__ASSERT(loop, cond, msg) ((void)0)
#endif


#ifdef __cplusplus
}
#endif
#endif /* AIO_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__IMPLEMENTED)
#define AIO__IMPLEMENTED

#if AIO__HOSTED
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__GLIBC__) && !defined(__USE_POSIX199309)
#error "the aio implementation needs POSIX clocks, which a system header included before aio.h has hidden (strict -std=c99/c11): include aio.h (or the aio header) before any system header in the file that defines AIO_IMPLEMENTATION, or compile with -D_POSIX_C_SOURCE=200809L"
#endif
#endif

#ifdef AIO_STATIC
#define AIO_IMPL static
#else
#define AIO_IMPL
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The sections below follow the declarations' order; these helpers are
 * used before the section that defines them. */
static void aio__scope_cancel(aio_loop *L, aio_scope *s, int source, const char *reason);
static void aio__tm_insert(aio_loop *L, aio_timer *tm, aio_time deadline);
static void aio__tm_remove(aio_loop *L, aio_timer *tm);
static void aio__park(aio_task *t, uint8_t kind, void *obj);

/* ---- errors ------------------------------------------------------------ */

AIO_IMPL const char *aio_strerror(int code)
{
#ifdef AIO_NO_STRINGS
    (void)code;
    return "";
#else
    switch (code) {
    case AIO_OK: return "success";
    case AIO_ECANCELED: return "cancelled";
    case AIO_ETIMEDOUT: return "timed out";
    case AIO_ECLOSED: return "closed";
    case AIO_EBROKEN: return "broken: the other side is gone";
    case AIO_EEND: return "end of stream";
    case AIO_EAGAIN: return "would block";
    case AIO_EBUSY: return "busy: object in use";
    case AIO_EINVAL: return "invalid argument or state";
    case AIO_ENOTSTARTED: return "child finished without calling aio_started";
    case AIO_EDEADLK: return "deadlock: every task is parked and nothing can wake one";
    case AIO_EPERM: return "not the owner";
    case AIO_EOVERFLOW: return "counter overflow";
    case AIO_EMISUSE: return "resumed at an unknown point (await inside a user switch?)";
    case AIO_ETOOLONG: return "line or frame longer than the limit";
    default: break;
    }
#if AIO__HOSTED
    if (code < 0 && code > -10000)
        return strerror(-code);
#endif
    return "unknown error";
#endif
}

/* ---- panics ------------------------------------------------------------ */

AIO_IMPL void aio__panic(const aio_loop *loop, const char *msg, const char *file, int line)
{
    if (loop && loop->cfg.panic) {
        loop->cfg.panic(msg, file, line);
        return;
    }
#if AIO__HOSTED
    fprintf(stderr, "aio: %s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
#else
    (void)msg; (void)file; (void)line;
    for (;;) {
    }
#endif
}

/* ---- clock ------------------------------------------------------------- */

#if AIO__HOSTED
/* A duration of the loop's clock (ns, or ticks with AIO_TIME32) for nanosleep. */
static struct timespec aio__timespec_of(aio_time d)
{
    struct timespec ts;
#ifdef AIO_TIME32
    int64_t ns = (int64_t)d * (1000000000 / AIO_TICK_HZ);
#else
    aio_time ns = d;
#endif
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

static aio_time aio__monotonic(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
#ifdef AIO_TIME32
    return (aio_time)(uint32_t)((uint64_t)ts.tv_sec * AIO_TICK_HZ + (uint64_t)ts.tv_nsec / (1000000000 / AIO_TICK_HZ));
#else
    return (aio_time)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}
#endif

AIO_IMPL aio_time aio_loop_update_time(aio_loop *L)
{
    if (!L->cfg.virtual_clock)
        L->now = L->cfg.clock(L->cfg.clock_ctx);
#ifdef AIO_TIME32
    /* The two values that mean "never" and "always" are not times: read
     * them as the tick next to them. */
    if (AIO__UNLIKELY(L->now == AIO_TIME_INF))
        L->now = AIO_TIME_INF - 1;
    else if (AIO__UNLIKELY(L->now == AIO_TIME_NEG_INF))
        L->now = AIO_TIME_NEG_INF + 1;
#endif
    L->clock_turn = L->turns;
    return L->now;
}

/* The cached time, re-read first if this turn has not read the clock yet. */
static aio_time aio__now(aio_loop *L)
{
    if (L->clock_turn != L->turns)
        aio_loop_update_time(L);
    return L->now;
}

/* Debug builds mark an initialised loop, so a loop used before
 * aio_loop_init is an assertion instead of a walk through zeroed or stale
 * memory.  The panic goes to the default path: the hook in an
 * uninitialised loop cannot be trusted. */
#define AIO__LOOP_MAGIC 0x61696f4cu /* "aioL" */
#ifdef AIO_DEBUG
#define AIO__CHECK_LOOP(L, what) /* what: the call, for the reader */ \
    do { \
        (void)(what); \
        if ((L) && (L)->dbg_magic != AIO__LOOP_MAGIC) \
            aio__panic(NULL, "loop used before aio_loop_init (or its memory was overwritten)", __FILE__, __LINE__); \
    } while (0)
#else
#define AIO__CHECK_LOOP(L, what) ((void)0)
#endif

AIO_IMPL aio_time aio_now(aio_loop *L)
{
    AIO__CHECK_LOOP(L, "aio_now");
    return aio__now(L);
}

AIO_IMPL int aio_clock_advance(aio_loop *L, aio_time delta)
{
    if (!L->cfg.virtual_clock || delta < 0)
        return AIO_EINVAL;
    L->now = AIO__TIME_ADD(L->now, delta);
#ifdef AIO_TIME32
    if (L->now == AIO_TIME_INF || L->now == AIO_TIME_NEG_INF)
        L->now = AIO__TIME_ADD(L->now, 2); /* stepped over both: they are not times */
#endif
    return 0;
}

#ifndef AIO_TIME32
/* Saturating now + d for d >= 0. */
static aio_time aio__after(aio_loop *L, aio_time d)
{
    aio_time now = aio__now(L);
    if (d >= AIO_TIME_INF - now)
        return AIO_TIME_INF;
    return now + d;
}
#else
/* now + d for d >= 0, d cut to AIO_TIME_MAX_DELAY; wraps, and steps over the
 * two values that mean "never" and "always". */
static aio_time aio__after(aio_loop *L, aio_time d)
{
    aio_time r;
    if (d > AIO_TIME_MAX_DELAY)
        d = AIO_TIME_MAX_DELAY;
    r = AIO__TIME_ADD(aio__now(L), d);
    if (r == AIO_TIME_INF || r == AIO_TIME_NEG_INF)
        r = (aio_time)((uint32_t)r + 1u);
    return r;
}
#endif

/* ---- frames ------------------------------------------------------------ */

AIO_IMPL int aio__finish(aio_frame *f, int rc, const char *file, int line)
{
    f->fn = NULL;
    f->rc = rc;
    if (rc < 0) {
        f->wait.file = file;
        f->pc = (uint32_t)line << 8;
    }
    return rc;
}

#ifdef AIO_DEBUG
AIO_IMPL void aio__plain_return(aio_task *t)
{
    AIO__ASSERT(aio_task_loop(t), 0, "a coroutine returned without AIO_RETURN or AIO_END (a plain return statement?)");
}
#endif

AIO_IMPL int aio__bad_resume(aio_task *t, aio_frame *f, const char *file, int line)
{
    aio_loop *L = aio_task_loop(t);
    (void)L;
    AIO__ASSERT(L, 0, "coroutine resumed at an unknown resume point: an await inside a user switch statement, "
                      "or a frame that was not zero-initialised");
    return aio__finish(f, AIO_EMISUSE, file, line);
}

/* ---- loop ------------------------------------------------------------- */


static aio_loop *aio__loop_of_group(const aio_group *g);
static int aio__io_active(const aio_loop *L);
static int aio__io_idle(aio_loop *L);
AIO_IMPL int aio_loop_init(aio_loop *L, const aio_config *cfg)
{
    if (!L)
        return AIO_EINVAL;
    {
        unsigned char *p = (unsigned char *)L;
        size_t i;
        for (i = 0; i < sizeof *L; i++)
            p[i] = 0;
    }
    if (cfg)
        L->cfg = *cfg;
    if (!L->cfg.clock && !L->cfg.virtual_clock) {
#if AIO__HOSTED
        L->cfg.clock = aio__monotonic;
#else
        return AIO_EINVAL;
#endif
    }
    L->rng = L->cfg.seed ? L->cfg.seed : 0;
    /* The root group is the main task's group; its scope's owner is NULL. */
    L->root.scope.owner = NULL;
    L->root.scope.tm.kind = AIO__TM_SCOPE;
    L->root.scope.tm.deadline = AIO_TIME_INF;
    L->root.scope.flags = AIO__SCOPE_ACTIVE | AIO__SCOPE_GROUP;
    L->root.state = AIO__GROUP_OPEN;
    L->root.loop = L;
    L->run_tailp = &L->run_head;
#if defined(AIO_DEBUG) && !defined(AIO_NO_INSTRUMENTS)
    L->slow.threshold = AIO_MS(100);
    L->watched = 1;
#endif
#ifdef AIO_DEBUG
    L->dbg_magic = AIO__LOOP_MAGIC;
#endif
    aio_loop_update_time(L);
    return 0;
}

static aio_loop *aio__loop_of_group(const aio_group *g)
{
    return g->loop;
}

AIO_IMPL aio_loop *aio_task_loop(const aio_task *t)
{
    return aio__loop_of_group(t->group);
}

#ifndef AIO_NO_SHUFFLE
static uint64_t aio__rand(aio_loop *L)
{
    /* xorshift64* */
    uint64_t x = L->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    L->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}
#endif

/* Appends t to the run queue.  The last task's link is left as it is: the
 * step that takes the queue terminates it. */
static void aio__enqueue(aio_loop *L, aio_task *t)
{
    t->state = AIO__TASK_READY;
    *L->run_tailp = t;
    L->run_tailp = &t->u.q.next;
    L->nready++;
}

#ifndef AIO_NO_SHUFFLE
/* Seeded perturbation: splits the batch of n runnable tasks into two lists by
 * coin flips and concatenates them in a random order. */
static void aio__perturb(aio_loop *L, uint32_t n)
{
    aio_task *a = NULL, *at = NULL, *b = NULL, *bt = NULL, *rest, *t;
    uint32_t i;
    if (n < 2)
        return;
    t = L->run_head;
    for (i = 0; i < n; i++) {
        aio_task *nx = t->u.q.next;
        t->u.q.next = NULL;
        if (aio__rand(L) & 1) {
            if (at) at->u.q.next = t; else a = t;
            at = t;
        } else {
            if (bt) bt->u.q.next = t; else b = t;
            bt = t;
        }
        t = nx;
    }
    rest = t;
    if (!a || (b && (aio__rand(L) & 1))) {
        aio_task *x = a, *xt = at;
        a = b; at = bt; b = x; bt = xt;
    }
    if (b) {
        at->u.q.next = b;
        at = bt;
    }
    at->u.q.next = rest;
    L->run_head = a;
    if (!rest)
        L->run_tailp = &at->u.q.next;
}
#endif

static AIO__NOINLINE void aio__task_finish(aio_loop *L, aio_task *t, int rc);
static AIO__NOINLINE void aio__instr_exited(aio_loop *L, aio_task *t, int rc);
static AIO__NOINLINE void aio__instr_spawned(aio_loop *L, aio_task *t);
static AIO__NOINLINE void aio__instr_wait(aio_loop *L, int after, aio_time deadline);

/* Steps one task: resumes its innermost frame, then each parent whose child
 * finished, until a frame suspends or the root frame finishes.  A release
 * build does not mark the task RUNNING: nothing but the debug checks reads
 * that state, and a yield then requeues it with two stores. */
static AIO__INLINE void aio__step_task(aio_loop *L, aio_task *t)
{
    L->current = t;
#ifdef AIO_DEBUG
    t->state = AIO__TASK_RUNNING;
#endif
    for (;;) {
        aio_frame *f = t->top;
        int rc = f->fn(t, f);
        if (AIO__LIKELY(rc == AIO__YIELDED)) { /* AIO_YIELD: back of the run queue */
#ifdef AIO_DEBUG
            t->state = AIO__TASK_READY;
#endif
            *L->run_tailp = t;
            L->run_tailp = &t->u.q.next;
            L->nready++;
            break;
        }
        if (AIO__IS_SUSPENDED(rc)) {
            /* Parked, or rescheduled by the operation it suspended in. */
            AIO__ASSERT(L, t->state != AIO__TASK_RUNNING,
                        "a coroutine suspended without parking or rescheduling its task "
                        "(a begin function returned AIO_PARKED without parking)");
            break;
        }
        f = t->top; /* the frame that finished: a nested await has restored it */
        AIO__CHECK_FINISHED(t, f);
        f->fn = NULL;
        f->rc = rc;
        if (!f->parent) {
            aio__task_finish(L, t, rc);
            break;
        }
        t->top = f->parent;
    }
}

static AIO__NOINLINE void aio__fire_timers(aio_loop *L);
static AIO__NOINLINE void aio__run_watched(aio_loop *L, aio_task *t);
static int aio__posts_waiting(aio_loop *L);
static AIO__NOINLINE void aio__run_posts(aio_loop *L);

AIO_IMPL uint32_t aio_loop_step(aio_loop *L)
{
    aio_task *t;
    uint32_t n;
    AIO__CHECK_LOOP(L, "aio_loop_step");
    AIO__ASSERT(L, L->current == NULL, "aio_loop_step called from inside a task");
    /* Callbacks posted from other threads or interrupts run first, so a host
     * that only ever calls aio_loop_step still sees them. */
    if (AIO__UNLIKELY(aio__posts_waiting(L)))
        aio__run_posts(L);
    /* Read the clock only if a timer could be due; otherwise whoever needs
     * the time this turn reads it (a clock read can cost more than a switch). */
    L->turns++;
    if (L->heap)
        aio__fire_timers(L); /* reads the clock first */
    n = L->nready;
    if (!n)
        return 0;
    *L->run_tailp = NULL;
#ifndef AIO_NO_SHUFFLE
    if (AIO__UNLIKELY(L->cfg.seed != 0))
        aio__perturb(L, n);
#endif
    /* The batch is the queue as it stands: detached whole, so a task that
     * becomes runnable while it runs goes to the next turn, and taking a
     * task off the batch is one load. */
    t = L->run_head;
    L->run_head = NULL;
    L->run_tailp = &L->run_head;
    L->nready = 0;
    AIO__STAT(L->steps += n);
    L->batch = n; /* kept in the loop, not in a register across the steps */
    if (AIO__UNLIKELY(AIO__WATCHED(L))) {
        aio__run_watched(L, t);
    } else {
        do {
            aio_task *next = t->u.q.next;
            aio__step_task(L, t);
            t = next;
        } while (t);
    }
    L->current = NULL;
    return L->batch;
}

AIO_IMPL aio_time aio_loop_next_deadline(const aio_loop *L)
{
    if (L->nready)
        return L->now;
    return L->heap ? L->heap->deadline : AIO_TIME_INF;
}

/* Waits (really or virtually) until the next deadline when nothing is
 * runnable.  Returns 0, or AIO_EDEADLK if nothing can ever wake a task. */
static int aio__idle(aio_loop *L)
{
    aio_time dl;
    if (aio__io_active(L))
        return aio__io_idle(L); /* fds or the wake path: poll the backend */
    if (L->nready)
        return 0;
    dl = L->heap ? L->heap->deadline : AIO_TIME_INF;
    if (L->cfg.virtual_clock) {
        if (dl == AIO_TIME_INF)
            return L->cfg.idle ? (L->cfg.idle(L->cfg.idle_ctx, dl), 0) : AIO_EDEADLK;
        if (AIO_TIME_BEFORE(L->now, dl))
            L->now = dl;
        return 0;
    }
    if (L->cfg.idle) {
        L->cfg.idle(L->cfg.idle_ctx, dl);
        return 0;
    }
    if (dl == AIO_TIME_INF)
        return AIO_EDEADLK;
#if AIO__HOSTED
    {
        aio_time now = aio_loop_update_time(L);
        if (AIO_TIME_BEFORE(now, dl)) {
            struct timespec ts = aio__timespec_of(AIO_TIME_DIFF(dl, now));
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
    }
#else
    /* No idle hook and a real clock: poll the clock until the deadline. */
    while (AIO_TIME_BEFORE(aio_loop_update_time(L), dl)) {
    }
#endif
    return 0;
}

/* ---- running ----------------------------------------------------------- */

AIO_IMPL int aio_run(aio_loop *L, aio_task *main, aio_fn fn, void *frame)
{
    int rc, deadlocked = 0;
    AIO__CHECK_LOOP(L, "aio_run");
    AIO__ASSERT(L, !L || L->current == NULL, "aio_run called from inside a task");
    if (!L || !main || L->current)
        return AIO_EINVAL;
    L->root.state = AIO__GROUP_OPEN;
    rc = aio_spawn(&L->root, main, fn, frame);
    if (rc)
        return rc;
    while (!aio_task_done(main)) {
        aio_loop_step(L);
        if (aio_task_done(main))
            break;
        if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
            aio__instr_wait(L, 0, aio_loop_next_deadline(L));
        rc = aio__idle(L);
        if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
            aio__instr_wait(L, 1, 0);
        if (rc == AIO_EDEADLK) {
            /* Nothing can wake anyone: cancel everything once, so cleanup
             * runs and the tasks finish; the result is still AIO_EDEADLK. */
            if (!deadlocked) {
                deadlocked = 1;
                aio__scope_cancel(L, &L->root.scope, AIO_CANCEL_DEADLOCK, AIO__REASON("deadlock"));
            }
            if (L->nready == 0)
                return AIO_EDEADLK;
        }
    }
    rc = deadlocked ? AIO_EDEADLK : aio_task_rc(main);
    /* Reset the root group for the next aio_run on this loop. */
    if (main->state == AIO__TASK_FAILED) {
        L->root.failed_head = L->root.failed_tail = NULL;
        main->sib_next = main->sib_prev = NULL;
        main->state = AIO__TASK_DONE;
    }
    if (L->root.scope.flags & AIO__SCOPE_CANCEL_CALLED) {
        L->root.scope.flags &= (uint8_t)~AIO__SCOPE_CANCEL_CALLED;
        L->ncancel--;
    }
    L->root.err_count = 0;
    L->root.err_first = 0;
    L->root.saw_cancel = 0;
    return rc;
}

/* ---- tasks ------------------------------------------------------------- */

static int aio__task_busy(const aio_task *t)
{
    return t->state != AIO__TASK_IDLE && t->state != AIO__TASK_DONE;
}

static void aio__task_setup(aio_task *c, aio_group *g, aio_fn fn, void *frame, const char *file, int line)
{
    aio_frame *f = (aio_frame *)frame;
    aio__call_setup(NULL, f, fn);
    c->top = f;
    c->group = g;
    c->flags = 0;
    c->wait_kind = AIO__WAIT_NONE;
    c->sib_next = c->sib_prev = NULL;
#ifdef AIO_DEBUG
    c->spawn_file = file;
    c->spawn_line = line;
    c->cancel_points = 0;
    c->schedule_points = 0;
#else
    (void)file;
    (void)line;
#endif
}

static void aio__live_link(aio_group *g, aio_task *c)
{
    c->sib_next = NULL;
    c->sib_prev = g->live_tail;
    if (g->live_tail)
        g->live_tail->sib_next = c;
    else
        g->live_head = c;
    g->live_tail = c;
    g->live++;
}

static void aio__live_unlink(aio_group *g, aio_task *c)
{
    if (c->sib_prev)
        c->sib_prev->sib_next = c->sib_next;
    else
        g->live_head = c->sib_next;
    if (c->sib_next)
        c->sib_next->sib_prev = c->sib_prev;
    else
        g->live_tail = c->sib_prev;
    c->sib_next = c->sib_prev = NULL;
    g->live--;
}

AIO_IMPL int aio_spawn_at(aio_group *g, aio_task *c, aio_fn fn, void *frame, const char *file, int line)
{
    aio_loop *L;
    if (!g || !c || !fn || !frame)
        return AIO_EINVAL;
    L = aio__loop_of_group(g);
    AIO__ASSERT(L, !aio__task_busy(c), "aio_spawn: the task is still in use (running, parked, or failed and linked)");
    if (aio__task_busy(c))
        return AIO_EBUSY;
    if (g->state != AIO__GROUP_OPEN && g->state != AIO__GROUP_JOINING)
        return AIO_ECLOSED;
    aio__task_setup(c, g, fn, frame, file, line);
    c->scope = &g->scope;
    aio__live_link(g, c);
    L->ntasks++;
    aio__enqueue(L, c);
    if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
        aio__instr_spawned(L, c);
    return 0;
}

AIO_IMPL int aio_task_rc(const aio_task *t)
{
    if (t->state != AIO__TASK_DONE && t->state != AIO__TASK_FAILED)
        return 0;
    return t->top->rc;
}

AIO_IMPL int aio_task_done(const aio_task *t)
{
    return t->state == AIO__TASK_DONE || t->state == AIO__TASK_FAILED;
}

AIO_IMPL void aio_task_set_name(aio_task *t, const char *name)
{
#ifdef AIO_DEBUG
    t->name = name;
#else
    (void)t;
    (void)name;
#endif
}

AIO_IMPL const char *aio_frame_error_site(const aio_frame *f, unsigned *line)
{
    if (!f || f->fn || f->rc >= 0) {
        if (line)
            *line = 0;
        return NULL;
    }
    if (line)
        *line = AIO_PC_LINE(f->pc);
    return f->wait.file;
}

AIO_IMPL const char *aio_task_error_site(const aio_task *t, unsigned *line)
{
    if (!aio_task_done(t)) {
        if (line)
            *line = 0;
        return NULL;
    }
    return aio_frame_error_site(t->top, line);
}

/* ---- cancellation ------------------------------------------------------ */

/* Is a task whose innermost scope is `s` (and which is `t`) effectively
 * cancelled?  Walks outwards: a cancelled scope cancels, a shield stops the
 * walk; crossing from one task's scopes into its group's scope checks the
 * task-level cancel flag (aio_task_cancel) on the way.  Returns the
 * outermost-visible cancel source: 1 if cancelled, else 0. */
static int aio__chain_cancelled(const aio_scope *s, const aio_task *t)
{
    for (;;) {
        while (s && s->owner == t) {
            if (s->flags & AIO__SCOPE_CANCEL_CALLED)
                return 1;
            if (s->flags & AIO__SCOPE_SHIELD)
                return 0;
            s = s->parent;
        }
        if (t && (t->flags & AIO__TF_CANCELLED))
            return 1;
        if (!s)
            return 0;
        t = s->owner;
    }
}

static int aio__task_cancelled(const aio_loop *L, const aio_task *t)
{
    if (AIO__LIKELY(L->ncancel == 0))
        return 0;
    return aio__chain_cancelled(t->scope, t);
}

AIO_IMPL int aio_task_cancelled(const aio_task *t)
{
    return aio__task_cancelled(aio_task_loop(t), t);
}

AIO_IMPL int aio_check_cancel(aio_task *t)
{
    aio_loop *L = aio_task_loop(t);
#ifdef AIO_DEBUG
    t->cancel_points++;
#endif
    return aio__task_cancelled(L, t) ? AIO_ECANCELED : 0;
}

/* Wakes `t` with AIO_ECANCELED if it is parked in an abortable wait and is
 * now effectively cancelled. */
static void aio__try_abort(aio_loop *L, aio_task *t)
{
    if (t->state != AIO__TASK_PARKED || (t->flags & AIO__TF_ABORTED))
        return;
    if (!aio__chain_cancelled(t->scope, t))
        return;
    switch (t->wait_kind) {
    case AIO__WAIT_LOT:
        aio_lot_remove((aio_lot *)t->u.q.obj, t);
        aio_reschedule(t, AIO_ECANCELED);
        break;
    case AIO__WAIT_SLEEP:
        aio__tm_remove(L, &t->u.tm);
        aio_reschedule(t, AIO_ECANCELED);
        break;
    case AIO__WAIT_CUSTOM: {
        aio_waiter *w = (aio_waiter *)t->u.q.obj;
        t->flags |= AIO__TF_ABORTED;
        if (w->abort(t, w) == AIO_ABORT_OK)
            aio_reschedule(t, AIO_ECANCELED);
        break;
    }
    default: /* uncancellable waits: group wait, start, noabort */
        break;
    }
}

static aio_group *aio__group_of_scope(aio_scope *s)
{
    return (aio_group *)(void *)((char *)s - offsetof(aio_group, scope));
}

/* Delivers a cancellation to task `t` and everything below it: `t` itself,
 * the groups it has open (walking its scopes from the innermost outwards,
 * stopping at `stop` or where the scopes stop being its own), their children,
 * and a child it is waiting to start.  Recurses once per level of task
 * nesting; scope nesting is walked iteratively. */
static void aio__deliver_task(aio_loop *L, aio_task *t, const aio_scope *stop)
{
    aio_scope *s;
    aio__try_abort(L, t);
    if (t->state == AIO__TASK_PARKED && t->wait_kind == AIO__WAIT_START)
        aio__deliver_task(L, (aio_task *)t->top->wait.ptr, NULL);
    for (s = t->scope; s && s != stop && s->owner == t; s = s->parent) {
        if (s->flags & AIO__SCOPE_GROUP) {
            aio_task *c;
            for (c = aio__group_of_scope(s)->live_head; c; c = c->sib_next)
                aio__deliver_task(L, c, NULL);
        }
    }
}

/* A change on active scope `s` may have cancelled tasks under it. */
static void aio__deliver_scope(aio_loop *L, aio_scope *s)
{
    if (!(s->flags & AIO__SCOPE_ACTIVE))
        return;
    if (!s->owner) { /* the loop's root group */
        aio_task *c;
        for (c = aio__group_of_scope(s)->live_head; c; c = c->sib_next)
            aio__deliver_task(L, c, NULL);
        return;
    }
    aio__deliver_task(L, s->owner, s->parent);
}

/* The loop of an active scope: through its owner, or for the root group's
 * scope (no owner) through the group. */
static aio_loop *aio__scope_loop(const aio_scope *s)
{
    if (s->owner)
        return aio_task_loop(s->owner);
    return ((const aio_group *)(const void *)((const char *)s - offsetof(aio_group, scope)))->loop;
}

static void aio__scope_cancel(aio_loop *L, aio_scope *s, int source, const char *reason)
{
    if (s->flags & AIO__SCOPE_CANCEL_CALLED)
        return;
    s->flags |= AIO__SCOPE_CANCEL_CALLED;
    s->source = (uint8_t)source;
    s->reason = reason;
    if (s->flags & AIO__SCOPE_ACTIVE) {
        L->ncancel++;
        aio__deliver_scope(L, s);
    }
}

AIO_IMPL void aio_scope_init(aio_scope *s)
{
    s->tm.child = s->tm.next = s->tm.prev = NULL;
    s->tm.deadline = AIO_TIME_INF;
    s->tm.armed = 0;
    s->tm.kind = AIO__TM_SCOPE;
    s->parent = NULL;
    s->owner = NULL;
    s->reason = NULL;
    s->flags = 0;
    s->source = AIO_CANCEL_NONE;
}

AIO_IMPL void aio_scope_cancel(aio_scope *s, const char *reason)
{
    if (!s)
        return;
    if (!(s->flags & AIO__SCOPE_ACTIVE)) {
        /* Not entered (or exited): remember it; entry will count it. */
        if (!(s->flags & AIO__SCOPE_CANCEL_CALLED)) {
            s->flags |= AIO__SCOPE_CANCEL_CALLED;
            s->source = AIO_CANCEL_EXPLICIT;
            s->reason = reason;
        }
        return;
    }
    aio__scope_cancel(aio__scope_loop(s), s, AIO_CANCEL_EXPLICIT, reason);
}

AIO_IMPL int aio_scope_enter(aio_task *t, aio_scope *s, aio_time deadline)
{
    aio_loop *L;
    if (!t || !s)
        return AIO_EINVAL;
    L = aio_task_loop(t);
    AIO__ASSERT(L, !(s->flags & AIO__SCOPE_ACTIVE), "aio_scope_enter: scope is already active");
    if (s->flags & AIO__SCOPE_ACTIVE)
        return AIO_EBUSY;
    if (s->flags & AIO__SCOPE_EXITED)
        s->flags &= (uint8_t)~(AIO__SCOPE_EXITED | AIO__SCOPE_CANCELLED_CAUGHT);
    s->tm.kind = AIO__TM_SCOPE;
    s->tm.armed = 0;
    s->parent = t->scope;
    s->owner = t;
    s->flags |= AIO__SCOPE_ACTIVE;
    t->scope = s;
    if (s->flags & AIO__SCOPE_CANCEL_CALLED) {
        L->ncancel++;
    } else if (deadline != AIO_TIME_INF) {
        if (!AIO_TIME_BEFORE(aio__now(L), deadline)) {
            s->tm.deadline = deadline;
            aio__scope_cancel(L, s, AIO_CANCEL_DEADLINE, AIO__REASON("deadline"));
        } else {
            aio__tm_insert(L, &s->tm, deadline);
        }
    }
    s->tm.deadline = deadline;
    return 0;
}

#ifdef AIO_DEBUG
/* Misuse check of the entry helpers below, which reset `s` first: is `s`
 * still active in `t`'s scope chain?  Reads nothing of `s` itself, which
 * may be uninitialised. */
static int aio__scope_reentered(aio_task *t, const aio_scope *s)
{
    const aio_scope *p;
    for (p = t->scope; p; p = p->parent) {
        if (p == s) {
            AIO__ASSERT(aio_task_loop(t), 0, "aio_move_on_after/at, aio_fail_after/at, aio_cleanup_enter: "
                                             "scope is already active (entered again before aio_scope_exit)");
            return 1;
        }
    }
    return 0;
}
#define AIO__SCOPE_REENTERED(t, s) aio__scope_reentered((t), (s))
#else
#define AIO__SCOPE_REENTERED(t, s) 0
#endif

static int aio__enter_rel(aio_task *t, aio_scope *s, aio_time d, uint8_t extra)
{
    int rc;
    if (!t || !s || d < 0)
        return AIO_EINVAL;
    if (AIO__SCOPE_REENTERED(t, s))
        return AIO_EBUSY;
    aio_scope_init(s);
    s->flags = extra;
    rc = aio_scope_enter(t, s, aio__after(aio_task_loop(t), d));
    return rc;
}

static int aio__enter_abs(aio_task *t, aio_scope *s, aio_time when, uint8_t extra)
{
    if (!t || !s)
        return AIO_EINVAL;
    if (AIO__SCOPE_REENTERED(t, s))
        return AIO_EBUSY;
    aio_scope_init(s);
    s->flags = extra;
    return aio_scope_enter(t, s, when);
}

AIO_IMPL int aio_move_on_after(aio_task *t, aio_scope *s, aio_time d) { return aio__enter_rel(t, s, d, 0); }
AIO_IMPL int aio_move_on_at(aio_task *t, aio_scope *s, aio_time when) { return aio__enter_abs(t, s, when, 0); }
AIO_IMPL int aio_fail_after(aio_task *t, aio_scope *s, aio_time d) { return aio__enter_rel(t, s, d, AIO__SCOPE_FAIL); }
AIO_IMPL int aio_fail_at(aio_task *t, aio_scope *s, aio_time when) { return aio__enter_abs(t, s, when, AIO__SCOPE_FAIL); }

AIO_IMPL int aio_cleanup_enter(aio_task *t, aio_scope *s, aio_time grace)
{
    if (grace == AIO_TIME_INF)
        return aio__enter_abs(t, s, AIO_TIME_INF, AIO__SCOPE_SHIELD);
    return aio__enter_rel(t, s, grace, AIO__SCOPE_SHIELD);
}

/* Pops `s` (the innermost scope of its owner) and decides whether it catches. */
static int aio__scope_pop(aio_loop *L, aio_task *t, aio_scope *s, int rc)
{
    int caught = 0;
    /* s catches a cancellation that is its own and that no outer one
     * overrides.  A scope that was not cancelled itself never catches (the
     * cancellation comes from further out, where it will be caught), so
     * only the scope that was cancelled looks outwards: unwinding N nested
     * scopes under a cancelled outermost one costs O(N), not O(N^2). */
    if (rc == AIO_ECANCELED && (s->flags & AIO__SCOPE_CANCEL_CALLED)) {
        if ((s->flags & AIO__SCOPE_SHIELD) || !aio__chain_cancelled(s->parent, t))
            caught = 1;
    }
    if (s->tm.armed)
        aio__tm_remove(L, &s->tm);
    if (s->flags & AIO__SCOPE_CANCEL_CALLED)
        L->ncancel--;
    t->scope = s->parent;
    s->flags = (uint8_t)((s->flags & ~AIO__SCOPE_ACTIVE) | AIO__SCOPE_EXITED);
    if (caught) {
        s->flags |= AIO__SCOPE_CANCELLED_CAUGHT;
        rc = (s->flags & AIO__SCOPE_FAIL) ? AIO_ETIMEDOUT : 0;
    }
    return rc;
}

AIO_IMPL int aio_scope_exit(aio_task *t, aio_scope *s, int rc)
{
    aio_loop *L;
    if (!t || !s)
        return AIO_EINVAL;
    L = aio_task_loop(t);
    AIO__ASSERT(L, (s->flags & AIO__SCOPE_ACTIVE), "aio_scope_exit: scope is not active (exited twice, or never entered)");
    AIO__ASSERT(L, !(s->flags & AIO__SCOPE_ACTIVE) || s->owner == t, "aio_scope_exit: the scope was entered by another task");
    AIO__ASSERT(L, t->scope == s || ((s->flags & AIO__SCOPE_ACTIVE) && s->owner != t),
                "aio_scope_exit: scopes must be exited innermost first");
    AIO__ASSERT(L, !(s->flags & AIO__SCOPE_GROUP), "aio_scope_exit: a group's scope is left with AIO_GROUP_WAIT");
    if (!(s->flags & AIO__SCOPE_ACTIVE) || t->scope != s || (s->flags & AIO__SCOPE_GROUP))
        return AIO_EINVAL;
    return aio__scope_pop(L, t, s, rc);
}

AIO_IMPL void aio_scope_set_deadline(aio_scope *s, aio_time deadline)
{
    aio_loop *L;
    if (!(s->flags & AIO__SCOPE_ACTIVE)) {
        s->tm.deadline = deadline;
        return;
    }
    L = aio__scope_loop(s);
    if (s->tm.armed)
        aio__tm_remove(L, &s->tm);
    s->tm.deadline = deadline;
    if (s->flags & AIO__SCOPE_CANCEL_CALLED || deadline == AIO_TIME_INF)
        return;
    if (!AIO_TIME_BEFORE(aio__now(L), deadline))
        aio__scope_cancel(L, s, AIO_CANCEL_DEADLINE, AIO__REASON("deadline"));
    else
        aio__tm_insert(L, &s->tm, deadline);
}

AIO_IMPL void aio_scope_set_shield(aio_scope *s, int on)
{
    if (on) {
        s->flags |= AIO__SCOPE_SHIELD;
        return;
    }
    if (!(s->flags & AIO__SCOPE_SHIELD))
        return;
    s->flags &= (uint8_t)~AIO__SCOPE_SHIELD;
    /* Outer cancellations may now reach tasks parked inside. */
    if (s->flags & AIO__SCOPE_ACTIVE) {
        aio_loop *L = aio__scope_loop(s);
        if (L->ncancel)
            aio__deliver_scope(L, s);
    }
}

AIO_IMPL aio_time aio_effective_deadline(const aio_task *t)
{
    const aio_scope *s = t->scope;
    aio_time dl = AIO_TIME_INF;
    if (aio__chain_cancelled(t->scope, t))
        return AIO_TIME_NEG_INF;
    while (s) {
        if ((s->flags & AIO__SCOPE_ACTIVE) && AIO_TIME_BEFORE(s->tm.deadline, dl))
            dl = s->tm.deadline;
        if (s->flags & AIO__SCOPE_SHIELD)
            break;
        s = s->parent;
    }
    return dl;
}

AIO_IMPL int aio_task_cancel(aio_task *t)
{
    aio_loop *L;
    if (!t || t->state == AIO__TASK_IDLE || t->state == AIO__TASK_DONE || t->state == AIO__TASK_FAILED)
        return AIO_EINVAL;
    if (t->flags & AIO__TF_CANCELLED)
        return 0;
    L = aio_task_loop(t);
    t->flags |= AIO__TF_CANCELLED | AIO__TF_CANCEL_COUNTED;
    L->ncancel++;
    aio__deliver_task(L, t, NULL);
    return 0;
}

/* ---- task groups ------------------------------------------------------- */

static void aio__group_record(aio_group *g, int rc, const char *file, unsigned line)
{
    g->err_count++;
    if (!g->err_first) {
        g->err_first = rc;
        g->err_file = file;
        g->err_line = line;
    }
}

/* Wakes the group's owner if it waits in AIO_GROUP_WAIT and nothing is left. */
static void aio__group_maybe_done(aio_group *g)
{
    aio_task *o = g->scope.owner;
    if (g->live == 0 && g->pending_starts == 0 && g->state == AIO__GROUP_JOINING && o &&
        o->state == AIO__TASK_PARKED && o->wait_kind == AIO__WAIT_GROUP && o->u.q.obj == g)
        aio_reschedule(o, 0);
}

static AIO__NOINLINE void aio__task_finish(aio_loop *L, aio_task *t, int rc)
{
    aio_group *g = t->group;
    L->ntasks--;
    /* The common case, a child that exits cleanly with no scope of its own
     * left, no lock held, no start handshake, no joiner and no race to
     * settle, costs an unlink and the group's completion check. */
    if (AIO__LIKELY(t->scope == &g->scope && !L->holds && !t->flags && (rc >= 0 || rc == AIO_ECANCELED) &&
                    g->mode != AIO_GROUP_FIRST_DONE)) {
        aio__live_unlink(g, t);
        t->scope = NULL;
        t->state = AIO__TASK_DONE;
        if (rc == AIO_ECANCELED)
            g->saw_cancel = 1;
        goto joiners;
    }
    AIO__ASSERT(L, !t->scope || t->scope->owner != t,
                "task finished inside a scope or group it did not exit (a group left with live children?)");
    /* Release builds: exit forgotten scopes so no deadline timer outlives
     * the frame.  A forgotten group with live children cannot be repaired.
     * A group left without AIO_GROUP_WAIT is an error in every build: the
     * task finishes with AIO_EBUSY (the test is the one pointer comparison
     * above, done for every slow-path exit). */
    while (t->scope && t->scope->owner == t) {
        aio_scope *s = t->scope;
        if (s->flags & AIO__SCOPE_GROUP) {
            if (rc >= 0 || rc == AIO_ECANCELED) {
                rc = AIO_EBUSY;
                t->top->rc = rc;
                t->top->wait.file = NULL;
                t->top->pc = 0;
            }
            if (aio__group_of_scope(s)->live || aio__group_of_scope(s)->pending_starts)
                break;
            aio__group_of_scope(s)->state = AIO__GROUP_CLOSED;
        }
        (void)aio__scope_pop(L, t, s, 0);
    }
    if (L->holds) { /* locks the task still holds: break them (trio's lot breakers) */
        aio_hold *h, *nx;
        for (h = L->holds; h; h = nx) {
            nx = h->next;
            if (h->owner != t)
                continue;
            if (h->prev) h->prev->next = h->next; else L->holds = h->next;
            if (h->next) h->next->prev = h->prev;
            h->next = h->prev = NULL;
            h->owner = NULL;
            h->broken(L, h);
        }
    }
    if (t->flags & AIO__TF_CANCEL_COUNTED) {
        L->ncancel--;
        t->flags &= (uint8_t)~AIO__TF_CANCEL_COUNTED;
    }
    if (t->flags & AIO__TF_PRESTART) {
        /* Finished before aio_started: the result goes to the starter. */
        aio_task *starter = t->sib_prev;
        int src = (t->flags & AIO__TF_STARTED) ? AIO_ECANCELED : (rc < 0 ? rc : AIO_ENOTSTARTED);
        t->flags &= (uint8_t)~(AIO__TF_PRESTART | AIO__TF_STARTED);
        t->sib_next = t->sib_prev = NULL;
        t->state = AIO__TASK_DONE;
        t->scope = NULL;
        g->pending_starts--;
        aio_reschedule(starter, src);
        aio__group_maybe_done(g);
        if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
            aio__instr_exited(L, t, rc);
        return;
    }
    aio__live_unlink(g, t);
    t->scope = NULL;
    if (rc == AIO_ECANCELED)
        g->saw_cancel = 1;
    if (rc < 0 && rc != AIO_ECANCELED) {
        unsigned line = AIO_PC_LINE(t->top->pc);
        t->state = AIO__TASK_FAILED;
        t->sib_prev = g->failed_tail;
        t->sib_next = NULL;
        if (g->failed_tail)
            g->failed_tail->sib_next = t;
        else
            g->failed_head = t;
        g->failed_tail = t;
        aio__group_record(g, rc, t->top->wait.file, line);
        if (g->mode == AIO_GROUP_FAIL_FAST)
            aio__scope_cancel(L, &g->scope, AIO_CANCEL_GROUP, AIO__REASON("a child failed"));
    } else {
        t->state = AIO__TASK_DONE;
    }
    if (g->mode == AIO_GROUP_FIRST_DONE && !g->winner) {
        g->winner = t;
        aio__scope_cancel(L, &g->scope, AIO_CANCEL_RACE, AIO__REASON("first child finished"));
    }
joiners:
    /* Wake the tasks joining this one. */
    if (g->joiners.head) {
        aio_task *w = g->joiners.head;
        while (w) {
            aio_task *nx = w->u.q.next;
            if (w->top->wait.ptr == (void *)t) {
                aio_lot_remove(&g->joiners, w);
                aio_reschedule(w, rc);
            }
            w = nx;
        }
    }
    aio__group_maybe_done(g);
    if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
        aio__instr_exited(L, t, rc);
}

AIO_IMPL int aio__join_begin(aio_task *t, aio_task *c)
{
    int rc;
    if (!c || c->state == AIO__TASK_IDLE || !c->group)
        return AIO_EINVAL;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (aio_task_done(c)) {
        aio_reschedule(t, c->top->rc);
        return AIO_PARKED;
    }
    t->top->wait.ptr = c;
    aio_park_lot(t, &c->group->joiners);
    return AIO_PARKED;
}

AIO_IMPL int aio_group_enter(aio_task *t, aio_group *g, int mode)
{
    aio_loop *L;
    int rc;
    if (!t || !g || mode < AIO_GROUP_FAIL_FAST || mode > AIO_GROUP_FIRST_DONE)
        return AIO_EINVAL;
    L = aio_task_loop(t);
    AIO__ASSERT(L, g->state != AIO__GROUP_OPEN && g->state != AIO__GROUP_JOINING, "aio_group_enter: group is already open");
    if (g->state == AIO__GROUP_OPEN || g->state == AIO__GROUP_JOINING)
        return AIO_EBUSY;
    /* Forget the previous use (failed children become reusable). */
    while (g->failed_head) {
        aio_task *f = g->failed_head;
        g->failed_head = f->sib_next;
        f->sib_next = f->sib_prev = NULL;
        f->state = AIO__TASK_DONE;
    }
    {
        uint8_t pre = (uint8_t)(g->scope.flags & AIO__SCOPE_CANCEL_CALLED && g->state == AIO__GROUP_IDLE);
        const char *reason = g->scope.reason;
        aio_scope_init(&g->scope);
        if (pre) { /* cancelled before it was entered */
            g->scope.flags = AIO__SCOPE_CANCEL_CALLED;
            g->scope.source = AIO_CANCEL_EXPLICIT;
            g->scope.reason = reason;
        }
    }
    g->scope.flags |= AIO__SCOPE_GROUP;
    g->live_head = g->live_tail = NULL;
    g->failed_head = g->failed_tail = NULL;
    g->winner = NULL;
    g->joiners.head = g->joiners.tail = NULL;
    g->joiners.len = 0;
    g->live = g->pending_starts = g->err_count = 0;
    g->err_first = 0;
    g->err_file = NULL;
    g->err_line = 0;
    g->saw_cancel = 0;
    g->mode = (uint8_t)mode;
    g->loop = L;
    rc = aio_scope_enter(t, &g->scope, AIO_TIME_INF);
    if (rc)
        return rc;
    g->state = AIO__GROUP_OPEN;
    return 0;
}

AIO_IMPL void aio_group_cancel(aio_group *g, const char *reason)
{
    if (g->state == AIO__GROUP_OPEN || g->state == AIO__GROUP_JOINING)
        aio__scope_cancel(aio__scope_loop(&g->scope), &g->scope, AIO_CANCEL_EXPLICIT, reason);
    else
        aio_scope_cancel(&g->scope, reason);
}

AIO_IMPL aio_task *aio_group_failed_first(const aio_group *g) { return g->failed_head; }
AIO_IMPL aio_task *aio_group_failed_next(const aio_task *t) { return t->state == AIO__TASK_FAILED ? t->sib_next : NULL; }
AIO_IMPL uint32_t aio_group_failed_count(const aio_group *g)
{
    uint32_t n = 0;
    const aio_task *t;
    for (t = g->failed_head; t; t = t->sib_next)
        n++;
    return n;
}
AIO_IMPL const char *aio_task_error_reason(const aio_task *t)
{
#ifndef AIO_NO_STRINGS
    if (aio_task_done(t) && t->top->rc < 0 && (t->flags & AIO__TF_REASON))
        return (const char *)t->u.q.obj;
#endif
    (void)t;
    return NULL;
}

/* Leaves the group: pops its scope and computes the result.  Errors win over
 * cancellation.  Otherwise, if a cancellation reached the body or a child
 * through the group's scope, the scope either catches it (the group's own
 * cancel, a race, a failure: result 0) or lets it propagate (an outer
 * cancellation: AIO_ECANCELED). */
static int aio__group_leave(aio_loop *L, aio_task *t, aio_group *g)
{
    int in = (g->saw_cancel && aio__chain_cancelled(&g->scope, t)) ? AIO_ECANCELED : 0;
    int rc = aio__scope_pop(L, t, &g->scope, in);
    if (g->err_count)
        rc = g->err_first;
    g->state = AIO__GROUP_CLOSED;
    return rc;
}

AIO_IMPL int aio__group_wait_begin(aio_task *t, aio_group *g, int body_rc)
{
    aio_loop *L;
    if (!t || !g)
        return AIO_EINVAL;
    L = aio_task_loop(t);
    AIO__ASSERT(L, g->state == AIO__GROUP_OPEN, "AIO_GROUP_WAIT: group is not open (waited twice, or never entered)");
    AIO__ASSERT(L, g->state != AIO__GROUP_OPEN || g->scope.owner == t, "AIO_GROUP_WAIT: the group was entered by another task");
    AIO__ASSERT(L, g->state != AIO__GROUP_OPEN || g->scope.owner != t || t->scope == &g->scope,
                "AIO_GROUP_WAIT: scopes entered inside the group body were not exited");
    if (g->state != AIO__GROUP_OPEN || g->scope.owner != t || t->scope != &g->scope)
        return AIO_EINVAL;
    if (body_rc == AIO_ECANCELED)
        g->saw_cancel = 1;
    else if (body_rc < 0) {
        aio__group_record(g, body_rc, NULL, 0);
        aio__scope_cancel(L, &g->scope, AIO_CANCEL_GROUP, AIO__REASON("the group body failed"));
    }
    g->state = AIO__GROUP_JOINING;
    if (g->live == 0 && g->pending_starts == 0) {
        /* Nothing to wait for: a schedule point that cannot be cancelled. */
        aio__yield(t, 0);
        return AIO_PARKED;
    }
    aio__park(t, AIO__WAIT_GROUP, g);
    return AIO_PARKED;
}

AIO_IMPL int aio__group_wait_next(aio_task *t, aio_group *g)
{
    aio_loop *L = aio_task_loop(t);
    if (g->live || g->pending_starts) {
        aio__park(t, AIO__WAIT_GROUP, g);
        return AIO_PARKED;
    }
    return aio__group_leave(L, t, g);
}

AIO_IMPL int aio__start_begin(aio_task *t, aio_group *g, aio_task *c, aio_fn fn, void *frame, void **value_out)
{
    aio_loop *L;
    int rc;
    if (!t || !g || !c || !fn || !frame)
        return AIO_EINVAL;
    L = aio_task_loop(t);
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (g->state != AIO__GROUP_OPEN && g->state != AIO__GROUP_JOINING)
        return AIO_ECLOSED;
    AIO__ASSERT(L, !aio__task_busy(c), "AIO_START: the task is still in use");
    if (aio__task_busy(c))
        return AIO_EBUSY;
    aio__task_setup(c, g, fn, frame, NULL, 0);
    c->flags = AIO__TF_PRESTART;
    c->scope = t->scope;  /* runs under the starter's scopes until it starts */
    c->sib_prev = t;      /* the starter */
    c->sib_next = (aio_task *)(void *)value_out;
    g->pending_starts++;
    L->ntasks++;
    aio__enqueue(L, c);
    if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
        aio__instr_spawned(L, c);
    t->top->wait.ptr = c;
    aio__park(t, AIO__WAIT_START, c);
    return AIO_PARKED;
}

AIO_IMPL int aio_started(aio_task *t, void *value)
{
    aio_task *starter;
    aio_group *g;
    aio_scope *s, *outer = NULL;
    void **out;
    if (!t || !(t->flags & AIO__TF_PRESTART) || (t->flags & AIO__TF_STARTED))
        return AIO_EINVAL;
    starter = t->sib_prev;
    g = t->group;
    if (aio__chain_cancelled(starter->scope, starter)) {
        /* The starter is cancelled: stay under it; it will report AIO_ECANCELED. */
        t->flags |= AIO__TF_STARTED;
        return 0;
    }
    out = (void **)(void *)t->sib_next;
    if (out)
        *out = value;
    /* Re-parent the child's outermost own scope (or the task) under the group. */
    for (s = t->scope; s && s->owner == t; s = s->parent)
        outer = s;
    if (outer)
        outer->parent = &g->scope;
    else
        t->scope = &g->scope;
    t->flags &= (uint8_t)~AIO__TF_PRESTART;
    t->sib_prev = t->sib_next = NULL;
    aio__live_link(g, t);
    g->pending_starts--;
    aio_reschedule(starter, 0);
    return 0;
}

/* ---- timer heap (pairing heap over caller-owned nodes) ----------------- */

/* Strict order: earlier deadline first; equal deadlines in arming order.
 * seq wraps; the comparison holds while armed timers span < 2^31 armings. */
static int aio__tm_less(const aio_timer *a, const aio_timer *b)
{
    if (a->deadline != b->deadline)
        return AIO_TIME_BEFORE(a->deadline, b->deadline);
    return (int32_t)(a->seq - b->seq) < 0;
}

/* Melds two heap roots (each with next/prev cleared); returns the new root. */
static aio_timer *aio__tm_meld(aio_timer *a, aio_timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (aio__tm_less(b, a)) {
        aio_timer *x = a;
        a = b;
        b = x;
    }
    /* b becomes the first child of a. */
    b->prev = a;
    b->next = a->child;
    if (a->child)
        a->child->prev = b;
    a->child = b;
    return a;
}

/* Two-pass pairing of a sibling list; iterative so deep lists cannot overflow. */
static aio_timer *aio__tm_merge_pairs(aio_timer *first)
{
    aio_timer *pairs = NULL, *root = NULL;
    while (first) {
        aio_timer *a = first, *b = a->next;
        a->next = a->prev = NULL;
        if (!b) {
            a->next = pairs;
            pairs = a;
            break;
        }
        first = b->next;
        b->next = b->prev = NULL;
        a = aio__tm_meld(a, b);
        a->next = pairs; /* pairs is kept as a stack through next */
        pairs = a;
    }
    while (pairs) {
        aio_timer *n = pairs->next;
        pairs->next = pairs->prev = NULL;
        root = aio__tm_meld(root, pairs);
        pairs = n;
    }
    return root;
}

static void aio__tm_insert(aio_loop *L, aio_timer *tm, aio_time deadline)
{
    tm->deadline = deadline;
    tm->seq = L->seq++;
    tm->child = tm->next = tm->prev = NULL;
    tm->armed = 1;
    L->heap = aio__tm_meld(L->heap, tm);
    L->nheap++;
}

static void aio__tm_remove(aio_loop *L, aio_timer *tm)
{
    aio_timer *sub;
    if (!tm->armed)
        return;
    tm->armed = 0;
    L->nheap--;
    if (tm == L->heap) {
        L->heap = aio__tm_merge_pairs(tm->child);
        tm->child = NULL;
        return;
    }
    /* Unlink from the sibling list: prev is the parent when tm is a first child. */
    if (tm->prev->child == tm)
        tm->prev->child = tm->next;
    else
        tm->prev->next = tm->next;
    if (tm->next)
        tm->next->prev = tm->prev;
    tm->next = tm->prev = NULL;
    sub = aio__tm_merge_pairs(tm->child);
    tm->child = NULL;
    L->heap = aio__tm_meld(L->heap, sub);
}

/* ---- timers firing ----------------------------------------------------- */

static AIO__NOINLINE void aio__fire_timers(aio_loop *L)
{
    aio_loop_update_time(L);
    while (L->heap && !AIO_TIME_BEFORE(L->now, L->heap->deadline)) {
        aio_timer *tm = L->heap;
        aio_time lag = AIO_TIME_DIFF(L->now, tm->deadline); /* the loop's lag for this timer */
        L->timers_fired++;
        L->timer_lag_total += lag;
        if (lag > L->timer_lag_max)
            L->timer_lag_max = lag;
        aio__tm_remove(L, tm);
        switch (tm->kind) {
        case AIO__TM_SLEEP: {
            aio_task *t = (aio_task *)(void *)tm; /* the timer is the task's first member */
            aio_reschedule(t, 0);
            break;
        }
        case AIO__TM_SCOPE: {
            aio_scope *s = (aio_scope *)(void *)tm;
            aio__scope_cancel(L, s, AIO_CANCEL_DEADLINE, AIO__REASON("deadline"));
            break;
        }
        case AIO__TM_CALL: {
            aio_call *c = (aio_call *)(void *)tm;
            c->cb(L, c->arg);
            break;
        }
        default:
            AIO__ASSERT(L, 0, "timer heap holds a node of unknown kind (corrupted or reused timer)");
            break;
        }
    }
}

AIO_IMPL int aio_call_at(aio_loop *L, aio_call *c, aio_time when, void (*cb)(aio_loop *, void *), void *arg)
{
    if (!L || !c || !cb)
        return AIO_EINVAL;
    if (c->tm.armed)
        aio__tm_remove(L, &c->tm);
    c->tm.kind = AIO__TM_CALL;
    c->cb = cb;
    c->arg = arg;
    aio__tm_insert(L, &c->tm, when);
    return 0;
}

AIO_IMPL int aio_call_later(aio_loop *L, aio_call *c, aio_time delay, void (*cb)(aio_loop *, void *), void *arg)
{
    if (delay < 0)
        return AIO_EINVAL;
    return aio_call_at(L, c, aio__after(L, delay), cb, arg);
}

AIO_IMPL int aio_call_cancel(aio_loop *L, aio_call *c)
{
    if (!c->tm.armed)
        return 0;
    aio__tm_remove(L, &c->tm);
    return 1;
}

/* ---- lots and parking -------------------------------------------------- */

static void aio__park(aio_task *t, uint8_t kind, void *obj)
{
    t->state = AIO__TASK_PARKED;
    t->wait_kind = kind;
    t->flags &= (uint8_t)~(AIO__TF_ABORTED | AIO__TF_RECHECK | AIO__TF_REASON);
    t->u.q.obj = obj;
#ifdef AIO_DEBUG
    t->schedule_points++;
    t->parked_at = t->group ? t->group->loop->now : 0;
#endif
}

AIO_IMPL void aio_park_lot(aio_task *t, aio_lot *lot)
{
    aio__park(t, AIO__WAIT_LOT, lot);
    t->u.q.next = NULL;
    t->u.q.prev = lot->tail;
    if (lot->tail)
        lot->tail->u.q.next = t;
    else
        lot->head = t;
    lot->tail = t;
    lot->len++;
    t->u.q.obj = lot;
}

AIO_IMPL void aio_park_custom(aio_task *t, aio_waiter *w)
{
    aio__park(t, AIO__WAIT_CUSTOM, w);
}

AIO_IMPL void aio_park_noabort(aio_task *t)
{
    aio__park(t, AIO__WAIT_NOABORT, NULL);
}

AIO_IMPL void aio_lot_remove(aio_lot *lot, aio_task *t)
{
    if (t->u.q.prev)
        t->u.q.prev->u.q.next = t->u.q.next;
    else
        lot->head = t->u.q.next;
    if (t->u.q.next)
        t->u.q.next->u.q.prev = t->u.q.prev;
    else
        lot->tail = t->u.q.prev;
    t->u.q.next = t->u.q.prev = NULL;
    t->u.q.obj = NULL;
    t->wait_kind = AIO__WAIT_NONE;
    lot->len--;
}

AIO_IMPL aio_task *aio_lot_pop(aio_lot *lot)
{
    aio_task *t = lot->head;
    if (!t)
        return NULL;
    /* The head: no predecessor to relink. */
    lot->head = t->u.q.next;
    if (lot->head)
        lot->head->u.q.prev = NULL;
    else
        lot->tail = NULL;
    t->u.q.next = NULL;
    t->u.q.obj = NULL;
    t->wait_kind = AIO__WAIT_NONE;
    lot->len--;
    return t;
}

AIO_IMPL uint32_t aio_lot_wake(aio_lot *lot, uint32_t n, int rc)
{
    uint32_t k = 0;
    while (k < n && lot->head) {
        aio_reschedule(aio_lot_pop(lot), rc);
        k++;
    }
    return k;
}

AIO_IMPL uint32_t aio_lot_repark(aio_lot *from, aio_lot *to, uint32_t n)
{
    uint32_t k = 0;
    while (k < n && from->head) {
        aio_task *t = aio_lot_pop(from);
        aio_park_lot(t, to);
#ifdef AIO_DEBUG
        t->schedule_points--; /* a move, not a new suspension */
#endif
        k++;
    }
    return k;
}

AIO_IMPL void aio_reschedule(aio_task *t, int rc)
{
    aio_loop *L = aio_task_loop(t);
    AIO__ASSERT(L, t->state == AIO__TASK_PARKED || t->state == AIO__TASK_RUNNING,
                "aio_reschedule: task is not parked or running (double wake?)");
    t->wait_kind = AIO__WAIT_NONE;
    t->top->rc = rc;
    aio__enqueue(L, t);
}

AIO_IMPL void aio__yield(aio_task *t, int recheck)
{
    aio_loop *L = aio_task_loop(t);
#ifdef AIO_DEBUG
    t->schedule_points++;
#endif
    if (recheck)
        t->flags |= AIO__TF_RECHECK;
    t->wait_kind = AIO__WAIT_NONE;
    t->top->rc = 0;
    aio__enqueue(L, t);
}

AIO_IMPL int aio__resumed(aio_task *t)
{
    if (t->flags & AIO__TF_RECHECK) {
        t->flags &= (uint8_t)~AIO__TF_RECHECK;
        if (aio__task_cancelled(aio_task_loop(t), t))
            return AIO_ECANCELED;
    }
    return t->top->rc;
}

AIO_IMPL int aio__checkpoint_begin(aio_task *t)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    aio__yield(t, 1);
    return AIO_PARKED;
}

AIO_IMPL int aio__sleep_begin(aio_task *t, aio_time v, int absolute)
{
    aio_loop *L = aio_task_loop(t);
    aio_time when;
    int rc;
    if (!absolute && v < 0)
        return AIO_EINVAL;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
    when = absolute ? v : aio__after(L, v);
    if (!AIO_TIME_BEFORE(aio__now(L), when)) {
        aio__yield(t, 1);
        return AIO_PARKED;
    }
    aio__park(t, AIO__WAIT_SLEEP, NULL);
    t->u.tm.kind = AIO__TM_SLEEP;
    t->u.tm.armed = 0;
    if (when == AIO_TIME_INF)
        return AIO_PARKED; /* sleep forever: not in the heap; only cancellation wakes it */
    aio__tm_insert(L, &t->u.tm, when);
    return AIO_PARKED;
}

/* ======================================================================== */
/* ---- wake path: atomics, posts, the backend seam ------------------------ */
/* ======================================================================== */

/* Atomics for the fields other threads touch (wake_pending, posts).  Parts
 * without lock-free atomics (AVR, Cortex-M0, RISC-V without "A") are
 * single-core: there the same operations run with interrupts masked
 * (AIO_IRQ_SAVE/AIO_IRQ_RESTORE, predefined for AVR and ARMv6-M). */
#if defined(__AVR__) && !defined(AIO_IRQ_SAVE)
#define AIO_IRQ_SAVE(s) __asm__ __volatile__("in %0, __SREG__\n\tcli" : "=r"(s) : : "memory")
#define AIO_IRQ_RESTORE(s) __asm__ __volatile__("out __SREG__, %0" : : "r"(s) : "memory")
#elif defined(__ARM_ARCH_6M__) && !defined(AIO_IRQ_SAVE)
#define AIO_IRQ_SAVE(s) __asm__ __volatile__("mrs %0, primask\n\tcpsid i" : "=r"(s) : : "memory")
#define AIO_IRQ_RESTORE(s) __asm__ __volatile__("msr primask, %0" : : "r"(s) : "memory")
#endif
#if (defined(__GNUC__) || defined(__clang__)) && defined(__GCC_ATOMIC_POINTER_LOCK_FREE) && \
    (__GCC_ATOMIC_POINTER_LOCK_FREE < 2 || __GCC_ATOMIC_INT_LOCK_FREE < 2) && defined(AIO_IRQ_SAVE)
#define AIO__HAVE_ATOMICS 1
#define AIO__IRQ(stmt) do { unsigned aio__irq; AIO_IRQ_SAVE(aio__irq); stmt; AIO_IRQ_RESTORE(aio__irq); } while (0)
AIO__UNUSED static int aio__flag_xchg(int *p, int v) { int o; AIO__IRQ((o = *p, *p = v)); return o; }
AIO__UNUSED static int aio__flag_load(int *p) { int v; AIO__IRQ(v = *p); return v; }
AIO__UNUSED static void aio__flag_store(int *p, int v) { AIO__IRQ(*p = v); }
AIO__UNUSED static int aio__sc_add(int *p, int d) { int v; AIO__IRQ(v = (*p += d)); return v; }
AIO__UNUSED static int aio__sc_xchg(int *p, int v) { return aio__flag_xchg(p, v); }
AIO__UNUSED static int aio__sc_load(int *p) { return aio__flag_load(p); }
AIO__UNUSED static aio_post *aio__post_load(aio_post **p) { aio_post *v; AIO__IRQ(v = *p); return v; }
AIO__UNUSED static aio_post *aio__post_take(aio_post **p) { aio_post *v; AIO__IRQ((v = *p, *p = NULL)); return v; }
AIO__UNUSED static int aio__post_cas(aio_post **p, aio_post **old, aio_post *v)
{
    int ok;
    AIO__IRQ((ok = *p == *old) ? (void)(*p = v) : (void)(*old = *p));
    return ok;
}
#elif defined(__GNUC__) || defined(__clang__)
#define AIO__HAVE_ATOMICS 1
AIO__UNUSED static int aio__flag_xchg(int *p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
AIO__UNUSED static int aio__flag_load(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
AIO__UNUSED static void aio__flag_store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/* Sequentially consistent: aio_loop_wake and aio_loop_close use them in a
 * store-then-load handshake on two different variables. */
AIO__UNUSED static int aio__sc_add(int *p, int d) { return __atomic_add_fetch(p, d, __ATOMIC_SEQ_CST); }
AIO__UNUSED static int aio__sc_xchg(int *p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
AIO__UNUSED static int aio__sc_load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
AIO__UNUSED static aio_post *aio__post_load(aio_post **p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
AIO__UNUSED static aio_post *aio__post_take(aio_post **p) { return __atomic_exchange_n(p, (aio_post *)NULL, __ATOMIC_ACQUIRE); }
AIO__UNUSED static int aio__post_cas(aio_post **p, aio_post **old, aio_post *v)
{
    return __atomic_compare_exchange_n(p, old, v, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}
#else
#define AIO__HAVE_ATOMICS 0 /* wake flag only (no aio_loop_post) */
AIO__UNUSED static int aio__flag_xchg(int *p, int v) { int o = *(volatile int *)p; *(volatile int *)p = v; return o; }
AIO__UNUSED static int aio__flag_load(int *p) { return *(volatile int *)p; }
AIO__UNUSED static void aio__flag_store(int *p, int v) { *(volatile int *)p = v; }
AIO__UNUSED static int aio__sc_add(int *p, int d) { return *(volatile int *)p += d; }
AIO__UNUSED static int aio__sc_xchg(int *p, int v) { return aio__flag_xchg(p, v); }
AIO__UNUSED static int aio__sc_load(int *p) { return aio__flag_load(p); }
#endif

/* Fetch-and-or / -and / -add and a load on one word, for the interrupt-safe
 * signals of aio_sync.h (aio_flags, aio_notify): each returns the old value. */
#if defined(AIO__IRQ)
AIO__UNUSED static unsigned aio__u_or(unsigned *p, unsigned v) { unsigned o; AIO__IRQ((o = *p, *p = o | v)); return o; }
AIO__UNUSED static unsigned aio__u_and(unsigned *p, unsigned v) { unsigned o; AIO__IRQ((o = *p, *p = o & v)); return o; }
AIO__UNUSED static unsigned aio__u_add(unsigned *p, unsigned v) { unsigned o; AIO__IRQ((o = *p, *p = o + v)); return o; }
AIO__UNUSED static unsigned aio__u_load(unsigned *p) { unsigned v; AIO__IRQ(v = *p); return v; }
#elif AIO__HAVE_ATOMICS
AIO__UNUSED static unsigned aio__u_or(unsigned *p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }
AIO__UNUSED static unsigned aio__u_and(unsigned *p, unsigned v) { return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }
AIO__UNUSED static unsigned aio__u_add(unsigned *p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
AIO__UNUSED static unsigned aio__u_load(unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
#else
AIO__UNUSED static unsigned aio__u_or(unsigned *p, unsigned v) { unsigned o = *(volatile unsigned *)p; *(volatile unsigned *)p = o | v; return o; }
AIO__UNUSED static unsigned aio__u_and(unsigned *p, unsigned v) { unsigned o = *(volatile unsigned *)p; *(volatile unsigned *)p = o & v; return o; }
AIO__UNUSED static unsigned aio__u_add(unsigned *p, unsigned v) { unsigned o = *(volatile unsigned *)p; *(volatile unsigned *)p = o + v; return o; }
AIO__UNUSED static unsigned aio__u_load(unsigned *p) { return *(volatile unsigned *)p; }
#endif


/* Fd waits or an armed wake path: the loop must consult the backend when idle. */
static int aio__io_active(const aio_loop *L)
{
    return L->io.wake_armed || (L->io.be && L->io.be->parked(L->io.ctx) != 0);
}

/* Whether a callback has been posted since the last turn (one load). */
static int aio__posts_waiting(aio_loop *L)
{
#if AIO__HAVE_ATOMICS
    return aio__post_load(&L->io.posts) != NULL;
#else
    (void)L;
    return 0;
#endif
}

/* Runs the callbacks posted since the last turn, oldest first. */
static AIO__NOINLINE void aio__run_posts(aio_loop *L)
{
#if AIO__HAVE_ATOMICS
    aio_post *p, *rev = NULL;
    if (!aio__post_load(&L->io.posts))
        return;
    p = aio__post_take(&L->io.posts);
    while (p) { /* the stack holds newest first */
        aio_post *nx = p->next;
        p->next = rev;
        rev = p;
        p = nx;
    }
    while (rev) {
        /* Read everything first: once `queued` is clear the node belongs to
         * the poster again, and an interrupt may post it anew right away. */
        aio_post *nx = rev->next;
        void (*cb)(aio_loop *, void *) = rev->cb;
        void *arg = rev->arg;
        aio__flag_store(&rev->queued, 0);
        cb(L, arg);
        rev = nx;
    }
#else
    (void)L;
#endif
}

AIO_IMPL int aio_loop_post(aio_loop *L, aio_post *node, void (*cb)(aio_loop *, void *), void *arg)
{
#if AIO__HAVE_ATOMICS
    aio_post *old;
    if (!L || !node || !cb || !L->io.wake_armed)
        return AIO_EINVAL;
    /* Claim the node: only the poster that flips `queued` from 0 links it,
     * so a node is never on the list twice (which would make it a cycle). */
    if (aio__flag_xchg(&node->queued, 1) != 0)
        return AIO_EBUSY;
    node->cb = cb;
    node->arg = arg;
    old = aio__post_load(&L->io.posts);
    do {
        node->next = old;
    } while (!aio__post_cas(&L->io.posts, &old, node));
    aio_loop_wake(L);
    return 0;
#else
    (void)L; (void)node; (void)cb; (void)arg;
    return AIO_EINVAL;
#endif
}

AIO_IMPL int aio_post_pending(aio_post *node)
{
    return aio__flag_load(&node->queued) != 0;
}

AIO_IMPL int aio_loop_wake_pending(aio_loop *L)
{
    return aio__flag_load(&L->io.wake_pending) != 0;
}

#ifdef AIO_TIME32
#define AIO__MAX_WAIT AIO_TIME_MAX_DELAY /* longest single backend wait */
#else
#define AIO__MAX_WAIT AIO_SEC(3600) /* longest single backend wait */
#endif

AIO_IMPL int aio_loop_set_backend(aio_loop *L, const aio_backend *be, void *ctx)
{
    if (!L || (be && (!be->wait || !be->parked)))
        return AIO_EINVAL;
    L->io.be = be;
    L->io.ctx = be ? ctx : NULL;
    return 0;
}

/* One wait of at most `timeout` ns (AIO_TIME_INF: no limit) through the
 * backend, or the idle hook without one, then the wake flag and posted
 * callbacks.  Returns what the backend's wait returned (AIO_EAGAIN: it was
 * interrupted before it looked), or 0. */
static int aio__io_wait(aio_loop *L, aio_time timeout)
{
    aio__io *R = &L->io;
    int rc = 0;
    if (timeout != AIO_TIME_INF && timeout > AIO__MAX_WAIT)
        timeout = AIO__MAX_WAIT;
    if (R->be) {
        AIO__STAT(R->polls++);
        rc = R->be->wait(R->ctx, timeout);
        /* The backend consumed any OS wake-up it saw; one that lands after
         * this clear writes again, and the posts of one before it are
         * visible to the aio__run_posts below. */
        if (aio__flag_load(&R->wake_pending))
            aio__flag_xchg(&R->wake_pending, 0);
    } else {
        /* No OS: the idle hook is the wait (e.g. WFI; an interrupt ends it). */
        if (timeout != 0 && !aio__flag_load(&R->wake_pending)) {
            AIO__STAT(R->polls++);
            if (L->cfg.idle) {
                L->cfg.idle(L->cfg.idle_ctx, timeout == AIO_TIME_INF ? AIO_TIME_INF : aio__after(L, timeout));
            } else {
#if AIO__HOSTED
                aio_time d = (R->wake_armed && (timeout == AIO_TIME_INF || timeout > AIO_MS(1))) ? AIO_MS(1) : timeout;
                struct timespec ts = aio__timespec_of(d);
                nanosleep(&ts, NULL);
#endif
            }
        }
        aio__flag_xchg(&R->wake_pending, 0);
    }
    aio__run_posts(L);
    return rc;
}

/* The loop's idle step when the backend has something to watch (called by
 * aio__idle).  Waits exactly once: with timeout 0 while tasks are runnable;
 * with the virtual clock, timeout 0 and then a jump to the next deadline if
 * nothing became ready (or no limit when there is no deadline); with a real
 * clock, until the next deadline.  Never reports a deadlock: an fd or a wake
 * can still arrive. */
static int aio__io_idle(aio_loop *L)
{
    aio_time dl = L->heap ? L->heap->deadline : AIO_TIME_INF;
    if (L->nready) {
        aio__io_wait(L, 0);
        return 0;
    }
    if (L->cfg.virtual_clock) {
        if (dl == AIO_TIME_INF) {
            aio__io_wait(L, AIO_TIME_INF);
            return 0;
        }
        /* A wait that was interrupted or failed has not looked, and jumping
         * then could pass over a ready fd: look once more first.  (A backend
         * that keeps failing still lets time pass.) */
        if (aio__io_wait(L, 0) < 0 && !L->nready)
            aio__io_wait(L, 0);
        if (!L->nready && AIO_TIME_BEFORE(L->now, dl))
            L->now = dl;
        return 0;
    }
    /* With no deadline the wait needs no clock: the time is read again by
     * whoever needs it next turn (a clock read can cost more than the turn). */
    if (dl == AIO_TIME_INF) {
        aio__io_wait(L, AIO_TIME_INF);
        return 0;
    }
    {
        aio_time now = aio_loop_update_time(L);
        aio__io_wait(L, AIO_TIME_BEFORE(now, dl) ? AIO_TIME_DIFF(dl, now) : 0);
    }
    return 0;
}

AIO_IMPL int aio_loop_poll(aio_loop *L, aio_time timeout)
{
    aio_time now, dl;
    int rc;
    AIO__ASSERT(L, L->current == NULL, "aio_loop_poll called from inside a task");
    if (timeout < 0 || L->current)
        return AIO_EINVAL;
    now = aio_loop_update_time(L);
    dl = L->heap ? L->heap->deadline : AIO_TIME_INF;
    if (L->nready || (L->cfg.virtual_clock && dl != AIO_TIME_INF))
        timeout = 0; /* virtual time does not pass while we wait for real */
    else if (dl != AIO_TIME_INF && (!AIO_TIME_BEFORE(now, dl) || AIO_TIME_DIFF(dl, now) < timeout))
        timeout = AIO_TIME_BEFORE(now, dl) ? AIO_TIME_DIFF(dl, now) : 0;
    if (timeout == AIO_TIME_INF && !aio__io_active(L))
        return AIO_EDEADLK;
    if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
        aio__instr_wait(L, 0, timeout == AIO_TIME_INF ? AIO_TIME_INF : AIO__TIME_ADD(now, timeout));
    rc = aio__io_wait(L, timeout);
    if (AIO__UNLIKELY(AIO__INSTRUMENTED(L)))
        aio__instr_wait(L, 1, 0);
    if (rc < 0 && rc != AIO_EAGAIN)
        return rc;
    return (int)aio_loop_step(L);
}

AIO_IMPL int aio_loop_wake_enable(aio_loop *L)
{
    aio__io *R = &L->io;
    if (R->wake_armed)
        return 0;
    if (R->be && R->be->wake_enable) {
        int rc = R->be->wake_enable(R->ctx);
        if (rc)
            return rc;
    }
    R->wake_armed = 1;
    return 0;
}

AIO_IMPL void aio_loop_wake(aio_loop *L)
{
    aio__io *R = &L->io;
    /* Only the first wake since the loop last consumed one reaches the
     * backend (one write): coalescing. */
    if (aio__flag_xchg(&R->wake_pending, 1) == 0 && R->be && R->be->wake)
        R->be->wake(R->ctx);
}

AIO_IMPL int aio_loop_close(aio_loop *L)
{
    aio__io *R = &L->io;
    int busy = R->be && R->be->parked(R->ctx) != 0;
    if (R->be && R->be->close)
        R->be->close(R->ctx);
    R->wake_armed = 0;
    return busy ? AIO_EBUSY : 0;
}


/* ---- dump -------------------------------------------------------------- */

#ifndef AIO_NO_STRINGS

static void aio__put(void (*out)(void *, const char *), void *ctx, const char *s)
{
    out(ctx, s ? s : "(null)");
}

static void aio__put_num(void (*out)(void *, const char *), void *ctx, long long v)
{
    char buf[24];
    int i = 23, neg = v < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    out(ctx, buf + i);
}

static void aio__put_hex(void (*out)(void *, const char *), void *ctx, const void *p)
{
    char buf[2 + 2 * sizeof(uintptr_t) + 1];
    uintptr_t v = (uintptr_t)p;
    int i;
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < (int)(2 * sizeof v); i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (4 * (2 * sizeof v - 1 - (size_t)i))) & 15];
    buf[2 + 2 * sizeof v] = 0;
    out(ctx, buf);
}

static void aio__indent(void (*out)(void *, const char *), void *ctx, int depth)
{
    int i;
    for (i = 0; i < depth; i++)
        out(ctx, "  ");
}

static const char *const aio__state_names[] = { "idle", "ready", "running", "parked", "done", "failed" };
static const char *const aio__wait_names[] = { "-", "wait queue", "custom wait", "sleep", "uncancellable wait",
                                               "group wait", "start" };

static void aio__dump_task(const aio_loop *L, const aio_task *t, int depth, void (*out)(void *, const char *), void *ctx);

static void aio__dump_group(const aio_loop *L, const aio_group *g, int depth, void (*out)(void *, const char *), void *ctx)
{
    const aio_task *c;
    aio__indent(out, ctx, depth);
    out(ctx, "group ");
    aio__put_hex(out, ctx, g);
    out(ctx, g->scope.flags & AIO__SCOPE_CANCEL_CALLED ? " cancelled" : "");
    out(ctx, " live=");
    aio__put_num(out, ctx, g->live);
    out(ctx, " failed=");
    aio__put_num(out, ctx, g->err_count);
    out(ctx, "\n");
    for (c = g->live_head; c; c = c->sib_next)
        aio__dump_task(L, c, depth + 1, out, ctx);
}

static void aio__dump_task(const aio_loop *L, const aio_task *t, int depth, void (*out)(void *, const char *), void *ctx)
{
    const aio_frame *f;
    const aio_scope *s;
    aio__indent(out, ctx, depth);
    out(ctx, "task ");
    aio__put_hex(out, ctx, t);
#ifdef AIO_DEBUG
    if (t->name) {
        out(ctx, " \"");
        aio__put(out, ctx, t->name);
        out(ctx, "\"");
    }
    if (t->spawn_file) {
        out(ctx, " spawned at ");
        aio__put(out, ctx, t->spawn_file);
        out(ctx, ":");
        aio__put_num(out, ctx, t->spawn_line);
    }
#endif
    out(ctx, " ");
    aio__put(out, ctx, t == L->current ? "running" : aio__state_names[t->state < 6 ? t->state : 0]);
    if (t->state == AIO__TASK_PARKED) {
        out(ctx, " on ");
        aio__put(out, ctx, aio__wait_names[t->wait_kind < 7 ? t->wait_kind : 0]);
        if (t->wait_kind == AIO__WAIT_SLEEP && t->u.tm.armed) {
            out(ctx, " until +");
            aio__put_num(out, ctx, (long long)AIO_TIME_DIFF(t->u.tm.deadline, L->now));
            out(ctx, "ns");
        } else if (t->wait_kind == AIO__WAIT_LOT || t->wait_kind == AIO__WAIT_CUSTOM) {
            out(ctx, " ");
            aio__put_hex(out, ctx, t->u.q.obj);
        }
#ifdef AIO_DEBUG
        out(ctx, " for ");
        aio__put_num(out, ctx, (long long)AIO_TIME_DIFF(L->now, t->parked_at));
        out(ctx, "ns");
#endif
    }
    if (t->flags & AIO__TF_CANCELLED)
        out(ctx, " (task cancelled)");
    out(ctx, "\n");
    for (f = t->top; f; f = f->parent) {
        aio__indent(out, ctx, depth + 2);
        out(ctx, "frame ");
        aio__put_hex(out, ctx, f);
        out(ctx, " at ");
#ifdef AIO_DEBUG
        if (f->dbg_file) {
            aio__put(out, ctx, f->dbg_file);
            out(ctx, ":");
        } else
            out(ctx, "line ");
#else
        out(ctx, "line ");
#endif
#ifndef AIO_USE_LABELS
        aio__put_num(out, ctx, AIO_PC_LINE(f->pc));
#else
        out(ctx, "?");
#endif
        out(ctx, "\n");
    }
    for (s = t->scope; s && s->owner == t; s = s->parent) {
        if (s->flags & AIO__SCOPE_GROUP) {
            aio__dump_group(L, (const aio_group *)(const void *)s, depth + 1, out, ctx);
        } else {
            aio__indent(out, ctx, depth + 1);
            out(ctx, "scope ");
            aio__put_hex(out, ctx, s);
            if (s->flags & AIO__SCOPE_CANCEL_CALLED)
                out(ctx, " cancelled");
            if (s->flags & AIO__SCOPE_SHIELD)
                out(ctx, " shielded");
            if (s->tm.deadline != AIO_TIME_INF) {
                out(ctx, " deadline +");
                aio__put_num(out, ctx, (long long)AIO_TIME_DIFF(s->tm.deadline, L->now));
                out(ctx, "ns");
            }
            out(ctx, "\n");
        }
    }
}

#endif /* AIO_NO_STRINGS */

AIO_IMPL void aio_dump(const aio_loop *L, void (*out)(void *, const char *), void *ctx)
{
#ifdef AIO_NO_STRINGS
    (void)L;
    (void)out;
    (void)ctx;
#else
    out(ctx, "loop now=");
    aio__put_num(out, ctx, (long long)L->now);
    out(ctx, "ns ready=");
    aio__put_num(out, ctx, L->nready);
    out(ctx, " timers=");
    aio__put_num(out, ctx, L->nheap);
    out(ctx, "\n");
    aio__dump_group(L, &L->root, 0, out, ctx);
#endif
}

AIO_IMPL void aio_loop_stats(const aio_loop *L, aio_stats *st)
{
    const aio_hold *h;
    st->tasks = L->ntasks;
    st->ready = L->nready;
    st->timers = L->nheap;
    st->fd_waits = L->io.be ? L->io.be->parked(L->io.ctx) : 0;
    st->holds = 0;
    for (h = L->holds; h; h = h->next)
        st->holds++;
    st->cancels = L->ncancel;
    st->turns = L->turns;
    st->steps = L->steps;
    st->timers_fired = L->timers_fired;
    st->timer_lag_max = L->timer_lag_max;
    st->batch_time_max = L->batch_time_max;
    st->timer_lag_total = L->timer_lag_total;
}

/* ---- instruments and slow-step reports --------------------------------- */

static void aio__rewatch(aio_loop *L)
{
    L->watched = (uint8_t)(L->instruments != NULL || L->slow.threshold != 0);
}

AIO_IMPL int aio_instrument_add(aio_loop *L, aio_instrument *ins)
{
    aio_instrument **p;
    if (!L || !ins)
        return AIO_EINVAL;
#ifdef AIO_NO_INSTRUMENTS
    return AIO_EINVAL; /* compiled out */
#endif
    for (p = &L->instruments; *p; p = &(*p)->next)
        if (*p == ins)
            return AIO_EBUSY;
    ins->next = NULL;
    *p = ins;
    aio__rewatch(L);
    return 0;
}

AIO_IMPL int aio_instrument_remove(aio_loop *L, aio_instrument *ins)
{
    aio_instrument **p;
    if (!L || !ins)
        return AIO_EINVAL;
    for (p = &L->instruments; *p; p = &(*p)->next) {
        if (*p == ins) {
            /* ins->next is left as it is, so a walk standing on ins (a
             * hook that removed its own instrument) goes on correctly. */
            *p = ins->next;
            aio__rewatch(L);
            return 0;
        }
    }
    return AIO_EINVAL;
}

AIO_IMPL const char *aio_task_resume_site(const aio_task *t, unsigned *line)
{
    const aio_frame *f = t ? t->top : NULL;
    unsigned l = 0;
    const char *file = NULL;
    if (f) {
#ifndef AIO_USE_LABELS
        l = AIO_PC_LINE(f->pc);
#endif
#ifdef AIO_DEBUG
        file = f->dbg_file;
#endif
    }
    if (line)
        *line = l;
    return file;
}

#if AIO__HOSTED
static void aio__slow_report_stderr(void *ctx, const aio_slow_step *s)
{
    (void)ctx;
    fprintf(stderr, "aio: slow step: task %p%s%s%s ran %lld.%03lld ms: resumed at %s:%u, suspended at %s:%u\n",
            (void *)s->task, s->name ? " \"" : "", s->name ? s->name : "", s->name ? "\"" : "",
            (long long)(s->duration / 1000000), (long long)(s->duration / 1000 % 1000),
            s->resume_file ? s->resume_file : "line", s->resume_line, s->suspend_file ? s->suspend_file : "line",
            s->suspend_line);
}
#endif

AIO_IMPL int aio_loop_set_slow_step(aio_loop *L, aio_time threshold, void (*report)(void *, const aio_slow_step *),
                                    void *ctx)
{
    if (!L || threshold < 0)
        return AIO_EINVAL;
#ifdef AIO_NO_INSTRUMENTS
    if (threshold != 0)
        return AIO_EINVAL; /* compiled out */
#endif
    L->slow.threshold = threshold;
    L->slow.report = report;
    L->slow.ctx = ctx;
    aio__rewatch(L);
    return 0;
}

/* The loop's clock, read for a measurement only: the cached time (what
 * tasks see) is left as it is. */
static aio_time aio__clock_now(aio_loop *L)
{
    return L->cfg.virtual_clock ? L->now : L->cfg.clock(L->cfg.clock_ctx);
}

static AIO__NOINLINE void aio__instr_exited(aio_loop *L, aio_task *t, int rc)
{
    aio_instrument *i;
    for (i = L->instruments; i; i = i->next)
        if (i->task_exited)
            i->task_exited(i->ctx, L, t, rc);
}

static AIO__NOINLINE void aio__instr_spawned(aio_loop *L, aio_task *t)
{
    aio_instrument *i;
    for (i = L->instruments; i; i = i->next)
        if (i->task_spawned)
            i->task_spawned(i->ctx, L, t);
}

static AIO__NOINLINE void aio__instr_wait(aio_loop *L, int after, aio_time deadline)
{
    aio_instrument *i;
    for (i = L->instruments; i; i = i->next) {
        if (!after && i->before_wait)
            i->before_wait(i->ctx, L, deadline);
        else if (after && i->after_wait)
            i->after_wait(i->ctx, L);
    }
}

/* The batch with instruments or slow-step reports: the same steps, with
 * the hooks around each. */
static AIO__NOINLINE void aio__run_watched(aio_loop *L, aio_task *t)
{
    int timed = L->slow.threshold != 0; /* the batch's length is measured only with the reports */
    aio_time batch0 = timed ? aio__clock_now(L) : 0, t1 = batch0;
    do {
        aio_task *next = t->u.q.next;
        aio_instrument *i;
        aio_time t0 = 0;
        aio_slow_step info;
        for (i = L->instruments; i; i = i->next)
            if (i->before_step)
                i->before_step(i->ctx, L, t);
        if (L->slow.threshold) {
            info.resume_file = aio_task_resume_site(t, &info.resume_line);
            t0 = aio__clock_now(L);
        }
        aio__step_task(L, t);
        if (L->slow.threshold) {
            t1 = aio__clock_now(L);
            info.duration = AIO_TIME_DIFF(t1, t0);
            if (info.duration > L->slow.threshold) {
                info.task = t;
#ifdef AIO_DEBUG
                info.name = t->name;
#else
                info.name = NULL;
#endif
                info.suspend_file = aio_task_resume_site(t, &info.suspend_line);
                if (L->slow.report)
                    L->slow.report(L->slow.ctx, &info);
#if AIO__HOSTED
                else
                    aio__slow_report_stderr(NULL, &info);
#endif
            }
        }
        for (i = L->instruments; i; i = i->next)
            if (i->after_step)
                i->after_step(i->ctx, L, t);
        t = next;
    } while (t);
    if (timed && AIO_TIME_DIFF(t1, batch0) > L->batch_time_max)
        L->batch_time_max = AIO_TIME_DIFF(t1, batch0);
}

#if AIO__HOSTED
static void aio__dump_file(void *ctx, const char *s)
{
    fputs(s, (FILE *)ctx);
}
AIO_IMPL void aio_dump_stderr(const aio_loop *L)
{
    aio_dump(L, aio__dump_file, stderr);
}
#endif

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
