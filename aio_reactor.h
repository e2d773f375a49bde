/*
 * aio_reactor.h - the OS I/O reactor of aio: descriptor readiness waits on
 * epoll (Linux), kqueue (BSD, macOS) or poll (other POSIX systems), with
 * registrations that persist between waits, aio_notify_closing, the backend
 * descriptor for embedding, and the cross-thread wake path (eventfd or pipe).
 *
 * It stacks on aio.h like the other headers and plugs into the loop through
 * the core's backend seam (aio_backend, aio_loop_set_backend).  aio.h alone
 * has no OS code; a firmware build never includes this header.
 *
 * Usage: a caller-owned reactor object per loop, initialised after the loop:
 *
 *     aio_loop loop;
 *     aio_reactor io;                       // holds the fd table: no malloc
 *     aio_loop_init(&loop, NULL);
 *     aio_reactor_init(&io, &loop);         // fd waits, sockets, threads
 *     ... aio_run(&loop, &main, fn, &frame) ...
 *     aio_loop_close(&loop);
 *
 * aio_net.h, aio_proc.h and aio_thread.h include this header and need the
 * reactor on their loop.  The function bodies are compiled where
 * AIO_IMPLEMENTATION is defined, in the same translation unit as aio.h's.
 *
 * How it works.  Descriptor state lives in a table indexed by fd (one
 * aio_reactor_fd per descriptor number: its reader, its writer, and what is
 * registered with the kernel), so finding the waiter of a ready event is one
 * index, whatever else is parked.  A descriptor stays registered after its
 * waiter leaves; the next wait in the same directions makes no system call.
 * The interest changes only when the set of directions waited on grows, and
 * a registration nobody waits on is dropped lazily: when the kernel next
 * reports it (or at once, by aio_notify_closing).  In the steady state a
 * loop turn with one ready fd is one epoll_wait (or kevent, or poll) and
 * nothing else.  kqueue changes are queued and handed to the next kevent
 * wait; poll keeps its pollfd array between turns.  Readiness is
 * level-triggered.  The wait always suspends (trio's wait_readable), and the
 * backend is polled at most once per loop turn: with timeout 0 while tasks
 * are runnable, else until the next timer deadline (rounded up to the
 * backend's resolution, clamped to an hour), or without limit when only fds
 * or the wake path can wake a task.  With the virtual clock the loop polls
 * with timeout 0 first and jumps the clock only if no fd was ready.
 *
 * Special cases:
 *  - Closing an fd: call aio_notify_closing(loop, fd) before close() on any
 *    descriptor the loop has waited on (not only while a task waits): every
 *    task waiting on it resumes with AIO_ECLOSED and its registration is
 *    dropped.  aio_net.h and aio_proc.h do this for the descriptors they own.
 *    An fd closed without it: the kernel drops an epoll registration when
 *    the last descriptor of the file closes and a kqueue one at once; a
 *    waiter still parked stays parked until a deadline or a cancellation
 *    (poll wakes it with -EBADF).  If the number is reused, a wait whose
 *    interest must change re-registers it (ADD after ENOENT, MOD after
 *    EEXIST); a wait that finds its direction still registered trusts the
 *    registration, so close through aio_notify_closing.
 *  - dup()ed descriptors: epoll watches the file under each number, so a
 *    number closed without aio_notify_closing while a duplicate stays open
 *    keeps reporting under the old number.  Use aio_notify_closing.
 *  - Regular files (and anything epoll refuses with EPERM) are always ready:
 *    the wait is a plain schedule point, and nothing is remembered about the
 *    number (a later socket with that number registers normally).
 *  - fork(): the child calls aio_reactor_fork(&io) before it runs the loop
 *    (an epoll set is shared with the parent): fresh kernel objects, every
 *    parked waiter registered again.  Or it drops the loop with
 *    aio_loop_close, which only closes the child's copies.
 *  - Descriptors at or past the table size (AIO_REACTOR_FDS, or the size
 *    given to aio_reactor_set_fds) cannot be waited on: AIO_EOVERFLOW.
 *  - SIGPIPE: the reactor leaves signal dispositions alone; a write to a
 *    pipe or socket whose reader is gone raises SIGPIPE unless the program
 *    ignores it (or uses MSG_NOSIGNAL).
 *  - EINTR from the backend is normal: the turn ends early and the loop goes
 *    on.
 *
 * Map.  Declarations: the reactor object (aio_reactor, aio_reactor_init,
 * aio_reactor_set_fds, aio_reactor_fork), descriptor waits
 * (AIO_WAIT_READABLE / AIO_WAIT_WRITABLE, aio_notify_closing), the backend
 * fd for embedding, backend selection, then the syscall hooks of this and
 * the hosted headers.  The implementation: the epoll, kqueue and poll
 * backends, then the portable part (the seam's operations, fd waits, the
 * wake path).  A first reader needs aio_reactor_init and the two wait macros.
 */
#ifndef AIO_REACTOR_H
#define AIO_REACTOR_H

#include "aio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Backend selection.  Define one of AIO_BACKEND_EPOLL, AIO_BACKEND_KQUEUE,
 * AIO_BACKEND_POLL or AIO_BACKEND_NONE to override the automatic choice
 * (epoll on Linux, kqueue on BSD and macOS, poll on other POSIX systems,
 * none without an OS: then aio_reactor_init fails and fd waits fail with
 * AIO_EINVAL). */
#define AIO__BE_NONE 0
#define AIO__BE_EPOLL 1
#define AIO__BE_KQUEUE 2
#define AIO__BE_POLL 3
#if !AIO__HOSTED || defined(AIO_BACKEND_NONE)
#define AIO__BACKEND AIO__BE_NONE
#elif defined(AIO_BACKEND_EPOLL)
#define AIO__BACKEND AIO__BE_EPOLL
#elif defined(AIO_BACKEND_KQUEUE)
#define AIO__BACKEND AIO__BE_KQUEUE
#elif defined(AIO_BACKEND_POLL)
#define AIO__BACKEND AIO__BE_POLL
#elif defined(__linux__)
#define AIO__BACKEND AIO__BE_EPOLL
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define AIO__BACKEND AIO__BE_KQUEUE
#else
#define AIO__BACKEND AIO__BE_POLL
#endif
#if defined(AIO_TIME32) && AIO__BACKEND != AIO__BE_NONE
#error "the OS reactor needs nanosecond time: AIO_TIME32 (32-bit ticks) is a firmware option (AIO_NO_OS or AIO_BACKEND_NONE)"
#endif

