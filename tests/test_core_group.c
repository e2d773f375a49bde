/*
 * tests/test_core_group.c - task groups (nurseries): failure propagation, error
 * reporting, cancellation, inheritance, the start/started handshake, and the
 * gather / first-done modes.
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"

static aio_loop L;
static aio_task mt;

#define NOW() aio_now(aio_task_loop(t))

/* ---- failure cancels siblings and the body ----------------------------- */

struct crash_main {
    aio_frame hdr;
    aio_group g;
    aio_task t[3];
    struct failer fail[2];
    struct sleeper slow;
    int body_rc, rc;
    aio_time body_at;
};
static int crash_main(aio_task *t, void *p)
{
    struct crash_main *f = (struct crash_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->fail[0].dur = AIO_MS(2);
    f->fail[0].err = -42;
    f->fail[1].dur = AIO_MS(2);
    f->fail[1].err = -43;
    f->slow.dur = AIO_SEC(100);
    aio_spawn(&f->g, &f->t[0], failer, &f->fail[0]);
    aio_spawn(&f->g, &f->t[1], failer, &f->fail[1]);
    aio_spawn(&f->g, &f->t[2], sleeper, &f->slow);
    AIO_SLEEP_FOREVER(rc);                        /* woken by the crash */
    f->body_rc = rc;
    f->body_at = NOW();
    AIO_GROUP_WAIT(rc, &f->g, rc);
    f->rc = rc;
    AIO_END(rc);
}

TEST(failing_children_cancel_siblings_and_body_and_report_every_error)
{
    static struct crash_main f;
    aio_task *x;
    unsigned line = 0;
    const char *file;
    int n = 0, first;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, crash_main, &f), f.rc);
    CHECK(f.rc == -42 || f.rc == -43);            /* both fail at 2 ms: the first to run wins */
    CHECK_EQ(f.body_rc, AIO_ECANCELED);
    CHECK_EQ(f.body_at, AIO_MS(2));
    CHECK_EQ(f.slow.rc, AIO_ECANCELED);
    CHECK_EQ(f.slow.woke_at, AIO_MS(2));
    CHECK_EQ(f.g.err_count, 2);
    first = f.g.err_first;
    CHECK_EQ(first, f.rc);
    for (x = aio_group_failed_first(&f.g); x; x = aio_group_failed_next(x)) {
        n++;
        CHECK(aio_task_rc(x) == -42 || aio_task_rc(x) == -43);
        file = aio_task_error_site(x, &line);
        CHECK(file && strstr(file, "core_util.h"));
        CHECK(line > 0);
    }
    CHECK_EQ(n, 2);
    CHECK_EQ(aio_task_rc(aio_group_failed_first(&f.g)), first);
    CHECK(f.g.scope.source == AIO_CANCEL_GROUP);
    CHECK(f.t[2].state == AIO__TASK_DONE);          /* the cancelled sibling is not a failure */
}

struct body_fail { aio_frame hdr; aio_group g; aio_task t; struct sleeper s; int rc; };
static int body_fail_main(aio_task *t, void *p)
{
    struct body_fail *f = (struct body_fail *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_SEC(5);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    AIO_SLEEP(rc, AIO_MS(1));
    AIO_GROUP_WAIT(rc, &f->g, -7);                /* the body failed */
    f->rc = rc;
    AIO_END(0);
}

TEST(body_error_cancels_children_and_comes_out_of_the_group)
{
    static struct body_fail f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, body_fail_main, &f), 0);
    CHECK_EQ(f.rc, -7);
    CHECK_EQ(f.s.rc, AIO_ECANCELED);
    CHECK_EQ(f.s.woke_at, AIO_MS(1));
    CHECK_EQ(f.g.err_count, 1);
}

/* ---- joining --------------------------------------------------------- */

