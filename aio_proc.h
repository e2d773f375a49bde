/*
 * aio_proc.h - subprocesses and signals for aio (POSIX).
 *
 * Subprocesses (asyncio.create_subprocess_exec, trio.run_process,
 * anyio.open_process): spawn a program with argv, env and cwd through
 * posix_spawn, with stdin/stdout/stderr as pipes, inherited, or /dev/null;
 * read its output and write its input as awaits on the non-blocking pipe
 * ends; wait for its exit (under any cancel scope or deadline); communicate
 * without deadlocking on full pipes; send it signals.
 *
 *     static const char *const argv[] = { "echo", "hello", NULL };
 *     aio_proc_opts o = { 0 };
 *     o.argv = argv;
 *     o.io[1] = AIO_PROC_PIPE;
 *     rc = aio_proc_spawn(aio_task_loop(t), &f->p, &o);
 *     AIO_PIPE_READ(rc, f->p.fds[1], f->buf, sizeof f->buf);   // rc = bytes, 0 at EOF
 *     AIO_PROC_WAIT(rc, &f->p);                               // rc = 0; f->p.returncode = 0
 *     aio_proc_close(&f->p);
 *
 * Exit detection goes through the reactor: a pidfd (Linux 5.3 and later)
 * becomes readable when the child exits; elsewhere, or when pidfd_open is
 * refused, the wait polls waitpid(pid, WNOHANG) on a timer whose interval
 * doubles from 1 ms while below 50 ms (ending at 64 ms).  Only our own child is ever reaped (waitpid on its pid,
 * never waitpid(-1)), so other code's children are left alone.
 *
 * Cancellation: a task cancelled (or timed out) while it waits for a child
 * in AIO_PROC_WAIT or AIO_PROC_COMMUNICATE terminates the child, as trio's
 * run_process does: by default SIGTERM, a grace period (aio_proc.grace,
 * default 5 s) in a shielded scope, then SIGKILL, and it reaps the child
 * before the await returns AIO_ECANCELED.  aio_proc.on_cancel selects
 * AIO_PROC_CANCEL_TERMINATE (default), AIO_PROC_CANCEL_KILL (SIGKILL at
 * once) or AIO_PROC_CANCEL_LEAVE (the child keeps running; wait again later).
 *
 * SIGPIPE: writing to a child that closed its stdin raises SIGPIPE; a
 * program that writes to children should ignore it (signal(SIGPIPE,
 * SIG_IGN)); the write then fails with -EPIPE, which communicate treats as
 * "the child took no more input" (as asyncio does).
 *
 * Signals (asyncio loop.add_signal_handler, trio.open_signal_receiver,
 * anyio.open_signal_receiver): aio_sigwatch blocks a set of signals in the
 * calling thread and receives them through a signalfd (Linux); a task
 * awaits the next one with AIO_SIGNAL_WAIT.  Repeats of one signal that
 * arrive before they are awaited coalesce into one delivery.
 *
 * Usage: this header includes aio_reactor.h (and aio.h) itself, and the
 * loop needs the OS reactor (aio_reactor_init).  In the implementation
 * translation unit, include the aio headers (in any order) before any
 * system header, or ask for POSIX yourself (-D_POSIX_C_SOURCE=200809L or
 * _GNU_SOURCE); the check below says so when a system header has hidden
 * the POSIX declarations.  Included first there, this header defines
 * _GNU_SOURCE on Linux.  Nothing here allocates.
 *
 * Map (declarations, then the implementation in the same order):
 *   pipe reads and writes; subprocesses (spawn, wait, communicate, signals
 *   to a child); signal receivers (aio_sigwatch).
 * A first reader needs aio_proc_spawn, AIO_PROC_WAIT and
 * AIO_PROC_COMMUNICATE.
 */
#ifndef AIO_PROC_H
#define AIO_PROC_H

#if defined(AIO_IMPLEMENTATION) && !defined(AIO_H) && !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE) && \
    !defined(_XOPEN_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE) && defined(__linux__)
#define _GNU_SOURCE
#endif
/* The declarations need POSIX (sigset_t, pid_t), which strict -std=c99
 * hides: a file that includes this header before any system header gets
 * them; one that has already included a system header must ask for them
 * itself (the check below says so). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_DEFAULT_SOURCE) && \
    !defined(_BSD_SOURCE) && !defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif

#include "aio_reactor.h"
#ifdef AIO_TIME32
#error "aio_proc.h needs nanosecond time: AIO_TIME32 (32-bit ticks) is a firmware option"
#endif
#include <signal.h>
#include <sys/types.h>

#if defined(__GLIBC__) && !defined(__USE_POSIX)
#error "aio_proc.h needs the POSIX declarations, which a system header included before it has hidden (strict -std=c99): include aio_proc.h before any system header, or compile with -D_POSIX_C_SOURCE=200809L"
#endif

/*
 * Syscall hooks: every system call here (pipe, fcntl, read, write, close of
 * aio.h's list, and the ones below) is spelled through an AIO_SYS_<name>
 * macro that defaults to the call itself; see "Syscall hooks" in aio.h.
 * AIO_SYS_pidfd_open(pid, flags) returns a descriptor or -1 with errno.
 * The posix_spawn helpers return an error number, like posix_spawnp.
 */
