/*
 * tests/test_faults.c - every system call of the reactor, aio_net.h,
 * aio_proc.h and aio_thread.h made to fail, one at a time.
 *
 * The AIO_SYS_* hooks (aio.h, "Syscall hooks") route each call through a
 * counting wrapper here.  A scenario first runs clean, which counts the calls
 * of each kind (per thread role: the loop's thread, or a pool worker); then
 * for each kind, each k = 1..N of that kind and each plausible errno of it
 * (and a short transfer for reads and writes), the scenario runs again with
 * only the k-th call of that kind failing.  Every run must:
 *  - succeed when the fault is one the library must absorb (EINTR, EAGAIN
 *    on a non-blocking descriptor, a short read or write, any failure of the
 *    backend wait), and then with exactly the expected bytes;
 *  - otherwise succeed or return a negative code that names the failure
 *    (never the scenario's hang deadline);
 *  - leave as many descriptors open as before (entries of /proc/self/fd),
 *    no child process unreaped, no fd waiter or timer in the loop, and the
 *    loop closable without AIO_EBUSY.
 * A failed set-up call (socket, bind, listen, getsockname, connect, pipe,
 * eventfd, epoll_create1, a spawn step, signalfd, pthread_create, the mutex
 * and condition inits, open) must come out as its own -errno.
 *
 * Scenarios: an echo session (aio_server and a client, three round trips of
 * growing size) over loopback TCP and over a Unix socket, UDP datagrams,
 * subprocess communicate through `cat` (input larger than a pipe), a child
 * flooding its stdout while the read fails, AIO_TO_THREAD with a pool (a
 * computation and a file written and read back through aio_file_op), a
 * blocking portal called from another thread, the reactor itself (an fd
 * wait, a timer, the wake descriptor and aio_loop_post), and a signal
 * watcher.  tests/test_faults_poll.c runs the same on the poll backend.
 * AIO_FAULTS_VERBOSE=1 prints the outcome of every run.
 *
 * Real I/O runs on the real clock under an aio_fail_after deadline that only
 * a hang can reach; the reactor and signal scenarios use the virtual clock.
 * alarm() is the last-resort watchdog of the whole program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the hooks ------------------------------------------------------------ */

static ssize_t w_read(int fd, void *buf, size_t n);
static ssize_t w_write(int fd, const void *buf, size_t n);
static int w_close(int fd);
static int w_fcntl(int fd, int cmd, ...);
static int w_pipe(int p[2]);
static int w_eventfd(unsigned int v, int flags);
static int w_epoll_create1(int flags);
static int w_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
static int w_epoll_wait(int epfd, struct epoll_event *ev, int n, int ms);
static int w_poll(struct pollfd *p, nfds_t n, int ms);
static int w_socket(int d, int t, int p);
static int w_bind(int fd, const struct sockaddr *sa, socklen_t len);
static int w_listen(int fd, int backlog);
static int w_accept(int fd, struct sockaddr *sa, socklen_t *len);
static int w_connect(int fd, const struct sockaddr *sa, socklen_t len);
static ssize_t w_recv(int fd, void *buf, size_t n, int flags);
static ssize_t w_send(int fd, const void *buf, size_t n, int flags);
static int w_getsockopt(int fd, int lv, int name, void *v, socklen_t *len);
static int w_setsockopt(int fd, int lv, int name, const void *v, socklen_t len);
static int w_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
static int w_shutdown(int fd, int how);
static int w_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *at, char *const argv[], char *const envp[]);
static int w_fa_init(posix_spawn_file_actions_t *fa);
static int w_fa_adddup2(posix_spawn_file_actions_t *fa, int fd, int to);
static int w_fa_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path, int fl, mode_t mode);
static int w_attr_init(posix_spawnattr_t *at);
static pid_t w_waitpid(pid_t pid, int *st, int opts);
static int w_kill(pid_t pid, int sig);
static int w_pidfd_open(pid_t pid, unsigned flags);
static int w_pthread_create(pthread_t *th, const pthread_attr_t *at, void *(*fn)(void *), void *arg);
static int w_pthread_join(pthread_t th, void **ret);
static int w_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
static int w_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
static int w_open(const char *path, int fl, ...);
static ssize_t w_pread(int fd, void *buf, size_t n, off_t at);
static ssize_t w_pwrite(int fd, const void *buf, size_t n, off_t at);
static int w_signalfd(int fd, const sigset_t *set, int flags);
static int w_sigmask(int how, const sigset_t *set, sigset_t *old);
static ssize_t w_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa, socklen_t len);
static ssize_t w_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len);

#define AIO_SYS_read w_read
#define AIO_SYS_write w_write
#define AIO_SYS_close w_close
#define AIO_SYS_fcntl w_fcntl
#define AIO_SYS_pipe w_pipe
#define AIO_SYS_eventfd w_eventfd
#define AIO_SYS_epoll_create1 w_epoll_create1
#define AIO_SYS_epoll_ctl w_epoll_ctl
#define AIO_SYS_epoll_wait w_epoll_wait
#define AIO_SYS_poll w_poll
#define AIO_SYS_socket w_socket
#define AIO_SYS_bind w_bind
#define AIO_SYS_listen w_listen
#define AIO_SYS_accept w_accept
#define AIO_SYS_connect w_connect
#define AIO_SYS_recv w_recv
#define AIO_SYS_send w_send
#define AIO_SYS_getsockopt w_getsockopt
#define AIO_SYS_setsockopt w_setsockopt
#define AIO_SYS_getsockname w_getsockname
#define AIO_SYS_shutdown w_shutdown
#define AIO_SYS_posix_spawnp w_posix_spawnp
#define AIO_SYS_posix_spawn_file_actions_init w_fa_init
#define AIO_SYS_posix_spawn_file_actions_adddup2 w_fa_adddup2
#define AIO_SYS_posix_spawn_file_actions_addopen w_fa_addopen
#define AIO_SYS_posix_spawnattr_init w_attr_init
#define AIO_SYS_waitpid w_waitpid
#define AIO_SYS_kill w_kill
#define AIO_SYS_pidfd_open w_pidfd_open
#define AIO_SYS_pthread_create w_pthread_create
#define AIO_SYS_pthread_join w_pthread_join
#define AIO_SYS_pthread_mutex_init w_mutex_init
#define AIO_SYS_pthread_cond_init w_cond_init
#define AIO_SYS_open w_open
#define AIO_SYS_pread w_pread
#define AIO_SYS_pwrite w_pwrite
#define AIO_SYS_signalfd w_signalfd
#define AIO_SYS_pthread_sigmask w_sigmask
#define AIO_SYS_sendto w_sendto
#define AIO_SYS_recvfrom w_recvfrom

