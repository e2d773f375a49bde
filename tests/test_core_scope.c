/*
 * tests/test_core_scope.c - cancel scopes: the truth tables of trio's cancel
 * semantics (nesting, outer wins, shields, deadlines, level triggering,
 * effective deadlines, pre-cancelled scopes, deep nesting, cleanup).
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"

static aio_loop L;
static aio_task mt;

#define NOW() aio_now(aio_task_loop(t))

/* ---- move_on_after / fail_after ---------------------------------------- */

struct timeouts {
    aio_frame hdr;
    aio_scope a, b, c;
    int rc_a, rc_b, rc_c, inner_rc;
    aio_time at_a, at_b;
    int caught_a, caught_b, caught_c, called_c;
};
static int timeouts_main(aio_task *t, void *p)
{
    struct timeouts *f = (struct timeouts *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    AIO_SLEEP(rc, AIO_SEC(10));
    f->inner_rc = rc;
    f->rc_a = aio_scope_exit(t, &f->a, rc);
    f->caught_a = aio_scope_cancelled_caught(&f->a);
    f->at_a = NOW();

    aio_fail_after(t, &f->b, AIO_MS(5));
    AIO_SLEEP(rc, AIO_SEC(10));
    f->rc_b = aio_scope_exit(t, &f->b, rc);
    f->caught_b = aio_scope_cancelled_caught(&f->b);
    f->at_b = NOW();

    /* Finishes in time: nothing caught, nothing cancelled. */
    aio_fail_after(t, &f->c, AIO_MS(5));
    AIO_SLEEP(rc, AIO_MS(1));
    f->rc_c = aio_scope_exit(t, &f->c, rc);
    f->caught_c = aio_scope_cancelled_caught(&f->c);
    f->called_c = aio_scope_cancel_called(&f->c);
    AIO_END(0);
}

TEST(move_on_after_catches_and_fail_after_times_out)
{
    static struct timeouts f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, timeouts_main, &f), 0);
    CHECK_EQ(f.inner_rc, AIO_ECANCELED);
    CHECK_EQ(f.rc_a, 0);
    CHECK_EQ(f.caught_a, 1);
    CHECK_EQ(f.at_a, AIO_MS(5));
    CHECK_EQ(f.rc_b, AIO_ETIMEDOUT);
    CHECK_EQ(f.caught_b, 1);
    CHECK_EQ(f.at_b, AIO_MS(10));
    CHECK_EQ(f.rc_c, 0);
    CHECK_EQ(f.caught_c, 0);
    CHECK_EQ(f.called_c, 0);
    CHECK_EQ(L.nheap, 0); /* exited scopes leave no timer behind */
}

/* ---- level triggering and explicit cancel ------------------------------ */

struct level {
    aio_frame hdr;
    aio_scope s;
    int r1, r2, r3, out, nocheck;
    uint32_t cp;
};
static int level_main(aio_task *t, void *p)
{
    struct level *f = (struct level *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->s);
    aio_scope_enter(t, &f->s, AIO_TIME_INF);
    aio_scope_cancel(&f->s, "because");
    aio_scope_cancel(&f->s, "ignored"); /* idempotent; first reason kept */
    f->nocheck = aio_check_cancel(t);
    AIO_CHECKPOINT(rc);
    f->r1 = rc;
    AIO_CHECKPOINT(rc);
    f->r2 = rc;
    AIO_SLEEP(rc, AIO_MS(1));
    f->r3 = rc;
    f->out = aio_scope_exit(t, &f->s, rc);
    AIO_CHECKPOINT(rc); /* outside: fine again */
    AIO_END(rc);
}

TEST(cancellation_is_level_triggered_until_the_scope_exits)
{
    static struct level f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, level_main, &f), 0);
    CHECK_EQ(f.nocheck, AIO_ECANCELED);
    CHECK_EQ(f.r1, AIO_ECANCELED);
    CHECK_EQ(f.r2, AIO_ECANCELED);
    CHECK_EQ(f.r3, AIO_ECANCELED);
    CHECK_EQ(f.out, 0);
    CHECK(strcmp(f.s.reason, "because") == 0);
    CHECK_EQ(f.s.source, AIO_CANCEL_EXPLICIT);
    CHECK_EQ(L.now, 0);
}

/* ---- outer wins -------------------------------------------------------- */