#ifndef AIO_SYS_posix_spawnp
#define AIO_SYS_posix_spawnp posix_spawnp
#endif
#ifndef AIO_SYS_posix_spawn_file_actions_init
#define AIO_SYS_posix_spawn_file_actions_init posix_spawn_file_actions_init
#endif
#ifndef AIO_SYS_posix_spawn_file_actions_adddup2
#define AIO_SYS_posix_spawn_file_actions_adddup2 posix_spawn_file_actions_adddup2
#endif
#ifndef AIO_SYS_posix_spawn_file_actions_addopen
#define AIO_SYS_posix_spawn_file_actions_addopen posix_spawn_file_actions_addopen
#endif
#ifndef AIO_SYS_posix_spawn_file_actions_addchdir_np
#define AIO_SYS_posix_spawn_file_actions_addchdir_np posix_spawn_file_actions_addchdir_np
#endif
#ifndef AIO_SYS_posix_spawnattr_init
#define AIO_SYS_posix_spawnattr_init posix_spawnattr_init
#endif
#ifndef AIO_SYS_waitpid
#define AIO_SYS_waitpid waitpid
#endif
#ifndef AIO_SYS_kill
#define AIO_SYS_kill kill
#endif
#ifndef AIO_SYS_pidfd_open
#define AIO_SYS_pidfd_open(pid, flags) ((int)syscall(SYS_pidfd_open, (long)(pid), (long)(flags)))
#endif
#ifndef AIO_SYS_signalfd
#define AIO_SYS_signalfd signalfd
#endif
#ifndef AIO_SYS_pthread_sigmask
#define AIO_SYS_pthread_sigmask pthread_sigmask
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Pipe reads and writes                                                     */
/* ------------------------------------------------------------------------ */

/**
 * Reads up to `cap` bytes from the non-blocking descriptor `fd` (a pipe end
 * of a child, or any non-blocking fd) into `buf` (anyio
 * ByteReceiveStream.receive, asyncio StreamReader.read(n)).  rc = bytes read
 * (> 0), 0 at end of stream, AIO_ECANCELED (nothing read), AIO_ECLOSED (fd
 * is -1, or aio_notify_closing while waiting), or -errno.  A cancel point;
 * suspends only when no data is ready (then until the fd is readable).
 */
#define AIO_PIPE_READ(rc, fd, buf, cap) AIO__PIPE_IO(rc, fd, buf, cap, 0)

/**
 * Writes up to `len` bytes of `buf` to non-blocking `fd` (anyio
 * ByteSendStream.send without the "all").  rc = bytes written (> 0, perhaps
 * fewer than len), AIO_ECANCELED (nothing written), AIO_ECLOSED, -EPIPE
 * (the reader is gone), or -errno.  A cancel point; suspends only while the
 * pipe is full.
 */
#define AIO_PIPE_WRITE(rc, fd, buf, len) AIO__PIPE_IO(rc, fd, (void *)(buf), len, 1)

/**
 * Writes all `len` bytes of `buf` (asyncio StreamWriter.write + drain).
 * `done` is a size_t lvalue that survives suspension (a frame field); it
 * counts the bytes written, also when the write fails or is cancelled part
 * way.  rc = 0 or the first error of AIO_PIPE_WRITE.
 */
#define AIO_PIPE_WRITE_ALL(rc, fd, buf, len, done) \
    do { \
        (done) = 0; \
        (rc) = 0; \
        while ((done) < (size_t)(len)) { \
            AIO_PIPE_WRITE(rc, fd, (const char *)(buf) + (done), (size_t)(len) - (done)); \
            if ((rc) < 0) \
                break; \
            (done) += (size_t)(rc); \
            (rc) = 0; \
        } \
    } while (0)