#define AIO_IMPLEMENTATION
#include "../aio_proc.h"
#include "../aio_net.h"
#include "../aio_thread.h"
#include "harness.h"

/* ---- the fault plan ------------------------------------------------------- */

enum {
    K_read, K_write, K_close, K_fcntl, K_pipe, K_eventfd, K_epoll_create1, K_epoll_ctl, K_epoll_wait, K_poll,
    K_socket, K_bind, K_listen, K_accept, K_connect, K_recv, K_send, K_getsockopt, K_setsockopt, K_getsockname,
    K_shutdown, K_spawn, K_fa_init, K_fa_adddup2, K_fa_addopen, K_attr_init, K_waitpid, K_kill, K_pidfd_open,
    K_pthread_create, K_pthread_join, K_mutex_init, K_cond_init, K_open, K_pread, K_pwrite, K_signalfd,
    K_sigmask, K_sendto, K_recvfrom, NKIND
};
static const char *const kind_names[NKIND] = {
    "read", "write", "close", "fcntl", "pipe", "eventfd", "epoll_create1", "epoll_ctl", "epoll_wait", "poll",
    "socket", "bind", "listen", "accept", "connect", "recv", "send", "getsockopt", "setsockopt", "getsockname",
    "shutdown", "posix_spawnp", "file_actions_init", "file_actions_adddup2", "file_actions_addopen",
    "spawnattr_init", "waitpid", "kill", "pidfd_open", "pthread_create", "pthread_join", "pthread_mutex_init",
    "pthread_cond_init", "open", "pread", "pwrite", "signalfd", "pthread_sigmask", "sendto", "recvfrom"
};

/* A slot is a kind on the loop's thread (kind) or on any other thread
 * (NKIND + kind): the pool's calls keep their own count. */
#define NSLOT (2 * NKIND)
#define SHORT 0 /* as an errno: the call moves half of what was asked */

static struct {
    pthread_t loop_thread;
    int armed, slot, err;
    long k;
    long count[NSLOT];
    int fired;
} F;
static pthread_mutex_t F_mu = PTHREAD_MUTEX_INITIALIZER;

/* Counts a call; 1: fail it with F.err, 2: make it short, 0: run it. */
static int flt(int kind)
{
    int slot = pthread_equal(pthread_self(), F.loop_thread) ? kind : NKIND + kind, hit;
    pthread_mutex_lock(&F_mu);
    F.count[slot]++;
    hit = F.armed && slot == F.slot && F.count[slot] == F.k;
    if (hit)
        F.fired = 1;
    pthread_mutex_unlock(&F_mu);
    return hit ? (F.err == SHORT ? 2 : 1) : 0;
}

#define FAIL_WITH_ERRNO(kind) \
    do { if (flt(kind) == 1) { errno = F.err; return -1; } } while (0)
#define FAIL_WITH_CODE(kind) \
    do { if (flt(kind) == 1) return F.err; } while (0)