struct body_returns { aio_frame hdr; aio_group g; aio_task t[2]; struct sleeper s[2]; int rc; aio_time at; };
static int body_returns_main(aio_task *t, void *p)
{
    struct body_returns *f = (struct body_returns *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s[0].dur = AIO_MS(3);
    f->s[1].dur = AIO_MS(8);
    aio_spawn(&f->g, &f->t[0], sleeper, &f->s[0]);
    aio_spawn(&f->g, &f->t[1], sleeper, &f->s[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);                 /* the body ends at once: wait, never cancel */
    f->rc = rc;
    f->at = NOW();
    AIO_END(rc);
}

TEST(leaving_the_group_waits_for_every_child)
{
    static struct body_returns f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, body_returns_main, &f), 0);
    CHECK_EQ(f.at, AIO_MS(8));
    CHECK_EQ(f.s[0].rc, 0);
    CHECK_EQ(f.s[1].rc, 0);
    CHECK_EQ(f.g.state, AIO__GROUP_CLOSED);
}

struct outer_cancel {
    aio_frame hdr;
    aio_scope sc;
    aio_group g;
    aio_task t;
    struct sleeper s;
    int grc, out;
    aio_time at;
};
static int outer_cancel_main(aio_task *t, void *p)
{
    struct outer_cancel *f = (struct outer_cancel *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->sc, AIO_MS(4));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_SEC(10);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);                 /* not a cancel point: waits for the child */
    f->grc = rc;
    f->at = NOW();
    f->out = aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(outer_cancellation_reaches_children_and_propagates_through_the_group)
{
    static struct outer_cancel f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, outer_cancel_main, &f), 0);
    CHECK_EQ(f.s.rc, AIO_ECANCELED);
    CHECK_EQ(f.grc, AIO_ECANCELED);
    CHECK_EQ(f.at, AIO_MS(4));
    CHECK_EQ(aio_scope_cancelled_caught(&f.g.scope), 0);
    CHECK_EQ(f.out, 0);
    CHECK_EQ(aio_scope_cancelled_caught(&f.sc), 1);
}

struct empty_cancelled { aio_frame hdr; aio_scope sc; aio_group g; int grc; uint32_t cp0, cp1, sp0, sp1; };
static int empty_cancelled_main(aio_task *t, void *p)
{
    struct empty_cancelled *f = (struct empty_cancelled *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->sc);
    aio_scope_cancel(&f->sc, NULL);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
#ifdef AIO_DEBUG
    f->cp0 = t->cancel_points;
    f->sp0 = t->schedule_points;
#endif
    AIO_GROUP_WAIT(rc, &f->g, 0);
#ifdef AIO_DEBUG
    f->cp1 = t->cancel_points;
    f->sp1 = t->schedule_points;
#endif
    f->grc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(empty_group_in_cancelled_scope_is_a_schedule_point_and_not_a_cancel_point)
{
    static struct empty_cancelled f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, empty_cancelled_main, &f), 0);
    CHECK_EQ(f.grc, 0);
    CHECK_EQ(aio_scope_cancelled_caught(&f.g.scope), 0);
#ifdef AIO_DEBUG
    CHECK_EQ(f.cp1 - f.cp0, 0);
    CHECK_EQ(f.sp1 - f.sp0, 1);
#endif
}

struct gcancel { aio_frame hdr; aio_group g; aio_task t[2]; struct sleeper s[2]; int grc, body; };
static int gcancel_main(aio_task *t, void *p)
{
    struct gcancel *f = (struct gcancel *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s[0].dur = AIO_SEC(1);
    f->s[1].dur = -1;
    aio_spawn(&f->g, &f->t[0], sleeper, &f->s[0]);
    aio_spawn(&f->g, &f->t[1], sleeper, &f->s[1]);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_group_cancel(&f->g, "enough");
    AIO_CHECKPOINT(rc);
    f->body = rc;
    AIO_GROUP_WAIT(rc, &f->g, rc);
    f->grc = rc;
    AIO_END(rc);
}

TEST(group_cancel_stops_everything_and_the_group_catches_it)
{
    static struct gcancel f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, gcancel_main, &f), 0);
    CHECK_EQ(f.body, AIO_ECANCELED);
    CHECK_EQ(f.grc, 0);
    CHECK_EQ(f.s[0].rc, AIO_ECANCELED);
    CHECK_EQ(f.s[1].rc, AIO_ECANCELED);
    CHECK_EQ(aio_scope_cancelled_caught(&f.g.scope), 1);
    CHECK(strcmp(f.g.scope.reason, "enough") == 0);
    CHECK_EQ(L.now, AIO_MS(1));
}