#define AIO__PIPE_IO(rc, fd, buf, n, wr) \
    do { \
        while (((rc) = aio__pipe_io_begin(aio__await_needs_AIO_BEGIN_first, (fd), (buf), (n), (wr))) == AIO_PARKED) { \
            AIO_WAIT_PARKED(rc); \
            if ((rc) < 0) \
                break; \
        } \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Subprocesses                                                              */
/* ------------------------------------------------------------------------ */

/** What a child's standard stream is connected to (aio_proc_opts.io[i]). */
enum {
    AIO_PROC_INHERIT = 0, /**< the parent's own stream (subprocess: None) */
    AIO_PROC_PIPE,        /**< a pipe; the parent's end is aio_proc.fds[i] (subprocess.PIPE) */
    AIO_PROC_DEVNULL,     /**< /dev/null (subprocess.DEVNULL) */
    AIO_PROC_STDOUT       /**< io[2] only: stderr goes where stdout goes (subprocess.STDOUT) */
};

/** What a cancelled exit wait does to the child (aio_proc.on_cancel). */
enum {
    AIO_PROC_CANCEL_TERMINATE = 0, /**< SIGTERM, aio_proc.grace, then SIGKILL; reap (trio) */
    AIO_PROC_CANCEL_KILL,          /**< SIGKILL at once; reap */
    AIO_PROC_CANCEL_LEAVE          /**< nothing: the child keeps running, unreaped */
};

/** How to start a child.  Zero-initialise, then set argv and what differs.  Every field is API. */
typedef struct aio_proc_opts {
    const char *const *argv; /**< program and arguments, NULL-terminated; argv[0] is searched in PATH */
    const char *const *envp; /**< environment, NULL-terminated; NULL inherits the parent's */
    const char *cwd;         /**< working directory of the child, or NULL */
    int io[3];               /**< stdin, stdout, stderr: AIO_PROC_INHERIT / PIPE / DEVNULL / STDOUT */
} aio_proc_opts;

typedef struct aio_proc aio_proc;

/* Frames of the exit wait (internal, embedded in aio_proc). */
typedef struct aio__proc_reap {
    aio_frame hdr;
    aio_proc *p;
    aio_time backoff;
} aio__proc_reap;
typedef struct aio__proc_waitf {
    aio_frame hdr;
    aio_proc *p;
    aio_scope sc;
    aio__proc_reap reap;
    int rc;
} aio__proc_waitf;

/**
 * A child process (asyncio.subprocess.Process, anyio Process, trio
 * Process), owned by the caller.  Filled by aio_proc_spawn.  216 bytes on
 * x86-64.
 */
struct aio_proc {
    pid_t pid;               /**< the child's pid (asyncio Process.pid) */
    int pidfd;               /**< pidfd of the child, or -1 (polling) */
    int fds[3];              /**< parent's pipe ends: [0] writes the child's stdin, [1] reads its stdout,
                                  [2] its stderr; -1 where there is no pipe */
    int returncode;          /**< once reaped: exit status, or -signal if killed (Popen.returncode) */
    int reaped;              /**< nonzero once the exit status has been collected */
    int on_cancel;           /**< AIO_PROC_CANCEL_*; set after spawn to change */
    aio_time grace;          /**< SIGTERM grace period of AIO_PROC_CANCEL_TERMINATE (default 5 s) */
    /* private: the fields below are not API */
    aio_loop *loop;
    aio__proc_waitf wf;      /* the exit wait's frame */
};

/**
 * Starts a child (asyncio.create_subprocess_exec / anyio.open_process /
 * trio.lowlevel.open_process).  Not an await: posix_spawn returns once the
 * child has been created.  The parent's pipe ends are non-blocking and
 * close-on-exec.  Returns 0, AIO_EINVAL (no argv, a bad io mode, or a cwd
 * where addchdir is unavailable), or -errno (-ENOENT: program not found,
 * -EMFILE...).  On failure nothing is left open.  Call aio_proc_close once
 * the child has been waited for.
 */
AIO_API int aio_proc_spawn(aio_loop *loop, aio_proc *p, const aio_proc_opts *opts);

/**
 * Waits for the child to exit and reaps it (asyncio Process.wait, trio
 * Process.wait).  rc = 0 (the status is in p->returncode), AIO_ECANCELED
 * (after the on_cancel policy: by default the child has been terminated and
 * reaped), or -errno.  At once, without suspending, if the child was already
 * reaped; a cancel point otherwise.  One task at a time may wait on a
 * process.  For a deadline, wrap it in aio_fail_after / aio_move_on_after.
 */
#define AIO_PROC_WAIT(rc, p) AIO_AWAIT(rc, aio__proc_wait_co, aio__proc_waitf_prep(p))

/**
 * Sends `sig` to the child (Process.send_signal).  Returns 0 (also when the
 * child has already been reaped: nothing is sent, so a recycled pid is never
 * hit), or -errno.  Never suspends.
 */
AIO_API int aio_proc_send_signal(aio_proc *p, int sig);
/** Process.terminate: aio_proc_send_signal(p, SIGTERM). */
#define aio_proc_terminate(p) aio_proc_send_signal((p), SIGTERM)
/** Process.kill: aio_proc_send_signal(p, SIGKILL). */
#define aio_proc_kill(p) aio_proc_send_signal((p), SIGKILL)

/**
 * Closes the parent's end of the child's stdin (StreamWriter.close on
 * Process.stdin): the child sees end of input.  Tasks waiting to write are
 * woken with AIO_ECLOSED.  Never suspends.  Returns 0.
 */
AIO_API int aio_proc_close_stdin(aio_proc *p);

/**
 * Closes every descriptor the process still holds (pipe ends, pidfd).
 * Returns 0, or AIO_EBUSY if the child has not been reaped yet (the
 * descriptors are closed anyway; the child stays a zombie until a
 * waitpid on it: wait before closing).
 */
AIO_API int aio_proc_close(aio_proc *p);

/**
 * State of AIO_PROC_COMMUNICATE, caller-owned (a frame field).  Prepare it
 * with aio_proc_comm_init.  1496 bytes on x86-64 (three task slots).
 */
typedef struct aio_proc_comm aio_proc_comm;
typedef struct aio__proc_pump {
    aio_frame hdr;
    aio_proc_comm *c;
    int which;
    size_t done;
    char scratch[256];
} aio__proc_pump;
struct aio_proc_comm {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is a frame) */
    aio_frame hdr;
    aio_proc *p;
    const void *input;
    size_t input_len;
    size_t input_done;            /**< API: bytes of input the child took */
    char *out, *err;
    size_t out_cap, err_cap;
    size_t out_len, err_len;      /**< API: bytes collected */
    int overflow;                 /**< API: output did not fit and was partly discarded */
    int rc;
    aio_group g;
    aio_task tasks[3];
    aio__proc_pump pumps[3];
};

