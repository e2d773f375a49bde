/*
 * tests/test_core_cov.c - the less travelled paths of aio.h: error strings,
 * argument errors, scope and group corners, the real-clock idle path,
 * aio_loop_poll's timeout arithmetic, and the dump of scopes and waits.
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"
#include "../aio_sync.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

static void collect(void *ctx, const char *s)
{
    strncat((char *)ctx, s, 8191 - strlen((char *)ctx));
}

/* ---- aio_strerror ------------------------------------------------------ */

TEST(strerror_names_every_code_and_passes_errno_through)
{
    static const int codes[] = { AIO_OK, AIO_ECANCELED, AIO_ETIMEDOUT, AIO_ECLOSED, AIO_EBROKEN, AIO_EEND,
                                 AIO_EAGAIN, AIO_EBUSY, AIO_EINVAL, AIO_ENOTSTARTED, AIO_EDEADLK, AIO_EPERM,
                                 AIO_EOVERFLOW, AIO_EMISUSE, AIO_ETOOLONG };
    size_t i, j, n = sizeof codes / sizeof codes[0];
    for (i = 0; i < n; i++) {
        const char *s = aio_strerror(codes[i]);
        CHECK(s != NULL && *s != 0);
        CHECK(strcmp(s, "unknown error") != 0);
        for (j = 0; j < i; j++)
            CHECK(strcmp(s, aio_strerror(codes[j])) != 0); /* each code has its own text */
    }
    CHECK(strcmp(aio_strerror(AIO_OK), "success") == 0);
    CHECK(strcmp(aio_strerror(AIO_ETIMEDOUT), "timed out") == 0);
    /* Negative errno values read as the C library says. */
    CHECK(strcmp(aio_strerror(-ENOENT), strerror(ENOENT)) == 0);
    CHECK(strcmp(aio_strerror(-EPIPE), strerror(EPIPE)) == 0);
    /* Anything else is unknown. */
    CHECK(strcmp(aio_strerror(7), "unknown error") == 0);
    CHECK(strcmp(aio_strerror(-20000), "unknown error") == 0);
}

/* ---- scopes ------------------------------------------------------------ */

struct scopes {
    aio_frame hdr;
    aio_scope s;
    int null_rc, fail_rc, fail_exit, sleep_rc;
    aio_time far_deadline, woke_at;
    int past_rc, past_exit, cancelled_armed_timers, again_rc, again_exit;
    aio_time inactive_deadline;
};
static int scopes_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    aio_stats st;
    int rc;
    AIO_BEGIN(t, f);
    f->null_rc = aio_fail_at(NULL, &f->s, 0);
    if (aio_fail_at(t, NULL, 0) != AIO_EINVAL)
        f->null_rc = 1;
    /* fail_at: an absolute deadline that raises AIO_ETIMEDOUT on exit. */
    f->fail_rc = aio_fail_at(t, &f->s, AIO_MS(2));
    AIO_SLEEP(rc, AIO_MS(10));
    f->sleep_rc = rc;
    f->woke_at = aio_now(aio_task_loop(t));
    f->fail_exit = aio_scope_exit(t, &f->s, rc);
    /* A duration past the end of time saturates to "no deadline". */
    aio_move_on_after(t, &f->s, AIO_TIME_INF - 1);
    f->far_deadline = aio_effective_deadline(t);
    aio_scope_exit(t, &f->s, 0);
    /* Moving an active scope's deadline into the past cancels it now. */
    aio_move_on_after(t, &f->s, AIO_SEC(1));
    aio_scope_set_deadline(&f->s, aio_now(aio_task_loop(t)));
    AIO_CHECKPOINT(rc);
    f->past_rc = rc;
    /* A cancelled scope's deadline moves without arming a timer. */
    aio_scope_set_deadline(&f->s, aio_now(aio_task_loop(t)) + AIO_SEC(5));
    aio_loop_stats(aio_task_loop(t), &st);
    f->cancelled_armed_timers = (int)st.timers;
    f->past_exit = aio_scope_exit(t, &f->s, rc);
    /* The exited scope enters again, fresh: the old cancellation is gone. */
    aio_scope_set_deadline(&f->s, AIO_SEC(100)); /* not active: only stored */
    f->inactive_deadline = f->s.tm.deadline;
    f->again_rc = aio_scope_enter(t, &f->s, AIO_TIME_INF);
    aio_scope_cancel(NULL, "nothing"); /* no scope: nothing happens */
    AIO_SLEEP(rc, AIO_MS(1));
    f->again_exit = aio_scope_exit(t, &f->s, rc);
    AIO_END(0);
}

