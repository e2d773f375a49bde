/*
 * tests/test_proc.c - aio_proc.h subprocesses: output, input, exit codes,
 * signals, deadlines, cancellation, communicate and many children at once.
 * Real children (echo, cat, sh); the virtual clock for every deadline.
 */
#define AIO_IMPLEMENTATION
#ifdef AIO_TEST_AIO_H_FIRST
#include "../aio.h" /* first: it asks for POSIX alone, and aio_proc.h must keep every feature */
#endif
#include "../aio_proc.h"
#include "harness.h"
#include <errno.h>
#include <signal.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

static int gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* ---- one child, one script ----------------------------------------------- */

struct run {
    aio_frame hdr;
    aio_proc p;
    aio_proc_opts o;
    const char *input;
    char buf[4096];
    size_t len, done;
    int spawn_rc, io_rc, wait_rc, signal_first, no_pidfd, had_pidfd;
    aio_time deadline;  /* > 0: wait under fail_after */
    aio_scope sc;
};

static int run_main(aio_task *t, void *frame)
{
    struct run *f = (struct run *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->spawn_rc = aio_proc_spawn(aio_task_loop(t), &f->p, &f->o);
    if (f->spawn_rc)
        AIO_RETURN(0);
    f->had_pidfd = f->p.pidfd >= 0;
    if (f->no_pidfd && f->p.pidfd >= 0) { /* the fallback: waitpid(WNOHANG) on a timer */
        close(f->p.pidfd);
        f->p.pidfd = -1;
    }
    if (f->input) {
        AIO_PIPE_WRITE_ALL(rc, f->p.fds[0], f->input, strlen(f->input), f->done);
        f->io_rc = rc;
        aio_proc_close_stdin(&f->p);
    }
    if (f->signal_first)
        aio_proc_send_signal(&f->p, f->signal_first);
    while (f->p.fds[1] >= 0 && f->len < sizeof f->buf) {
        AIO_PIPE_READ(rc, f->p.fds[1], f->buf + f->len, sizeof f->buf - f->len);
        if (rc <= 0) {
            if (rc < 0)
                f->io_rc = rc;
            break;
        }
        f->len += (size_t)rc;
    }
    if (f->deadline)
        aio_fail_after(t, &f->sc, f->deadline);
    AIO_PROC_WAIT(rc, &f->p);
    if (f->deadline)
        rc = aio_scope_exit(t, &f->sc, rc);
    f->wait_rc = rc;
    aio_proc_close(&f->p);
    AIO_END(0);
}

static struct run R;
static void run_init(const char *const *argv)
{
    memset(&R, 0, sizeof R);
    R.o.argv = argv;
    R.o.io[1] = AIO_PROC_PIPE;
}
static void run_go(void)
{
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, run_main, &R), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

TEST(echo_output_is_read_to_the_end)
{
    static const char *const argv[] = { "echo", "hello", NULL };
    run_init(argv);
    run_go();
    CHECK_EQ(R.spawn_rc, 0);
    CHECK_EQ(R.len, 6);
    CHECK(memcmp(R.buf, "hello\n", 6) == 0);
    CHECK_EQ(R.wait_rc, 0);
    CHECK_EQ(R.p.returncode, 0);
    CHECK(R.p.reaped);
}

TEST(cat_copies_its_input_to_its_output)
{
    static const char *const argv[] = { "cat", NULL };
    run_init(argv);
    R.o.io[0] = AIO_PROC_PIPE;
    R.input = "abc\ndef\n";
    run_go();
    CHECK_EQ(R.io_rc, 0);
    CHECK_EQ(R.len, 8);
    CHECK(memcmp(R.buf, "abc\ndef\n", 8) == 0);
    CHECK_EQ(R.p.returncode, 0);
}

TEST(the_exit_code_is_the_returncode)
{
    static const char *const argv[] = { "sh", "-c", "exit 3", NULL };
    run_init(argv);
    run_go();
    CHECK_EQ(R.wait_rc, 0);
    CHECK_EQ(R.p.returncode, 3);
}

#ifdef __linux__
#include <sys/syscall.h>
/* pidfd_open(2) works here (Linux 5.3 and later; not under every emulator). */
static int kernel_has_pidfd(void)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, (long)getpid(), 0L);
    if (fd >= 0) {
        close((int)fd);
        return 1;
    }
#endif
    return 0;
}
#endif

