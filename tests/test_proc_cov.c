/*
 * tests/test_proc_cov.c - aio_proc.h's argument errors and less travelled
 * paths: pipe I/O on a closed descriptor or from a cancelled task, waiting
 * for a child that was never spawned, waited twice or reaped behind the
 * loop's back, signals to a reaped child, communicate without a stdin pipe,
 * and a signal watch that is cancelled or closed.
 */
#define AIO_IMPLEMENTATION
#include "../aio_proc.h"
#include "harness.h"
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

/* ---- pipe I/O --------------------------------------------------------------- */

struct pio { aio_frame hdr; aio_scope sc; int fd; char buf[4]; int closed_rc, cancelled_rc; };
static int pio_main(aio_task *t, void *p)
{
    struct pio *f = (struct pio *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_PIPE_READ(rc, -1, f->buf, sizeof f->buf);
    f->closed_rc = rc;
    aio_move_on_after(t, &f->sc, 0);
    AIO_PIPE_READ(rc, f->fd, f->buf, sizeof f->buf);
    f->cancelled_rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(pipe_io_on_a_closed_descriptor_or_cancelled_fails_with_a_code)
{
    static struct pio f;
    int p[2];
    memset(&f, 0, sizeof f);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "data", 4), 4);
    f.fd = p[0];
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, pio_main, &f), 0);
    CHECK_EQ(f.closed_rc, AIO_ECLOSED);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(read(p[0], f.buf, 4), 4); /* the cancelled read consumed nothing */
    close(p[0]);
    close(p[1]);
    aio_loop_close(&L);
}

/* ---- waits ------------------------------------------------------------------ */

struct waits {
    aio_frame hdr;
    aio_proc never, p, stolen, both;
    aio_proc_opts o, o2;
    aio_proc_comm c, c2;
    char out[64], out2[64], err2[64];
    int never_rc, first_rc, second_rc, sig_rc, stolen_rc, comm_bad, comm_rc, comm2_rc;
};
static int waits_main(aio_task *t, void *p)
{
    struct waits *f = (struct waits *)p;
    static const char *const echo_argv[] = { "echo", "hi", NULL };
    static const char *const sh_argv[] = { "sh", "-c", "echo out; echo err >&2", NULL };
    int rc, st;
    AIO_BEGIN(t, f);
    /* Never spawned: nothing to wait for (and nobody else's child is reaped). */
    f->never.pid = 0;
    f->never.pidfd = -1;
    f->never.fds[0] = f->never.fds[1] = f->never.fds[2] = -1;
    AIO_PROC_WAIT(rc, &f->never);
    f->never_rc = rc;
    /* A child with only a stdout pipe: communicate skips stdin and stderr. */
    f->o.argv = echo_argv;
    f->o.io[1] = AIO_PROC_PIPE;
    aio_proc_spawn(aio_task_loop(t), &f->p, &f->o);
    f->comm_bad = aio_proc_comm_init(&f->c, &f->p, NULL, 5, NULL, 0, NULL, 0);
    aio_proc_comm_init(&f->c, &f->p, NULL, 0, f->out, sizeof f->out, NULL, 0);
    AIO_PROC_COMMUNICATE(rc, &f->c);
    f->comm_rc = rc;
    f->first_rc = f->p.returncode;
    AIO_PROC_WAIT(rc, &f->p); /* reaped already: at once */
    f->second_rc = rc;
    f->sig_rc = aio_proc_send_signal(&f->p, SIGTERM); /* nothing to signal */
    aio_proc_close(&f->p);
    /* stdout and stderr both piped, each into its own buffer. */
    f->o2.argv = sh_argv;
    f->o2.io[1] = f->o2.io[2] = AIO_PROC_PIPE;
    aio_proc_spawn(aio_task_loop(t), &f->both, &f->o2);
    aio_proc_comm_init(&f->c2, &f->both, NULL, 0, f->out2, sizeof f->out2, f->err2, sizeof f->err2);
    AIO_PROC_COMMUNICATE(rc, &f->c2);
    f->comm2_rc = rc;
    aio_proc_close(&f->both);
    /* A child reaped by someone else: the wait reports waitpid's error. */
    f->o.io[1] = AIO_PROC_DEVNULL;
    aio_proc_spawn(aio_task_loop(t), &f->stolen, &f->o);
    while (waitpid(f->stolen.pid, &st, 0) < 0 && errno == EINTR) {
    }
    AIO_PROC_WAIT(rc, &f->stolen);
    f->stolen_rc = rc;
    aio_proc_close(&f->stolen);
    AIO_END(0);
}