struct nesting {
    aio_frame hdr;
    aio_scope s1, s2;
    int rc2, rc1;
};
static int outer_wins_main(aio_task *t, void *p)
{
    struct nesting *f = (struct nesting *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->s1);
    aio_scope_init(&f->s2);
    aio_scope_enter(t, &f->s1, AIO_TIME_INF);
    aio_scope_enter(t, &f->s2, AIO_TIME_INF);
    aio_scope_cancel(&f->s1, NULL);
    aio_scope_cancel(&f->s2, NULL);
    AIO_CHECKPOINT(rc);
    f->rc2 = aio_scope_exit(t, &f->s2, rc);
    f->rc1 = aio_scope_exit(t, &f->s1, f->rc2);
    AIO_END(0);
}

TEST(outermost_cancelled_scope_catches)
{
    static struct nesting f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, outer_wins_main, &f), 0);
    CHECK_EQ(f.rc2, AIO_ECANCELED);
    CHECK_EQ(aio_scope_cancelled_caught(&f.s2), 0);
    CHECK_EQ(f.rc1, 0);
    CHECK_EQ(aio_scope_cancelled_caught(&f.s1), 1);
}

/* ---- shields ----------------------------------------------------------- */

struct shield {
    aio_frame hdr;
    aio_scope outer, sh, inner;
    int r_shielded, r_inner_through_shield, r_unshielded, r_after_inner;
};
static int shield_main(aio_task *t, void *p)
{
    struct shield *f = (struct shield *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->outer);
    aio_scope_init(&f->sh);
    aio_scope_init(&f->inner);
    aio_scope_enter(t, &f->outer, AIO_TIME_INF);
    aio_scope_cancel(&f->outer, NULL);
    aio_scope_set_shield(&f->sh, 1);
    aio_scope_enter(t, &f->sh, AIO_TIME_INF);
    AIO_CHECKPOINT(rc);
    f->r_shielded = rc;                          /* the shield hides the outer cancel */
    aio_scope_enter(t, &f->inner, AIO_TIME_INF);
    aio_scope_cancel(&f->inner, NULL);
    AIO_CHECKPOINT(rc);
    f->r_inner_through_shield = rc;              /* inner scopes still work */
    rc = aio_scope_exit(t, &f->inner, rc);
    f->r_after_inner = rc;
    aio_scope_set_shield(&f->sh, 0);             /* toggled off mid-scope */
    AIO_CHECKPOINT(rc);
    f->r_unshielded = rc;
    rc = aio_scope_exit(t, &f->sh, rc);
    rc = aio_scope_exit(t, &f->outer, rc);
    AIO_END(rc);
}

TEST(shield_hides_outer_cancellation_but_not_inner_scopes)
{
    static struct shield f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, shield_main, &f), 0);
    CHECK_EQ(f.r_shielded, 0);
    CHECK_EQ(f.r_inner_through_shield, AIO_ECANCELED);
    CHECK_EQ(f.r_after_inner, 0);
    CHECK_EQ(f.r_unshielded, AIO_ECANCELED);
    CHECK_EQ(aio_scope_cancelled_caught(&f.sh), 0);
    CHECK_EQ(aio_scope_cancelled_caught(&f.outer), 1);
}

/* Unshielding wakes a child parked inside the shield (trio's test_cancel_shield_abort). */
struct unshield {
    aio_frame hdr;
    aio_group g;
    aio_task t;
    aio_scope sh;
    struct sleeper s;
    int rc;
};
struct shielded_sleeper { aio_frame hdr; aio_scope *sh; int rc; aio_time at; };
static int shielded_sleeper(aio_task *t, void *p)
{
    struct shielded_sleeper *f = (struct shielded_sleeper *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_set_shield(f->sh, 1);
    aio_scope_enter(t, f->sh, AIO_TIME_INF);
    AIO_SLEEP(rc, AIO_SEC(100));
    f->rc = rc;
    f->at = NOW();
    rc = aio_scope_exit(t, f->sh, rc);
    AIO_END(rc);
}
struct unshield_main { aio_frame hdr; aio_group g; aio_task t; aio_scope sh; struct shielded_sleeper s; int rc; };
static int unshield_main(aio_task *t, void *p)
{
    struct unshield_main *f = (struct unshield_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->sh);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.sh = &f->sh;
    aio_spawn(&f->g, &f->t, shielded_sleeper, &f->s);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_group_cancel(&f->g, "stop");
    AIO_SLEEP(rc, AIO_MS(1));                     /* fails at once: the body is cancelled too */
    f->rc = rc;
    aio_scope_set_shield(&f->sh, 0);              /* now the child sees it */
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}

TEST(unshielding_wakes_a_task_parked_inside_the_shield)
{
    static struct unshield_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, unshield_main, &f), 0);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(f.s.rc, AIO_ECANCELED);
    CHECK_EQ(f.s.at, AIO_MS(1));
    CHECK_EQ(aio_scope_cancelled_caught(&f.g.scope), 1);
}