TEST(a_child_is_waited_through_a_pidfd_where_the_kernel_has_them)
{
    static const char *const argv[] = { "sh", "-c", "exit 4", NULL };
    run_init(argv);
    R.o.io[1] = AIO_PROC_INHERIT;
    run_go();
    CHECK_EQ(R.p.returncode, 4);
#ifdef __linux__
    if (kernel_has_pidfd())
        CHECK(R.had_pidfd);
    else
        printf("  (pidfd_open fails here, as under valgrind or an old kernel: the wait polls)\n");
#endif
}

TEST(without_a_pidfd_the_wait_polls_and_still_sees_the_exit)
{
    static const char *const argv[] = { "sh", "-c", "sleep 0.05; exit 5", NULL };
    run_init(argv);
    R.o.io[1] = AIO_PROC_INHERIT;
    R.no_pidfd = 1;
    run_go();
    CHECK_EQ(R.wait_rc, 0);
    CHECK_EQ(R.p.returncode, 5);
}

TEST(a_child_killed_by_a_signal_has_a_negative_returncode)
{
    static const char *const argv[] = { "sleep", "30", NULL };
    run_init(argv);
    R.o.io[1] = AIO_PROC_INHERIT;
    R.signal_first = SIGTERM;
    run_go();
    CHECK_EQ(R.wait_rc, 0);
    CHECK_EQ(R.p.returncode, -SIGTERM);
}

TEST(a_deadline_on_the_wait_times_out_and_stops_the_child)
{
    static const char *const argv[] = { "sleep", "30", NULL };
    run_init(argv);
    R.o.io[1] = AIO_PROC_INHERIT;
    R.deadline = AIO_SEC(1);
    run_go();
    CHECK_EQ(R.wait_rc, AIO_ETIMEDOUT);
    CHECK(R.p.reaped);
    CHECK(R.p.returncode == -SIGTERM || R.p.returncode == -SIGKILL);
    CHECK(gone(R.p.pid));
}

TEST(environment_and_working_directory_reach_the_child)
{
    static const char *const argv[] = { "sh", "-c", "echo $AIO_X; pwd", NULL };
    static const char *const envp[] = { "AIO_X=value", "PATH=/usr/bin:/bin", NULL };
    run_init(argv);
    R.o.envp = envp;
    R.o.cwd = "/";
    run_go();
    CHECK_EQ(R.len, 8);
    CHECK(memcmp(R.buf, "value\n/\n", 8) == 0);
}

TEST(stdin_from_dev_null_is_at_end_at_once)
{
    static const char *const argv[] = { "cat", NULL };
    run_init(argv);
    R.o.io[0] = AIO_PROC_DEVNULL;
    run_go();
    CHECK_EQ(R.len, 0);
    CHECK_EQ(R.p.returncode, 0);
}

TEST(stderr_can_follow_stdout)
{
    static const char *const argv[] = { "sh", "-c", "echo a; echo b >&2", NULL };
    run_init(argv);
    R.o.io[2] = AIO_PROC_STDOUT;
    run_go();
    CHECK_EQ(R.len, 4);
    CHECK(memcmp(R.buf, "a\nb\n", 4) == 0);
}

TEST(a_missing_program_fails_to_spawn_and_leaves_nothing_open)
{
    static const char *const argv[] = { "/nonexistent/aio-no-such-program", NULL };
    run_init(argv);
    run_go();
    CHECK_EQ(R.spawn_rc, -ENOENT);
    CHECK_EQ(R.p.fds[1], -1);
}

TEST(bad_options_are_invalid)
{
    aio_proc p;
    aio_proc_opts o;
    static const char *const argv[] = { "true", NULL };
    test_loop_init(&L);
    memset(&o, 0, sizeof o);
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL); /* no argv */
    o.argv = argv;
    o.io[0] = AIO_PROC_STDOUT;                         /* only stderr may follow stdout */
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL);
    aio_loop_close(&L);
}

/* ---- cancellation ----------------------------------------------------------- */

struct waiter { aio_frame hdr; aio_proc *p; int rc; };
static int waiter_task(aio_task *t, void *frame)
{
    struct waiter *f = (struct waiter *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_PROC_WAIT(rc, f->p);
    f->rc = rc;
    AIO_END(0);
}

struct cancel_main {
    aio_frame hdr;
    aio_group g;
    aio_task child;
    struct waiter w;
    aio_proc p;
    int policy;
    int alive_after_cancel;
    int rc2;
};
static int cancel_main(aio_task *t, void *frame)
{
    struct cancel_main *f = (struct cancel_main *)frame;
    static const char *const argv[] = { "sleep", "30", NULL };
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    CHECK_EQ(aio_proc_spawn(aio_task_loop(t), &f->p, &o), 0);
    f->p.on_cancel = f->policy;
    f->w.p = &f->p;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->child, waiter_task, &f->w);
    AIO_YIELD();
    AIO_YIELD();
    aio_task_cancel(&f->child);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->alive_after_cancel = !f->p.reaped && !gone(f->p.pid);
    if (!f->p.reaped) {
        aio_proc_kill(&f->p);
        AIO_PROC_WAIT(rc, &f->p);
        f->rc2 = rc;
    }
    aio_proc_close(&f->p);
    AIO_END(0);
}