static ssize_t w_read(int fd, void *buf, size_t n)
{
    switch (flt(K_read)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 16) n /= 2; break; /* an eventfd takes 8 bytes or more */
    default: break;
    }
    return read(fd, buf, n);
}
static ssize_t w_write(int fd, const void *buf, size_t n)
{
    switch (flt(K_write)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 8) n /= 2; break;
    default: break;
    }
    return write(fd, buf, n);
}
static int w_close(int fd)
{
    if (flt(K_close) == 1) { /* Linux releases the descriptor even then */
        close(fd);
        errno = F.err;
        return -1;
    }
    return close(fd);
}
static int w_fcntl(int fd, int cmd, ...)
{
    int arg = 0, has = cmd == F_SETFL || cmd == F_SETFD;
    if (has) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    FAIL_WITH_ERRNO(K_fcntl);
    return has ? fcntl(fd, cmd, arg) : fcntl(fd, cmd);
}
static int w_pipe(int p[2]) { FAIL_WITH_ERRNO(K_pipe); return pipe(p); }
AIO__UNUSED static int w_eventfd(unsigned int v, int flags) { FAIL_WITH_ERRNO(K_eventfd); return eventfd(v, flags); }
AIO__UNUSED static int w_epoll_create1(int flags) { FAIL_WITH_ERRNO(K_epoll_create1); return epoll_create1(flags); }
AIO__UNUSED static int w_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    FAIL_WITH_ERRNO(K_epoll_ctl);
    return epoll_ctl(epfd, op, fd, ev);
}
AIO__UNUSED static int w_epoll_wait(int epfd, struct epoll_event *ev, int n, int ms)
{
    FAIL_WITH_ERRNO(K_epoll_wait);
    return epoll_wait(epfd, ev, n, ms);
}
AIO__UNUSED static int w_poll(struct pollfd *p, nfds_t n, int ms) { FAIL_WITH_ERRNO(K_poll); return poll(p, n, ms); }
static int w_socket(int d, int t, int p) { FAIL_WITH_ERRNO(K_socket); return socket(d, t, p); }
static int w_bind(int fd, const struct sockaddr *sa, socklen_t len) { FAIL_WITH_ERRNO(K_bind); return bind(fd, sa, len); }
static int w_listen(int fd, int backlog) { FAIL_WITH_ERRNO(K_listen); return listen(fd, backlog); }
static int w_accept(int fd, struct sockaddr *sa, socklen_t *len) { FAIL_WITH_ERRNO(K_accept); return accept(fd, sa, len); }
static int w_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    FAIL_WITH_ERRNO(K_connect);
    return connect(fd, sa, len);
}
static ssize_t w_recv(int fd, void *buf, size_t n, int flags)
{
    switch (flt(K_recv)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 1) n /= 2; break;
    default: break;
    }
    return recv(fd, buf, n, flags);
}
static ssize_t w_send(int fd, const void *buf, size_t n, int flags)
{
    switch (flt(K_send)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 1) n /= 2; break;
    default: break;
    }
    return send(fd, buf, n, flags);
}
static int w_getsockopt(int fd, int lv, int name, void *v, socklen_t *len)
{
    FAIL_WITH_ERRNO(K_getsockopt);
    return getsockopt(fd, lv, name, v, len);
}
static int w_setsockopt(int fd, int lv, int name, const void *v, socklen_t len)
{
    FAIL_WITH_ERRNO(K_setsockopt);
    return setsockopt(fd, lv, name, v, len);
}
static int w_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    FAIL_WITH_ERRNO(K_getsockname);
    return getsockname(fd, sa, len);
}
static int w_shutdown(int fd, int how) { FAIL_WITH_ERRNO(K_shutdown); return shutdown(fd, how); }
static int w_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
    FAIL_WITH_CODE(K_spawn);
    return posix_spawnp(pid, file, fa, at, argv, envp);
}
static int w_fa_init(posix_spawn_file_actions_t *fa) { FAIL_WITH_CODE(K_fa_init); return posix_spawn_file_actions_init(fa); }
static int w_fa_adddup2(posix_spawn_file_actions_t *fa, int fd, int to)
{
    FAIL_WITH_CODE(K_fa_adddup2);
    return posix_spawn_file_actions_adddup2(fa, fd, to);
}
static int w_fa_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path, int fl, mode_t mode)
{
    FAIL_WITH_CODE(K_fa_addopen);
    return posix_spawn_file_actions_addopen(fa, fd, path, fl, mode);
}
static int w_attr_init(posix_spawnattr_t *at) { FAIL_WITH_CODE(K_attr_init); return posix_spawnattr_init(at); }
static pid_t w_waitpid(pid_t pid, int *st, int opts) { FAIL_WITH_ERRNO(K_waitpid); return waitpid(pid, st, opts); }
static int w_kill(pid_t pid, int sig) { FAIL_WITH_ERRNO(K_kill); return kill(pid, sig); }
static int w_pidfd_open(pid_t pid, unsigned flags)
{
    FAIL_WITH_ERRNO(K_pidfd_open);
    return (int)syscall(SYS_pidfd_open, (long)pid, (long)flags);
}
static int w_pthread_create(pthread_t *th, const pthread_attr_t *at, void *(*fn)(void *), void *arg)
{
    FAIL_WITH_CODE(K_pthread_create);
    return pthread_create(th, at, fn, arg);
}
static int w_pthread_join(pthread_t th, void **ret) { flt(K_pthread_join); return pthread_join(th, ret); }
static int w_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    FAIL_WITH_CODE(K_mutex_init);
    return pthread_mutex_init(m, a);
}
static int w_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    FAIL_WITH_CODE(K_cond_init);
    return pthread_cond_init(c, a);
}
static int w_open(const char *path, int fl, ...)
{
    mode_t mode = 0;
    if (fl & O_CREAT) {
        va_list ap;
        va_start(ap, fl);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    FAIL_WITH_ERRNO(K_open);
    return open(path, fl, mode);
}
static ssize_t w_pread(int fd, void *buf, size_t n, off_t at)
{
    switch (flt(K_pread)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 1) n /= 2; break;
    default: break;
    }
    return pread(fd, buf, n, at);
}
static ssize_t w_pwrite(int fd, const void *buf, size_t n, off_t at)
{
    switch (flt(K_pwrite)) {
    case 1: errno = F.err; return -1;
    case 2: if (n > 1) n /= 2; break;
    default: break;
    }
    return pwrite(fd, buf, n, at);
}

static int w_signalfd(int fd, const sigset_t *set, int flags)
{
    FAIL_WITH_ERRNO(K_signalfd);
    return signalfd(fd, set, flags);
}
static int w_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    FAIL_WITH_CODE(K_sigmask);
    return pthread_sigmask(how, set, old);
}

static ssize_t w_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa, socklen_t len)
{
    FAIL_WITH_ERRNO(K_sendto);
    return sendto(fd, buf, n, flags, sa, len);
}
static ssize_t w_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
    FAIL_WITH_ERRNO(K_recvfrom);
    return recvfrom(fd, buf, n, flags, sa, len);
}

/* The errnos a call of each kind can plausibly fail with (SHORT: a short
 * transfer), 0-terminated after the first entry.  Kinds the scenarios make
 * but that no plausible errno fits (pthread_join) have none. */
#define END (-1)
static const int plausible[NKIND][7] = {
    [K_read] = { EINTR, EAGAIN, EIO, SHORT, END },
    [K_write] = { EINTR, EAGAIN, EPIPE, ENOSPC, SHORT, END },
    [K_close] = { EINTR, EIO, END },
    [K_fcntl] = { EBADF, END },
    [K_pipe] = { EMFILE, ENFILE, END },
    [K_eventfd] = { EMFILE, ENOMEM, END },
    [K_epoll_create1] = { EMFILE, ENOMEM, END },
    [K_epoll_ctl] = { ENOMEM, ENOSPC, END },
    [K_epoll_wait] = { EINTR, END },
    [K_poll] = { EINTR, ENOMEM, END },
    [K_socket] = { EMFILE, ENOBUFS, END },
    [K_bind] = { EADDRINUSE, END },
    [K_listen] = { EADDRINUSE, END },
    [K_accept] = { EINTR, EAGAIN, EMFILE, ECONNABORTED, ENOMEM, END },
    [K_connect] = { EINTR, EAGAIN, ECONNREFUSED, ENETUNREACH, END },
    [K_recv] = { EINTR, EAGAIN, ECONNRESET, ENOMEM, SHORT, END },
    [K_send] = { EINTR, EAGAIN, EPIPE, ECONNRESET, ENOBUFS, SHORT, END },
    [K_getsockopt] = { ENOBUFS, END },
    [K_setsockopt] = { ENOMEM, END },
    [K_getsockname] = { ENOBUFS, END },
    [K_shutdown] = { ENOTCONN, END },
    [K_spawn] = { EAGAIN, ENOMEM, END },
    [K_fa_init] = { ENOMEM, END },
    [K_fa_adddup2] = { ENOMEM, END },
    [K_fa_addopen] = { ENOMEM, END },
    [K_attr_init] = { ENOMEM, END },
    [K_waitpid] = { EINTR, END },
    [K_kill] = { EPERM, END },
    [K_pidfd_open] = { ENOSYS, EMFILE, END },
    [K_pthread_create] = { EAGAIN, END },
    [K_pthread_join] = { END },
    [K_mutex_init] = { ENOMEM, END },
    [K_cond_init] = { ENOMEM, END },
    [K_open] = { EMFILE, EACCES, EINTR, END },
    [K_pread] = { EINTR, EIO, SHORT, END },
    [K_pwrite] = { EINTR, ENOSPC, SHORT, END },
    [K_signalfd] = { EMFILE, ENOMEM, END },
    [K_sigmask] = { END }, /* fails only for a bad argument */
    [K_sendto] = { EINTR, EAGAIN, ENOBUFS, ECONNREFUSED, END }, /* a datagram is never short */
    [K_recvfrom] = { EINTR, EAGAIN, ENOMEM, ECONNREFUSED, END },
};