/* ---- effective deadline (trio's test_current_effective_deadline) ------- */

struct eff {
    aio_frame hdr;
    aio_scope outer, inner;
    aio_time d[6];
};
static int eff_main(aio_task *t, void *p)
{
    struct eff *f = (struct eff *)p;
    AIO_BEGIN(t, f);
    f->d[0] = aio_effective_deadline(t);
    aio_scope_init(&f->outer);
    aio_scope_init(&f->inner);
    aio_scope_enter(t, &f->outer, 5);
    aio_scope_enter(t, &f->inner, 10);
    f->d[1] = aio_effective_deadline(t);          /* 5 ⊃ 10 -> 5 */
    aio_scope_set_deadline(&f->inner, 3);
    f->d[2] = aio_effective_deadline(t);          /* inner 3 -> 3 */
    aio_scope_set_deadline(&f->inner, 10);
    aio_scope_set_shield(&f->inner, 1);
    f->d[3] = aio_effective_deadline(t);          /* inner shield -> 10 */
    aio_scope_set_shield(&f->inner, 0);
    aio_scope_cancel(&f->outer, NULL);
    f->d[4] = aio_effective_deadline(t);          /* outer cancelled -> -inf */
    aio_scope_set_shield(&f->inner, 1);
    f->d[5] = aio_effective_deadline(t);          /* outer cancelled + inner shield -> 10 */
    aio_scope_exit(t, &f->inner, 0);
    aio_scope_exit(t, &f->outer, 0);
    AIO_END(0);
}

TEST(effective_deadline_table)
{
    static struct eff f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, eff_main, &f), 0);
    CHECK(f.d[0] == AIO_TIME_INF);
    CHECK_EQ(f.d[1], 5);
    CHECK_EQ(f.d[2], 3);
    CHECK_EQ(f.d[3], 10);
    CHECK(f.d[4] == AIO_TIME_NEG_INF);
    CHECK_EQ(f.d[5], 10);
}

/* ---- deadlines moving -------------------------------------------------- */

struct moving {
    aio_frame hdr;
    aio_scope s, s2, s3;
    aio_time at1, at2, at3;
    int r1, r2, r3;
};
static int moving_main(aio_task *t, void *p)
{
    struct moving *f = (struct moving *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->s, AIO_MS(100));
    aio_scope_set_deadline(&f->s, AIO_MS(3));     /* earlier */
    AIO_SLEEP(rc, AIO_SEC(1));
    f->r1 = rc;
    f->at1 = NOW();
    aio_scope_exit(t, &f->s, rc);

    aio_move_on_after(t, &f->s2, AIO_MS(2));
    aio_scope_set_deadline(&f->s2, NOW() + AIO_MS(20)); /* later */
    AIO_SLEEP(rc, AIO_MS(10));
    f->r2 = rc;
    f->at2 = NOW();
    aio_scope_exit(t, &f->s2, rc);

    aio_move_on_at(t, &f->s3, NOW() - 1);          /* deadline in the past: cancelled at once */
    AIO_SLEEP(rc, AIO_MS(1));
    f->r3 = rc;
    f->at3 = NOW();
    aio_scope_exit(t, &f->s3, rc);
    AIO_END(0);
}

TEST(deadlines_can_move_earlier_or_later_and_past_deadlines_fire_at_once)
{
    static struct moving f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, moving_main, &f), 0);
    CHECK_EQ(f.r1, AIO_ECANCELED);
    CHECK_EQ(f.at1, AIO_MS(3));
    CHECK_EQ(f.r2, 0);
    CHECK_EQ(f.at2, AIO_MS(13));
    CHECK_EQ(f.r3, AIO_ECANCELED);
    CHECK_EQ(f.at3, AIO_MS(13));
    CHECK_EQ(f.s3.source, AIO_CANCEL_DEADLINE);
    CHECK_EQ(L.nheap, 0);
}

/* ---- pre-cancelled scope, cancel after the last checkpoint ------------- */

