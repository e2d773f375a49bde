/*
 * aio_reactor.h - the OS I/O reactor of aio.
 */
#ifndef AIO_REACTOR_H
#define AIO_REACTOR_H

#include "aio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* I/O reactor                                                               */
/* ------------------------------------------------------------------------ */

/*
 * One reactor per loop, behind four backends chosen at compile time (see
 * AIO_BACKEND_* above): epoll, kqueue, poll and none.  Readiness is
 * level-triggered.  A task waiting on an fd is registered with the backend
 * only while it is parked; the wait always suspends (trio's wait_readable),
 * and the backend is polled at most once per loop turn: with timeout 0 while
 * tasks are runnable, else until the next timer deadline (rounded up to the
 * backend's resolution, clamped to an hour), or without limit when only fds
 * or the wake path can wake a task.  With the virtual clock the loop polls
 * with timeout 0 first and jumps the clock only if no fd was ready.
 *
 * Special cases:
 *  - Closing an fd: call aio_notify_closing(loop, fd) before close(); every
 *    task waiting on it resumes with AIO_ECLOSED and its registration is
 *    dropped.  An fd closed without it: poll wakes its waiters with -EBADF;
 *    epoll and kqueue forget it silently, so its waiters stay parked until a
 *    deadline or a cancellation.
 *  - Regular files (and anything epoll refuses with EPERM) are always ready:
 *    the wait is a plain schedule point.
 *  - fork(): a child must not run a loop it inherited (an epoll set is shared
 *    with the parent).  It may call aio_loop_close on it, which only closes
 *    the child's copies of the descriptors, and start a fresh loop.
 *  - SIGPIPE: the reactor leaves signal dispositions alone; a write to a
 *    pipe or socket whose reader is gone raises SIGPIPE unless the program
 *    ignores it (or uses MSG_NOSIGNAL).
 *  - EINTR from the backend is normal: the turn ends early and the loop goes
 *    on.
 */

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
 *   aio.h        AIO_SYS_epoll_create1 AIO_SYS_epoll_ctl AIO_SYS_epoll_wait
 *                AIO_SYS_kqueue AIO_SYS_kevent AIO_SYS_poll AIO_SYS_eventfd
 *                AIO_SYS_pipe AIO_SYS_fcntl AIO_SYS_read AIO_SYS_write
 *                AIO_SYS_close
 *   aio_net.h    AIO_SYS_socket AIO_SYS_bind AIO_SYS_listen AIO_SYS_accept
 *                AIO_SYS_connect AIO_SYS_recv AIO_SYS_send AIO_SYS_recvfrom
 *                AIO_SYS_sendto AIO_SYS_getsockopt AIO_SYS_setsockopt
 *                AIO_SYS_getsockname AIO_SYS_shutdown AIO_SYS_unlink (and
 *                fcntl, read, write, close above)
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

/** Poll backend: most fd waits at once (one pollfd each, on the stack of the wait). */
#ifndef AIO_POLL_MAX
#define AIO_POLL_MAX 1024
#endif

/**
 * trio.lowlevel.wait_readable / anyio.wait_readable (asyncio: loop.add_reader):
 * suspends until `fd` is readable (or at EOF, or in error), then rc = 0.
 * Always suspends at least until the next backend poll.  Errors, with
 * nothing registered afterwards: AIO_ECANCELED (cancelled or a deadline of an
 * enclosing scope passed), AIO_ECLOSED (aio_notify_closing), AIO_EBUSY
 * (another task already waits for the same direction on `fd`), AIO_EINVAL
 * (negative fd; backend "none"), AIO_EOVERFLOW (poll backend full),
 * -EBADF (fd closed, poll backend) or another -errno from the backend.
 * A reader and a writer may wait on the same fd at once.
 */
#define AIO_WAIT_READABLE(rc, fd) AIO_OP(rc, aio__fd_wait_begin(aio__t, (fd), AIO_READABLE))