/*
 * Syscall hooks.  Every system call the reactor and the wake path make here,
 * and every one aio_net.h, aio_proc.h and aio_thread.h make, is spelled
 * through a macro AIO_SYS_<name> that defaults to the function itself, so a
 * build that does not define them compiles the plain calls (no cost, no
 * global).  A program (a fault-injection test, a tracer) defines some of them
 * before including the headers in its implementation translation unit, each
 * to a function with the same signature and the same error convention
 * (-1 and errno, or an error number for posix_spawnp and the pthread calls):
 *
 *     #define AIO_SYS_read my_read      // ssize_t my_read(int, void *, size_t)
 *     #define AIO_IMPLEMENTATION
 *     #include "aio_net.h"
 *
 * The hookable calls, by header:
 *   aio_reactor.h AIO_SYS_epoll_create1 AIO_SYS_epoll_ctl AIO_SYS_epoll_wait
 *                AIO_SYS_kqueue AIO_SYS_kevent AIO_SYS_poll AIO_SYS_eventfd
 *                AIO_SYS_pipe AIO_SYS_fcntl AIO_SYS_read AIO_SYS_write
 *                AIO_SYS_close
 *   aio_net.h    AIO_SYS_socket AIO_SYS_bind AIO_SYS_listen AIO_SYS_accept
 *                AIO_SYS_connect AIO_SYS_recv AIO_SYS_send AIO_SYS_recvfrom
 *                AIO_SYS_sendto AIO_SYS_sendmsg AIO_SYS_writev
 *                AIO_SYS_getsockopt AIO_SYS_setsockopt AIO_SYS_getsockname
 *                AIO_SYS_shutdown AIO_SYS_unlink (and fcntl, read, write,
 *                close above)
 *   aio_proc.h   AIO_SYS_posix_spawnp AIO_SYS_posix_spawn_file_actions_init
 *                AIO_SYS_posix_spawn_file_actions_adddup2
 *                AIO_SYS_posix_spawn_file_actions_addopen
 *                AIO_SYS_posix_spawn_file_actions_addchdir_np
 *                AIO_SYS_posix_spawnattr_init AIO_SYS_waitpid AIO_SYS_kill
 *                AIO_SYS_pidfd_open (pid, flags; Linux) AIO_SYS_signalfd
 *                AIO_SYS_pthread_sigmask (and pipe, fcntl, read, write, close)
 *   aio_thread.h AIO_SYS_pthread_create AIO_SYS_pthread_join
 *                AIO_SYS_pthread_mutex_init AIO_SYS_pthread_cond_init
 *                AIO_SYS_pthread_sigmask AIO_SYS_open AIO_SYS_pread
 *                AIO_SYS_pwrite (and close)
 * Not hooked: the clock (clock_gettime; replace it with aio_config.clock),
 * the short sleeps of the backend-less idle step and of aio_loop_close
 * (nanosleep), the pthread mutex and condition operations, and name
 * resolution (getaddrinfo).
 * A hook may be called from the loop's thread, from pool workers (the file
 * jobs, the wake write of aio_loop_post) and from a signal handler (the wake
 * write of aio_loop_wake), so it must be thread-safe and keep errno as the
 * real call would.  aio_net.h's per-object aio_net_ops table stays the way
 * to change one stream's calls; its default table calls the macros.  A hook
 * that fails close() should still release the descriptor, as Linux does.
 */
#ifndef AIO_SYS_epoll_create1
#define AIO_SYS_epoll_create1 epoll_create1
#endif
#ifndef AIO_SYS_epoll_ctl
#define AIO_SYS_epoll_ctl epoll_ctl
#endif
#ifndef AIO_SYS_epoll_wait
#define AIO_SYS_epoll_wait epoll_wait
#endif
#ifndef AIO_SYS_kqueue
#define AIO_SYS_kqueue kqueue
#endif
#ifndef AIO_SYS_kevent
#define AIO_SYS_kevent kevent
#endif
#ifndef AIO_SYS_poll
#define AIO_SYS_poll poll
#endif
#ifndef AIO_SYS_eventfd
#define AIO_SYS_eventfd eventfd
#endif
#ifndef AIO_SYS_pipe
#define AIO_SYS_pipe pipe
#endif
#ifndef AIO_SYS_fcntl
#define AIO_SYS_fcntl fcntl
#endif
#ifndef AIO_SYS_read
#define AIO_SYS_read read
#endif
#ifndef AIO_SYS_write
#define AIO_SYS_write write
#endif
#ifndef AIO_SYS_close
#define AIO_SYS_close close
#endif

/** Readiness directions. */
#define AIO_READABLE 1u
#define AIO_WRITABLE 2u

/** Name of the compiled backend: "epoll", "kqueue", "poll" or "none". */
#if AIO__BACKEND == AIO__BE_EPOLL
#define AIO_BACKEND_NAME "epoll"
#elif AIO__BACKEND == AIO__BE_KQUEUE
#define AIO_BACKEND_NAME "kqueue"
#elif AIO__BACKEND == AIO__BE_POLL
#define AIO_BACKEND_NAME "poll"
#else
#define AIO_BACKEND_NAME "none"
#endif

/** Entries of the fd table built into aio_reactor: descriptors 0 to
 * AIO_REACTOR_FDS - 1 can be waited on (aio_reactor_set_fds for more). */
#ifndef AIO_REACTOR_FDS
#define AIO_REACTOR_FDS 1024
#endif

/** Poll backend: most descriptors watched at once, the wake descriptor
 * included (the pollfd array is part of aio_reactor). */
#ifndef AIO_POLL_MAX
#define AIO_POLL_MAX 1024
#endif

/* kqueue backend: registration changes queued for the next kevent call. */
#define AIO__KQ_CHANGES 64

/**
 * The reactor's state for one descriptor number, an entry of the fd table
 * (caller storage for aio_reactor_set_fds; zero it or let the call do so).
 */
typedef struct aio_reactor_fd {
    /* private: no field is API */
    aio_task *w[2];   /* the parked reader ([0]) and writer ([1]), or NULL */
    uint8_t reg;      /* directions registered with the kernel (epoll, kqueue) */
    uint8_t spare;
    uint16_t slot;    /* poll: index in the pollfd array, 0 = none */
} aio_reactor_fd;