/* A task spawned into a cancelled group still runs until its first checkpoint. */
struct precancel_child { aio_frame hdr; int ran, rc; };
static int precancel_child(aio_task *t, void *p)
{
    struct precancel_child *f = (struct precancel_child *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->ran = 1;
    AIO_CHECKPOINT(rc);
    f->rc = rc;
    AIO_END(rc);
}
struct precancel_main { aio_frame hdr; aio_group g; aio_task t; struct precancel_child c; int grc; };
static int precancel_main(aio_task *t, void *p)
{
    struct precancel_main *f = (struct precancel_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_group_cancel(&f->g, NULL);
    aio_spawn(&f->g, &f->t, precancel_child, &f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    AIO_END(rc);
}

TEST(precancelled_child_runs_until_its_first_checkpoint)
{
    static struct precancel_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, precancel_main, &f), 0);
    CHECK_EQ(f.c.ran, 1);
    CHECK_EQ(f.c.rc, AIO_ECANCELED);
    CHECK_EQ(f.grc, 0);
}

/* Children inherit the group's scopes, not their spawner's. */
struct inherit { aio_frame hdr; aio_group g; aio_scope sc; aio_task t; struct sleeper s; aio_time at; };
static int inherit_main(aio_task *t, void *p)
{
    struct inherit *f = (struct inherit *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_move_on_after(t, &f->sc, AIO_MS(1));      /* around the spawn: no effect on the child */
    f->s.dur = AIO_MS(5);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    AIO_SLEEP(rc, AIO_MS(3));
    rc = aio_scope_exit(t, &f->sc, rc);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    f->at = NOW();
    AIO_END(rc);
}

TEST(children_inherit_the_groups_scopes_not_the_spawners)
{
    static struct inherit f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, inherit_main, &f), 0);
    CHECK_EQ(f.s.rc, 0);
    CHECK_EQ(f.s.woke_at, AIO_MS(5));
    CHECK_EQ(f.at, AIO_MS(5));
}

/* A child may spawn siblings while the parent is waiting (the group is joining). */
struct spawner { aio_frame hdr; aio_group *g; aio_task *t; struct sleeper *s; int rc; };
static int spawner(aio_task *t, void *p)
{
    struct spawner *f = (struct spawner *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(2));
    f->s->dur = AIO_MS(3);
    f->rc = aio_spawn(f->g, f->t, sleeper, f->s);
    AIO_END(rc);
}
struct late_spawn { aio_frame hdr; aio_group g; aio_task t[2]; struct spawner sp; struct sleeper s; aio_time at; int closed; };
static int late_spawn_main(aio_task *t, void *p)
{
    struct late_spawn *f = (struct late_spawn *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->sp.g = &f->g;
    f->sp.t = &f->t[1];
    f->sp.s = &f->s;
    aio_spawn(&f->g, &f->t[0], spawner, &f->sp);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->at = NOW();
    f->closed = aio_spawn(&f->g, &f->t[0], spawner, &f->sp);
    AIO_END(rc);
}

TEST(spawning_is_allowed_while_the_group_is_being_waited)
{
    static struct late_spawn f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, late_spawn_main, &f), 0);
    CHECK_EQ(f.sp.rc, 0);
    CHECK_EQ(f.s.woke_at, AIO_MS(5));
    CHECK_EQ(f.at, AIO_MS(5));
    CHECK_EQ(f.closed, AIO_ECLOSED);
}

/* ---- start / started --------------------------------------------------- */