/**
 * Prepares `c` for communicating with `p`: `input` (len bytes; may be NULL)
 * goes to its stdin pipe, which is then closed; its stdout and stderr pipes
 * are collected into out/err (capacity out_cap/err_cap; a NULL buffer
 * discards).  Returns 0 or AIO_EINVAL.
 */
AIO_API int aio_proc_comm_init(aio_proc_comm *c, aio_proc *p, const void *input, size_t len, char *out,
                               size_t out_cap, char *err, size_t err_cap);

/**
 * asyncio Process.communicate / trio run_process(capture_stdout=...):
 * feeds the input, collects the output and waits for the exit, with the
 * writer and the two readers as tasks of one group so a child blocked on a
 * full pipe can never deadlock against us.  rc = 0 (c->out_len,
 * c->err_len, p->returncode), AIO_EOVERFLOW (the child ran to the end, but
 * output past a buffer's capacity was discarded), AIO_ECANCELED (the
 * on_cancel policy was applied to the child), or the first I/O error (-errno;
 * -EPIPE on stdin is not an error).  After an I/O error the pipes are closed
 * before the exit wait, so a child still writing gets EPIPE (or SIGPIPE)
 * rather than blocking on a pipe nobody drains.
 */
#define AIO_PROC_COMMUNICATE(rc, c) AIO_AWAIT(rc, aio__proc_comm_co, (c))

/* ------------------------------------------------------------------------ */
/* Signals                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * A receiver of a set of signals (trio/anyio open_signal_receiver), owned by
 * the caller.  aio_signal_open blocks the signals in the calling thread
 * (call it on the loop's thread, before other threads are started, so they
 * inherit the mask; aio_thread.h's workers block every signal) and reads
 * them from a signalfd.  Children spawned by aio_proc_spawn get an empty
 * signal mask.  Linux only; elsewhere aio_signal_open returns AIO_EINVAL.
 */
typedef struct aio_sigwatch {
    /* private: no field is API; use aio_signal_open, AIO_SIGNAL_WAIT and aio_signal_close */
    aio_loop *loop;
    int fd;             /* signalfd, or -1 */
    uint64_t pending;   /* received, not yet returned: bit (signo - 1) */
    sigset_t set;       /* the signals watched */
    sigset_t old;       /* the thread's mask before aio_signal_open */
} aio_sigwatch;

/**
 * Starts receiving signals signals[0..n) (1 <= signo <= 64).  Returns 0,
 * AIO_EINVAL (bad signal, n == 0, or no signalfd), or -errno.
 */
AIO_API int aio_signal_open(aio_loop *loop, aio_sigwatch *w, const int *signals, int n);