/* A pollfd, laid out as POSIX systems declare it (checked where the
 * implementation is compiled). */
typedef struct aio__pollfd { int fd; short events, revents; } aio__pollfd;
/* A queued kqueue change. */
typedef struct aio__kqch { int fd; short filter; unsigned short flags; } aio__kqch;

/**
 * The OS reactor of one loop: caller-owned, initialised with
 * aio_reactor_init after aio_loop_init, alive as long as the loop runs.
 * The fields before the private: line are API (read-only): a test or
 * benchmark may read them.
 */
typedef struct aio_reactor {
    uint32_t parked;         /* tasks parked on descriptors */
    uint32_t waits;          /* counter: backend waits that made a system call */
    uint32_t changes;        /* counter: registration changes sent to the kernel */
    uint32_t eintr;          /* counter: backend waits interrupted by a signal */
    /* private: the fields below are not API */
    aio_loop *loop;
    aio_reactor_fd *fds;     /* the fd table, indexed by descriptor number */
    uint32_t nfds;           /* its entries */
    int bfd;                 /* epoll/kqueue descriptor, -1 until first use */
    int wake_rd, wake_wr;    /* eventfd (twice) or pipe ends, -1 when not armed */
    int wakers;              /* aio_loop_wake calls in progress (other threads); atomic */
#if AIO__BACKEND == AIO__BE_POLL
    uint32_t npfd;           /* pollfd entries in use; [0] is the wake descriptor */
    aio__pollfd pfd[AIO_POLL_MAX];
#elif AIO__BACKEND == AIO__BE_KQUEUE
    uint32_t nch;            /* queued changes */
    aio__kqch ch[AIO__KQ_CHANGES];
#endif
    aio_reactor_fd fd_store[AIO_REACTOR_FDS]; /* the built-in table */
} aio_reactor;

/**
 * Creates the OS reactor of `loop` in `io` (caller storage) and installs it
 * as the loop's backend (aio_loop_set_backend).  Call it right after
 * aio_loop_init (which forgets any backend), on the loop's thread.  Kernel
 * objects are created on first use.  Returns 0, or AIO_EINVAL (NULL
 * argument; backend "none": no OS reactor in this build).
 */
AIO_API int aio_reactor_init(aio_reactor *io, aio_loop *loop);

/**
 * Replaces the built-in fd table with caller storage of `n` entries, for
 * descriptors up to n - 1 (zeroed here).  Call it while no task waits on a
 * descriptor.  Returns 0, AIO_EINVAL (NULL argument or n == 0) or
 * AIO_EBUSY (tasks parked on descriptors).
 */
AIO_API int aio_reactor_set_fds(aio_reactor *io, aio_reactor_fd *table, uint32_t n);

/**
 * In the child after fork(): gives the reactor kernel objects of its own
 * (a new epoll or kqueue set and wake descriptor, closing the child's copies
 * of the inherited ones) and registers every parked waiter again.  Call it
 * before the child runs the loop.  Returns 0 or -errno.
 */
AIO_API int aio_reactor_fork(aio_reactor *io);

/**
 * trio.lowlevel.wait_readable / anyio.wait_readable (asyncio: loop.add_reader):
 * suspends until `fd` is readable (or at EOF, or in error), then rc = 0.
 * Always suspends at least until the next backend poll.  Errors, with
 * nothing parked afterwards: AIO_ECANCELED (cancelled or a deadline of an
 * enclosing scope passed), AIO_ECLOSED (aio_notify_closing), AIO_EBUSY
 * (another task already waits for the same direction on `fd`), AIO_EINVAL
 * (negative fd; a loop without a reactor: an assertion under AIO_DEBUG that
 * says to call aio_reactor_init; backend "none"), AIO_EOVERFLOW (fd past the
 * fd table; poll backend full), -EBADF (fd closed, poll and kqueue backends)
 * or another -errno from the backend.  A reader and a writer may wait on
 * the same fd at once.
 */
#define AIO_WAIT_READABLE(rc, fd) AIO_OP(rc, aio__fd_wait_begin(aio__await_needs_AIO_BEGIN_first, (fd), AIO_READABLE))

/** trio wait_writable / anyio wait_writable (asyncio: loop.add_writer): as AIO_WAIT_READABLE, for writing. */
#define AIO_WAIT_WRITABLE(rc, fd) AIO_OP(rc, aio__fd_wait_begin(aio__await_needs_AIO_BEGIN_first, (fd), AIO_WRITABLE))

/**
 * trio.lowlevel.notify_closing / anyio.notify_closing: wakes every task
 * waiting on `fd` with AIO_ECLOSED and drops the fd's registration from the
 * backend.  Call it before close(fd) on any descriptor the loop has waited
 * on.  Never suspends.  Returns the number of tasks woken (0 on a loop
 * without a reactor).
 */
AIO_API uint32_t aio_notify_closing(aio_loop *loop, int fd);

/**
 * Embedding: the backend descriptor (epoll or kqueue) of the loop's
 * reactor, created if needed.  It becomes readable when an awaited fd is
 * ready or aio_loop_wake was called; a host loop watches it and then calls
 * aio_loop_poll(loop, 0).  Returns the fd, AIO_EINVAL on the poll and none
 * backends or a loop without a reactor (drive those with aio_loop_poll and
 * aio_loop_next_deadline), or -errno.
 */
AIO_API int aio_loop_backend_fd(aio_loop *loop);

AIO_API int aio__fd_wait_begin(aio_task *t, int fd, unsigned dir);

#ifdef __cplusplus
}
#endif
#endif /* AIO_REACTOR_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__REACTOR_IMPLEMENTED)
#define AIO__REACTOR_IMPLEMENTED

#if AIO__BACKEND != AIO__BE_NONE /* the reactor's system interfaces */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if AIO__BACKEND == AIO__BE_EPOLL
#include <sys/epoll.h>
/* The kernel's struct epoll_event on x86-64 is 12 bytes, data at offset 4:
 * glibc declares it packed, and tcc (0.9.27) ignores that attribute, lays
 * it out in 16 bytes with data at offset 8 and reads every event's fd from
 * the wrong place.  #pragma pack, which tcc honours, gives the kernel's
 * layout to the backend's own copy of the struct. */