/* The errnos of a slot: a pool worker's only write is the wake of the loop
 * (an eventfd, where EAGAIN means "already readable" and nothing else
 * applies), so it gets EINTR alone. */
static const int worker_write[] = { EINTR, END };
static const int *errnos_of(int slot)
{
    return slot == NKIND + K_write ? worker_write : plausible[slot % NKIND];
}

/* Must the scenario succeed despite this fault?  EINTR and EAGAIN on the
 * calls the library retries or waits on, short transfers, and any failure of
 * the backend wait (the loop polls again). */
static int absorbed(int slot, int err)
{
    int kind = slot % NKIND;
    if (err == SHORT || kind == K_epoll_wait || kind == K_poll)
        return 1;
    switch (kind) {
    case K_read: case K_recv: case K_send: case K_accept: case K_sendto: case K_recvfrom:
        return err == EINTR || err == EAGAIN;
    case K_write:
        return err == EINTR || (err == EAGAIN && slot < NKIND); /* a pipe; a worker's write is the wake */
    case K_connect: case K_waitpid: case K_pread: case K_pwrite:
        return err == EINTR;
    default:
        return 0;
    }
}

/* Kinds whose failure must come out of the scenario as it is (-errno): the
 * calls that set something up, whose error has nowhere else to go. */
static int verbatim(int slot)
{
    switch (slot % NKIND) {
    case K_connect: case K_socket: case K_bind: case K_listen: case K_pipe: case K_eventfd: case K_epoll_create1:
    case K_spawn: case K_fa_init: case K_fa_adddup2: case K_fa_addopen: case K_attr_init: case K_pthread_create:
    case K_mutex_init: case K_cond_init: case K_open: case K_signalfd: case K_getsockname:
        return 1;
    default:
        return 0;
    }
}

/* ---- checks around each run ----------------------------------------------- */

static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static aio_loop L;
static aio_task mt;
static int hung; /* a scenario's hang deadline was reached */

/* Leaves a scenario's deadline scope, noting whether the deadline struck. */
static int deadline_exit(aio_task *t, aio_scope *sc, int rc)
{
    rc = aio_scope_exit(t, sc, rc);
    if (sc->flags & AIO__SCOPE_CANCEL_CALLED) /* only the deadline cancels it */
        hung = 1;
    return rc;
}

static void loop_init(int virtual_clock)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = virtual_clock;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    memset(&mt, 0, sizeof mt);
}