struct precancel { aio_frame hdr; aio_scope s, s2; int r, out2, neg; };
static int precancel_main(aio_task *t, void *p)
{
    struct precancel *f = (struct precancel *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->s);
    aio_scope_cancel(&f->s, "early");
    aio_scope_enter(t, &f->s, AIO_TIME_INF);
    AIO_CHECKPOINT(rc);
    f->r = rc;
    aio_scope_exit(t, &f->s, rc);

    aio_scope_init(&f->s2);
    aio_scope_enter(t, &f->s2, AIO_TIME_INF);
    AIO_CHECKPOINT(rc);
    aio_scope_cancel(&f->s2, NULL);               /* after the last checkpoint */
    f->out2 = aio_scope_exit(t, &f->s2, rc);
    f->neg = aio_move_on_after(t, &f->s, -1);
    AIO_END(0);
}

TEST(precancelled_scope_fails_first_checkpoint_and_late_cancel_is_not_caught)
{
    static struct precancel f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, precancel_main, &f), 0);
    CHECK_EQ(f.r, AIO_ECANCELED);
    CHECK_EQ(aio_scope_cancelled_caught(&f.s), 1);
    CHECK_EQ(f.out2, 0);
    CHECK_EQ(aio_scope_cancel_called(&f.s2), 1);
    CHECK_EQ(aio_scope_cancelled_caught(&f.s2), 0);
    CHECK_EQ(f.neg, AIO_EINVAL);
    CHECK_EQ(L.ncancel, 0);
}

/* ---- misuse: exit twice, out of order ---------------------------------- */

struct misnest { aio_frame hdr; aio_scope a, b; int r_order, r_twice; };
static int misnest_main(aio_task *t, void *p)
{
    struct misnest *f = (struct misnest *)p;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->a);
    aio_scope_init(&f->b);
    aio_scope_enter(t, &f->a, AIO_TIME_INF);
    aio_scope_enter(t, &f->b, AIO_TIME_INF);
    f->r_order = aio_scope_exit(t, &f->a, 0);    /* a is not innermost */
    aio_scope_exit(t, &f->b, 0);
    aio_scope_exit(t, &f->a, 0);
    f->r_twice = aio_scope_exit(t, &f->a, 0);
    AIO_END(0);
}

TEST(scope_exited_twice_or_out_of_order_is_reported)
{
    static struct misnest f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, misnest_main, &f), 0);
    CHECK_EQ(f.r_order, AIO_EINVAL);
    CHECK_EQ(f.r_twice, AIO_EINVAL);
#ifdef AIO_DEBUG
    CHECK(panic_count >= 2);
#endif
}

/* ---- 5,000 nested scopes ----------------------------------------------- */

#define DEEP 5000
struct deep { aio_frame hdr; aio_scope s[DEEP]; int i, r, out; int caught_outer, caught_inner; aio_time at; };
static int deep_main(aio_task *t, void *p)
{
    struct deep *f = (struct deep *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < DEEP; f->i++) {
        aio_scope_init(&f->s[f->i]);
        aio_scope_enter(t, &f->s[f->i], f->i == 0 ? AIO_MS(7) : AIO_TIME_INF);
    }
    AIO_SLEEP(rc, AIO_SEC(1));
    f->r = rc;
    f->at = NOW();
    for (f->i = DEEP - 1; f->i >= 0; f->i--)
        rc = aio_scope_exit(t, &f->s[f->i], rc);
    f->out = rc;
    f->caught_outer = aio_scope_cancelled_caught(&f->s[0]);
    f->caught_inner = aio_scope_cancelled_caught(&f->s[DEEP - 1]);
    AIO_END(0);
}

TEST(five_thousand_nested_scopes_cancel_from_the_outermost)
{
    static struct deep f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, deep_main, &f), 0);
    CHECK_EQ(f.r, AIO_ECANCELED);
    CHECK_EQ(f.at, AIO_MS(7));
    CHECK_EQ(f.out, 0);
    CHECK_EQ(f.caught_outer, 1);
    CHECK_EQ(f.caught_inner, 0);
}

/* ---- task cancel and safe cleanup -------------------------------------- */

