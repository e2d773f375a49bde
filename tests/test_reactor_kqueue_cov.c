/*
 * tests/test_reactor_kqueue_cov.c - the error returns of aio.h's kqueue backend and
 * of the pipe-based wake path it uses, through the kevent double of
 * tests/kqueue_double.h with failures injected on request: kqueue() and its
 * close-on-exec flag, a kevent registration and removal, a kevent wait, the
 * wake pipe and its flags.  (The fault sweeps of tests/test_faults.c cover the epoll and poll
 * backends.)  On a BSD or macOS this program has nothing to do.
 */
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#include <stdio.h>
int main(void)
{
    printf("RESULT 0 0\n");
    return 0;
}
#else

#define AIO_IMPLEMENTATION
#define AIO_BACKEND_KQUEUE
#include "kqueue_double.h"
#include <stdarg.h>

/* Each hook fails its next call with the errno set here (0: pass through). */
static int fail_kqueue, fail_getfl, fail_setfd, fail_setfl, fail_change, fail_remove, fail_wait, fail_pipe;

static int f_kqueue(void)
{
    if (fail_kqueue) {
        errno = fail_kqueue;
        fail_kqueue = 0;
        return -1;
    }
    return kqueue();
}
static int f_kevent(int kq, const struct kevent *ch, int nch, struct kevent *ev, int nev, const struct timespec *ts)
{
    if (nch > 0 && fail_change && (ch[0].flags & EV_ADD)) {
        errno = fail_change;
        fail_change = 0;
        return -1;
    }
    if (nch > 0 && fail_remove && (ch[0].flags & EV_DELETE)) {
        errno = fail_remove;
        fail_remove = 0;
        return -1;
    }
    if (nev > 0 && fail_wait) {
        errno = fail_wait;
        fail_wait = 0;
        return -1;
    }
    return kevent(kq, ch, nch, ev, nev, ts);
}
static int f_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    int arg;
    va_start(ap, cmd);
    arg = cmd == F_GETFL || cmd == F_GETFD ? 0 : va_arg(ap, int);
    va_end(ap);
    if (cmd == F_GETFL && fail_getfl) {
        errno = fail_getfl;
        fail_getfl = 0;
        return -1;
    }
    if ((cmd == F_SETFD && fail_setfd) || (cmd == F_SETFL && fail_setfl)) {
        errno = cmd == F_SETFD ? fail_setfd : fail_setfl;
        fail_setfd = cmd == F_SETFD ? 0 : fail_setfd;
        fail_setfl = cmd == F_SETFL ? 0 : fail_setfl;
        return -1;
    }
    return cmd == F_GETFL || cmd == F_GETFD ? fcntl(fd, cmd) : fcntl(fd, cmd, arg);
}
static int f_pipe(int p[2])
{
    if (fail_pipe) {
        errno = fail_pipe;
        fail_pipe = 0;
        return -1;
    }
    return pipe(p);
}

#define AIO_SYS_kqueue f_kqueue
#define AIO_SYS_kevent f_kevent
#define AIO_SYS_fcntl f_fcntl
#define AIO_SYS_pipe f_pipe
#include "harness.h"

static aio_loop L;
static aio_task mt;

TEST(kqueue_creation_failures_are_reported_and_leave_nothing_open)
{
    int before = harness_open_fds();
    test_loop_init(&L);
    fail_kqueue = EMFILE;
    CHECK_EQ(aio_loop_backend_fd(&L), -EMFILE);
    fail_setfd = EBADF;
    CHECK_EQ(aio_loop_backend_fd(&L), -EBADF);
    CHECK_EQ(harness_open_fds(), before); /* the queue whose flag failed was closed */
    CHECK(aio_loop_backend_fd(&L) >= 0); /* and a later call succeeds */
    aio_loop_close(&L);
    CHECK_EQ(harness_open_fds(), before);
}

TEST(wake_pipe_failures_are_reported_and_leave_nothing_open)
{
    int before;
    test_loop_init(&L);
    CHECK(aio_loop_backend_fd(&L) >= 0);
    before = harness_open_fds();
    fail_pipe = ENFILE;
    CHECK_EQ(aio_loop_wake_enable(&L), -ENFILE);
    fail_setfl = EINVAL;
    CHECK_EQ(aio_loop_wake_enable(&L), -EINVAL);
    fail_getfl = EBADF;
    CHECK_EQ(aio_loop_wake_enable(&L), -EBADF);
    fail_setfd = EPERM;
    CHECK_EQ(aio_loop_wake_enable(&L), -EPERM);
    CHECK_EQ(harness_open_fds(), before); /* both ends of the pipe were closed each time */
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    aio_loop_close(&L);
}

struct waitone { aio_frame hdr; int fd, wfd; int first, rc, after_remove; };
static int waitone_main(aio_task *t, void *p)
{
    struct waitone *f = (struct waitone *)p;
    int rc;
    AIO_BEGIN(t, f);
    fail_kqueue = EMFILE; /* the backend opens at the first wait */
    AIO_WAIT_READABLE(rc, f->fd);
    f->first = rc;
    fail_change = ENOMEM;
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    /* A removal that fails is not the waiter's business: the wait completes. */
    rc = (int)write(f->wfd, "x", 1);
    fail_remove = ENOMEM;
    AIO_WAIT_READABLE(rc, f->fd);
    f->after_remove = rc;
    AIO_END(0);
}

TEST(a_failed_registration_fails_the_wait_and_a_failed_wait_fails_the_poll)
{
    static struct waitone f;
    int p[2];
    memset(&f, 0, sizeof f);
    CHECK_EQ(pipe(p), 0);
    f.fd = p[0];
    f.wfd = p[1];
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, waitone_main, &f), 0);
    CHECK_EQ(f.first, -EMFILE);
    CHECK_EQ(f.rc, -ENOMEM);
    CHECK_EQ(f.after_remove, 0);
    /* A wait that fails with anything but EINTR reaches the caller of aio_loop_poll. */
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    fail_wait = EIO;
    CHECK_EQ(aio_loop_poll(&L, AIO_MS(1)), -EIO);
    CHECK(aio_loop_poll(&L, 0) >= 0); /* the next one is fine */
    aio_loop_close(&L);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    RUN(kqueue_creation_failures_are_reported_and_leave_nothing_open);
    RUN(wake_pipe_failures_are_reported_and_leave_nothing_open);
    RUN(a_failed_registration_fails_the_wait_and_a_failed_wait_fails_the_poll);
    return harness_report();
}
#endif