TEST(scope_deadlines_absolute_saturated_moved_and_reentered)
{
    static struct scopes f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, scopes_main, &f), 0);
    CHECK_EQ(f.null_rc, AIO_EINVAL);
    CHECK_EQ(f.fail_rc, 0);
    CHECK_EQ(f.sleep_rc, AIO_ECANCELED);
    CHECK_EQ(f.woke_at, AIO_MS(2));
    CHECK_EQ(f.fail_exit, AIO_ETIMEDOUT);
    CHECK_EQ(f.far_deadline, AIO_TIME_INF);
    CHECK_EQ(f.past_rc, AIO_ECANCELED);
    CHECK_EQ(f.cancelled_armed_timers, 0);
    CHECK_EQ(f.past_exit, 0); /* move_on: the scope catches its own deadline */
    CHECK_EQ(f.inactive_deadline, AIO_SEC(100));
    CHECK_EQ(f.again_rc, 0);
    CHECK_EQ(f.again_exit, 0);
}

/* ---- tasks: cancelled flag, rc, error sites ----------------------------- */

struct taskq {
    aio_frame hdr;
    aio_group g;
    aio_task c, c2;
    struct sleeper s;
    struct failer fl;
    int before, after, rc_running, wait_rc;
    const char *site_running, *site_ok, *site_null, *site_failed;
    unsigned line_running, line_ok, line_null, line_failed;
};
static int taskq_main(aio_task *t, void *p)
{
    struct taskq *f = (struct taskq *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->s.dur = AIO_MS(5);
    aio_spawn(&f->g, &f->c, sleeper, &f->s);
    f->fl.dur = AIO_MS(1);
    f->fl.err = AIO_EBROKEN;
    aio_spawn(&f->g, &f->c2, failer, &f->fl);
    AIO_YIELD();
    f->before = aio_task_cancelled(&f->c);
    f->rc_running = aio_task_rc(&f->c);
    f->line_running = 99;
    f->site_running = aio_task_error_site(&f->c, &f->line_running);
    if (aio_task_error_site(&f->c, NULL) != NULL) /* no line wanted */
        f->site_running = "unexpected";
    aio_task_cancel(&f->c);
    f->after = aio_task_cancelled(&f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->wait_rc = rc;
    f->line_ok = 99;
    f->site_ok = aio_task_error_site(&f->c, &f->line_ok); /* cancelled: rc < 0 */
    f->line_null = 99;
    f->site_null = aio_frame_error_site(NULL, &f->line_null);
    f->site_failed = aio_task_error_site(&f->c2, &f->line_failed);
    AIO_END(0);
}

TEST(task_cancelled_flag_rc_and_error_sites)
{
    static struct taskq f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, taskq_main, &f), 0);
    CHECK_EQ(f.before, 0);
    CHECK_EQ(f.after, 1);
    CHECK_EQ(f.rc_running, 0);      /* not done yet */
    CHECK(f.site_running == NULL);
    CHECK_EQ(f.line_running, 0);
    CHECK_EQ(f.s.rc, AIO_ECANCELED);
    CHECK_EQ(f.wait_rc, AIO_EBROKEN);
    CHECK(f.site_null == NULL);
    CHECK_EQ(f.line_null, 0);
    CHECK(f.site_failed != NULL && strstr(f.site_failed, "core_util.h") != NULL);
    CHECK(f.line_failed > 0);
    CHECK(aio_task_error_site(&mt, NULL) == NULL); /* main succeeded; line may be NULL */
}

/* ---- groups: cancelled before entry, start corners ---------------------- */

struct pre {
    aio_frame hdr;
    aio_group g;
    aio_task c;
    struct sleeper s;
    int wait_rc;
    aio_time at;
};
static int pre_main(aio_task *t, void *p)
{
    struct pre *f = (struct pre *)p;
    int rc;
    AIO_BEGIN(t, f);
    memset(&f->g, 0, sizeof f->g);
    aio_group_cancel(&f->g, "before entry"); /* idle group: remembered */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_SEC(1);
    aio_spawn(&f->g, &f->c, sleeper, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->wait_rc = rc;
    f->at = aio_now(aio_task_loop(t));
    AIO_END(0);
}

TEST(group_cancelled_before_entry_cancels_its_children_at_once)
{
    static struct pre f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, pre_main, &f), 0);
    CHECK_EQ(f.s.rc, AIO_ECANCELED);
    CHECK_EQ(f.wait_rc, 0); /* the group's own cancel is caught */
    CHECK_EQ(f.at, 0);
}

/* A child that enters a deadline scope before it calls aio_started. */
struct scoped_starter {
    aio_frame hdr;
    aio_scope s, inner;
    int sleep_rc, twice;
    aio_time woke_at;
};
static int scoped_starter(aio_task *t, void *p)
{
    struct scoped_starter *f = (struct scoped_starter *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->s, AIO_MS(3));
    aio_scope_enter(t, &f->inner, AIO_TIME_INF); /* two scopes of its own move with it */
    aio_started(t, f);
    f->twice = aio_started(t, NULL); /* already started */
    AIO_SLEEP(rc, AIO_SEC(1));
    f->sleep_rc = rc;
    f->woke_at = aio_now(aio_task_loop(t));
    rc = aio_scope_exit(t, &f->inner, rc);
    aio_scope_exit(t, &f->s, rc);
    AIO_END(0);
}