TEST(waits_for_unspawned_reaped_and_stolen_children)
{
    static struct waits f;
    memset(&f, 0, sizeof f);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, waits_main, &f), 0);
    CHECK_EQ(f.never_rc, AIO_EINVAL);
    CHECK_EQ(f.comm_bad, AIO_EINVAL);
    CHECK_EQ(f.comm_rc, 0);
    CHECK_EQ(f.c.out_len, 3);
    CHECK(memcmp(f.out, "hi\n", 3) == 0);
    CHECK_EQ(f.first_rc, 0);
    CHECK_EQ(f.second_rc, 0);
    CHECK_EQ(f.sig_rc, 0);
    CHECK_EQ(f.stolen_rc, -ECHILD);
    CHECK_EQ(f.comm2_rc, 0);
    CHECK_EQ(f.c2.out_len, 4);
    CHECK_EQ(f.c2.err_len, 4);
    CHECK(memcmp(f.out2, "out\n", 4) == 0);
    CHECK(memcmp(f.err2, "err\n", 4) == 0);
    aio_loop_close(&L);
}

/* ---- signal watch ----------------------------------------------------------- */

struct sigw { aio_frame hdr; aio_sigwatch w; aio_scope sc; int open_rc, cancelled_rc, closed_rc, close2; };
static int sigw_main(aio_task *t, void *p)
{
    struct sigw *f = (struct sigw *)p;
    static const int sigs[] = { SIGUSR2 };
    int rc;
    AIO_BEGIN(t, f);
    f->open_rc = aio_signal_open(aio_task_loop(t), &f->w, sigs, 1);
    aio_move_on_after(t, &f->sc, 0);
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->cancelled_rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    aio_signal_close(&f->w);
    f->close2 = aio_signal_close(&f->w);
    AIO_SIGNAL_WAIT(rc, &f->w);
    f->closed_rc = rc;
    AIO_END(0);
}

TEST(a_signal_wait_cancelled_or_on_a_closed_watch_returns_a_code)
{
    static struct sigw f;
    memset(&f, 0, sizeof f);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, sigw_main, &f), 0);
    CHECK_EQ(f.open_rc, 0);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(f.close2, 0);
    CHECK_EQ(f.closed_rc, AIO_ECLOSED);
    aio_loop_close(&L);
}

/* ---- stderr larger than its buffer; a canceller whose watch is closed ------ */

struct errov {
    aio_frame hdr;
    aio_proc p;
    aio_proc_opts o;
    aio_proc_comm c;
    char err[2];
    int rc;
    aio_sigwatch w;
    aio_scope sc;
    aio_signal_canceller_frame cf;
    int canceller_rc;
};
static int errov_main(aio_task *t, void *p)
{
    struct errov *f = (struct errov *)p;
    static const char *const argv[] = { "sh", "-c", "echo error >&2", NULL };
    int rc;
    AIO_BEGIN(t, f);
    f->o.argv = argv;
    f->o.io[2] = AIO_PROC_PIPE;
    aio_proc_spawn(aio_task_loop(t), &f->p, &f->o);
    aio_proc_comm_init(&f->c, &f->p, NULL, 0, NULL, 0, f->err, sizeof f->err);
    AIO_PROC_COMMUNICATE(rc, &f->c);
    f->rc = rc;
    aio_proc_close(&f->p);
    /* The canceller ends with the watch's error when the watch is closed. */
    memset(&f->w, 0, sizeof f->w);
    f->w.fd = -1;
    aio_scope_init(&f->sc);
    f->cf.w = &f->w;
    f->cf.scope = &f->sc;
    AIO_AWAIT(rc, aio_signal_canceller, &f->cf);
    f->canceller_rc = rc;
    AIO_END(0);
}

TEST(stderr_beyond_its_buffer_is_counted_as_overflow_and_a_closed_watch_ends_the_canceller)
{
    static struct errov f;
    memset(&f, 0, sizeof f);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, errov_main, &f), 0);
    CHECK_EQ(f.rc, AIO_EOVERFLOW);
    CHECK_EQ(f.c.overflow, 1);
    CHECK_EQ(f.c.err_len, 2);
    CHECK(memcmp(f.err, "er", 2) == 0);
    CHECK_EQ(f.canceller_rc, AIO_ECLOSED);
    CHECK_EQ(f.cf.count, 0);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(pipe_io_on_a_closed_descriptor_or_cancelled_fails_with_a_code);
    RUN(waits_for_unspawned_reaped_and_stolen_children);
    RUN(a_signal_wait_cancelled_or_on_a_closed_watch_returns_a_code);
    RUN(stderr_beyond_its_buffer_is_counted_as_overflow_and_a_closed_watch_ends_the_canceller);
    return harness_report();
}