struct cleaner {
    aio_frame hdr;
    aio_scope cleanup;
    int work_rc, cleanup_rc, late_rc;
    aio_time cleaned_at;
    aio_time grace, cleanup_sleep;
};
static int cleaner(aio_task *t, void *p)
{
    struct cleaner *f = (struct cleaner *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_SEC(100));
    f->work_rc = rc;
    /* The cleanup awaits although the task is cancelled. */
    aio_cleanup_enter(t, &f->cleanup, f->grace);
    AIO_SLEEP(rc, f->cleanup_sleep);
    f->cleanup_rc = rc;
    f->cleaned_at = NOW();
    rc = aio_scope_exit(t, &f->cleanup, rc);
    AIO_CHECKPOINT(rc);                           /* after the cleanup, still cancelled */
    f->late_rc = rc;
    AIO_RETURN(f->work_rc);
    AIO_END(0);
}
struct cancel_task_main { aio_frame hdr; aio_group g; aio_task t[2]; struct cleaner c[2]; int again, body; };
static int cancel_task_main(aio_task *t, void *p)
{
    struct cancel_task_main *f = (struct cancel_task_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->c[0].grace = AIO_MS(10);
    f->c[0].cleanup_sleep = AIO_MS(3);            /* fits in the grace period */
    f->c[1].grace = AIO_MS(2);
    f->c[1].cleanup_sleep = AIO_MS(50);           /* cut off by the grace deadline */
    aio_spawn(&f->g, &f->t[0], cleaner, &f->c[0]);
    aio_spawn(&f->g, &f->t[1], cleaner, &f->c[1]);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_task_cancel(&f->t[0]);
    aio_task_cancel(&f->t[1]);
    f->again = aio_task_cancel(&f->t[0]);
    AIO_SLEEP(rc, AIO_MS(1));
    f->body = rc;                                  /* the parent itself is not cancelled */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(task_cancel_lets_cleanup_await_under_a_grace_deadline)
{
    static struct cancel_task_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, cancel_task_main, &f), 0);
    CHECK_EQ(f.again, 0);
    CHECK_EQ(f.body, 0);
    CHECK_EQ(f.c[0].work_rc, AIO_ECANCELED);
    CHECK_EQ(f.c[0].cleanup_rc, 0);
    CHECK_EQ(f.c[0].cleaned_at, AIO_MS(4));
    CHECK_EQ(f.c[0].late_rc, AIO_ECANCELED);
    CHECK_EQ(f.c[1].cleanup_rc, AIO_ECANCELED);
    CHECK_EQ(f.c[1].cleaned_at, AIO_MS(3));
    CHECK_EQ(aio_task_rc(&f.t[0]), AIO_ECANCELED);
    CHECK(f.t[0].state == AIO__TASK_DONE);          /* cancelled is not failed */
    CHECK_EQ(f.g.err_count, 0);
    CHECK_EQ(L.ncancel, 0);
}

/* ---- four contract cases for sleep and checkpoint ---------------------- */

struct contract { aio_frame hdr; aio_scope s; int pre_sleep, pre_cp; aio_time at; uint32_t timers; };
static int contract_main(aio_task *t, void *p)
{
    struct contract *f = (struct contract *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->s);
    aio_scope_cancel(&f->s, NULL);
    aio_scope_enter(t, &f->s, AIO_TIME_INF);
    AIO_SLEEP(rc, AIO_MS(5));
    f->pre_sleep = rc;
    f->timers = aio_task_loop(t)->nheap;           /* no timer was armed */
    AIO_CHECKPOINT(rc);
    f->pre_cp = rc;
    f->at = NOW();
    aio_scope_exit(t, &f->s, rc);
    AIO_END(0);
}

TEST(precancelled_sleep_has_no_side_effect)
{
    static struct contract f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, contract_main, &f), 0);
    CHECK_EQ(f.pre_sleep, AIO_ECANCELED);
    CHECK_EQ(f.pre_cp, AIO_ECANCELED);
    CHECK_EQ(f.timers, 0);
    CHECK_EQ(f.at, 0);
}

int main(void)
{
    RUN(move_on_after_catches_and_fail_after_times_out);
    RUN(cancellation_is_level_triggered_until_the_scope_exits);
    RUN(outermost_cancelled_scope_catches);
    RUN(shield_hides_outer_cancellation_but_not_inner_scopes);
    RUN(unshielding_wakes_a_task_parked_inside_the_shield);
    RUN(effective_deadline_table);
    RUN(deadlines_can_move_earlier_or_later_and_past_deadlines_fire_at_once);
    RUN(precancelled_scope_fails_first_checkpoint_and_late_cancel_is_not_caught);
    RUN(scope_exited_twice_or_out_of_order_is_reported);
    RUN(five_thousand_nested_scopes_cancel_from_the_outermost);
    RUN(task_cancel_lets_cleanup_await_under_a_grace_deadline);
    RUN(precancelled_sleep_has_no_side_effect);
    return harness_report();
}