/** trio wait_writable / anyio wait_writable (asyncio: loop.add_writer): as AIO_WAIT_READABLE, for writing. */
#define AIO_WAIT_WRITABLE(rc, fd) AIO_OP(rc, aio__fd_wait_begin(aio__t, (fd), AIO_WRITABLE))

/**
 * trio.lowlevel.notify_closing / anyio.notify_closing: wakes every task
 * waiting on `fd` with AIO_ECLOSED and drops the fd from the backend.  Call
 * it before close(fd).  Never suspends.  Returns the number of tasks woken.
 */
AIO_API uint32_t aio_notify_closing(aio_loop *loop, int fd);

/**
 * Embedding: one turn for a host loop (a GUI, game or firmware super-loop).
 * Waits for I/O and cross-thread wakes for at most `timeout` ns (0: just
 * look; AIO_TIME_INF: until something happens), cut short by the next timer
 * deadline and not at all while tasks are runnable, wakes the tasks whose fds
 * are ready, runs posted callbacks, then runs one aio_loop_step.  The wait is
 * real time even on a virtual clock (which never moves by itself here).
 * Returns the number of tasks stepped, AIO_EINVAL for a negative timeout or
 * a call from inside a task (an assertion under AIO_DEBUG), or AIO_EDEADLK
 * when asked to wait forever with nothing that could ever wake a task.
 */
AIO_API int aio_loop_poll(aio_loop *loop, aio_time timeout);

/**
 * Embedding: the backend descriptor (epoll or kqueue), created if needed.
 * It becomes readable when an awaited fd is ready or aio_loop_wake was
 * called; a host loop watches it and then calls aio_loop_poll(loop, 0).
 * Returns the fd, AIO_EINVAL on the poll and none backends (drive those with
 * aio_loop_poll and aio_loop_next_deadline), or -errno.
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

#if AIO__BACKEND != AIO__BE_NONE /* the I/O reactor's system interfaces */
#include <fcntl.h>
#include <unistd.h>
#if AIO__BACKEND == AIO__BE_EPOLL
#include <sys/epoll.h>
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

static aio_task **aio__fd_bucket(aio__reactor *R, int fd)
{
    return &R->fds[(unsigned)fd % AIO_FD_BUCKETS];
}

/* Directions some task waits for on fd. */
static unsigned aio__fd_mask(aio__reactor *R, int fd)
{
    aio_task *t;
    unsigned m = 0;
    for (t = *aio__fd_bucket(R, fd); t; t = t->u.q.next)
        if (aio__fdw_fd(t) == fd)
            m |= aio__fdw_dir(t);
    return m;
}

static void aio__fd_link(aio__reactor *R, aio_task *t)
{
    aio_task **b = aio__fd_bucket(R, aio__fdw_fd(t));
    t->u.q.prev = NULL;
    t->u.q.next = *b;
    if (*b)
        (*b)->u.q.prev = t;
    *b = t;
    R->nfds++;
}