#if defined(__TINYC__) && defined(__x86_64__)
#pragma pack(push, 4)
typedef struct { uint32_t events; union { void *ptr; int fd; uint32_t u32; uint64_t u64; } data; } aio__epoll_ev;
#pragma pack(pop)
#else
typedef struct epoll_event aio__epoll_ev;
#endif
#define AIO__EPEV(p) ((struct epoll_event *)(void *)(p))
#elif AIO__BACKEND == AIO__BE_KQUEUE && !defined(AIO_KQUEUE_DOUBLE) /* tests supply a kevent double */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#elif AIO__BACKEND == AIO__BE_POLL
#include <poll.h>
#endif
#if defined(__linux__) && AIO__BACKEND != AIO__BE_KQUEUE && !defined(AIO_WAKE_PIPE)
#define AIO__WAKE_EVENTFD 1
#include <sys/eventfd.h>
#else
#define AIO__WAKE_EVENTFD 0
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if AIO__BACKEND != AIO__BE_NONE

/*
 * Every backend provides the same functions, in its own section below:
 *   aio__be_open(io)           create the kernel object if needed; 0 or -errno
 *   aio__be_watch(io, fd, e)   make the kernel watch at least what e's waiters
 *                              want, called when a wait adds a direction the
 *                              registration lacks; 0, AIO__ALWAYS_READY (the
 *                              fd cannot be watched and is always ready), or
 *                              -errno
 *   aio__be_left(io, fd, e)    a waiter left e (woken, cancelled): poll
 *                              updates its array; epoll and kqueue do nothing
 *                              (the registration lingers, dropped lazily)
 *   aio__be_forget(io, fd, e)  drop e's registration now (aio_notify_closing)
 *   aio__be_wait(io, timeout)  one wait; wakes the ready waiters; >= 0,
 *                              AIO_EAGAIN on EINTR, or -errno
 *   aio__be_wake_add(io)       watch the wake descriptor; 0 or -errno
 * The portable part keeps the fd table and owns the wake descriptor.
 */

#define AIO__ALWAYS_READY 1
#define AIO__BATCH 256 /* events taken from epoll/kqueue per wait */

/* An fd wait is encoded in the parked frame's wait pointer: fd * 4 + direction. */
static int aio__fdw_fd(const aio_task *t) { return (int)((uintptr_t)t->top->wait.ptr >> 2); }
static unsigned aio__fdw_dir(const aio_task *t) { return (unsigned)((uintptr_t)t->top->wait.ptr & 3u); }

/* Directions some task waits for on e. */
static unsigned aio__fd_want(const aio_reactor_fd *e)
{
    return (e->w[0] ? AIO_READABLE : 0u) | (e->w[1] ? AIO_WRITABLE : 0u);
}

/* epoll/poll take milliseconds: round up so a timer is never polled for early. */
AIO__UNUSED static int aio__timeout_ms(aio_time timeout)
{
    if (timeout == AIO_TIME_INF)
        return -1;
    if (timeout <= 0)
        return 0;
    return (int)((timeout + 999999) / 1000000);
}

/* Wakes the waiter of e in direction slot (0 read, 1 write) with rc. */
static void aio__fd_wake(aio_reactor *io, aio_reactor_fd *e, unsigned slot, int rc)
{
    aio_task *t = e->w[slot];
    e->w[slot] = NULL;
    io->parked--;
    aio_reschedule(t, rc);
}

/* Wakes the waiters of fd whose direction is in `ready`; returns the
 * directions still awaited. */
static unsigned aio__fd_ready(aio_reactor *io, aio_reactor_fd *e, unsigned ready, int rc)
{
    if ((ready & AIO_READABLE) && e->w[0])
        aio__fd_wake(io, e, 0, rc);
    if ((ready & AIO_WRITABLE) && e->w[1])
        aio__fd_wake(io, e, 1, rc);
    return aio__fd_want(e);
}

/* Reads the wake descriptor once: an eventfd read takes the whole count; a
 * pipe holds one byte per unconsumed wake, far fewer than the buffer. */
AIO__UNUSED static void aio__wake_read(aio_reactor *io)
{
    char buf[256];
    ssize_t r = AIO_SYS_read(io->wake_rd, buf, sizeof buf);
    (void)r;
}