/**
 * Waits for the next watched signal (async for signum in receiver).  rc = the
 * signal number (> 0; the lowest pending one first), AIO_ECANCELED,
 * AIO_ECLOSED, or -errno.  Repeats of a signal not yet returned coalesce
 * into one.  A cancel point; suspends only when no signal is pending.
 */
#define AIO_SIGNAL_WAIT(rc, w) \
    do { \
        while (((rc) = aio__signal_wait_begin(aio__await_needs_AIO_BEGIN_first, (w))) == AIO_PARKED) { \
            AIO_WAIT_PARKED(rc); \
            if ((rc) < 0) \
                break; \
        } \
    } while (0)

/**
 * Stops receiving: closes the signalfd and restores the thread's signal
 * mask.  Signals still pending in the kernel are then delivered to the
 * thread (with their default action unless handled); ones the watcher had
 * already read but not yet returned are dropped.
 */
AIO_API int aio_signal_close(aio_sigwatch *w);

/**
 * trio's KeyboardInterrupt handling as a task: `scope` is cancelled (reason
 * "signal") at every signal the watcher receives (open it with SIGINT for
 * Ctrl-C), so the task whose scope it is stops at its next checkpoint.  Spawn aio_signal_canceller over a zeroed
 * aio_signal_canceller_frame whose `w` was opened with SIGINT (or any set)
 * and whose `scope` points at the scope to cancel; it runs until cancelled.
 */
typedef struct aio_signal_canceller_frame {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is a frame) */
    aio_frame hdr;
    aio_sigwatch *w;  /**< API: the open receiver to read (set before spawning) */
    aio_scope *scope; /**< API: the scope to cancel at every signal (set before spawning) */
    int count;        /**< API: signals received */
} aio_signal_canceller_frame;
AIO_API int aio_signal_canceller(aio_task *t, void *frame);

/* Internals used by the macros. */
AIO_API int aio__pipe_io_begin(aio_task *t, int fd, void *buf, size_t n, int wr);
AIO_API int aio__proc_wait_co(aio_task *t, void *frame);
AIO_API int aio__proc_comm_co(aio_task *t, void *frame);
AIO_API int aio__signal_wait_begin(aio_task *t, aio_sigwatch *w);
static inline aio__proc_waitf *aio__proc_waitf_prep(aio_proc *p)
{
    p->wf.p = p;
    return &p->wf;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_PROC_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__PROC_IMPLEMENTED)
#define AIO__PROC_IMPLEMENTED

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/signalfd.h>
#include <sys/syscall.h>
#define AIO__PROC_LINUX 1
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
/* The C libraries declare syscall() and posix_spawn_file_actions_addchdir_np
 * only for _GNU_SOURCE or _DEFAULT_SOURCE (glibc: __USE_MISC, __USE_GNU).
 * A file whose first include was aio.h (which asks for POSIX alone) or a
 * header of its own has neither: the declarations below are the libraries'
 * own (glibc 2.29 and musl 1.1.24 have both functions), so the order of the
 * includes does not matter. */
#if defined(__GLIBC__) ? !defined(__USE_MISC) : !(defined(_GNU_SOURCE) || defined(_BSD_SOURCE))
extern long syscall(long number, ...);
#endif
#if defined(__GLIBC__) ? !defined(__USE_GNU) : !(defined(_GNU_SOURCE) || defined(_BSD_SOURCE))
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
#endif
#else
#define AIO__PROC_LINUX 0
#endif
#if AIO__PROC_LINUX || defined(__APPLE__)
#define AIO__PROC_CHDIR 1
#else
#define AIO__PROC_CHDIR 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

extern char **environ;

/* ---- pipe I/O ------------------------------------------------------------ */

AIO_IMPL int aio__pipe_io_begin(aio_task *t, int fd, void *buf, size_t n, int wr)
{
    ssize_t r;
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (fd < 0)
        return AIO_ECLOSED;
    if (n > (size_t)INT32_MAX)
        n = (size_t)INT32_MAX;
    do
        r = wr ? AIO_SYS_write(fd, buf, n) : AIO_SYS_read(fd, buf, n);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return (int)r;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -errno;
    rc = aio__fd_wait_begin(t, fd, wr ? AIO_WRITABLE : AIO_READABLE);
    return rc;
}

/* ---- spawning ------------------------------------------------------------ */