static void aio__fd_unlink(aio__reactor *R, aio_task *t)
{
    if (t->u.q.prev)
        t->u.q.prev->u.q.next = t->u.q.next;
    else
        *aio__fd_bucket(R, aio__fdw_fd(t)) = t->u.q.next;
    if (t->u.q.next)
        t->u.q.next->u.q.prev = t->u.q.prev;
    t->u.q.next = t->u.q.prev = NULL;
    R->nfds--;
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

/* Empties the wake descriptor, then clears the flag: a wake that finds the
 * flag set was issued before the clear, and its posts are already visible to
 * the aio__run_posts that follows; a later one writes the descriptor again. */
static void aio__wake_drain(aio_loop *L)
{
    aio__reactor *R = &L->reactor;
    char buf[64];
    while (AIO_SYS_read(R->wake_rd, buf, sizeof buf) > 0) {
    }
    aio__flag_xchg(&R->wake_pending, 0);
}

static int aio__be_open(aio_loop *L);
static int aio__be_update(aio_loop *L, int fd, unsigned old, unsigned now);
static int aio__be_wait(aio_loop *L, aio_time timeout);
static void aio__be_close(aio_loop *L);

/* The backend reported fd ready in the directions `ready`: wakes those
 * waiters and narrows the registration to what is still awaited.  An event
 * for an fd nobody waits on any more (its waiters left earlier in the same
 * batch) is dropped, and its interest removed so it cannot fire again. */
AIO__UNUSED static void aio__fd_dispatch(aio_loop *L, int fd, unsigned ready)
{
    aio__reactor *R = &L->reactor;
    aio_task *t, *nx;
    unsigned woke = 0, left = 0;
    for (t = *aio__fd_bucket(R, fd); t; t = nx) {
        unsigned d;
        nx = t->u.q.next;
        if (aio__fdw_fd(t) != fd)
            continue;
        d = aio__fdw_dir(t);
        if (d & ready) {
            aio__fd_unlink(R, t);
            aio_reschedule(t, 0);
            woke |= d;
        } else {
            left |= d;
        }
    }
    if (woke)
        aio__be_update(L, fd, woke | left, left);
    else if (!left && ready)
        aio__be_update(L, fd, ready, 0);
}

/* Wakes one waiter (the poll backend reports per task). */
AIO__UNUSED static void aio__fd_wake_one(aio_loop *L, aio_task *t, int rc)
{
    aio__fd_unlink(&L->reactor, t);
    aio_reschedule(t, rc);
}

/* Abort hook of an fd wait: unregister, so a cancelled wait leaves nothing. */
static int aio__fd_abort(aio_task *t, aio_waiter *w)
{
    aio_loop *L = aio_task_loop(t);
    int fd = aio__fdw_fd(t);
    unsigned d = aio__fdw_dir(t), left;
    (void)w;
    aio__fd_unlink(&L->reactor, t);
    left = aio__fd_mask(&L->reactor, fd);
    aio__be_update(L, fd, left | d, left);
    return AIO_ABORT_OK;
}
static const aio_waiter aio__fd_waiter = { aio__fd_abort };

/* Sets the descriptor non-blocking and close-on-exec. */
AIO__UNUSED static int aio__fd_setup(int fd)
{
    int fl = AIO_SYS_fcntl(fd, F_GETFL);
    if (fl < 0 || AIO_SYS_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || AIO_SYS_fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

#endif /* AIO__BACKEND != AIO__BE_NONE */

/* ---- backend: epoll (Linux) --------------------------------------------- */
#if AIO__BACKEND == AIO__BE_EPOLL

static int aio__be_open(aio_loop *L)
{
    if (L->reactor.bfd >= 0)
        return 0;
    L->reactor.bfd = AIO_SYS_epoll_create1(EPOLL_CLOEXEC);
    return L->reactor.bfd < 0 ? -errno : 0;
}

/* One registration per fd carries the union of both directions. */
static int aio__be_update(aio_loop *L, int fd, unsigned old, unsigned now)
{
    struct epoll_event ev;
    int op;
    if (old == now)
        return 0;
    memset(&ev, 0, sizeof ev);
    ev.events = ((now & AIO_READABLE) ? (uint32_t)EPOLLIN : 0u) | ((now & AIO_WRITABLE) ? (uint32_t)EPOLLOUT : 0u);
    ev.data.fd = fd;
    op = !old ? EPOLL_CTL_ADD : !now ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (AIO_SYS_epoll_ctl(L->reactor.bfd, op, fd, &ev) == 0)
        return 0;
    if (op == EPOLL_CTL_ADD && errno == EPERM)
        return AIO__ALWAYS_READY; /* regular files, directories: always ready */
    if (op == EPOLL_CTL_ADD && errno == EEXIST) /* left over from a close without notify */
        return AIO_SYS_epoll_ctl(L->reactor.bfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
    if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
        return 0; /* closed already: the kernel dropped it */
    return -errno;
}

static int aio__be_wait(aio_loop *L, aio_time timeout)
{
    aio__reactor *R = &L->reactor;
    struct epoll_event ev[AIO__BATCH];
    int n, i;
    n = AIO_SYS_epoll_wait(R->bfd, ev, AIO__BATCH, aio__timeout_ms(timeout));
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        R->eintr++;
        return 0;
    }
    for (i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        uint32_t e = ev[i].events;
        unsigned ready = 0;
        if (fd == R->wake_rd) {
            aio__wake_drain(L);
            continue;
        }
        if (e & (EPOLLERR | EPOLLHUP))
            ready = AIO_READABLE | AIO_WRITABLE; /* both sides will see the error */
        if (e & EPOLLIN)
            ready |= AIO_READABLE;
        if (e & EPOLLOUT)
            ready |= AIO_WRITABLE;
        aio__fd_dispatch(L, fd, ready);
    }
    return n;
}

static void aio__be_close(aio_loop *L)
{
    if (L->reactor.bfd >= 0)
        AIO_SYS_close(L->reactor.bfd);
    L->reactor.bfd = -1;
}

/* ---- backend: kqueue (BSD, macOS) --------------------------------------- */
#elif AIO__BACKEND == AIO__BE_KQUEUE

static int aio__be_open(aio_loop *L)
{
    int rc;
    if (L->reactor.bfd >= 0)
        return 0;
    L->reactor.bfd = AIO_SYS_kqueue();
    if (L->reactor.bfd < 0)
        return -errno;
    rc = AIO_SYS_fcntl(L->reactor.bfd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0;
    if (rc) {
        AIO_SYS_close(L->reactor.bfd);
        L->reactor.bfd = -1;
    }
    return rc;
}

/* One filter per direction: a reader and a writer are separate knotes. */
static int aio__be_update(aio_loop *L, int fd, unsigned old, unsigned now)
{
    struct kevent ch[2];
    int n = 0;
    if ((old ^ now) & AIO_READABLE) {
        EV_SET(&ch[n], (uintptr_t)fd, EVFILT_READ, (now & AIO_READABLE) ? EV_ADD : EV_DELETE, 0, 0, NULL);
        n++;
    }
    if ((old ^ now) & AIO_WRITABLE) {
        EV_SET(&ch[n], (uintptr_t)fd, EVFILT_WRITE, (now & AIO_WRITABLE) ? EV_ADD : EV_DELETE, 0, 0, NULL);
        n++;
    }
    if (n == 0 || AIO_SYS_kevent(L->reactor.bfd, ch, n, NULL, 0, NULL) == 0)
        return 0;
    if ((now & ~old) == 0 && (errno == ENOENT || errno == EBADF))
        return 0; /* removal of a knote the kernel already dropped with its fd */
    return -errno;
}

static int aio__be_wait(aio_loop *L, aio_time timeout)
{
    aio__reactor *R = &L->reactor;
    struct kevent ev[AIO__BATCH];
    struct timespec ts, *tp = NULL;
    int n, i;
    if (timeout != AIO_TIME_INF) {
        ts.tv_sec = (time_t)(timeout / 1000000000);
        ts.tv_nsec = (long)(timeout % 1000000000);
        tp = &ts;
    }
    n = AIO_SYS_kevent(R->bfd, NULL, 0, ev, AIO__BATCH, tp);
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        R->eintr++;
        return 0;
    }
    for (i = 0; i < n; i++) {
        int fd = (int)ev[i].ident;
        unsigned ready = ev[i].filter == EVFILT_READ ? AIO_READABLE
                       : ev[i].filter == EVFILT_WRITE ? AIO_WRITABLE : 0u;
        if (fd == R->wake_rd && ready == AIO_READABLE) {
            aio__wake_drain(L);
            continue;
        }
        aio__fd_dispatch(L, fd, ready);
    }
    return n;
}

static void aio__be_close(aio_loop *L)
{
    if (L->reactor.bfd >= 0)
        AIO_SYS_close(L->reactor.bfd);
    L->reactor.bfd = -1;
}

/* ---- backend: poll (any POSIX) ------------------------------------------ */
#elif AIO__BACKEND == AIO__BE_POLL

/* poll keeps no kernel state: the pollfd array is rebuilt for every wait
 * from the parked tasks, one entry per task, on the stack. */
static int aio__be_open(aio_loop *L)
{
    (void)L;
    return 0;
}

static int aio__be_update(aio_loop *L, int fd, unsigned old, unsigned now)
{
    (void)L; (void)fd; (void)old; (void)now;
    return 0;
}

static int aio__be_wait(aio_loop *L, aio_time timeout)
{
    aio__reactor *R = &L->reactor;
    struct pollfd pfd[AIO_POLL_MAX];
    aio_task *who[AIO_POLL_MAX];
    nfds_t n = 0, i;
    unsigned b;
    int r;
    if (R->wake_rd >= 0) {
        pfd[0].fd = R->wake_rd;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        who[0] = NULL;
        n = 1;
    }
    for (b = 0; b < AIO_FD_BUCKETS; b++) {
        aio_task *t;
        for (t = R->fds[b]; t && n < AIO_POLL_MAX; t = t->u.q.next) {
            pfd[n].fd = aio__fdw_fd(t);
            pfd[n].events = aio__fdw_dir(t) == AIO_READABLE ? POLLIN : POLLOUT;
            pfd[n].revents = 0;
            who[n++] = t;
        }
    }
    r = AIO_SYS_poll(pfd, n, aio__timeout_ms(timeout));
    if (r < 0) {
        if (errno != EINTR)
            return -errno;
        R->eintr++;
        return 0;
    }
    for (i = 0; i < n && r > 0; i++) {
        if (!pfd[i].revents)
            continue;
        r--;
        if (!who[i])
            aio__wake_drain(L);
        else /* any revents answers this entry's one direction; POLLNVAL: fd closed */
            aio__fd_wake_one(L, who[i], (pfd[i].revents & POLLNVAL) ? -EBADF : 0);
    }
    return (int)n;
}

static void aio__be_close(aio_loop *L)
{
    (void)L;
}

#endif /* backends */

/* ---- backend: none (firmware) and the portable entry points ------------ */

/* One reactor wait of at most `timeout` ns (AIO_TIME_INF: no limit), then the
 * wake path and posted callbacks.  Returns 0 or -errno. */
static int aio__reactor_wait(aio_loop *L, aio_time timeout)
{
    aio__reactor *R = &L->reactor;
    int rc = 0;
    if (timeout != AIO_TIME_INF && timeout > AIO__MAX_WAIT)
        timeout = AIO__MAX_WAIT;
#if AIO__BACKEND != AIO__BE_NONE
    /* Nothing registered and no time to wait: the wake flag says it all. */
    if (R->nfds != 0 || timeout != 0) {
        rc = aio__be_open(L);
        if (rc == 0) {
            R->polls++;
            rc = aio__be_wait(L, timeout);
        }
    }
    if (R->wake_rd >= 0 && aio__flag_load(&R->wake_pending))
        aio__wake_drain(L);
#else
    /* No OS: the idle hook is the wait (e.g. WFI; an interrupt ends it). */
    if (timeout != 0 && !aio__flag_load(&R->wake_pending)) {
        AIO__STAT(R->polls++);
        if (L->cfg.idle) {
            L->cfg.idle(L->cfg.idle_ctx, timeout == AIO_TIME_INF ? AIO_TIME_INF : aio__after(L, timeout));
        } else {
#if AIO__HOSTED
            struct timespec ts;
            aio_time d = (R->wake_armed && (timeout == AIO_TIME_INF || timeout > AIO_MS(1))) ? AIO_MS(1) : timeout;
            ts.tv_sec = (time_t)(d / 1000000000);
            ts.tv_nsec = (long)(d % 1000000000);
            nanosleep(&ts, NULL);
#endif
        }
    }
    aio__flag_xchg(&R->wake_pending, 0);
#endif
    aio__run_posts(L);
    return rc < 0 ? rc : 0;
}

/* The loop's idle step when the reactor has something to watch (called by
 * aio__idle).  Polls exactly once: with timeout 0 while tasks are runnable;
 * with the virtual clock, timeout 0 and then a jump to the next deadline if
 * nothing became ready (or no limit when there is no deadline); with a real
 * clock, until the next deadline.  Never reports a deadlock: an fd or a wake
 * can still arrive. */
static int aio__reactor_idle(aio_loop *L)
{
    aio_time dl = L->heap ? L->heap->deadline : AIO_TIME_INF;
    if (L->nready) {
        aio__reactor_wait(L, 0);
        return 0;
    }
    if (L->cfg.virtual_clock) {
        if (dl == AIO_TIME_INF) {
            aio__reactor_wait(L, AIO_TIME_INF);
            return 0;
        }
        {
            /* A poll that was interrupted or failed has not looked, and
             * jumping then could pass over a ready fd: poll once more first.
             * (A backend that keeps failing still lets time pass.) */
            uint32_t eintr = L->reactor.eintr;
            if ((aio__reactor_wait(L, 0) < 0 || L->reactor.eintr != eintr) && !L->nready)
                aio__reactor_wait(L, 0);
            if (!L->nready && dl > L->now)
                L->now = dl;
        }
        return 0;
    }
    {
        aio_time now = aio_loop_update_time(L);
        aio__reactor_wait(L, dl == AIO_TIME_INF ? AIO_TIME_INF : dl > now ? dl - now : 0);
    }
    return 0;
}

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
        aio__reactor *R = &L->reactor;
        unsigned old = aio__fd_mask(R, fd);
        if (old & dir)
            return AIO_EBUSY; /* trio's BusyResourceError: one waiter per direction */
#if AIO__BACKEND == AIO__BE_POLL
        if (R->nfds + 1 >= AIO_POLL_MAX)
            return AIO_EOVERFLOW;
#endif
        rc = aio__be_open(L);
        if (rc == 0)
            rc = aio__be_update(L, fd, old, old | dir);
        if (rc == AIO__ALWAYS_READY) {
            aio__yield(t, 1);
            return AIO_PARKED;
        }
        if (rc)
            return rc;
        t->top->wait.ptr = (void *)(((uintptr_t)(unsigned)fd << 2) | dir);
        aio__fd_link(R, t);
        aio_park_custom(t, (aio_waiter *)&aio__fd_waiter);
        return AIO_PARKED;
    }
#endif
}

AIO_IMPL uint32_t aio_notify_closing(aio_loop *L, int fd)
{
#if AIO__BACKEND != AIO__BE_NONE
    aio__reactor *R = &L->reactor;
    aio_task *t, *nx;
    unsigned old = 0;
    uint32_t n = 0;
    if (fd < 0)
        return 0;
    for (t = *aio__fd_bucket(R, fd); t; t = nx) {
        nx = t->u.q.next;
        if (aio__fdw_fd(t) != fd)
            continue;
        old |= aio__fdw_dir(t);
        aio__fd_unlink(R, t);
        aio_reschedule(t, AIO_ECLOSED);
        n++;
    }
    if (old)
        aio__be_update(L, fd, old, 0);
    return n;
#else
    (void)L; (void)fd;
    return 0;
#endif
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
    else if (dl != AIO_TIME_INF && (dl <= now || dl - now < timeout))
        timeout = dl > now ? dl - now : 0;
    if (timeout == AIO_TIME_INF && !aio__reactor_active(L))
        return AIO_EDEADLK;
    if (AIO__UNLIKELY(L->instruments != NULL))
        aio__instr_wait(L, 0, timeout == AIO_TIME_INF ? AIO_TIME_INF : now + timeout);
    rc = aio__reactor_wait(L, timeout);
    if (AIO__UNLIKELY(L->instruments != NULL))
        aio__instr_wait(L, 1, 0);
    if (rc < 0)
        return rc;
    return (int)aio_loop_step(L);
}

AIO_IMPL int aio_loop_backend_fd(aio_loop *L)
{
#if AIO__BACKEND == AIO__BE_EPOLL || AIO__BACKEND == AIO__BE_KQUEUE
    int rc = aio__be_open(L);
    return rc ? rc : L->reactor.bfd;
#else
    (void)L;
    return AIO_EINVAL;
#endif
}

AIO_IMPL int aio_loop_wake_enable(aio_loop *L)
{
#if AIO__BACKEND != AIO__BE_NONE
    aio__reactor *R = &L->reactor;
    int rc;
    if (R->wake_armed)
        return 0;
    rc = aio__be_open(L);
    if (rc)
        return rc;
#if AIO__WAKE_EVENTFD
    R->wake_rd = R->wake_wr = AIO_SYS_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (R->wake_rd < 0)
        rc = -errno;
#else
    {
        int p[2];
        if (AIO_SYS_pipe(p) != 0)
            return -errno;
        R->wake_rd = p[0];
        R->wake_wr = p[1];
        rc = aio__fd_setup(p[0]);
        if (rc == 0)
            rc = aio__fd_setup(p[1]);
    }
#endif
    if (rc == 0)
        rc = aio__be_update(L, R->wake_rd, 0, AIO_READABLE);
    if (rc) {
        if (R->wake_rd >= 0)
            AIO_SYS_close(R->wake_rd);
        if (R->wake_wr >= 0 && R->wake_wr != R->wake_rd)
            AIO_SYS_close(R->wake_wr);
        R->wake_rd = R->wake_wr = -1;
        return rc < 0 ? rc : AIO_EINVAL;
    }
#endif
    L->reactor.wake_armed = 1;
    return 0;
}

AIO_IMPL void aio_loop_wake(aio_loop *L)
{
    aio__reactor *R = &L->reactor;
#if AIO__BACKEND != AIO__BE_NONE
    /* Counted in `wakers` so aio_loop_close never closes the descriptor
     * under a write (or lets the number be reused before it). */
    aio__sc_add(&R->wakers, 1);
    /* Only the first wake since the loop last drained writes: coalescing. */
    if (aio__flag_xchg(&R->wake_pending, 1) == 0) {
        int wr = aio__sc_load(&R->wake_wr);
        if (wr >= 0) {
            int saved = errno; /* callable from a signal handler */
            uint64_t one = 1;
            ssize_t w;
            do /* a wake lost to EINTR would leave the loop asleep */
                w = AIO_SYS_write(wr, &one, wr == R->wake_rd ? sizeof one : 1);
            while (w < 0 && errno == EINTR);
            (void)w; /* a full pipe is already readable */
            errno = saved;
        }
    }
    aio__sc_add(&R->wakers, -1);
#else
    aio__flag_store(&R->wake_pending, 1);
#endif
}

AIO_IMPL int aio_loop_close(aio_loop *L)
{
    int busy = L->reactor.nfds != 0;
#if AIO__BACKEND != AIO__BE_NONE
    aio__reactor *R = &L->reactor;
    int wr = aio__sc_xchg(&R->wake_wr, -1);
    /* A thread still inside aio_loop_wake may hold the old descriptor. */
    while (aio__sc_load(&R->wakers) != 0) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 10000;
        nanosleep(&ts, NULL);
    }
    aio__be_close(L);
    if (R->wake_rd >= 0)
        AIO_SYS_close(R->wake_rd);
    if (wr >= 0 && wr != R->wake_rd)
        AIO_SYS_close(wr);
    R->wake_rd = -1;
#endif
    L->reactor.wake_armed = 0;
    return busy ? AIO_EBUSY : 0;
}

/* ---- end of I/O reactor ------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