struct starts {
    aio_frame hdr;
    aio_group g, closed;
    aio_task c, c2;
    struct scoped_starter ss;
    struct sleeper s;
    aio_scope cs;
    void *val;
    int start_rc, null_rc, closed_rc, cancelled_rc, wait_rc, enter_bad, wait_null;
};
static int starts_main(aio_task *t, void *p)
{
    struct starts *f = (struct starts *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->enter_bad = aio_group_enter(t, &f->g, 99);
    AIO_GROUP_WAIT(rc, NULL, 0);
    f->wait_null = rc;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_START(rc, &f->g, &f->c, scoped_starter, &f->ss, &f->val);
    f->start_rc = rc;
    AIO_START(rc, &f->g, &f->c2, NULL, &f->s, NULL);
    f->null_rc = rc;
    /* A cancelled caller does not start anything. */
    aio_move_on_after(t, &f->cs, 0);
    AIO_START(rc, &f->g, &f->c2, sleeper, &f->s, NULL);
    f->cancelled_rc = rc;
    aio_scope_exit(t, &f->cs, rc);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->wait_rc = rc;
    /* A group that was entered and left is closed. */
    aio_group_enter(t, &f->closed, AIO_GROUP_FAIL_FAST);
    AIO_GROUP_WAIT(rc, &f->closed, 0);
    AIO_START(rc, &f->closed, &f->c2, sleeper, &f->s, NULL);
    f->closed_rc = rc;
    AIO_END(0);
}

TEST(start_keeps_the_childs_own_scope_and_checks_its_arguments)
{
    static struct starts f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, starts_main, &f), 0);
    CHECK_EQ(f.enter_bad, AIO_EINVAL);
    CHECK_EQ(f.wait_null, AIO_EINVAL);
    CHECK_EQ(f.start_rc, 0);
    CHECK(f.val == &f.ss);
    CHECK_EQ(f.ss.twice, AIO_EINVAL);
    CHECK_EQ(f.null_rc, AIO_EINVAL);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(f.s.started, 0);
    /* The child's deadline scope moved under the group with it and still fires. */
    CHECK_EQ(f.ss.sleep_rc, AIO_ECANCELED);
    CHECK_EQ(f.ss.woke_at, AIO_MS(3));
    CHECK_EQ(f.wait_rc, 0);
    CHECK_EQ(f.closed_rc, AIO_ECLOSED);
}

/* Cancelling the loop's root group reaches the main task. */
struct rootc { aio_frame hdr; int rc; };
static int rootc_main(aio_task *t, void *p)
{
    struct rootc *f = (struct rootc *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_cancel(&aio_task_loop(t)->root, "stop everything");
    AIO_SLEEP(rc, AIO_SEC(1));
    f->rc = rc;
    AIO_END(rc);
}

TEST(cancelling_the_root_group_cancels_the_main_task)
{
    static struct rootc f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, rootc_main, &f), AIO_ECANCELED);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(aio_now(&L), 0);
}

/* ---- forgotten scopes and groups at task end (recorded, then repaired) -- */

struct forget { aio_frame hdr; aio_scope s; aio_group g; int which; };
static int forget_child(aio_task *t, void *p)
{
    struct forget *f = (struct forget *)p;
    AIO_BEGIN(t, f);
    if (f->which == 0)
        aio_move_on_after(t, &f->s, AIO_SEC(5)); /* never exited */
    else
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST); /* never waited, no children */
    AIO_END(0);
}
struct forget_main_f { aio_frame hdr; aio_group g; aio_task c; struct forget fg; aio_stats st; int rc; };
static int forget_main(aio_task *t, void *p)
{
    struct forget_main_f *f = (struct forget_main_f *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->c, forget_child, &f->fg);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    aio_loop_stats(aio_task_loop(t), &f->st);
    AIO_END(0);
}

TEST(a_task_ending_inside_its_scope_or_group_has_them_closed)
{
    static struct forget_main_f f;
    int which;
    for (which = 0; which < 2; which++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        f.fg.which = which;
        test_loop_init_panics(&L);
        CHECK_EQ(aio_run(&L, &mt, forget_main, &f), 0);
        CHECK_EQ(f.rc, which == 1 ? AIO_EBUSY : 0); /* a group left unwaited fails its task */
        CHECK_EQ(f.st.timers, 0); /* the forgotten deadline timer is gone */
        CHECK_EQ(f.st.tasks, 1);
        CHECK_EQ(f.fg.s.flags & AIO__SCOPE_ACTIVE, 0);
        if (which == 1)
            CHECK_EQ(f.fg.g.state, AIO__GROUP_CLOSED);
#ifdef AIO_DEBUG
        CHECK_EQ(panic_count, 1);
        CHECK(panic_msg && strstr(panic_msg, "did not exit") != NULL);
#endif
    }
}

/* ---- a cancel between an always-ready fd wait and its resumption -------- */