TEST(cancelling_a_waiting_task_terminates_and_reaps_the_child)
{
    static struct cancel_main f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.policy = AIO_PROC_CANCEL_TERMINATE;
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.w.rc, AIO_ECANCELED);
    CHECK(f.p.reaped);
    CHECK_EQ(f.alive_after_cancel, 0);
    CHECK(gone(f.p.pid));
    aio_loop_close(&L);
}

TEST(with_a_real_clock_sigterm_within_the_grace_is_enough)
{
    static struct cancel_main f;
    aio_loop_init(&L, NULL);
    test_reactor_attach(&L);
    memset(&f, 0, sizeof f);
    f.policy = AIO_PROC_CANCEL_TERMINATE;
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.w.rc, AIO_ECANCELED);
    CHECK_EQ(f.p.returncode, -SIGTERM);
    aio_loop_close(&L);
}

TEST(the_kill_policy_sends_sigkill_at_once)
{
    static struct cancel_main f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.policy = AIO_PROC_CANCEL_KILL;
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.w.rc, AIO_ECANCELED);
    CHECK_EQ(f.p.returncode, -SIGKILL);
    aio_loop_close(&L);
}

TEST(the_leave_policy_keeps_the_child_running)
{
    static struct cancel_main f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.policy = AIO_PROC_CANCEL_LEAVE;
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.w.rc, AIO_ECANCELED);
    CHECK_EQ(f.alive_after_cancel, 1);
    CHECK_EQ(f.rc2, 0);
    CHECK_EQ(f.p.returncode, -SIGKILL);
    aio_loop_close(&L);
}

/* ---- communicate -------------------------------------------------------------- */

#define MIB (1024 * 1024)
static char big_in[MIB], big_out[MIB + 16];

struct comm {
    aio_frame hdr;
    aio_proc p;
    aio_proc_comm c;
    const char *const *argv;
    const char *input;
    size_t input_len;
    char *out;
    size_t out_cap;
    char err[64];
    int rc;
};
static int comm_main(aio_task *t, void *frame)
{
    struct comm *f = (struct comm *)frame;
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = f->argv;
    o.io[0] = o.io[1] = o.io[2] = AIO_PROC_PIPE;
    CHECK_EQ(aio_proc_spawn(aio_task_loop(t), &f->p, &o), 0);
    aio_proc_comm_init(&f->c, &f->p, f->input, f->input_len, f->out, f->out_cap, f->err, sizeof f->err);
    AIO_PROC_COMMUNICATE(rc, &f->c);
    f->rc = rc;
    aio_proc_close(&f->p);
    AIO_END(0);
}