/* Sets the descriptor non-blocking and close-on-exec. */
AIO__UNUSED static int aio__fd_setup(int fd)
{
    int fl = AIO_SYS_fcntl(fd, F_GETFL);
    if (fl < 0 || AIO_SYS_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || AIO_SYS_fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

/* ---- backend: epoll (Linux) --------------------------------------------- */
#if AIO__BACKEND == AIO__BE_EPOLL

static int aio__be_open(aio_reactor *io)
{
    if (io->bfd >= 0)
        return 0;
    io->bfd = AIO_SYS_epoll_create1(EPOLL_CLOEXEC);
    return io->bfd < 0 ? -errno : 0;
}

/* One registration per fd carries the union of both directions.  Sets the
 * interest to `now`; ADD and MOD fall back to each other when the kernel
 * knows better (a number closed and reused behind the loop's back). */
static int aio__ep_set(aio_reactor *io, int fd, aio_reactor_fd *e, unsigned now)
{
    aio__epoll_ev ev;
    int op;
    if (now == e->reg)
        return 0;
    memset(&ev, 0, sizeof ev);
    ev.events = ((now & AIO_READABLE) ? (uint32_t)EPOLLIN : 0u) | ((now & AIO_WRITABLE) ? (uint32_t)EPOLLOUT : 0u);
    ev.data.fd = fd;
    op = !e->reg ? EPOLL_CTL_ADD : !now ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    io->changes++;
    if (AIO_SYS_epoll_ctl(io->bfd, op, fd, AIO__EPEV(&ev)) != 0) {
        int err = errno;
        if (op == EPOLL_CTL_DEL) {
            e->reg = 0; /* closed already, or never there: the kernel holds nothing */
            return 0;
        }
        if (op == EPOLL_CTL_ADD && err == EPERM)
            return AIO__ALWAYS_READY; /* regular files, directories: always ready */
        if (err != (op == EPOLL_CTL_ADD ? EEXIST : ENOENT))
            return -err;
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        io->changes++;
        if (AIO_SYS_epoll_ctl(io->bfd, op, fd, AIO__EPEV(&ev)) != 0)
            return (op == EPOLL_CTL_ADD && errno == EPERM) ? AIO__ALWAYS_READY : -errno;
    }
    e->reg = (uint8_t)now;
    return 0;
}

static int aio__be_watch(aio_reactor *io, int fd, aio_reactor_fd *e, unsigned want)
{
    return aio__ep_set(io, fd, e, want);
}

/* Drops fd from the epoll set whatever the table believes (an event for a
 * registration the table does not know, e.g. one made under an earlier
 * table, would otherwise fire at every wait). */
static void aio__ep_del(aio_reactor *io, int fd)
{
    aio__epoll_ev ev;
    memset(&ev, 0, sizeof ev);
    io->changes++;
    (void)AIO_SYS_epoll_ctl(io->bfd, EPOLL_CTL_DEL, fd, AIO__EPEV(&ev));
}

static void aio__be_left(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    (void)io; (void)fd; (void)e;
}

static void aio__be_forget(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    if (e->reg)
        aio__ep_set(io, fd, e, 0);
}

static int aio__be_wake_add(aio_reactor *io)
{
    aio__epoll_ev ev;
    memset(&ev, 0, sizeof ev);
    /* An eventfd is edge-triggered: every write is an edge, and the loop
     * never needs to read it.  A pipe is level-triggered and read once. */
    ev.events = EPOLLIN | (AIO__WAKE_EVENTFD ? (uint32_t)EPOLLET : 0u);
    ev.data.fd = io->wake_rd;
    io->changes++;
    return AIO_SYS_epoll_ctl(io->bfd, EPOLL_CTL_ADD, io->wake_rd, AIO__EPEV(&ev)) == 0 ? 0 : -errno;
}

static int aio__be_wait(aio_reactor *io, aio_time timeout)
{
    aio__epoll_ev ev[AIO__BATCH];
    int n, i;
    io->waits++;
    n = AIO_SYS_epoll_wait(io->bfd, AIO__EPEV(ev), AIO__BATCH, aio__timeout_ms(timeout));
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        io->eintr++;
        return AIO_EAGAIN;
    }
    for (i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        uint32_t m = ev[i].events;
        unsigned ready = 0, unwanted, want;
        aio_reactor_fd *e;
        if (fd == io->wake_rd) {
            if (!AIO__WAKE_EVENTFD)
                aio__wake_read(io);
            continue;
        }
        if ((uint32_t)fd >= io->nfds) {
            aio__ep_del(io, fd); /* registered under an earlier, larger table */
            continue;
        }
        e = &io->fds[fd];
        if (m & (EPOLLERR | EPOLLHUP))
            ready = AIO_READABLE | AIO_WRITABLE; /* both sides will see the error */
        if (m & EPOLLIN)
            ready |= AIO_READABLE;
        if (m & EPOLLOUT)
            ready |= AIO_WRITABLE;
        /* Lazy removal: a direction reported that nobody waits for is
         * dropped from the registration, so it cannot fire again; an fd
         * nobody waits on at all goes from the set. */
        want = aio__fd_want(e);
        unwanted = ready & e->reg & ~want;
        aio__fd_ready(io, e, ready, 0);
        if (!want) {
            aio__ep_del(io, fd);
            e->reg = 0;
        } else if (unwanted) {
            aio__ep_set(io, fd, e, e->reg & ~unwanted);
        }
    }
    return n;
}

static void aio__be_close(aio_reactor *io)
{
    if (io->bfd >= 0)
        AIO_SYS_close(io->bfd);
    io->bfd = -1;
}

/* ---- backend: kqueue (BSD, macOS) --------------------------------------- */
#elif AIO__BACKEND == AIO__BE_KQUEUE

static int aio__be_open(aio_reactor *io)
{
    int rc;
    if (io->bfd >= 0)
        return 0;
    io->bfd = AIO_SYS_kqueue();
    if (io->bfd < 0)
        return -errno;
    rc = AIO_SYS_fcntl(io->bfd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0;
    if (rc) {
        AIO_SYS_close(io->bfd);
        io->bfd = -1;
    }
    return rc;
}

static short aio__kq_filter(unsigned dir)
{
    return dir == AIO_READABLE ? (short)EVFILT_READ : (short)EVFILT_WRITE;
}

/* Hands the queued changes to the kernel one at a time (after a batch
 * failed): a failed addition wakes its waiter with the error; a failed
 * removal means the kernel dropped the knote with its fd already. */
static void aio__kq_apply_each(aio_reactor *io)
{
    uint32_t i, n = io->nch;
    io->nch = 0;
    for (i = 0; i < n; i++) {
        struct kevent c;
        aio__kqch *q = &io->ch[i];
        EV_SET(&c, (uintptr_t)q->fd, q->filter, q->flags, 0, 0, NULL);
        io->changes++;
        if (AIO_SYS_kevent(io->bfd, &c, 1, NULL, 0, NULL) != 0 && (q->flags & EV_ADD)) {
            int err = -errno;
            unsigned slot = q->filter == EVFILT_READ ? 0u : 1u;
            if ((uint32_t)q->fd < io->nfds) {
                aio_reactor_fd *e = &io->fds[q->fd];
                e->reg &= (uint8_t)~(1u << slot);
                if (e->w[slot])
                    aio__fd_wake(io, e, slot, err);
            }
        }
    }
}

/* Queues one change for the next kevent call (flushing a full queue). */
static void aio__kq_queue(aio_reactor *io, int fd, unsigned dir, unsigned short flags)
{
    aio__kqch *q;
    if (io->nch == AIO__KQ_CHANGES)
        aio__kq_apply_each(io);
    q = &io->ch[io->nch++];
    q->fd = fd;
    q->filter = aio__kq_filter(dir);
    q->flags = flags;
}

/* One filter per direction: additions are queued (their errors reach the
 * waiter at the next wait); nothing is removed until the kernel reports it. */
static int aio__be_watch(aio_reactor *io, int fd, aio_reactor_fd *e, unsigned want)
{
    unsigned add = want & ~e->reg, d;
    for (d = AIO_READABLE; d <= AIO_WRITABLE; d <<= 1)
        if (add & d)
            aio__kq_queue(io, fd, d, EV_ADD);
    e->reg |= (uint8_t)add;
    return 0;
}

static void aio__be_left(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    (void)io; (void)fd; (void)e;
}

/* Before close(): the queued changes for fd go, and its knotes are deleted
 * now, while the fd is still open (dup()ed files keep knotes otherwise). */
static void aio__be_forget(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    struct kevent c[2];
    int n = 0;
    uint32_t i = 0;
    unsigned kern = e->reg; /* what the kernel holds once the queue is undone */
    while (i < io->nch) {
        if (io->ch[i].fd == fd) {
            unsigned d = io->ch[i].filter == EVFILT_READ ? AIO_READABLE : AIO_WRITABLE;
            kern = (io->ch[i].flags & EV_ADD) ? kern & ~d : kern | d;
            io->ch[i] = io->ch[--io->nch];
        } else {
            i++;
        }
    }
    if (kern & AIO_READABLE)
        EV_SET(&c[n++], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    if (kern & AIO_WRITABLE)
        EV_SET(&c[n++], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    e->reg = 0;
    if (n && io->bfd >= 0) {
        io->changes += (uint32_t)n;
        if (AIO_SYS_kevent(io->bfd, c, n, NULL, 0, NULL) != 0 && n == 2) {
            /* one knote was gone already: delete the other alone */
            AIO_SYS_kevent(io->bfd, &c[0], 1, NULL, 0, NULL);
            AIO_SYS_kevent(io->bfd, &c[1], 1, NULL, 0, NULL);
        }
    }
}

static int aio__be_wake_add(aio_reactor *io)
{
    struct kevent c;
    EV_SET(&c, (uintptr_t)io->wake_rd, EVFILT_READ, EV_ADD, 0, 0, NULL);
    io->changes++;
    return AIO_SYS_kevent(io->bfd, &c, 1, NULL, 0, NULL) == 0 ? 0 : -errno;
}

static int aio__be_wait(aio_reactor *io, aio_time timeout)
{
    struct kevent ev[AIO__BATCH], ch[AIO__KQ_CHANGES];
    struct timespec ts, *tp = NULL;
    int n, i, nch = (int)io->nch;
    if (timeout != AIO_TIME_INF) {
        ts.tv_sec = (time_t)(timeout / 1000000000);
        ts.tv_nsec = (long)(timeout % 1000000000);
        tp = &ts;
    }
    for (i = 0; i < nch; i++)
        EV_SET(&ch[i], (uintptr_t)io->ch[i].fd, io->ch[i].filter, io->ch[i].flags, 0, 0, NULL);
    io->waits++;
    io->changes += (uint32_t)nch;
    n = AIO_SYS_kevent(io->bfd, nch ? ch : NULL, nch, ev, AIO__BATCH, tp);
    if (n < 0 && errno != EINTR && nch > 0) {
        /* The call failed before it waited, possibly on a change: every
         * addition it carried fails its waiter with the error (a knote that
         * was added after all lingers and is dropped lazily). */
        int err = errno;
        for (i = 0; i < nch; i++) {
            aio__kqch *q = &io->ch[i];
            unsigned slot = q->filter == EVFILT_READ ? 0u : 1u;
            if ((q->flags & EV_ADD) && (uint32_t)q->fd < io->nfds) {
                aio_reactor_fd *e = &io->fds[q->fd];
                e->reg &= (uint8_t)~(1u << slot);
                if (e->w[slot])
                    aio__fd_wake(io, e, slot, -err);
            }
        }
        errno = err;
    }
    io->nch = 0;
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        io->eintr++;
        return AIO_EAGAIN;
    }
    for (i = 0; i < n; i++) {
        int fd = (int)ev[i].ident;
        unsigned ready = ev[i].filter == EVFILT_READ ? AIO_READABLE
                       : ev[i].filter == EVFILT_WRITE ? AIO_WRITABLE : 0u;
        aio_reactor_fd *e;
        if (fd == io->wake_rd && ready == AIO_READABLE) {
            aio__wake_read(io);
            continue;
        }
        if (!ready)
            continue;
        if ((uint32_t)fd >= io->nfds) {
            if (!(ev[i].flags & EV_ERROR)) /* registered under an earlier, larger table */
                aio__kq_queue(io, fd, ready, EV_DELETE);
            continue;
        }
        e = &io->fds[fd];
        if (ev[i].flags & EV_ERROR) { /* a queued change failed */
            unsigned slot = ready == AIO_READABLE ? 0u : 1u;
            if (ev[i].data == 0 || ev[i].data == ENOENT)
                continue; /* a receipt, or a removal of a knote already gone */
            e->reg &= (uint8_t)~ready;
            if (e->w[slot])
                aio__fd_wake(io, e, slot, -(int)ev[i].data);
            continue;
        }
        if (!(aio__fd_want(e) & ready)) {
            /* Lazy removal: nobody waits for this filter any more. */
            e->reg &= (uint8_t)~ready;
            aio__kq_queue(io, fd, ready, EV_DELETE);
            continue;
        }
        aio__fd_ready(io, e, ready, 0);
    }
    return n;
}

static void aio__be_close(aio_reactor *io)
{
    if (io->bfd >= 0)
        AIO_SYS_close(io->bfd);
    io->bfd = -1;
    io->nch = 0;
}

/* ---- backend: poll (any POSIX) ------------------------------------------ */
#elif AIO__BACKEND == AIO__BE_POLL

/* The pollfd array is kept between waits: one entry per watched fd (both
 * directions in one), [0] for the wake descriptor (-1, ignored, until armed);
 * an entry goes as soon as nobody waits on its fd (no system call to save). */
static int aio__be_open(aio_reactor *io)
{
    (void)io;
    return 0;
}

static short aio__poll_events(unsigned want)
{
    return (short)(((want & AIO_READABLE) ? POLLIN : 0) | ((want & AIO_WRITABLE) ? POLLOUT : 0));
}

static int aio__be_watch(aio_reactor *io, int fd, aio_reactor_fd *e, unsigned want)
{
    if (!e->slot) {
        if (io->npfd >= AIO_POLL_MAX)
            return AIO_EOVERFLOW;
        e->slot = (uint16_t)io->npfd++;
        io->pfd[e->slot].fd = fd;
        io->pfd[e->slot].revents = 0;
    }
    io->pfd[e->slot].events = aio__poll_events(want);
    e->reg = (uint8_t)want;
    return 0;
}

static void aio__be_left(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    unsigned want = aio__fd_want(e);
    uint16_t s = e->slot, last;
    (void)fd;
    e->reg = (uint8_t)want;
    if (!s)
        return;
    if (want) {
        io->pfd[s].events = aio__poll_events(want);
        return;
    }
    last = (uint16_t)(io->npfd - 1);
    if (s != last) { /* the last entry moves into the hole */
        io->pfd[s] = io->pfd[last];
        io->fds[io->pfd[s].fd].slot = s;
    }
    io->npfd--;
    e->slot = 0;
}

static void aio__be_forget(aio_reactor *io, int fd, aio_reactor_fd *e)
{
    aio__be_left(io, fd, e);
}

static int aio__be_wake_add(aio_reactor *io)
{
    io->pfd[0].fd = io->wake_rd;
    io->pfd[0].events = POLLIN;
    return 0;
}

static int aio__be_wait(aio_reactor *io, aio_time timeout)
{
    uint32_t i;
    int r;
    io->waits++;
    r = AIO_SYS_poll((struct pollfd *)(void *)io->pfd, (nfds_t)io->npfd, aio__timeout_ms(timeout));
    if (r < 0) {
        if (errno != EINTR)
            return -errno;
        io->eintr++;
        return AIO_EAGAIN;
    }
    if (io->pfd[0].revents) {
        io->pfd[0].revents = 0;
        aio__wake_read(io);
    }
    /* Downwards: an entry removed moves the last one, already seen, into its place. */
    for (i = io->npfd - 1; i >= 1; i--) {
        short re = io->pfd[i].revents;
        aio_reactor_fd *e;
        unsigned ready = 0;
        if (!re)
            continue;
        io->pfd[i].revents = 0;
        e = &io->fds[io->pfd[i].fd];
        if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
            ready |= AIO_READABLE;
        if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL))
            ready |= AIO_WRITABLE;
        aio__fd_ready(io, e, ready, (re & POLLNVAL) ? -EBADF : 0); /* POLLNVAL: fd closed */
        aio__be_left(io, io->pfd[i].fd, e);
    }
    return r;
}

static void aio__be_close(aio_reactor *io)
{
    (void)io;
}

#endif /* backends */

/* ---- the portable part: the backend seam, fd waits, the wake path ------- */

static int aio__rx_wait(void *ctx, aio_time timeout)
{
    aio_reactor *io = (aio_reactor *)ctx;
    int rc;
    /* Nothing parked and no time to wait: no system call (the loop's wake
     * flag says whether a wake arrived). */
    if (timeout == 0 && io->parked == 0)
        return 0;
    rc = aio__be_open(io);
    return rc ? rc : aio__be_wait(io, timeout);
}

static void aio__rx_wake(void *ctx)
{
    aio_reactor *io = (aio_reactor *)ctx;
    int wr;
    /* Counted in `wakers` so aio_loop_close never closes the descriptor
     * under a write (or lets the number be reused before it). */
    aio__sc_add(&io->wakers, 1);
    wr = aio__sc_load(&io->wake_wr);
    if (wr >= 0) {
        int saved = errno; /* callable from a signal handler */
        uint64_t one = 1;
        ssize_t w;
        do /* a wake lost to EINTR would leave the loop asleep */
            w = AIO_SYS_write(wr, &one, wr == io->wake_rd ? sizeof one : 1);
        while (w < 0 && errno == EINTR);
        (void)w; /* a full pipe is already readable */
        errno = saved;
    }
    aio__sc_add(&io->wakers, -1);
}

static void aio__rx_wake_close(aio_reactor *io)
{
    if (io->wake_rd >= 0)
        AIO_SYS_close(io->wake_rd);
    if (io->wake_wr >= 0 && io->wake_wr != io->wake_rd)
        AIO_SYS_close(io->wake_wr);
    io->wake_rd = io->wake_wr = -1;
#if AIO__BACKEND == AIO__BE_POLL
    io->pfd[0].fd = -1;
#endif
}

static int aio__rx_wake_enable(void *ctx)
{
    aio_reactor *io = (aio_reactor *)ctx;
    int rc, rd, wr;
    if (io->wake_rd >= 0)
        return 0;
    rc = aio__be_open(io);
    if (rc)
        return rc;
#if AIO__WAKE_EVENTFD
    rd = wr = AIO_SYS_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rd < 0)
        return -errno;
#else
    {
        int p[2];
        if (AIO_SYS_pipe(p) != 0)
            return -errno;
        rd = p[0];
        wr = p[1];
        rc = aio__fd_setup(p[0]);
        if (rc == 0)
            rc = aio__fd_setup(p[1]);
    }
#endif
    io->wake_rd = rd;
    if (rc == 0)
        rc = aio__be_wake_add(io);
    io->wake_wr = wr;
    if (rc) {
        aio__rx_wake_close(io);
        return rc;
    }
    return 0;
}