struct fdready { aio_frame hdr; int fd; int rc; };
static int fdready_task(aio_task *t, void *p)
{
    struct fdready *f = (struct fdready *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd); /* a regular file is always ready: a plain yield */
    f->rc = rc;
    AIO_END(rc);
}
struct fdr_main { aio_frame hdr; aio_group g; aio_task c; struct fdready fr; int first_rc; };
static int fdr_main_fn(aio_task *t, void *p)
{
    struct fdr_main *f = (struct fdr_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->c, fdready_task, &f->fr);
    AIO_YIELD();          /* the child has run up to its wait */
    aio_task_cancel(&f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->first_rc = rc;
    AIO_END(0);
}

TEST(a_cancel_during_an_always_ready_fd_wait_is_seen_on_resume)
{
    static struct fdr_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.fr.fd = open("tests/harness.h", O_RDONLY);
    CHECK(f.fr.fd >= 0);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, fdr_main_fn, &f), 0);
    CHECK_EQ(f.fr.rc, AIO_ECANCELED);
    aio_loop_close(&L);
    close(f.fr.fd);
}

/* Waiting on a descriptor that is not open reports the backend's error. */
struct badfd { aio_frame hdr; int rc; };
static int badfd_main(aio_task *t, void *p)
{
    struct badfd *f = (struct badfd *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, 1000);
    f->rc = rc;
    AIO_END(0);
}

TEST(waiting_on_a_closed_descriptor_fails_with_ebadf)
{
    static struct badfd f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    CHECK(fcntl(1000, F_GETFD) < 0);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, badfd_main, &f), 0);
    CHECK_EQ(f.rc, -EBADF);
    aio_loop_close(&L);
}

/* ---- the real clock ----------------------------------------------------- */