/* The end of every run: nothing of the run may be left behind. */
static void loop_done(void)
{
    CHECK(L.heap == NULL);           /* no timer */
    CHECK_EQ(test_fd_waits(&L), 0);     /* no fd waiter */
    CHECK_EQ(L.nready, 0);           /* no task still runnable */
    CHECK_EQ(L.root.live, 0);        /* no task still linked */
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* A scenario: runs once and returns its result; sets *corrupt if data came
 * back wrong. */
typedef int (*scenario_fn)(int *corrupt);

struct sweep_stats {
    long runs, fired, ok, failed;
};

/* One run with the plan armed (slot < 0: clean). */
static int run_one(scenario_fn fn, int slot, long k, int err, struct sweep_stats *st, const char *name)
{
    int before = harness_open_fds(), corrupt = 0, rc, after;
    memset(F.count, 0, sizeof F.count);
    F.fired = 0;
    F.slot = slot;
    F.k = k;
    F.err = err;
    F.armed = slot >= 0;
    hung = 0;
    rc = fn(&corrupt);
    F.armed = 0;
    after = harness_open_fds();
    st->runs++;
    st->fired += F.fired;
    if (rc == 0)
        st->ok++;
    else
        st->failed++;
    if (getenv("AIO_FAULTS_VERBOSE"))
        printf("    %s: %s#%ld%s %s -> %d (%s)%s\n", name, slot < 0 ? "clean" : kind_names[slot % NKIND], k,
               slot >= NKIND ? " (worker)" : "", slot < 0 ? "run" : err == SHORT ? "short" : strerror(err), rc, aio_strerror(rc),
               F.fired ? "" : ", not reached");
    if (corrupt || hung || before != after || !no_children() || (rc < 0 && rc == AIO_ETIMEDOUT) || rc > 0 ||
        (rc < 0 && strcmp(aio_strerror(rc), "unknown error") == 0) ||
        (rc != 0 && (slot < 0 || !F.fired || absorbed(slot, err))) ||
        (rc != 0 && verbatim(slot) && rc != -err)) {
        printf("  %s: %s#%ld%s fails with %s: rc %d (%s), corrupt %d, hung %d, fds %d -> %d\n", name,
               slot < 0 ? "clean" : kind_names[slot % NKIND], k, slot >= NKIND ? " (worker)" : "",
               err == SHORT ? "a short transfer" : strerror(err), rc, aio_strerror(rc), corrupt, hung, before, after);
        harness_failed_checks++;
    }
    return rc;
}

/* The sweep: a clean run to count calls, then every (kind, k, errno). */
static void sweep(scenario_fn fn, const char *name)
{
    struct sweep_stats st;
    long counts[NSLOT];
    int slot, i, kinds = 0;
    long k;
    memset(&st, 0, sizeof st);
    F.loop_thread = pthread_self();
    CHECK_EQ(run_one(fn, -1, 0, 0, &st, name), 0);
    memcpy(counts, F.count, sizeof counts);
    for (slot = 0; slot < NSLOT; slot++) {
        if (counts[slot])
            kinds++;
        for (k = 1; k <= counts[slot]; k++)
            for (i = 0; errnos_of(slot)[i] != END; i++)
                run_one(fn, slot, k, errnos_of(slot)[i], &st, name);
    }
    CHECK(st.runs > 1);
    printf("  %s: %d call kinds, %ld runs, %ld faults injected, %ld succeeded, %ld failed cleanly\n", name, kinds,
           st.runs, st.fired, st.ok, st.failed);
}

/* ---- (a) an echo session over loopback TCP -------------------------------- */

#define ECHO_ROUNDS 3
static const size_t echo_sizes[ECHO_ROUNDS] = { 100, 3000, 40000 };
static unsigned char echo_out[40000], echo_in[40000];

struct echo_conn {
    aio_conn conn; /* first */
    unsigned char buf[4096];
    int n;
};

static int echo_handler(aio_task *t, void *frame)
{
    struct echo_conn *f = (struct echo_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);
        if (rc == AIO_EEND)
            break;
        if (rc < 0)
            AIO_RETURN(rc);
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, (size_t)f->n);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

struct echo_client {
    aio_frame hdr;
    aio_server *srv;
    const char *path; /* a Unix socket, or NULL for TCP */
    int port, i, *corrupt;
    aio_stream s;
    aio_connect op;
    aio_linger lg;
    int rc;
    unsigned char wbuf[512];
};

static int echo_client(aio_task *t, void *frame)
{
    struct echo_client *f = (struct echo_client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    aio_stream_set_wbuffer(&f->s, f->wbuf, sizeof f->wbuf);
    if (f->path)
        AIO_UNIX_CONNECT(rc, &f->op, &f->s, f->path);
    else
        AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    for (f->i = 0; rc == 0 && f->i < ECHO_ROUNDS; f->i++) {
        /* The client writes through its buffer (small rounds stay in it
         * until the flush, large ones go direct); the server's handler
         * writes with WRITE_ALL. */
        AIO_STREAM_WRITE(rc, &f->s, echo_out, echo_sizes[f->i]);
        if (rc >= 0)
            AIO_STREAM_FLUSH(rc, &f->s);
        if (rc < 0)
            break;
        memset(echo_in, 0, sizeof echo_in);
        AIO_STREAM_READ_EXACT(rc, &f->s, echo_in, echo_sizes[f->i]);
        if (rc < 0)
            break;
        if (rc != (int)echo_sizes[f->i] || memcmp(echo_in, echo_out, echo_sizes[f->i]) != 0)
            *f->corrupt = 1;
        rc = 0;
    }
    f->rc = rc;
    if (f->s.fd >= 0) { /* ends only when the server has closed its side */
        AIO_STREAM_CLOSE_LINGER(rc, &f->lg, &f->s, AIO_SEC(5));
        if (f->rc == 0)
            f->rc = rc;
    }
    rc = f->rc;
    aio_stream_close(aio_task_loop(t), &f->s);
    aio_server_shutdown(f->srv, 0);
    AIO_END(rc);
}

static struct echo_main {
    aio_frame hdr;
    const char *path;
    int *corrupt;
    aio_listener lst;
    aio_server srv;
    struct echo_conn conns[2];
    aio_scope sc;
    aio_group g;
    aio_task server_task, client_task;
    struct echo_client client;
} em;

static int echo_main(aio_task *t, void *frame)
{
    struct echo_main *f = (struct echo_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = f->path ? aio_unix_listen(&f->lst, f->path, 8) : aio_tcp_listen(&f->lst, "127.0.0.1", 0, 8);
    if (rc)
        AIO_RETURN(rc);
    f->lst.backoff = AIO_MS(1);
    aio_server_init(&f->srv, &f->lst, f->conns, 2, sizeof f->conns[0], echo_handler);
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->client.srv = &f->srv;
    f->client.port = f->lst.port;
    f->client.path = f->path;
    f->client.corrupt = f->corrupt;
    aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);
    aio_spawn(&f->g, &f->client_task, echo_client, &f->client);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = deadline_exit(t, &f->sc, rc);
    aio_listener_close(aio_task_loop(t), &f->lst); /* closed already unless serve never ran */
    AIO_END(rc);
}

static char unix_path[64];

static int echo_run(int *corrupt, const char *path)
{
    int rc;
    loop_init(0);
    memset(&em, 0, sizeof em);
    em.corrupt = corrupt;
    em.path = path;
    rc = aio_run(&L, &mt, echo_main, &em);
    loop_done();
    if (path && unlink(path) == 0) /* the listener's close (or a failed listen) removes it */
        *corrupt = 1;
    return rc;
}

static int echo_scenario(int *corrupt)
{
    return echo_run(corrupt, NULL);
}

static int echo_unix_scenario(int *corrupt)
{
    return echo_run(corrupt, unix_path);
}

TEST(echo_session_survives_or_reports_every_single_fault)
{
    size_t i;
    for (i = 0; i < sizeof echo_out; i++)
        echo_out[i] = (unsigned char)(i * 7 + 3);
    sweep(echo_scenario, "echo");
}

TEST(unix_echo_session_survives_or_reports_every_single_fault)
{
    snprintf(unix_path, sizeof unix_path, "/tmp/aio_test_faults_%ld.sock", (long)getpid());
    sweep(echo_unix_scenario, "unix echo");
}

/* ---- (a') datagrams over loopback UDP ---------------------------------------- */

#define UDP_COUNT 3
static struct udp_main {
    aio_frame hdr;
    aio_udp a, b;
    aio_sockaddr to;
    aio_scope sc;
    aio_group g;
    aio_task tx, rx;
    int *corrupt;
} um;

struct udp_side {
    aio_frame hdr;
    int i;
    char buf[64];
};
static struct udp_side utx, urx;

static void udp_datagram(char *buf, int i)
{
    memset(buf, 'a' + i, 48);
    buf[0] = (char)i;
}

static int udp_sender(aio_task *t, void *frame)
{
    struct udp_side *f = (struct udp_side *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < UDP_COUNT; f->i++) {
        udp_datagram(f->buf, f->i);
        AIO_UDP_SENDTO(rc, &um.a, f->buf, 48, &um.to);
        if (rc < 0)
            break;
        if (rc != 48)
            *um.corrupt = 1;
        AIO_SLEEP(rc, 0); /* one datagram in flight at a time */
    }
    AIO_END(rc < 0 ? rc : 0);
}

static int udp_receiver(aio_task *t, void *frame)
{
    struct udp_side *f = (struct udp_side *)frame;
    char want[64];
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < UDP_COUNT; f->i++) {
        AIO_UDP_RECVFROM(rc, &um.b, f->buf, sizeof f->buf, NULL);
        if (rc < 0)
            break;
        udp_datagram(want, f->i);
        if (rc != 48 || memcmp(f->buf, want, 48) != 0)
            *um.corrupt = 1;
    }
    AIO_END(rc < 0 ? rc : 0);
}

static int udp_main(aio_task *t, void *frame)
{
    struct udp_main *f = (struct udp_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_udp_bind(&f->a, "127.0.0.1", 0);
    if (rc == 0)
        rc = aio_udp_bind(&f->b, "127.0.0.1", 0);
    if (rc == 0)
        rc = aio_sockaddr_ip(&f->to, "127.0.0.1", f->b.port);
    if (rc)
        goto out;
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->rx, udp_receiver, &urx);
    aio_spawn(&f->g, &f->tx, udp_sender, &utx);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = deadline_exit(t, &f->sc, rc);
out:
    aio_udp_close(aio_task_loop(t), &f->a);
    aio_udp_close(aio_task_loop(t), &f->b);
    AIO_END(rc);
}

static int udp_scenario(int *corrupt)
{
    int rc;
    loop_init(0);
    memset(&um, 0, sizeof um);
    um.a.fd = um.b.fd = -1;
    um.corrupt = corrupt;
    rc = aio_run(&L, &mt, udp_main, &um);
    loop_done();
    return rc;
}

TEST(udp_datagrams_survive_or_report_every_single_fault)
{
    sweep(udp_scenario, "udp");
}

/* ---- (b) subprocess communicate -------------------------------------------- */

#define PROC_LEN 100000 /* more than a pipe holds: both pumps must take turns */
static char proc_in[PROC_LEN], proc_out[PROC_LEN + 16];

static struct proc_main {
    aio_frame hdr;
    aio_proc p;
    aio_proc_comm c;
    aio_scope sc;
    int spawned;
} pm;

static int proc_main(aio_task *t, void *frame)
{
    struct proc_main *f = (struct proc_main *)frame;
    static const char *const argv[] = { "cat", NULL };
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.io[0] = o.io[1] = AIO_PROC_PIPE;
    o.io[2] = AIO_PROC_DEVNULL;
    rc = aio_proc_spawn(aio_task_loop(t), &f->p, &o);
    if (rc)
        AIO_RETURN(rc);
    f->spawned = 1;
    f->p.on_cancel = AIO_PROC_CANCEL_KILL;
    aio_proc_comm_init(&f->c, &f->p, proc_in, PROC_LEN, proc_out, sizeof proc_out, NULL, 0);
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    AIO_PROC_COMMUNICATE(rc, &f->c);
    rc = deadline_exit(t, &f->sc, rc);
    AIO_END(rc);
}

static int proc_scenario(int *corrupt)
{
    int rc;
    loop_init(0);
    memset(&pm, 0, sizeof pm);
    rc = aio_run(&L, &mt, proc_main, &pm);
    if (pm.spawned) {
        /* cat gives back exactly the input it took; all of it unless a
         * write failed with EPIPE, which communicate reads as "the child
         * took no more input" (asyncio's rule). */
        if (rc == 0 && (pm.c.out_len != pm.c.input_done || memcmp(proc_out, proc_in, pm.c.out_len) != 0 ||
                        pm.p.returncode != 0 ||
                        (pm.c.input_done != PROC_LEN && !(F.fired && F.slot == K_write && F.err == EPIPE))))
            *corrupt = 1;
        if (!pm.p.reaped) { /* a failed wait: the child must not outlive the check */
            kill(pm.p.pid, SIGKILL);
            waitpid(pm.p.pid, NULL, 0);
            pm.p.reaped = 1;
            if (rc == 0)
                *corrupt = 1;
        }
        aio_proc_close(&pm.p);
    }
    loop_done();
    return rc;
}

TEST(subprocess_communicate_survives_or_reports_every_single_fault)
{
    size_t i;
    for (i = 0; i < PROC_LEN; i++)
        proc_in[i] = (char)('a' + i % 23);
    sweep(proc_scenario, "communicate");
}

/* A reader that fails while the child still has much to write: the child
 * must not be left blocked on a full pipe that nobody drains (the exit wait
 * would then last until the deadline). */
static struct flood_main {
    aio_frame hdr;
    aio_proc p;
    aio_proc_comm c;
    aio_scope sc;
} fm;

static int flood_main(aio_task *t, void *frame)
{
    struct flood_main *f = (struct flood_main *)frame;
    static const char *const argv[] = { "sh", "-c",
                                        "i=0; while [ $i -lt 4000 ]; do "
                                        "echo 0123456789abcdef0123456789abcdef0123456789abcdef; i=$((i+1)); done",
                                        NULL };
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.io[0] = o.io[2] = AIO_PROC_DEVNULL;
    o.io[1] = AIO_PROC_PIPE; /* 200 kB of output, far more than the pipe holds */
    rc = aio_proc_spawn(aio_task_loop(t), &f->p, &o);
    if (rc)
        AIO_RETURN(rc);
    f->p.on_cancel = AIO_PROC_CANCEL_KILL;
    aio_proc_comm_init(&f->c, &f->p, NULL, 0, proc_out, sizeof proc_out, NULL, 0);
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    AIO_PROC_COMMUNICATE(rc, &f->c);
    rc = deadline_exit(t, &f->sc, rc);
    AIO_END(rc);
}

TEST(communicate_closes_the_pipes_when_a_read_fails)
{
    int before = harness_open_fds(), rc;
    F.loop_thread = pthread_self();
    memset(F.count, 0, sizeof F.count);
    F.slot = K_read; /* the first read of the child's output */
    F.k = 1;
    F.err = EIO;
    F.armed = 1;
    hung = 0;
    loop_init(0);
    memset(&fm, 0, sizeof fm);
    rc = aio_run(&L, &mt, flood_main, &fm);
    F.armed = 0;
    CHECK(F.fired);
    CHECK_EQ(rc, -EIO);
    CHECK_EQ(hung, 0);
    CHECK(fm.p.reaped);
    if (!fm.p.reaped) {
        kill(fm.p.pid, SIGKILL);
        waitpid(fm.p.pid, NULL, 0);
    }
    aio_proc_close(&fm.p);
    loop_done();
    CHECK_EQ(harness_open_fds(), before);
    CHECK(no_children());
}

/* ---- (c) AIO_TO_THREAD and files through the pool -------------------------- */

static char file_path[64];
static char file_out[20000], file_in[20016];

static int triple(void *arg)
{
    return 3 * *(int *)arg;
}

static struct thread_main {
    aio_frame hdr;
    aio_pool *pool;
    aio_job job;
    aio_file_op op;
    aio_scope sc;
    int x, *corrupt;
} tm;

static int thread_main(aio_task *t, void *frame)
{
    struct thread_main *f = (struct thread_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    f->x = 14;
    aio_job_init(&f->job, triple, &f->x, NULL, 0);
    AIO_TO_THREAD(rc, f->pool, &f->job);
    if (rc >= 0 && rc != 42)
        *f->corrupt = 1;
    if (rc < 0)
        goto out;
    AIO_FILE_WRITE_ALL(rc, f->pool, &f->op, file_path, file_out, sizeof file_out, NULL);
    if (rc < 0)
        goto out;
    if (rc != (int)sizeof file_out)
        *f->corrupt = 1;
    memset(file_in, 0, sizeof file_in);
    AIO_FILE_READ_ALL(rc, f->pool, &f->op, file_path, file_in, sizeof file_in, NULL);
    if (rc < 0)
        goto out;
    if (rc != (int)sizeof file_out || memcmp(file_in, file_out, sizeof file_out) != 0)
        *f->corrupt = 1;
    rc = 0;
out:
    rc = deadline_exit(t, &f->sc, rc);
    AIO_END(rc);
}

static int thread_scenario(int *corrupt)
{
    static pthread_t threads[1];
    static aio_pool pool;
    int rc;
    rc = aio_pool_init(&pool, threads, 1);
    if (rc)
        return rc;
    loop_init(0);
    memset(&tm, 0, sizeof tm);
    tm.pool = &pool;
    tm.corrupt = corrupt;
    rc = aio_run(&L, &mt, thread_main, &tm);
    aio_pool_shutdown(&pool);
    loop_done();
    unlink(file_path);
    return rc;
}

TEST(to_thread_and_file_jobs_survive_or_report_every_single_fault)
{
    size_t i;
    snprintf(file_path, sizeof file_path, "/tmp/aio_test_faults_%ld", (long)getpid());
    for (i = 0; i < sizeof file_out; i++)
        file_out[i] = (char)(i * 13 + 1);
    sweep(thread_scenario, "to_thread");
}

/* ---- (c') a blocking portal: calls into the loop from another thread -------- */

#define PORTAL_CALLS 2
static aio_portal portal;

struct portal_fn_frame {
    aio_frame hdr;
    int x;
};

static int portal_fn(aio_task *t, void *frame)
{
    struct portal_fn_frame *f = (struct portal_fn_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, 0);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_END(f->x * 3);
}

/* The calling thread: PORTAL_CALLS calls, then the stop. */
static int portal_results[PORTAL_CALLS];
static void *portal_caller(void *arg)
{
    static aio_portal_req req;
    static struct portal_fn_frame pf;
    int i;
    (void)arg;
    for (i = 0; i < PORTAL_CALLS; i++) {
        memset(&pf, 0, sizeof pf);
        pf.x = 14 + i;
        portal_results[i] = aio_portal_call(&portal, &req, portal_fn, &pf);
    }
    aio_portal_stop(&portal);
    return NULL;
}

static struct portal_main {
    aio_frame hdr;
    aio_scope sc;
    aio_group g;
    aio_task serve_task;
    pthread_t caller;
    int started;
} pom;

static int portal_main(aio_task *t, void *frame)
{
    struct portal_main *f = (struct portal_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->sc, AIO_SEC(10)); /* reached only by a hang */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->serve_task, aio_portal_serve, &portal);
    AIO_YIELD(); /* the portal opens */
    f->started = pthread_create(&f->caller, NULL, portal_caller, NULL) == 0;
    if (!f->started)
        aio_portal_stop(&portal);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = deadline_exit(t, &f->sc, rc);
    AIO_END(rc);
}

static int portal_scenario(int *corrupt)
{
    int rc, i;
    loop_init(0);
    memset(&pom, 0, sizeof pom);
    for (i = 0; i < PORTAL_CALLS; i++)
        portal_results[i] = 1;
    rc = aio_portal_init(&portal, &L);
    if (rc == 0)
        rc = aio_run(&L, &mt, portal_main, &pom);
    if (pom.started)
        pthread_join(pom.caller, NULL);
    for (i = 0; rc == 0 && i < PORTAL_CALLS; i++)
        if (portal_results[i] != 3 * (14 + i))
            *corrupt = 1;
    loop_done();
    return rc;
}

TEST(blocking_portal_survives_or_reports_every_single_fault)
{
    sweep(portal_scenario, "portal");
}

/* ---- (d) the reactor: an fd wait, a timer, the wake path -------------------- */

static struct reactor_main {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    int p[2], posted, *corrupt;
    aio_post post;
} rm;

struct reactor_child {
    aio_frame hdr;
    aio_scope sc;
    char c;
};
static struct reactor_child ra, rb;

static void on_post(aio_loop *loop, void *arg)
{
    (void)loop;
    ((struct reactor_main *)arg)->posted++;
}

/* Waits for the pipe under a deadline, then reads the byte. */
static int reactor_reader(aio_task *t, void *frame)
{
    struct reactor_child *f = (struct reactor_child *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->sc, AIO_SEC(1));
    AIO_WAIT_READABLE(rc, rm.p[0]);
    rc = deadline_exit(t, &f->sc, rc);
    if (rc < 0)
        AIO_RETURN(rc);
    if (read(rm.p[0], &f->c, 1) != 1 || f->c != 'x')
        *rm.corrupt = 1;
    AIO_END(0);
}

/* Sleeps, posts a callback through the wake path, then writes the byte. */
static int reactor_writer(aio_task *t, void *frame)
{
    struct reactor_child *f = (struct reactor_child *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(10));
    if (rc < 0)
        AIO_RETURN(rc);
    rc = aio_loop_post(aio_task_loop(t), &rm.post, on_post, &rm);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_SLEEP(rc, AIO_MS(10));
    if (rc < 0)
        AIO_RETURN(rc);
    if (write(rm.p[1], "x", 1) != 1)
        *rm.corrupt = 1;
    AIO_END(0);
}

static int reactor_main(aio_task *t, void *frame)
{
    struct reactor_main *f = (struct reactor_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_loop_wake_enable(aio_task_loop(t));
    if (rc)
        AIO_RETURN(rc);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, reactor_reader, &ra);
    aio_spawn(&f->g, &f->b, reactor_writer, &rb);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    if (rc == 0 && f->posted != 1)
        *f->corrupt = 1;
    AIO_END(rc);
}

static int reactor_scenario(int *corrupt)
{
    int rc;
    loop_init(1);
    memset(&rm, 0, sizeof rm);
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    rm.corrupt = corrupt;
    if (pipe(rm.p) != 0)
        return -errno;
    fcntl(rm.p[0], F_SETFL, O_NONBLOCK);
    rc = aio_run(&L, &mt, reactor_main, &rm);
    loop_done();
    close(rm.p[0]);
    close(rm.p[1]);
    return rc;
}

TEST(reactor_and_wake_path_survive_or_report_every_single_fault)
{
    sweep(reactor_scenario, "reactor");
}

/* ---- (e) signals through a signalfd ------------------------------------------- */

static struct signal_main {
    aio_frame hdr;
    aio_sigwatch w;
    aio_scope sc;
    aio_group g;
    aio_task raiser_task;
    int *corrupt;
} sm;

struct raiser {
    aio_frame hdr;
};
static struct raiser sr;

static volatile sig_atomic_t stray; /* a signal delivered past the watcher */
static void on_usr1(int sig)
{
    (void)sig;
    stray++;
}

/* Raises SIGUSR1 once the watcher has parked. */
static int raiser(aio_task *t, void *frame)
{
    int rc;
    AIO_BEGIN(t, frame);
    AIO_SLEEP(rc, AIO_MS(10));
    if (rc == 0)
        kill(getpid(), SIGUSR1);
    AIO_END(rc);
}

/* One signal pending before the wait, then one raised while it waits. */
static int signal_main(aio_task *t, void *frame)
{
    struct signal_main *f = (struct signal_main *)frame;
    static const int sigs[] = { SIGUSR1 };
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_signal_open(aio_task_loop(t), &f->w, sigs, 1);
    if (rc)
        AIO_RETURN(rc);
    kill(getpid(), SIGUSR1); /* blocked now: pending until the watcher reads it */
    aio_fail_after(t, &f->sc, AIO_SEC(1));
    AIO_SIGNAL_WAIT(rc, &f->w);
    if (rc > 0 && rc != SIGUSR1)
        *f->corrupt = 1;
    if (rc > 0) {
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
        aio_spawn(&f->g, &f->raiser_task, raiser, &sr);
        AIO_SIGNAL_WAIT(rc, &f->w);
        if (rc > 0 && rc != SIGUSR1)
            *f->corrupt = 1;
        AIO_GROUP_WAIT(rc, &f->g, rc < 0 ? rc : 0);
    }
    rc = deadline_exit(t, &f->sc, rc);
    aio_signal_close(&f->w);
    AIO_END(rc < 0 ? rc : 0);
}

static int signal_scenario(int *corrupt)
{
    int rc;
    loop_init(1);
    memset(&sm, 0, sizeof sm);
    sm.corrupt = corrupt;
    stray = 0;
    rc = aio_run(&L, &mt, signal_main, &sm);
    loop_done();
    if (rc == 0 && stray) /* received through the watcher, not the handler */
        *corrupt = 1;
    return rc;
}

TEST(signal_watch_survives_or_reports_every_single_fault)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* a signal left pending after a failure lands here, harmlessly */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sweep(signal_scenario, "signals");
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    alarm(600); /* last resort: a hang the scenario deadlines did not catch */
    RUN_ONCE(echo_session_survives_or_reports_every_single_fault);
    RUN_ONCE(unix_echo_session_survives_or_reports_every_single_fault);
    RUN_ONCE(udp_datagrams_survive_or_report_every_single_fault);
    RUN_ONCE(subprocess_communicate_survives_or_reports_every_single_fault);
    RUN_ONCE(communicate_closes_the_pipes_when_a_read_fails);
#if AIO__HAVE_ATOMICS /* without them (tcc) there is no aio_loop_post: no thread offload, no portal */
    RUN_ONCE(to_thread_and_file_jobs_survive_or_report_every_single_fault);
    RUN_ONCE(blocking_portal_survives_or_reports_every_single_fault);
    RUN_ONCE(reactor_and_wake_path_survive_or_report_every_single_fault);
#endif
    RUN_ONCE(signal_watch_survives_or_reports_every_single_fault);
    return harness_report();
}