static uint32_t aio__rx_parked(void *ctx)
{
    return ((aio_reactor *)ctx)->parked;
}

static void aio__rx_close(void *ctx)
{
    aio_reactor *io = (aio_reactor *)ctx;
    int wr = aio__sc_xchg(&io->wake_wr, -1);
    /* A thread still inside aio_loop_wake may hold the old descriptor. */
    while (aio__sc_load(&io->wakers) != 0) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 10000;
        nanosleep(&ts, NULL);
    }
    aio__be_close(io);
    if (io->wake_rd >= 0)
        AIO_SYS_close(io->wake_rd);
    if (wr >= 0 && wr != io->wake_rd)
        AIO_SYS_close(wr);
    io->wake_rd = -1;
#if AIO__BACKEND == AIO__BE_POLL
    io->pfd[0].fd = -1;
#endif
    {
        /* The kernel objects are gone: nothing is registered any more. */
        uint32_t i;
        for (i = 0; i < io->nfds; i++)
            io->fds[i].reg = 0;
    }
}

static const aio_backend aio__rx_backend = {
    aio__rx_wait, aio__rx_wake, aio__rx_wake_enable, aio__rx_parked, aio__rx_close
};

/* The reactor installed on L, or NULL. */
static aio_reactor *aio__rx_of(const aio_loop *L)
{
    return L->io.be == &aio__rx_backend ? (aio_reactor *)L->io.ctx : NULL;
}