struct realsleep { aio_frame hdr; aio_time t0, t1; int rc; };
static int realsleep_main(aio_task *t, void *p)
{
    struct realsleep *f = (struct realsleep *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->t0 = aio_loop_update_time(aio_task_loop(t));
    AIO_SLEEP(rc, AIO_MS(2));
    f->rc = rc;
    f->t1 = aio_loop_update_time(aio_task_loop(t));
    AIO_SLEEP_FOREVER(rc); /* nothing can wake it */
    AIO_END(rc);
}

TEST(real_clock_sleeps_without_a_reactor_and_detects_deadlock)
{
    static struct realsleep f;
    aio_config cfg;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    CHECK_EQ(aio_clock_advance(&L, AIO_MS(1)), AIO_EINVAL); /* only a virtual clock moves by hand */
    CHECK_EQ(aio_run(&L, &mt, realsleep_main, &f), AIO_EDEADLK);
    CHECK_EQ(f.rc, 0);
    CHECK(f.t1 - f.t0 >= AIO_MS(2)); /* slept at least the duration */
}

static int poll_calls;
static void poll_cb(aio_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    poll_calls++;
}

TEST(loop_poll_runs_an_overdue_timer_at_once_and_caps_a_long_wait)
{
    aio_config cfg;
    aio_call c;
    int p[2];
    memset(&cfg, 0, sizeof cfg);
    memset(&c, 0, sizeof c);
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    poll_calls = 0;
    /* A timer already due: the wait is 0 although a long timeout was given. */
    CHECK_EQ(aio_call_at(&L, &c, aio_loop_update_time(&L) - AIO_MS(1), poll_cb, NULL), 0);
    CHECK(aio_loop_poll(&L, AIO_SEC(3600)) >= 0);
    CHECK_EQ(poll_calls, 1);
    /* A near-infinite timeout is capped; a ready descriptor ends it. */
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    aio_loop_wake(&L);
    CHECK(aio_loop_poll(&L, AIO_TIME_INF - 1) >= 0);
    CHECK_EQ(aio_loop_poll(&L, -1), AIO_EINVAL);
    aio_loop_close(&L);
    close(p[0]);
    close(p[1]);
}

/* ---- the idle hook with a virtual clock and nothing left to run ---------- */

static aio_task *idle_victim;
static int idle_hook_calls;
static aio_time idle_hook_deadline;
static void idle_cancels(void *ctx, aio_time deadline)
{
    (void)ctx;
    idle_hook_calls++;
    idle_hook_deadline = deadline;
    aio_task_cancel(idle_victim); /* what an interrupt handler might do */
}

TEST(a_virtual_clock_with_an_idle_hook_calls_it_instead_of_reporting_deadlock)
{
    static struct sleeper f;
    aio_config cfg;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.idle = idle_cancels;
    cfg.seed = harness_seed;
    idle_hook_calls = 0;
    idle_victim = &mt;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    f.dur = -1; /* forever */
    CHECK_EQ(aio_run(&L, &mt, sleeper, &f), AIO_ECANCELED);
    CHECK_EQ(idle_hook_calls, 1);
    CHECK_EQ(idle_hook_deadline, AIO_TIME_INF);
}

TEST(loop_poll_waits_no_longer_than_the_next_timer)
{
    aio_config cfg;
    aio_call c;
    aio_time t0;
    memset(&cfg, 0, sizeof cfg);
    memset(&c, 0, sizeof c);
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    poll_calls = 0;
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    t0 = aio_loop_update_time(&L);
    CHECK_EQ(aio_call_later(&L, &c, AIO_MS(1), poll_cb, NULL), 0);
    while (poll_calls == 0)
        CHECK(aio_loop_poll(&L, AIO_SEC(3600)) >= 0); /* returns when the 1 ms timer is due */
    CHECK(aio_loop_update_time(&L) - t0 >= AIO_MS(1));
    /* A timer far away does not stretch a short poll. */
    CHECK_EQ(aio_call_later(&L, &c, AIO_SEC(3600), poll_cb, NULL), 0);
    CHECK_EQ(aio_loop_poll(&L, AIO_US(100)), 0);
    CHECK_EQ(poll_calls, 1);
    CHECK_EQ(aio_call_cancel(&L, &c), 1); /* it was still pending */
    aio_loop_close(&L);
}

/* ---- waking part of a wait queue ----------------------------------------- */

struct lotw { aio_frame hdr; aio_lot *lot; int rc; int order; int *next; };
static int lot_waiter(aio_task *t, void *p)
{
    struct lotw *f = (struct lotw *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_park_lot(t, f->lot);
    AIO_WAIT_PARKED(rc);
    f->rc = rc;
    f->order = ++*f->next;
    AIO_END(0);
}
struct lotm { aio_frame hdr; aio_lot lot; aio_group g; aio_task t[2]; struct lotw w[2]; int next; uint32_t woke1, woke2, len; };
static int lotm_main(aio_task *t, void *p)
{
    struct lotm *f = (struct lotm *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 2; i++) {
        f->w[i].lot = &f->lot;
        f->w[i].next = &f->next;
        aio_spawn(&f->g, &f->t[i], lot_waiter, &f->w[i]);
    }
    AIO_SLEEP(rc, AIO_MS(1)); /* both parked */
    f->woke1 = aio_lot_wake(&f->lot, 1, 5); /* only the first */
    f->len = f->lot.len;
    AIO_SLEEP(rc, AIO_MS(1));
    f->woke2 = aio_lot_wake(&f->lot, UINT32_MAX, 6);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(lot_wake_wakes_at_most_n_in_fifo_order)
{
    static struct lotm f;
    int first;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, lotm_main, &f), 0);
    CHECK_EQ(f.woke1, 1);
    CHECK_EQ(f.len, 1);
    CHECK_EQ(f.woke2, 1);
    first = f.w[0].order == 1 ? 0 : 1; /* whichever parked first */
    CHECK_EQ(f.w[first].rc, 5);
    CHECK_EQ(f.w[1 - first].rc, 6);
    CHECK_EQ(f.w[1 - first].order, 2);
}

/* ---- a deadlock that survives the deadlock cancellation ------------------- */

struct stubborn { aio_frame hdr; aio_scope sh; int first_rc; int second_rc; };
static int stubborn_main(aio_task *t, void *p)
{
    struct stubborn *f = (struct stubborn *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->second_rc = 1;
    AIO_SLEEP_FOREVER(rc);
    f->first_rc = rc; /* cancelled by the deadlock */
    aio_scope_enter(t, &f->sh, AIO_TIME_INF);
    aio_scope_set_shield(&f->sh, 1);
    AIO_SLEEP_FOREVER(rc); /* and parked for good */
    f->second_rc = rc;
    aio_scope_exit(t, &f->sh, rc);
    AIO_END(rc);
}

TEST(a_task_that_parks_again_after_the_deadlock_cancel_ends_the_run_with_edeadlk)
{
    static struct stubborn f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, stubborn_main, &f), AIO_EDEADLK);
    CHECK_EQ(f.first_rc, AIO_ECANCELED);
    CHECK_EQ(f.second_rc, 1); /* never resumed */
    CHECK(!aio_task_done(&mt));
}

/* ---- starts: while a sibling finishes, and under a cancelled starter ----- */