/* Modes of the started child. */
enum { S_OK, S_FAIL_BEFORE, S_RETURN_BEFORE, S_TWICE, S_SLEEP_FIRST };
struct server { aio_frame hdr; int mode; int port; int twice; int rc; aio_time done_at; };
static int server(aio_task *t, void *p)
{
    struct server *f = (struct server *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(2));                     /* setting up */
    if (rc < 0)
        AIO_RETURN(rc);
    if (f->mode == S_FAIL_BEFORE)
        AIO_RETURN(-99);
    if (f->mode == S_RETURN_BEFORE)
        AIO_RETURN(0);
    f->port = 8080;
    aio_started(t, &f->port);
    if (f->mode == S_TWICE)
        f->twice = aio_started(t, &f->port);
    AIO_SLEEP(rc, AIO_MS(10));                    /* serving */
    f->rc = rc;
    f->done_at = aio_now(aio_task_loop(t));
    AIO_END(rc);
}
struct start_main {
    aio_frame hdr;
    aio_group g;
    aio_task t;
    struct server s;
    int mode, rc, grc;
    void *value;
    aio_time at, end;
    aio_scope sc;
    int cancel_starter, cancel_group_after;
};
static int start_main(aio_task *t, void *p)
{
    struct start_main *f = (struct start_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.mode = f->mode;
    if (f->cancel_starter)
        aio_move_on_after(t, &f->sc, AIO_MS(1));
    AIO_START(rc, &f->g, &f->t, server, &f->s, &f->value);
    f->rc = rc;
    f->at = NOW();
    if (f->cancel_starter)
        rc = aio_scope_exit(t, &f->sc, rc);
    if (f->cancel_group_after)
        aio_group_cancel(&f->g, NULL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    f->end = NOW();
    AIO_END(0);
}

static struct start_main sm;
static void run_start(int mode, int cancel_starter, int cancel_group_after)
{
    memset(&sm, 0, sizeof sm);
    memset(&mt, 0, sizeof mt);
    sm.mode = mode;
    sm.cancel_starter = cancel_starter;
    sm.cancel_group_after = cancel_group_after;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, start_main, &sm), 0);
}

TEST(start_returns_the_started_value_and_the_child_keeps_running)
{
    run_start(S_OK, 0, 0);
    CHECK_EQ(sm.rc, 0);
    CHECK(sm.value == &sm.s.port);
    CHECK_EQ(*(int *)sm.value, 8080);
    CHECK_EQ(sm.at, AIO_MS(2));
    CHECK_EQ(sm.s.done_at, AIO_MS(12));
    CHECK_EQ(sm.end, AIO_MS(12));
    CHECK_EQ(sm.grc, 0);
}

TEST(start_reports_an_error_before_started_straight_out_of_start)
{
    run_start(S_FAIL_BEFORE, 0, 0);
    CHECK_EQ(sm.rc, -99);
    CHECK_EQ(sm.grc, 0);                          /* it never reached the group */
    CHECK_EQ(sm.g.err_count, 0);
}

TEST(start_child_that_returns_without_started_is_an_error)
{
    run_start(S_RETURN_BEFORE, 0, 0);
    CHECK_EQ(sm.rc, AIO_ENOTSTARTED);
}

TEST(started_twice_is_an_error_code)
{
    run_start(S_TWICE, 0, 0);
    CHECK_EQ(sm.rc, 0);
    CHECK_EQ(sm.s.twice, AIO_EINVAL);
}

TEST(cancelled_start_cancels_the_child_with_it)
{
    run_start(S_OK, 1, 0);
    CHECK_EQ(sm.rc, AIO_ECANCELED);
    CHECK_EQ(sm.at, AIO_MS(1));
    CHECK(sm.value == NULL);
    CHECK_EQ(aio_task_rc(&sm.t), AIO_ECANCELED);
    CHECK_EQ(aio_scope_cancelled_caught(&sm.sc), 1);
}

TEST(after_started_the_child_belongs_to_the_group)
{
    run_start(S_OK, 0, 1);
    CHECK_EQ(sm.rc, 0);
    CHECK_EQ(sm.s.rc, AIO_ECANCELED);             /* the group's cancel reaches it */
    CHECK_EQ(sm.s.done_at, AIO_MS(2));
    CHECK_EQ(sm.grc, 0);
}

/* started() while the starter is already cancelled: ignored; start reports
 * AIO_ECANCELED once the child finishes (trio's behaviour). */