static int aio__proc_setup_fd(int fd)
{
    int fl = AIO_SYS_fcntl(fd, F_GETFL);
    if (fl < 0 || AIO_SYS_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || AIO_SYS_fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

static void aio__close_fd(aio_loop *loop, int *fd)
{
    if (*fd >= 0) {
        if (loop)
            aio_notify_closing(loop, *fd);
        AIO_SYS_close(*fd);
        *fd = -1;
    }
}

AIO_IMPL int aio_proc_spawn(aio_loop *loop, aio_proc *p, const aio_proc_opts *o)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int child[3] = { -1, -1, -1 };
    int i, rc = 0;
    sigset_t none, dfl;
    pid_t pid;
    static const int defaults[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM };

    if (!loop || !p || !o || !o->argv || !o->argv[0])
        return AIO_EINVAL;
    for (i = 0; i < 3; i++)
        if (o->io[i] < AIO_PROC_INHERIT || o->io[i] > AIO_PROC_STDOUT || (o->io[i] == AIO_PROC_STDOUT && i != 2))
            return AIO_EINVAL;
#if !AIO__PROC_CHDIR
    if (o->cwd)
        return AIO_EINVAL;
#endif
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->pid = -1;
    p->pidfd = -1;
    p->fds[0] = p->fds[1] = p->fds[2] = -1;
    p->grace = AIO_SEC(5);

    for (i = 0; i < 3 && rc == 0; i++) {
        int pp[2];
        if (o->io[i] != AIO_PROC_PIPE)
            continue;
        if (AIO_SYS_pipe(pp) != 0) {
            rc = -errno;
            break;
        }
        /* stdin: the child reads pp[0]; stdout/stderr: the child writes pp[1] */
        child[i] = i == 0 ? pp[0] : pp[1];
        p->fds[i] = i == 0 ? pp[1] : pp[0];
        rc = aio__proc_setup_fd(p->fds[i]);
        if (rc == 0 && AIO_SYS_fcntl(child[i], F_SETFD, FD_CLOEXEC) < 0)
            rc = -errno;
    }
    if (rc == 0) {
        /* The file actions allocate and can fail (ENOMEM): a child spawned
         * without one of them would have the wrong stdin/stdout. */
        int e = AIO_SYS_posix_spawn_file_actions_init(&fa), inited = 0;
        if (e == 0) {
            e = AIO_SYS_posix_spawnattr_init(&at);
            if (e != 0)
                posix_spawn_file_actions_destroy(&fa);
            else
                inited = 1;
        }
        for (i = 0; i < 3 && e == 0; i++) {
            if (o->io[i] == AIO_PROC_PIPE)
                e = AIO_SYS_posix_spawn_file_actions_adddup2(&fa, child[i], i);
            else if (o->io[i] == AIO_PROC_DEVNULL)
                e = AIO_SYS_posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
            else if (o->io[i] == AIO_PROC_STDOUT)
                e = AIO_SYS_posix_spawn_file_actions_adddup2(&fa, 1, 2);
        }
#if AIO__PROC_CHDIR
        if (e == 0 && o->cwd)
            e = AIO_SYS_posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
#endif
        if (e == 0) {
            sigemptyset(&none);
            sigemptyset(&dfl);
            for (i = 0; i < (int)(sizeof defaults / sizeof defaults[0]); i++)
                sigaddset(&dfl, defaults[i]);
            posix_spawnattr_setsigmask(&at, &none);
            posix_spawnattr_setsigdefault(&at, &dfl);
            posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
            e = AIO_SYS_posix_spawnp(&pid, o->argv[0], &fa, &at, (char *const *)(void *)o->argv,
                                     o->envp ? (char *const *)(void *)o->envp : environ);
        }
        rc = -e;
        if (inited) {
            posix_spawn_file_actions_destroy(&fa);
            posix_spawnattr_destroy(&at);
        }
    }
    for (i = 0; i < 3; i++)
        if (child[i] >= 0)
            AIO_SYS_close(child[i]);
    if (rc) {
        for (i = 0; i < 3; i++)
            aio__close_fd(NULL, &p->fds[i]);
        return rc;
    }
    p->pid = pid;
#if AIO__PROC_LINUX
    p->pidfd = AIO_SYS_pidfd_open(pid, 0);
    if (p->pidfd >= 0)
        AIO_SYS_fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
    else
        p->pidfd = -1; /* older kernel or refused: poll waitpid */
#endif
    return 0;
}

/* 1 if reaped now or before, 0 if still running, or -errno. */
static int aio__proc_try_reap(aio_proc *p)
{
    int st;
    pid_t r;
    if (p->reaped)
        return 1;
    if (p->pid <= 0)
        return AIO_EINVAL; /* never spawned: waitpid(-1 or 0) would reap someone else's child */
    do
        r = AIO_SYS_waitpid(p->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    p->reaped = 1;
    p->returncode = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : -1;
    return 1;
}

/* Waits until the child is reaped; rc = 0, AIO_ECANCELED or -errno. */
static int aio__proc_reap_co(aio_task *t, void *frame)
{
    aio__proc_reap *f = (aio__proc_reap *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->backoff = AIO_MS(1);
    for (;;) {
        rc = aio__proc_try_reap(f->p);
        if (rc != 0)
            AIO_RETURN(rc < 0 ? rc : 0);
        if (f->p->pidfd >= 0) {
            AIO_WAIT_READABLE(rc, f->p->pidfd);
        } else {
            AIO_SLEEP(rc, f->backoff);
            if (f->backoff < AIO_MS(50))
                f->backoff *= 2;
        }
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

AIO_IMPL int aio__proc_wait_co(aio_task *t, void *frame)
{
    aio__proc_waitf *f = (aio__proc_waitf *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->p->reaped)
        AIO_RETURN(0);
    f->reap.p = f->p;
    AIO_AWAIT(rc, aio__proc_reap_co, &f->reap);
    if (rc != AIO_ECANCELED || f->p->reaped || f->p->on_cancel == AIO_PROC_CANCEL_LEAVE)
        AIO_RETURN(rc);
    /* Cancelled while the child runs: stop it, shielded from the cancellation. */
    aio_scope_init(&f->sc);
    if (f->p->on_cancel == AIO_PROC_CANCEL_TERMINATE) {
        aio_proc_send_signal(f->p, SIGTERM);
        aio_cleanup_enter(t, &f->sc, f->p->grace);
        AIO_AWAIT(rc, aio__proc_reap_co, &f->reap);
        aio_scope_exit(t, &f->sc, rc);
        aio_scope_init(&f->sc);
    }
    if (!f->p->reaped) {
        aio_proc_send_signal(f->p, SIGKILL);
        aio_cleanup_enter(t, &f->sc, AIO_TIME_INF);
        AIO_AWAIT(rc, aio__proc_reap_co, &f->reap);
        aio_scope_exit(t, &f->sc, rc);
    }
    AIO_END(AIO_ECANCELED);
}

AIO_IMPL int aio_proc_send_signal(aio_proc *p, int sig)
{
    if (p->reaped || p->pid <= 0)
        return 0;
    return AIO_SYS_kill(p->pid, sig) == 0 ? 0 : -errno;
}

AIO_IMPL int aio_proc_close_stdin(aio_proc *p)
{
    aio__close_fd(p->loop, &p->fds[0]);
    return 0;
}

AIO_IMPL int aio_proc_close(aio_proc *p)
{
    int i;
    for (i = 0; i < 3; i++)
        aio__close_fd(p->loop, &p->fds[i]);
    aio__close_fd(p->loop, &p->pidfd);
    return p->reaped || p->pid <= 0 ? 0 : AIO_EBUSY;
}

/* ---- communicate ---------------------------------------------------------- */

AIO_IMPL int aio_proc_comm_init(aio_proc_comm *c, aio_proc *p, const void *input, size_t len, char *out,
                                size_t out_cap, char *err, size_t err_cap)
{
    if (!c || !p || (!input && len))
        return AIO_EINVAL;
    memset(c, 0, sizeof *c);
    c->p = p;
    c->input = input;
    c->input_len = len;
    c->out = out;
    c->out_cap = out ? out_cap : 0;
    c->err = err;
    c->err_cap = err ? err_cap : 0;
    return 0;
}

/* Where a reader pump puts the next bytes: the caller's buffer while it has
 * room, then the pump's scratch (discarded). */
static char *aio__pump_dst(aio__proc_pump *f)
{
    aio_proc_comm *c = f->c;
    if (f->which == 1 && c->out_len < c->out_cap)
        return c->out + c->out_len;
    if (f->which == 2 && c->err_len < c->err_cap)
        return c->err + c->err_len;
    return f->scratch;
}
static size_t aio__pump_room(aio__proc_pump *f)
{
    aio_proc_comm *c = f->c;
    if (f->which == 1 && c->out_len < c->out_cap)
        return c->out_cap - c->out_len;
    if (f->which == 2 && c->err_len < c->err_cap)
        return c->err_cap - c->err_len;
    return sizeof f->scratch;
}

static int aio__proc_pump_co(aio_task *t, void *frame)
{
    aio__proc_pump *f = (aio__proc_pump *)frame;
    aio_proc_comm *c = f->c;
    int rc;
    AIO_BEGIN(t, f);
    if (f->which == 0) {
        AIO_PIPE_WRITE_ALL(rc, c->p->fds[0], c->input, c->input_len, f->done);
        c->input_done = f->done;
        aio_proc_close_stdin(c->p);
        AIO_RETURN(rc == -EPIPE ? 0 : rc);
    }
    for (;;) {
        AIO_PIPE_READ(rc, c->p->fds[f->which], aio__pump_dst(f), aio__pump_room(f));
        if (rc <= 0)
            AIO_RETURN(rc);
        if (aio__pump_dst(f) == f->scratch)
            c->overflow = 1;
        else if (f->which == 1)
            c->out_len += (size_t)rc;
        else
            c->err_len += (size_t)rc;
    }
    AIO_END(0);
}

AIO_IMPL int aio__proc_comm_co(aio_task *t, void *frame)
{
    aio_proc_comm *c = (aio_proc_comm *)frame;
    int rc, i;
    AIO_BEGIN(t, c);
    rc = aio_group_enter(t, &c->g, AIO_GROUP_FAIL_FAST);
    if (rc)
        AIO_RETURN(rc);
    for (i = 0; i < 3; i++) {
        if (c->p->fds[i] < 0)
            continue;
        c->pumps[i].c = c;
        c->pumps[i].which = i;
        aio_spawn(&c->g, &c->tasks[i], aio__proc_pump_co, &c->pumps[i]);
    }
    AIO_GROUP_WAIT(rc, &c->g, 0);
    c->rc = rc;
    if (rc < 0) {
        /* A pump failed (or was cancelled): nobody drains the child's
         * output any more, so close our ends; a child blocked writing to a
         * full pipe then gets EPIPE (or SIGPIPE) instead of never exiting. */
        for (i = 0; i < 3; i++)
            aio__close_fd(c->p->loop, &c->p->fds[i]);
    }
    AIO_PROC_WAIT(rc, c->p); /* cancelled: the on_cancel policy applies here */
    if (c->rc == 0)
        c->rc = rc;
    if (c->rc == 0 && c->overflow)
        c->rc = AIO_EOVERFLOW;
    AIO_END(c->rc);
}

/* ---- signals ---------------------------------------------------------------- */

AIO_IMPL int aio_signal_open(aio_loop *loop, aio_sigwatch *w, const int *signals, int n)
{
    int i;
    if (!loop || !w || !signals || n <= 0)
        return AIO_EINVAL;
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->loop = loop;
    sigemptyset(&w->set);
    for (i = 0; i < n; i++) {
        if (signals[i] < 1 || signals[i] > 64 || sigaddset(&w->set, signals[i]) != 0)
            return AIO_EINVAL;
    }
#if AIO__PROC_LINUX
    {
        int rc = AIO_SYS_pthread_sigmask(SIG_BLOCK, &w->set, &w->old);
        if (rc)
            return -rc;
        w->fd = AIO_SYS_signalfd(-1, &w->set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (w->fd < 0) {
            rc = -errno;
            AIO_SYS_pthread_sigmask(SIG_SETMASK, &w->old, NULL);
            return rc;
        }
        return 0;
    }
#else
    return AIO_EINVAL;
#endif
}

AIO_IMPL int aio__signal_wait_begin(aio_task *t, aio_sigwatch *w)
{
    int rc = aio_check_cancel(t), s;
    if (rc)
        return rc;
    if (w->fd < 0)
        return AIO_ECLOSED;
#if AIO__PROC_LINUX
    for (;;) { /* drain: repeats coalesce in the pending set */
        struct signalfd_siginfo si[8];
        ssize_t r = AIO_SYS_read(w->fd, si, sizeof si);
        size_t k;
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            break;
        }
        for (k = 0; k < (size_t)r / sizeof si[0]; k++)
            if (si[k].ssi_signo >= 1 && si[k].ssi_signo <= 64)
                w->pending |= (uint64_t)1 << (si[k].ssi_signo - 1);
    }
#endif
    for (s = 1; s <= 64; s++) {
        uint64_t bit = (uint64_t)1 << (s - 1);
        if (w->pending & bit) {
            w->pending &= ~bit;
            return s;
        }
    }
    return aio__fd_wait_begin(t, w->fd, AIO_READABLE);
}

AIO_IMPL int aio_signal_close(aio_sigwatch *w)
{
    if (w->fd < 0)
        return 0;
    aio__close_fd(w->loop, &w->fd);
    AIO_SYS_pthread_sigmask(SIG_SETMASK, &w->old, NULL);
    return 0;
}

AIO_IMPL int aio_signal_canceller(aio_task *t, void *frame)
{
    aio_signal_canceller_frame *f = (aio_signal_canceller_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_SIGNAL_WAIT(rc, f->w);
        if (rc < 0)
            AIO_RETURN(rc == AIO_ECANCELED ? 0 : rc);
        f->count++;
        aio_scope_cancel(f->scope, "signal");
    }
    AIO_END(0);
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION && !AIO__PROC_IMPLEMENTED */