struct slow_start { aio_frame hdr; int twice; char dump[8192]; };
static int slow_starter(aio_task *t, void *p)
{
    struct slow_start *f = (struct slow_start *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_dump(aio_task_loop(t), collect, f->dump); /* itself, not started yet */
    AIO_SLEEP(rc, AIO_MS(2)); /* a sibling finishes meanwhile */
    if (rc == 0) {
        aio_started(t, NULL);
    } else { /* the starter was cancelled: started stays with it */
        aio_started(t, NULL);
        f->twice = aio_started(t, NULL);
    }
    AIO_END(0);
}
struct start2 {
    aio_frame hdr;
    aio_group g;
    aio_task quick, c;
    struct sleeper qs;
    struct slow_start ss;
    aio_scope sc;
    int start_rc;
    aio_time started_at;
};
static int start2_main(aio_task *t, void *p)
{
    struct start2 *f = (struct start2 *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->qs.dur = AIO_MS(1);
    aio_spawn(&f->g, &f->quick, sleeper, &f->qs);
    if (f->sc.flags) /* second run: the starter is cancelled at 1 ms */
        aio_move_on_after(t, &f->sc, AIO_MS(1));
    AIO_START(rc, &f->g, &f->c, slow_starter, &f->ss, NULL);
    f->start_rc = rc;
    f->started_at = aio_now(aio_task_loop(t));
    if (f->sc.flags & AIO__SCOPE_ACTIVE)
        aio_scope_exit(t, &f->sc, rc);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_start_outlives_a_finishing_sibling_and_a_cancelled_starter_keeps_its_child)
{
    static struct start2 f;
    int cancelled;
    for (cancelled = 0; cancelled < 2; cancelled++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        if (cancelled)
            f.sc.flags = AIO__SCOPE_EXITED; /* marks the second run */
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, start2_main, &f), 0);
        CHECK_EQ(f.qs.finished, 1);
        CHECK(strstr(f.ss.dump, "task 0x") != NULL);
        if (!cancelled) {
            CHECK_EQ(f.start_rc, 0);
            CHECK_EQ(f.started_at, AIO_MS(2));
        } else {
            CHECK_EQ(f.start_rc, AIO_ECANCELED);
            CHECK_EQ(f.ss.twice, AIO_EINVAL);
        }
    }
}

/* ---- entering a group its owner is waiting on ----------------------------- */

struct intruder { aio_frame hdr; aio_group *g; int rc; };
static int intruder_task(aio_task *t, void *p)
{
    struct intruder *f = (struct intruder *)p;
    AIO_BEGIN(t, f);
    f->rc = aio_group_enter(t, f->g, AIO_GROUP_FAIL_FAST);
    AIO_END(0);
}
struct joined { aio_frame hdr; aio_group outer, g; aio_task c, in; struct sleeper s; struct intruder i; int rc; };
static int joined_main(aio_task *t, void *p)
{
    struct joined *f = (struct joined *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->outer, AIO_GROUP_FAIL_FAST);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_MS(2);
    aio_spawn(&f->g, &f->c, sleeper, &f->s);
    f->i.g = &f->g;
    aio_spawn(&f->outer, &f->in, intruder_task, &f->i);
    AIO_GROUP_WAIT(rc, &f->g, 0); /* joining while the intruder runs */
    f->rc = rc;
    AIO_GROUP_WAIT(rc, &f->outer, 0);
    AIO_END(rc);
}

TEST(entering_a_group_that_is_being_waited_on_is_refused)
{
    static struct joined f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, joined_main, &f), 0);
    CHECK_EQ(f.i.rc, AIO_EBUSY);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(f.s.finished, 1);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 1);
#endif
}

/* ---- closing a loop with a task still waiting on a descriptor ----------- */