static void aio__rx_table(aio_reactor *io, aio_reactor_fd *table, uint32_t n)
{
    memset(table, 0, (size_t)n * sizeof *table);
    io->fds = table;
    io->nfds = n;
#if AIO__BACKEND == AIO__BE_POLL
    io->npfd = 1;
    io->pfd[0].fd = io->wake_rd;
    io->pfd[0].events = POLLIN;
    io->pfd[0].revents = 0;
#endif
}

AIO_IMPL int aio_reactor_init(aio_reactor *io, aio_loop *loop)
{
    if (!io || !loop)
        return AIO_EINVAL;
    memset(io, 0, sizeof *io);
    io->loop = loop;
    io->bfd = io->wake_rd = io->wake_wr = -1;
    aio__rx_table(io, io->fd_store, AIO_REACTOR_FDS);
    return aio_loop_set_backend(loop, &aio__rx_backend, io);
}

AIO_IMPL int aio_reactor_set_fds(aio_reactor *io, aio_reactor_fd *table, uint32_t n)
{
    if (!io || !table || n == 0)
        return AIO_EINVAL;
    if (io->parked)
        return AIO_EBUSY;
    /* Registrations of the old table linger in the kernel: their events
     * find no waiter and drop them (ADD after EEXIST copes meanwhile). */
    aio__rx_table(io, table, n);
    return 0;
}