TEST(communicate_moves_a_mebibyte_each_way_through_cat)
{
    static struct comm f;
    static const char *const argv[] = { "cat", NULL };
    size_t i;
    for (i = 0; i < MIB; i++)
        big_in[i] = (char)(i * 7 + i / 4096);
    memset(big_out, 0, sizeof big_out);
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.argv = argv;
    f.input = big_in;
    f.input_len = MIB;
    f.out = big_out;
    f.out_cap = sizeof big_out;
    CHECK_EQ(aio_run(&L, &mt, comm_main, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(f.c.input_done, MIB);
    CHECK_EQ(f.c.out_len, MIB);
    CHECK(memcmp(big_in, big_out, MIB) == 0);
    CHECK_EQ(f.p.returncode, 0);
    aio_loop_close(&L);
}

TEST(communicate_keeps_stdout_and_stderr_apart)
{
    static struct comm f;
    static const char *const argv[] = { "sh", "-c", "read x; echo out$x; echo err >&2; exit 2", NULL };
    static char out[64];
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.argv = argv;
    f.input = "42\n";
    f.input_len = 3;
    f.out = out;
    f.out_cap = sizeof out;
    CHECK_EQ(aio_run(&L, &mt, comm_main, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(f.c.out_len, 6);
    CHECK(memcmp(out, "out42\n", 6) == 0);
    CHECK_EQ(f.c.err_len, 4);
    CHECK(memcmp(f.err, "err\n", 4) == 0);
    CHECK_EQ(f.p.returncode, 2);
    aio_loop_close(&L);
}

TEST(communicate_with_a_child_that_reads_nothing_is_not_an_error)
{
    static struct comm f;
    static const char *const argv[] = { "true", NULL };
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.argv = argv;
    f.input = big_in;
    f.input_len = MIB; /* more than a pipe holds: the write ends with EPIPE */
    CHECK_EQ(aio_run(&L, &mt, comm_main, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK(f.c.input_done < MIB);
    CHECK_EQ(f.p.returncode, 0);
    aio_loop_close(&L);
}

TEST(output_past_the_buffer_is_discarded_and_reported)
{
    static struct comm f;
    static const char *const argv[] = { "sh", "-c", "echo 0123456789abcdef", NULL };
    static char out[8];
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.argv = argv;
    f.out = out;
    f.out_cap = sizeof out;
    CHECK_EQ(aio_run(&L, &mt, comm_main, &f), 0);
    CHECK_EQ(f.rc, AIO_EOVERFLOW);
    CHECK_EQ(f.c.out_len, 8);
    CHECK(memcmp(out, "01234567", 8) == 0);
    CHECK_EQ(f.p.returncode, 0);
    aio_loop_close(&L);
}

/* ---- a hundred children at once --------------------------------------------- */

#define NCHILD 100
struct kid { aio_frame hdr; aio_proc p; char arg[32]; int rc; };
static int kid_task(aio_task *t, void *frame)
{
    struct kid *f = (struct kid *)frame;
    const char *argv[4];
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = f->arg;
    argv[3] = NULL;
    memset(&o, 0, sizeof o);
    o.argv = argv;
    rc = aio_proc_spawn(aio_task_loop(t), &f->p, &o);
    if (rc)
        AIO_RETURN(rc);
    AIO_PROC_WAIT(rc, &f->p);
    f->rc = rc;
    aio_proc_close(&f->p);
    AIO_END(rc);
}
static struct kids {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[NCHILD];
    struct kid k[NCHILD];
    int i;
} kids;
static int kids_main(aio_task *t, void *frame)
{
    struct kids *f = (struct kids *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < NCHILD; f->i++) {
        snprintf(f->k[f->i].arg, sizeof f->k[f->i].arg, "exit %d", f->i % 50);
        aio_spawn(&f->g, &f->tasks[f->i], kid_task, &f->k[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_hundred_children_run_at_once_and_each_status_is_its_own)
{
    int i, bad = 0;
    test_loop_init(&L);
    memset(&kids, 0, sizeof kids);
    CHECK_EQ(aio_run(&L, &mt, kids_main, &kids), 0);
    for (i = 0; i < NCHILD; i++)
        bad += !kids.k[i].p.reaped || kids.k[i].p.returncode != i % 50;
    CHECK_EQ(bad, 0);
    aio_loop_close(&L);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(echo_output_is_read_to_the_end);
    RUN(cat_copies_its_input_to_its_output);
    RUN(the_exit_code_is_the_returncode);
    RUN(a_child_is_waited_through_a_pidfd_where_the_kernel_has_them);
    RUN(without_a_pidfd_the_wait_polls_and_still_sees_the_exit);
    RUN(a_child_killed_by_a_signal_has_a_negative_returncode);
    RUN(a_deadline_on_the_wait_times_out_and_stops_the_child);
    RUN(environment_and_working_directory_reach_the_child);
    RUN(stdin_from_dev_null_is_at_end_at_once);
    RUN(stderr_can_follow_stdout);
    RUN_ONCE(a_missing_program_fails_to_spawn_and_leaves_nothing_open);
    RUN_ONCE(bad_options_are_invalid);
    RUN(cancelling_a_waiting_task_terminates_and_reaps_the_child);
    RUN_ONCE(with_a_real_clock_sigterm_within_the_grace_is_enough);
    RUN(the_kill_policy_sends_sigkill_at_once);
    RUN(the_leave_policy_keeps_the_child_running);
    RUN(communicate_moves_a_mebibyte_each_way_through_cat);
    RUN(communicate_keeps_stdout_and_stderr_apart);
    RUN(communicate_with_a_child_that_reads_nothing_is_not_an_error);
    RUN(output_past_the_buffer_is_discarded_and_reported);
    RUN_ONCE(a_hundred_children_run_at_once_and_each_status_is_its_own);
    return harness_report();
}