struct orphan { aio_frame hdr; aio_task r; struct fdready_like { aio_frame hdr; int fd; int rc; } fr; };
static int orphan_reader(aio_task *t, void *p)
{
    struct fdready_like *f = (struct fdready_like *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    AIO_END(0);
}
static int orphan_main(aio_task *t, void *p)
{
    struct orphan *f = (struct orphan *)p;
    AIO_BEGIN(t, f);
    /* A task of the loop's root group is not the main task's child. */
    aio_spawn(&aio_task_loop(t)->root, &f->r, orphan_reader, &f->fr);
    AIO_YIELD();
    AIO_END(0);
}

TEST(closing_a_loop_with_a_task_parked_on_a_descriptor_reports_busy)
{
    static struct orphan f;
    int p[2];
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    CHECK_EQ(pipe(p), 0);
    f.fr.fd = p[0];
    test_loop_init(&L);
    aio_loop_wake(&L); /* no wake path yet: nothing to do */
    CHECK_EQ(aio_run(&L, &mt, orphan_main, &f), 0);
    CHECK(!aio_task_done(&f.r));
    CHECK_EQ(aio_loop_close(&L), AIO_EBUSY);
    close(p[0]);
    close(p[1]);
}

/* ---- a backend descriptor replaced behind the loop's back ----------------- */

TEST(a_backend_wait_failing_for_a_reason_other_than_eintr_reaches_loop_poll)
{
    int p[2], bfd;
    test_loop_init(&L);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    bfd = aio_loop_backend_fd(&L);
    CHECK(bfd >= 0);
    CHECK_EQ(dup2(p[0], bfd), bfd); /* no longer an epoll (or kqueue) descriptor */
#ifdef __linux__
    CHECK_EQ(aio_loop_poll(&L, AIO_MS(1)), -EINVAL); /* epoll_wait on a pipe */
#else
    CHECK(aio_loop_poll(&L, AIO_MS(1)) < 0);
#endif
    aio_loop_close(&L); /* closes bfd, now the duplicate */
    close(p[0]);
    close(p[1]);
}

/* ---- dump: scopes, shields, past deadlines, lots, cancelled tasks ------- */

struct shielded {
    aio_frame hdr;
    aio_scope outer, inner;
    aio_event *ev;
    int rc;
};
static int shielded_task(aio_task *t, void *p)
{
    struct shielded *f = (struct shielded *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->outer, AIO_MS(1));
    aio_scope_enter(t, &f->inner, AIO_TIME_INF);
    aio_scope_set_shield(&f->inner, 1);
    AIO_EVENT_WAIT(rc, f->ev);
    f->rc = rc;
    aio_scope_exit(t, &f->inner, rc);
    aio_scope_exit(t, &f->outer, rc);
    AIO_END(0);
}
struct fdw { aio_frame hdr; int fd; int rc; };
static int fdw_task(aio_task *t, void *p)
{
    struct fdw *f = (struct fdw *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    AIO_END(0);
}
struct dumpm {
    aio_frame hdr;
    aio_group g, g2;
    aio_task a, b, c, d;
    aio_event ev;
    struct shielded sh;
    struct sleeper s, forever;
    struct fdw fw;
    int p[2];
    char early[8192], out[8192], out2[8192];
};
static int dumpm_main(aio_task *t, void *p)
{
    struct dumpm *f = (struct dumpm *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_event_init(&f->ev);
    f->sh.ev = &f->ev;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, shielded_task, &f->sh);
    f->s.dur = AIO_MS(1);
    aio_spawn(&f->g, &f->b, sleeper, &f->s);
    f->fw.fd = f->p[0];
    aio_spawn(&f->g, &f->d, fdw_task, &f->fw);
    aio_dump(aio_task_loop(t), collect, f->early); /* children not run yet */
    AIO_SLEEP(rc, AIO_MS(5));
    aio_task_cancel(&f->a);
    aio_group_enter(t, &f->g2, AIO_GROUP_FAIL_FAST);
    f->forever.dur = -1;
    aio_spawn(&f->g2, &f->c, sleeper, &f->forever);
    AIO_YIELD();
    aio_dump(aio_task_loop(t), collect, f->out);
    aio_group_cancel(&f->g2, "dumped");
    aio_dump(aio_task_loop(t), collect, f->out2);
    AIO_GROUP_WAIT(rc, &f->g2, 0);
    aio_event_set(&f->ev);
    rc = (int)write(f->p[1], "x", 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(dump_shows_scopes_shields_overdue_deadlines_and_wait_objects)
{
    static struct dumpm f;
    char want[64];
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    CHECK_EQ(pipe(f.p), 0);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, dumpm_main, &f), 0);
    aio_loop_close(&L);
    close(f.p[0]);
    close(f.p[1]);
    CHECK_EQ(f.fw.rc, 0);
    CHECK_EQ(f.forever.rc, AIO_ECANCELED);
    CHECK(strstr(f.out2, " cancelled live=1 ") != NULL); /* the cancelled inner group */
#ifdef AIO_DEBUG
    CHECK(strstr(f.out, "on sleep for ") != NULL);       /* forever: no wake time, only how long so far */
#else
    CHECK(strstr(f.out, "on sleep\n") != NULL);         /* forever: no wake time */
#endif
    CHECK(strstr(f.out, "on custom wait 0x") != NULL);   /* the descriptor wait */
    CHECK_EQ(f.sh.rc, 0); /* the shield kept both cancellations out */
#ifndef AIO_USE_LABELS
    CHECK(strstr(f.early, "at line 0\n") != NULL); /* a frame that never ran */
#endif
    CHECK(strstr(f.out, " cancelled deadline +-4000000ns\n") != NULL); /* the outer scope, 4 ms overdue */
    CHECK(strstr(f.out, " shielded\n") != NULL);
    CHECK(strstr(f.out, "(task cancelled)") != NULL);
    sprintf(want, "on wait queue 0x");
    CHECK(strstr(f.out, want) != NULL);
}

TEST(dump_stderr_writes_the_dump_to_standard_error)
{
    char buf[8192], direct[8192];
    FILE *tmp = tmpfile();
    int saved;
    size_t n;
    CHECK(tmp != NULL);
    if (!tmp)
        return;
    test_loop_init(&L);
    CHECK_EQ(aio_clock_advance(&L, AIO_MS(7)), 0);
    CHECK_EQ(aio_clock_advance(&L, -1), AIO_EINVAL);
    direct[0] = 0;
    aio_dump(&L, collect, direct);
    fflush(stderr);
    saved = dup(2);
    dup2(fileno(tmp), 2);
    aio_dump_stderr(&L);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    CHECK(strcmp(buf, direct) == 0);
    CHECK(strstr(buf, "loop now=7000000ns") != NULL);
}

/* ---- a child spawned into a group whose owner is already joining -------- */

struct joiner { aio_frame hdr; aio_group g; int wait_rc; aio_time left_at; };
static int joiner_task(aio_task *t, void *p)
{
    struct joiner *f = (struct joiner *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_GROUP_WAIT(rc, &f->g, 0); /* empty: a plain schedule point */
    f->wait_rc = rc;
    f->left_at = aio_now(aio_task_loop(t));
    AIO_END(rc);
}
struct late { aio_frame hdr; struct joiner *j; aio_task c; struct sleeper s; int spawn_rc; };
static int late_spawner(aio_task *t, void *p)
{
    struct late *f = (struct late *)p;
    AIO_BEGIN(t, f);
    f->s.dur = AIO_MS(3);
    f->spawn_rc = aio_spawn(&f->j->g, &f->c, sleeper, &f->s); /* the group is joining */
    AIO_END(0);
}
struct latem { aio_frame hdr; aio_group g; aio_task tj, tl; struct joiner j; struct late l; };
static int latem_main(aio_task *t, void *p)
{
    struct latem *f = (struct latem *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->l.j = &f->j;
    aio_spawn(&f->g, &f->tj, joiner_task, &f->j);
    aio_spawn(&f->g, &f->tl, late_spawner, &f->l);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_joining_group_waits_for_a_child_spawned_into_it_by_another_task)
{
    static struct latem f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, latem_main, &f), 0);
    CHECK_EQ(f.l.spawn_rc, 0);
    CHECK_EQ(f.l.s.finished, 1);
    CHECK_EQ(f.j.wait_rc, 0);
    CHECK_EQ(f.j.left_at, AIO_MS(3)); /* the owner left once the late child was done */
}

/* ---- shields and a scope entered twice ---------------------------------- */

struct shield2 { aio_frame hdr; aio_scope s; uint8_t before, after, unentered; int again; };
static int shield2_main(aio_task *t, void *p)
{
    struct shield2 *f = (struct shield2 *)p;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->s); /* a shield toggled before entry only changes the flag */
    aio_scope_set_shield(&f->s, 1);
    aio_scope_set_shield(&f->s, 0);
    f->unentered = f->s.flags;
    aio_move_on_after(t, &f->s, AIO_SEC(1));
    f->before = f->s.flags;
    aio_scope_set_shield(&f->s, 0); /* not shielded: nothing to do */
    f->after = f->s.flags;
#ifdef AIO_DEBUG
    f->again = aio_move_on_at(t, &f->s, AIO_SEC(2)); /* already active: refused, not reset */
#endif
    aio_scope_exit(t, &f->s, 0);
    AIO_END(0);
}

TEST(unshielding_an_unshielded_scope_and_reentering_an_active_one_change_nothing)
{
    static struct shield2 f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, shield2_main, &f), 0);
    CHECK_EQ(f.after, f.before);
    CHECK_EQ(f.unentered, 0);
    CHECK_EQ(f.s.flags & AIO__SCOPE_ACTIVE, 0);