AIO_IMPL int aio_reactor_fork(aio_reactor *io)
{
    int armed = io->wake_rd >= 0, rc = 0;
    uint32_t i;
    if (io->bfd >= 0)
        AIO_SYS_close(io->bfd);
    io->bfd = -1;
#if AIO__BACKEND == AIO__BE_KQUEUE
    io->nch = 0;
#endif
    aio__rx_wake_close(io);
    for (i = 0; i < io->nfds; i++)
        io->fds[i].reg = 0;
    if (armed)
        rc = aio__rx_wake_enable(io);
    if (rc == 0)
        rc = aio__be_open(io);
    for (i = 0; rc == 0 && i < io->nfds; i++) {
        aio_reactor_fd *e = &io->fds[i];
        unsigned want = aio__fd_want(e);
        if (want) {
            int r = aio__be_watch(io, (int)i, e, want);
            if (r < 0)
                rc = r;
        }
    }
    return rc;
}

/* Abort hook of an fd wait: the waiter leaves; its registration lingers
 * (a wait in the same direction soon after needs no system call). */
static int aio__fd_abort(aio_task *t, aio_waiter *w)
{
    aio_reactor *io = aio__rx_of(aio_task_loop(t));
    int fd = aio__fdw_fd(t);
    aio_reactor_fd *e = &io->fds[fd];
    (void)w;
    e->w[aio__fdw_dir(t) == AIO_READABLE ? 0 : 1] = NULL;
    io->parked--;
    aio__be_left(io, fd, e);
    return AIO_ABORT_OK;
}
static const aio_waiter aio__fd_waiter = { aio__fd_abort };

#endif /* AIO__BACKEND != AIO__BE_NONE */

#if AIO__BACKEND == AIO__BE_NONE
AIO_IMPL int aio_reactor_init(aio_reactor *io, aio_loop *loop)
{
    (void)io; (void)loop;
    return AIO_EINVAL;
}
AIO_IMPL int aio_reactor_set_fds(aio_reactor *io, aio_reactor_fd *table, uint32_t n)
{
    (void)io; (void)table; (void)n;
    return AIO_EINVAL;
}
AIO_IMPL int aio_reactor_fork(aio_reactor *io)
{
    (void)io;
    return AIO_EINVAL;
}
#endif

AIO_IMPL int aio__fd_wait_begin(aio_task *t, int fd, unsigned dir)
{
    int rc;
    if (fd < 0)
        return AIO_EINVAL;
    rc = aio_check_cancel(t);
    if (rc)
        return rc;
#if AIO__BACKEND == AIO__BE_NONE
    (void)dir;
    return AIO_EINVAL;
#else
    {
        aio_loop *L = aio_task_loop(t);
        aio_reactor *io = aio__rx_of(L);
        aio_reactor_fd *e;
        unsigned slot = dir == AIO_READABLE ? 0u : 1u;
        AIO__ASSERT(L, io != NULL, "AIO_WAIT_READABLE/AIO_WAIT_WRITABLE: the loop has no reactor (call aio_reactor_init after aio_loop_init)");
        if (!io)
            return AIO_EINVAL;
        if ((uint32_t)fd >= io->nfds)
            return AIO_EOVERFLOW;
        e = &io->fds[fd];
        if (e->w[slot])
            return AIO_EBUSY; /* trio's BusyResourceError: one waiter per direction */
        if (!(e->reg & dir)) {
            rc = aio__be_open(io);
            if (rc == 0)
                rc = aio__be_watch(io, fd, e, aio__fd_want(e) | dir);
            if (rc == AIO__ALWAYS_READY) {
                aio__yield(t, 1);
                return AIO_PARKED;
            }
            if (rc)
                return rc;
        }
        e->w[slot] = t;
        io->parked++;
        t->top->wait.ptr = (void *)(((uintptr_t)(unsigned)fd << 2) | dir);
        aio_park_custom(t, (aio_waiter *)&aio__fd_waiter);
        return AIO_PARKED;
    }
#endif
}

AIO_IMPL uint32_t aio_notify_closing(aio_loop *L, int fd)
{
#if AIO__BACKEND != AIO__BE_NONE
    aio_reactor *io = aio__rx_of(L);
    aio_reactor_fd *e;
    uint32_t n = 0;
    if (!io || fd < 0 || (uint32_t)fd >= io->nfds)
        return 0;
    e = &io->fds[fd];
    n = (e->w[0] != NULL) + (e->w[1] != NULL);
    aio__fd_ready(io, e, AIO_READABLE | AIO_WRITABLE, AIO_ECLOSED);
    aio__be_forget(io, fd, e);
    return n;
#else
    (void)L; (void)fd;
    return 0;
#endif
}

AIO_IMPL int aio_loop_backend_fd(aio_loop *L)
{
#if AIO__BACKEND == AIO__BE_EPOLL || AIO__BACKEND == AIO__BE_KQUEUE
    aio_reactor *io = aio__rx_of(L);
    int rc;
    if (!io)
        return AIO_EINVAL;
    rc = aio__be_open(io);
    return rc ? rc : io->bfd;
#else
    (void)L;
    return AIO_EINVAL;
#endif
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