struct late_started { aio_frame hdr; aio_scope *sc; int after; int rc; };
static int late_started_child(aio_task *t, void *p)
{
    struct late_started *f = (struct late_started *)p;
    AIO_BEGIN(t, f);
    aio_scope_cancel(f->sc, NULL);                /* the starter's scope */
    f->rc = aio_started(t, NULL);
    f->after = 1;
    AIO_END(0);
}
struct late_started_main { aio_frame hdr; aio_group g; aio_scope sc; aio_task t; struct late_started c; int rc; };
static int late_started_main(aio_task *t, void *p)
{
    struct late_started_main *f = (struct late_started_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_scope_init(&f->sc);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    f->c.sc = &f->sc;
    AIO_START(rc, &f->g, &f->t, late_started_child, &f->c, NULL);
    f->rc = rc;
    rc = aio_scope_exit(t, &f->sc, rc);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}

TEST(started_while_the_starter_is_cancelled_is_ignored)
{
    static struct late_started_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, late_started_main, &f), 0);
    CHECK_EQ(f.c.rc, 0);
    CHECK_EQ(f.c.after, 1);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(f.g.live, 0);
}

/* ---- gather and first-done modes --------------------------------------- */

struct modes { aio_frame hdr; aio_group g; aio_task t[3]; struct failer c[3]; int mode, grc; aio_time at; };
static int modes_main(aio_task *t, void *p)
{
    struct modes *f = (struct modes *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, f->mode);
    f->c[0].dur = AIO_MS(3); f->c[0].err = 10;
    f->c[1].dur = AIO_MS(1); f->c[1].err = -20;
    f->c[2].dur = AIO_MS(6); f->c[2].err = 30;
    if (f->mode == AIO_GROUP_FIRST_DONE)
        f->c[1].err = 20;
    for (i = 0; i < 3; i++)
        aio_spawn(&f->g, &f->t[i], failer, &f->c[i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    f->at = NOW();
    AIO_END(0);
}

TEST(all_settled_mode_keeps_every_result_and_cancels_nothing)
{
    static struct modes f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.mode = AIO_GROUP_ALL_SETTLED;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, modes_main, &f), 0);
    CHECK_EQ(aio_task_rc(&f.t[0]), 10);
    CHECK_EQ(aio_task_rc(&f.t[1]), -20);
    CHECK_EQ(aio_task_rc(&f.t[2]), 30);
    CHECK_EQ(f.grc, -20);
    CHECK_EQ(f.at, AIO_MS(6));
}

TEST(first_done_mode_cancels_the_rest_when_one_finishes)
{
    static struct modes f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.mode = AIO_GROUP_FIRST_DONE;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, modes_main, &f), 0);
    CHECK(f.g.winner == &f.t[1]);
    CHECK_EQ(aio_task_rc(&f.t[1]), 20);
    CHECK_EQ(aio_task_rc(&f.t[0]), AIO_ECANCELED);
    CHECK_EQ(aio_task_rc(&f.t[2]), AIO_ECANCELED);
    CHECK_EQ(f.grc, 0);
    CHECK_EQ(f.at, AIO_MS(1));
}

TEST(fail_fast_mode_returns_the_first_error)
{
    static struct modes f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.mode = AIO_GROUP_FAIL_FAST;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, modes_main, &f), 0);
    CHECK_EQ(f.grc, -20);
    CHECK_EQ(f.at, AIO_MS(1));
    CHECK_EQ(aio_task_rc(&f.t[0]), AIO_ECANCELED);
}

/* ---- nested groups: cancel reaches grandchildren ----------------------- */