#ifdef AIO_DEBUG
    CHECK_EQ(f.again, AIO_EBUSY);
    CHECK_EQ(panic_count, 1);
    CHECK(panic_msg && strstr(panic_msg, "already active") != NULL);
#endif
}

int main(void)
{
    RUN(strerror_names_every_code_and_passes_errno_through);
    RUN(scope_deadlines_absolute_saturated_moved_and_reentered);
    RUN(task_cancelled_flag_rc_and_error_sites);
    RUN(group_cancelled_before_entry_cancels_its_children_at_once);
    RUN(start_keeps_the_childs_own_scope_and_checks_its_arguments);
    RUN(cancelling_the_root_group_cancels_the_main_task);
    RUN(a_task_ending_inside_its_scope_or_group_has_them_closed);
    RUN_ONCE(a_cancel_during_an_always_ready_fd_wait_is_seen_on_resume);
    RUN(waiting_on_a_closed_descriptor_fails_with_ebadf);
    RUN(real_clock_sleeps_without_a_reactor_and_detects_deadlock);
    RUN(loop_poll_runs_an_overdue_timer_at_once_and_caps_a_long_wait);
    RUN(lot_wake_wakes_at_most_n_in_fifo_order);
    RUN(a_start_outlives_a_finishing_sibling_and_a_cancelled_starter_keeps_its_child);
    RUN(entering_a_group_that_is_being_waited_on_is_refused);
    RUN(closing_a_loop_with_a_task_parked_on_a_descriptor_reports_busy);
    RUN(a_backend_wait_failing_for_a_reason_other_than_eintr_reaches_loop_poll);
    RUN(a_task_that_parks_again_after_the_deadlock_cancel_ends_the_run_with_edeadlk);
    RUN(a_virtual_clock_with_an_idle_hook_calls_it_instead_of_reporting_deadlock);
    RUN(loop_poll_waits_no_longer_than_the_next_timer);
    RUN(dump_shows_scopes_shields_overdue_deadlines_and_wait_objects);
    RUN(dump_stderr_writes_the_dump_to_standard_error);
    RUN_ONCE(a_joining_group_waits_for_a_child_spawned_into_it_by_another_task);
    RUN(unshielding_an_unshielded_scope_and_reentering_an_active_one_change_nothing);
    return harness_report();
}