struct mid { aio_frame hdr; aio_group g; aio_task t[2]; struct sleeper s[2]; int grc; };
static int mid(aio_task *t, void *p)
{
    struct mid *f = (struct mid *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s[0].dur = AIO_SEC(5);
    f->s[1].dur = -1;
    aio_spawn(&f->g, &f->t[0], sleeper, &f->s[0]);
    aio_spawn(&f->g, &f->t[1], sleeper, &f->s[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    AIO_END(rc);
}
struct top { aio_frame hdr; aio_group g; aio_task t[3]; struct mid m[2]; struct failer bad; int grc; };
static int top_main(aio_task *t, void *p)
{
    struct top *f = (struct top *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->t[0], mid, &f->m[0]);
    aio_spawn(&f->g, &f->t[1], mid, &f->m[1]);
    f->bad.dur = AIO_MS(3);
    f->bad.err = -1;
    aio_spawn(&f->g, &f->t[2], failer, &f->bad);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    AIO_END(0);
}

TEST(cancellation_reaches_every_grandchild)
{
    static struct top f;
    int i, j;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, top_main, &f), 0);
    CHECK_EQ(f.grc, -1);
    for (i = 0; i < 2; i++) {
        CHECK_EQ(f.m[i].grc, AIO_ECANCELED);       /* the cancel came from outside the mid group */
        for (j = 0; j < 2; j++) {
            CHECK_EQ(f.m[i].s[j].rc, AIO_ECANCELED);
            CHECK_EQ(f.m[i].s[j].woke_at, AIO_MS(3));
        }
    }
    CHECK_EQ(L.ncancel, 0);
    CHECK_EQ(L.nheap, 0);
}

/* ---- misuse ------------------------------------------------------------ */

struct gmisuse { aio_frame hdr; aio_group g; int again, twice, enter_twice, bad_mode; };
static int gmisuse_main(aio_task *t, void *p)
{
    struct gmisuse *f = (struct gmisuse *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->bad_mode = aio_group_enter(t, &f->g, 99);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->enter_twice = aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_GROUP_WAIT(f->twice, &f->g, 0);
    AIO_END(0);
}

TEST(group_entered_twice_or_waited_twice_is_reported)
{
    static struct gmisuse f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, gmisuse_main, &f), 0);
    CHECK_EQ(f.bad_mode, AIO_EINVAL);
    CHECK_EQ(f.enter_twice, AIO_EBUSY);
    CHECK_EQ(f.twice, AIO_EINVAL);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 2);
#endif
}

/* A group can be reused after it was waited; failed children become reusable. */
struct reuse { aio_frame hdr; aio_group g; aio_task t; struct failer c; int r1, r2, spawn_failed_linked; struct sleeper s; };
static int reuse_main(aio_task *t, void *p)
{
    struct reuse *f = (struct reuse *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->c.dur = AIO_MS(1);
    f->c.err = -3;
    aio_spawn(&f->g, &f->t, failer, &f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->r1 = rc;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_MS(1);
    f->spawn_failed_linked = aio_spawn(&f->g, &f->t, sleeper, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->r2 = rc;
    AIO_END(0);
}

TEST(a_waited_group_can_be_reused_and_its_failed_children_respawned)
{
    static struct reuse f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, reuse_main, &f), 0);
    CHECK_EQ(f.r1, -3);
    CHECK_EQ(f.spawn_failed_linked, 0);
    CHECK_EQ(f.r2, 0);
    CHECK_EQ(f.s.woke_at, AIO_MS(2));
}

int main(void)
{
    RUN(failing_children_cancel_siblings_and_body_and_report_every_error);
    RUN(body_error_cancels_children_and_comes_out_of_the_group);
    RUN(leaving_the_group_waits_for_every_child);
    RUN(outer_cancellation_reaches_children_and_propagates_through_the_group);
    RUN(empty_group_in_cancelled_scope_is_a_schedule_point_and_not_a_cancel_point);
    RUN(group_cancel_stops_everything_and_the_group_catches_it);
    RUN(precancelled_child_runs_until_its_first_checkpoint);
    RUN(children_inherit_the_groups_scopes_not_the_spawners);
    RUN(spawning_is_allowed_while_the_group_is_being_waited);
    RUN(start_returns_the_started_value_and_the_child_keeps_running);
    RUN(start_reports_an_error_before_started_straight_out_of_start);
    RUN(start_child_that_returns_without_started_is_an_error);
    RUN(started_twice_is_an_error_code);
    RUN(cancelled_start_cancels_the_child_with_it);
    RUN(after_started_the_child_belongs_to_the_group);
    RUN(started_while_the_starter_is_cancelled_is_ignored);
    RUN(all_settled_mode_keeps_every_result_and_cancels_nothing);
    RUN(first_done_mode_cancels_the_rest_when_one_finishes);
    RUN(fail_fast_mode_returns_the_first_error);
    RUN(cancellation_reaches_every_grandchild);
    RUN(group_entered_twice_or_waited_twice_is_reported);
    RUN(a_waited_group_can_be_reused_and_its_failed_children_respawned);
    return harness_report();
}
