/*
 * tests/test_core.c - coroutines, frames and nested calls, tasks, the loop,
 * the clock and timers.
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"

static aio_loop L;
static aio_task mt;

/* ---- coroutines and nested calls --------------------------------------- */

struct add { aio_frame hdr; int a, b; };
static int add_now(aio_task *t, void *p)
{
    struct add *f = (struct add *)p;
    AIO_BEGIN(t, f);
    AIO_END(f->a + f->b);
}

struct nest { aio_frame hdr; int depth; int rc; struct nest *child; int steps; };
static int nest(aio_task *t, void *p)
{
    struct nest *f = (struct nest *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->depth == 0) {
        AIO_SLEEP(f->rc, AIO_MS(1));
        AIO_YIELD();
        AIO_RETURN(f->rc == 0 ? 100 : f->rc);
    }
    f->child->depth = f->depth - 1;
    AIO_AWAIT(rc, nest, f->child);
    f->rc = rc;
    AIO_END(rc + 1);
}

struct await_main {
    aio_frame hdr;
    struct add add;
    struct nest frames[11];
    int r1, r2, r3, r3a;
    aio_time t_after;
};
static int await_main(aio_task *t, void *p)
{
    struct await_main *f = (struct await_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    f->add.a = 2;
    f->add.b = 40;
    AIO_AWAIT(rc, add_now, &f->add);
    f->r1 = rc;
    for (i = 0; i < 10; i++)
        f->frames[i].child = &f->frames[i + 1];
    f->frames[0].depth = 10;
    AIO_AWAIT(rc, nest, &f->frames[0]);
    f->r2 = rc;
    f->t_after = aio_now(aio_task_loop(t));
    /* Two awaits on one line get distinct resume points. */
    AIO_AWAIT(f->r3a, add_now, &f->add); AIO_AWAIT(f->r3, add_now, &f->add);
    f->r3 += f->r3a;
    AIO_END(0);
}

TEST(await_returns_sub_coroutine_results_through_ten_frames)
{
    static struct await_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, await_main, &f), 0);
    CHECK_EQ(f.r1, 42);
    CHECK_EQ(f.r2, 110);          /* 100 at the bottom, +1 per level */
    CHECK_EQ(f.t_after, AIO_MS(1));
    CHECK_EQ(f.r3, 84);
    CHECK_EQ(f.frames[10].hdr.fn == NULL, 1); /* every frame finished */
}

/* The task resumes its innermost frame directly: the loop steps a 10-deep
 * chain as many times as a flat coroutine doing the same suspensions. */
TEST(resume_goes_to_the_innermost_frame)
{
    static struct await_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    aio_run(&L, &mt, await_main, &f);
    /* Suspensions: the sleep and the yield at the bottom, each one step,
     * plus the initial step and the final one. */
    CHECK(L.steps <= 4);
}

struct sw { aio_frame hdr; int sel; };
static int await_in_switch(aio_task *t, void *p)
{
    struct sw *f = (struct sw *)p;
    AIO_BEGIN(t, f);
    switch (f->sel) {
    case 1:
#ifndef AIO_USE_LABELS
        AIO_YIELD(); /* misuse: the resume label lands in this switch */
#endif
        break;
    default:
        break;
    }
    AIO_END(0);
}

TEST(await_inside_user_switch_is_reported)
{
    static struct sw f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    f.sel = 1;
#ifndef AIO_USE_LABELS
    CHECK_EQ(aio_run(&L, &mt, await_in_switch, &f), AIO_EMISUSE);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 1);
    CHECK(panic_msg && strstr(panic_msg, "switch"));
#endif
#else
    CHECK_EQ(aio_run(&L, &mt, await_in_switch, &f), 0);
#endif
}

/* ---- tasks and the run queue ------------------------------------------- */

struct order_main {
    aio_frame hdr;
    aio_group g;
    aio_task t[3];
    struct stepper s[3];
    char trace[64];
    int len;
    int spawned_inline;
};
static int order_main(aio_task *t, void *p)
{
    struct order_main *f = (struct order_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 3; i++) {
        f->s[i].id = i;
        f->s[i].n = 2;
        f->s[i].trace = f->trace;
        f->s[i].trace_len = &f->len;
        aio_spawn(&f->g, &f->t[i], stepper, &f->s[i]);
    }
    f->spawned_inline = f->len; /* spawning never runs the child */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(spawn_enqueues_and_tasks_run_in_fifo_order)
{
    static struct order_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, order_main, &f), 0);
    CHECK_EQ(f.spawned_inline, 0);
    f.trace[f.len] = 0;
    CHECK(strcmp(f.trace, "abcabc") == 0);
}

TEST(seeded_schedules_permute_order_and_replay_exactly)
{
    static struct order_main f;
    char first[64];
    int differs = 0, k;
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    for (k = 1; k <= 20; k++) {
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        cfg.seed = (uint64_t)k;
        aio_loop_init(&L, &cfg);
        test_reactor_attach(&L);
        aio_run(&L, &mt, order_main, &f);
        f.trace[f.len] = 0;
        CHECK_EQ(f.len, 6);
        if (strcmp(f.trace, "abcabc") != 0)
            differs++;
        if (k == 7)
            strcpy(first, f.trace);
    }
    CHECK(differs > 0);
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    cfg.seed = 7;
    aio_loop_init(&L, &cfg);
    test_reactor_attach(&L);
    aio_run(&L, &mt, order_main, &f);
    f.trace[f.len] = 0;
    CHECK(strcmp(f.trace, first) == 0);
}

struct positive { aio_frame hdr; };
static int returns_positive(aio_task *t, void *p)
{
    AIO_BEGIN(t, p);
    AIO_END(1234);
}

TEST(run_returns_the_main_tasks_result_including_positive_values)
{
    static struct positive f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, returns_positive, &f), 1234);
    CHECK_EQ(aio_task_rc(&mt), 1234);
    CHECK(aio_task_done(&mt));
    /* The same loop and task can run again. */
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_run(&L, &mt, returns_positive, &f), 1234);
}

struct join_main {
    aio_frame hdr;
    aio_group g;
    aio_task t[2];
    struct failer c[2];
    int r0, r1, r_idle;
    aio_time at0, at1;
    aio_scope sc;
    aio_task idle;
    int pre_rc, lotlen_after_cancel;
};
static int join_main(aio_task *t, void *p)
{
    struct join_main *f = (struct join_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->c[0].dur = AIO_MS(5);
    f->c[0].err = 7;
    f->c[1].dur = AIO_MS(1);
    f->c[1].err = -5;
    aio_spawn(&f->g, &f->t[0], failer, &f->c[0]);
    aio_spawn(&f->g, &f->t[1], failer, &f->c[1]);
    AIO_JOIN(rc, &f->t[0]);
    f->r0 = rc;
    f->at0 = aio_now(aio_task_loop(t));
    AIO_JOIN(rc, &f->t[1]); /* already finished: schedule point only */
    f->r1 = rc;
    f->at1 = aio_now(aio_task_loop(t));
    AIO_JOIN(rc, &f->idle);
    f->r_idle = rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(join_waits_for_one_child_and_returns_its_result)
{
    static struct join_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, join_main, &f), -5);
    CHECK_EQ(f.r0, 7);
    CHECK_EQ(f.at0, AIO_MS(5));
    CHECK_EQ(f.r1, -5);
    CHECK_EQ(f.at1, AIO_MS(5));
    CHECK_EQ(f.r_idle, AIO_EINVAL);
}

struct join_cancel {
    aio_frame hdr;
    aio_group g;
    aio_task t;
    struct sleeper s;
    aio_scope sc, pre;
    int rc_parked, rc_pre, lot_after, child_running;
};
static int join_cancel(aio_task *t, void *p)
{
    struct join_cancel *f = (struct join_cancel *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_MS(10);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    /* Pre-cancelled: no side effect. */
    aio_scope_init(&f->pre);
    aio_scope_cancel(&f->pre, "pre");
    aio_scope_enter(t, &f->pre, AIO_TIME_INF);
    AIO_JOIN(rc, &f->t);
    f->rc_pre = rc;
    aio_scope_exit(t, &f->pre, rc);
    /* Cancelled while parked: leaves the joiners queue empty. */
    aio_move_on_after(t, &f->sc, AIO_MS(2));
    AIO_JOIN(rc, &f->t);
    f->rc_parked = rc;
    f->lot_after = (int)aio_lot_len(&f->g.joiners);
    f->child_running = !aio_task_done(&f->t);
    aio_scope_exit(t, &f->sc, rc);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(join_contract_precancelled_and_cancelled_while_parked)
{
    static struct join_cancel f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, join_cancel, &f), 0);
    CHECK_EQ(f.rc_pre, AIO_ECANCELED);
    CHECK_EQ(f.rc_parked, AIO_ECANCELED);
    CHECK_EQ(f.lot_after, 0);
    CHECK_EQ(f.child_running, 1);
    CHECK_EQ(f.s.rc, 0);
    CHECK_EQ(f.s.woke_at, AIO_MS(10));
}

/* ---- clock and sleeping ------------------------------------------------ */

struct sleeps {
    aio_frame hdr;
    aio_time t1, t2, t3, t4;
    int neg, past, zero;
    uint32_t sp_before, sp_after;
};
static int sleeps_main(aio_task *t, void *p)
{
    struct sleeps *f = (struct sleeps *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(3));
    f->t1 = aio_now(aio_task_loop(t));
    AIO_SLEEP_UNTIL(rc, AIO_MS(10));
    f->t2 = aio_now(aio_task_loop(t));
    AIO_SLEEP(rc, -1);
    f->neg = rc;
    AIO_SLEEP_UNTIL(rc, AIO_MS(1)); /* in the past: a checkpoint */
    f->past = rc;
    f->t3 = aio_now(aio_task_loop(t));
#ifdef AIO_DEBUG
    f->sp_before = t->schedule_points;
#endif
    AIO_SLEEP(rc, 0);
    f->zero = rc;
#ifdef AIO_DEBUG
    f->sp_after = t->schedule_points;
#endif
    AIO_SLEEP(rc, AIO_SEC(3600));
    f->t4 = aio_now(aio_task_loop(t));
    AIO_END(0);
}

TEST(sleep_is_exact_on_the_virtual_clock)
{
    static struct sleeps f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, sleeps_main, &f), 0);
    CHECK_EQ(f.t1, AIO_MS(3));
    CHECK_EQ(f.t2, AIO_MS(10));
    CHECK_EQ(f.neg, AIO_EINVAL);
    CHECK_EQ(f.past, 0);
    CHECK_EQ(f.t3, AIO_MS(10));
    CHECK_EQ(f.zero, 0);
#ifdef AIO_DEBUG
    CHECK_EQ(f.sp_after - f.sp_before, 1);
#endif
    CHECK_EQ(f.t4, AIO_MS(10) + AIO_SEC(3600));
}

struct many_sleepers {
    aio_frame hdr;
    aio_group g;
    aio_task t[50];
    struct sleeper s[50];
};
static int many_sleepers(aio_task *t, void *p)
{
    struct many_sleepers *f = (struct many_sleepers *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 50; i++) {
        f->s[i].dur = AIO_MS((i * 37) % 11); /* many equal deadlines */
        aio_spawn(&f->g, &f->t[i], sleeper, &f->s[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(sleepers_never_wake_early_and_wake_exactly_on_time)
{
    static struct many_sleepers f;
    int i;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, many_sleepers, &f), 0);
    for (i = 0; i < 50; i++)
        CHECK_EQ(f.s[i].woke_at, f.s[i].dur);
    CHECK_EQ(aio_now(&L), AIO_MS(10));
}

/* ---- timers ------------------------------------------------------------ */

static int fired[64];
static int nfired;
static aio_time fired_at[64];
static void on_call(aio_loop *loop, void *arg)
{
    fired_at[nfired] = aio_now(loop);
    fired[nfired++] = (int)(intptr_t)arg;
}

struct calls_main { aio_frame hdr; aio_call c[8]; int cancelled, not_armed, bad; };
static int calls_main(aio_task *t, void *p)
{
    struct calls_main *f = (struct calls_main *)p;
    aio_loop *lp = aio_task_loop(t);
    int rc, i;
    AIO_BEGIN(t, f);
    for (i = 0; i < 6; i++) /* equal deadlines fire first-come-first-served */
        aio_call_later(lp, &f->c[i], AIO_MS(i < 3 ? 5 : 2), on_call, (void *)(intptr_t)i);
    f->cancelled = aio_call_cancel(lp, &f->c[4]);
    f->bad = aio_call_later(lp, &f->c[6], -1, on_call, NULL);
    aio_call_at(lp, &f->c[7], AIO_MS(1), on_call, (void *)(intptr_t)7);
    aio_call_at(lp, &f->c[7], AIO_MS(7), on_call, (void *)(intptr_t)7); /* re-arm moves it */
    AIO_SLEEP(rc, AIO_MS(20));
    f->not_armed = aio_call_cancel(lp, &f->c[0]);
    AIO_END(rc);
}

TEST(call_later_fires_in_deadline_order_fcfs_among_equals)
{
    static struct calls_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    nfired = 0;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, calls_main, &f), 0);
    CHECK_EQ(nfired, 6);
    CHECK_EQ(fired[0], 3);
    CHECK_EQ(fired[1], 5);
    CHECK_EQ(fired[2], 0);
    CHECK_EQ(fired[3], 1);
    CHECK_EQ(fired[4], 2);
    CHECK_EQ(fired[5], 7);
    CHECK_EQ(fired_at[0], AIO_MS(2));
    CHECK_EQ(fired_at[2], AIO_MS(5));
    CHECK_EQ(fired_at[5], AIO_MS(7));
    CHECK_EQ(f.cancelled, 1);
    CHECK_EQ(f.not_armed, 0);
    CHECK_EQ(f.bad, AIO_EINVAL);
}

/* The heap against a model: random arm / cancel / fire keeps the exact
 * (deadline, arming order) sequence. */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

#define NT 2000
static aio_call heap_calls[NT];
static aio_time model_dl[NT];
static uint32_t model_seq[NT];
static int model_armed[NT];
static int heap_fired[NT * 4];
static int heap_nfired;
static void on_heap(aio_loop *loop, void *arg)
{
    (void)loop;
    heap_fired[heap_nfired++] = (int)(intptr_t)arg;
}

TEST(timer_heap_matches_a_model_under_random_arm_and_cancel)
{
    int round, i, k, nexp;
    uint32_t seq = 0;
    rng_state = 99 + harness_seed;
    test_loop_init(&L);
    memset(heap_calls, 0, sizeof heap_calls);
    memset(model_armed, 0, sizeof model_armed);
    for (round = 0; round < 20; round++) {
        static int expect[NT];
        for (k = 0; k < 1500; k++) {
            i = (int)(rnd() % NT);
            if (rnd() % 3 == 0) {
                CHECK_EQ(aio_call_cancel(&L, &heap_calls[i]), model_armed[i]);
                model_armed[i] = 0;
            } else {
                aio_time d = (aio_time)(rnd() % 50);
                aio_call_later(&L, &heap_calls[i], d, on_heap, (void *)(intptr_t)i);
                model_dl[i] = L.now + d;
                model_seq[i] = seq++;
                model_armed[i] = 1;
            }
        }
        /* Advance 25 units and fire. */
        aio_clock_advance(&L, 25);
        nexp = 0;
        for (i = 0; i < NT; i++)
            if (model_armed[i] && model_dl[i] <= L.now)
                expect[nexp++] = i;
        /* sort expected by (deadline, seq) */
        for (i = 1; i < nexp; i++) {
            int x = expect[i], j = i - 1;
            while (j >= 0 && (model_dl[expect[j]] > model_dl[x] ||
                              (model_dl[expect[j]] == model_dl[x] && model_seq[expect[j]] > model_seq[x]))) {
                expect[j + 1] = expect[j];
                j--;
            }
            expect[j + 1] = x;
        }
        heap_nfired = 0;
        aio_loop_step(&L);
        CHECK_EQ(heap_nfired, nexp);
        for (i = 0; i < nexp && i < heap_nfired; i++) {
            CHECK_EQ(heap_fired[i], expect[i]);
            model_armed[expect[i]] = 0;
        }
    }
    /* Drain. */
    for (i = 0; i < NT; i++)
        aio_call_cancel(&L, &heap_calls[i]);
    CHECK_EQ(L.nheap, 0);
    CHECK(L.heap == NULL);
}

/* ---- embedding: stepping the loop by hand ------------------------------ */

TEST(loop_can_be_stepped_from_outside)
{
    static struct sleeper s;
    static aio_group g;
    static aio_task t;
    memset(&s, 0, sizeof s);
    memset(&g, 0, sizeof g);
    memset(&t, 0, sizeof t);
    test_loop_init(&L);
    /* Spawn straight into the root group of a loop that is not running. */
    L.root.state = AIO__GROUP_OPEN;
    s.dur = AIO_MS(4);
    CHECK_EQ(aio_spawn(&L.root, &t, sleeper, &s), 0);
    CHECK_EQ(aio_loop_next_deadline(&L), 0);
    CHECK_EQ(aio_loop_step(&L), 1);
    CHECK_EQ(aio_loop_next_deadline(&L), AIO_MS(4));
    CHECK_EQ(aio_loop_step(&L), 0); /* nothing due */
    aio_clock_advance(&L, AIO_MS(4));
    CHECK_EQ(aio_loop_step(&L), 1);
    CHECK(aio_task_done(&t));
    CHECK_EQ(s.woke_at, AIO_MS(4));
    CHECK_EQ(aio_clock_advance(&L, -1), AIO_EINVAL);
}

/* ---- deadlock ---------------------------------------------------------- */

struct stuck { aio_frame hdr; aio_lot lot; int rc; aio_scope cleanup; int cleaned; };
static int stuck_main(aio_task *t, void *p)
{
    struct stuck *f = (struct stuck *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_OP(rc, (aio_park_lot(t, &f->lot), AIO_PARKED));
    f->rc = rc;
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(5));
    AIO_SLEEP(rc, AIO_MS(1)); /* cleanup still gets to await */
    f->cleaned = rc == 0;
    aio_scope_exit(t, &f->cleanup, rc);
    AIO_END(f->rc);
}

TEST(deadlock_cancels_everything_once_and_reports_edeadlk)
{
    static struct stuck f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, stuck_main, &f), AIO_EDEADLK);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(f.cleaned, 1);
    CHECK(aio_task_done(&mt));
}

/* ---- misuse ------------------------------------------------------------ */

struct reuse { aio_frame hdr; aio_group g; aio_task t; struct sleeper s, s2; int again, closed, bad; };
static int reuse_main(aio_task *t, void *p)
{
    struct reuse *f = (struct reuse *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_MS(1);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    f->again = aio_spawn(&f->g, &f->t, sleeper, &f->s2); /* still linked */
    f->bad = aio_spawn(&f->g, NULL, sleeper, &f->s2);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->closed = aio_spawn(&f->g, &f->t, sleeper, &f->s2);
    AIO_END(rc);
}

TEST(spawning_a_linked_task_or_into_a_closed_group_fails_with_a_code)
{
    static struct reuse f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, reuse_main, &f), 0);
    CHECK_EQ(f.again, AIO_EBUSY);
    CHECK_EQ(f.bad, AIO_EINVAL);
    CHECK_EQ(f.closed, AIO_ECLOSED);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 1);
    CHECK(panic_msg && strstr(panic_msg, "still in use"));
#endif
}

static void collect(void *ctx, const char *s)
{
    strncat((char *)ctx, s, 4095 - strlen((char *)ctx));
}

struct dump_main { aio_frame hdr; aio_group g; aio_task t; struct sleeper s; char out[4096]; };
static int dump_main(aio_task *t, void *p)
{
    struct dump_main *f = (struct dump_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.dur = AIO_MS(5);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    aio_task_set_name(&f->t, "napper");
    AIO_YIELD();
    aio_dump(aio_task_loop(t), collect, f->out);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(dump_shows_tasks_what_they_wait_on_and_where)
{
    static struct dump_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, dump_main, &f), 0);
    CHECK(strstr(f.out, "on sleep until +5000000ns") != NULL);
    CHECK(strstr(f.out, "group wait") == NULL); /* the parent was not waiting yet */
    CHECK(strstr(f.out, "running") != NULL);
#ifdef AIO_DEBUG
    CHECK(strstr(f.out, "\"napper\"") != NULL);
    CHECK(strstr(f.out, "core_util.h:") != NULL);
#endif
#ifndef AIO_USE_LABELS
    {
        char where[64];
#ifdef AIO_DEBUG
        sprintf(where, "core_util.h:%d\n", f.s.sleep_line);
#else
        sprintf(where, "at line %d\n", f.s.sleep_line);
#endif
        CHECK(strstr(f.out, where) != NULL); /* the sleeper's frame is at its AIO_SLEEP */
    }
#endif
}


struct dump_since { aio_frame hdr; aio_group g; aio_task t; struct sleeper s; char out[4096]; };
static int dump_since_main(aio_task *t, void *p)
{
    struct dump_since *f = (struct dump_since *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_SLEEP(rc, AIO_MS(2)); /* so the child parks at 2 ms, not at 0 */
    f->s.dur = AIO_MS(10);
    aio_spawn(&f->g, &f->t, sleeper, &f->s);
    AIO_SLEEP(rc, AIO_MS(3));
    aio_dump(aio_task_loop(t), collect, f->out);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(dump_says_how_long_a_parked_task_has_waited)
{
    static struct dump_since f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, dump_since_main, &f), 0);
    CHECK(strstr(f.out, "on sleep until +7000000ns") != NULL);
#ifdef AIO_DEBUG
    CHECK(strstr(f.out, "on sleep until +7000000ns for 3000000ns") != NULL);
#endif
}

/* ---- injected clock and idle hook (the firmware configuration) --------- */

static aio_time fake_now;
static int idle_calls;
static aio_time idle_deadline;
static aio_time fake_clock(void *ctx) { (void)ctx; return fake_now; }
static void fake_idle(void *ctx, aio_time deadline)
{
    (void)ctx;
    idle_calls++;
    idle_deadline = deadline;
    fake_now = deadline; /* "sleep until the timer interrupt" */
}

TEST(injected_clock_and_idle_hook_drive_time)
{
    static struct sleeps f;
    aio_config cfg;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    fake_now = AIO_SEC(1000);
    idle_calls = 0;
    cfg.clock = fake_clock;
    cfg.idle = fake_idle;
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    CHECK_EQ(aio_now(&L), AIO_SEC(1000));
    CHECK_EQ(aio_run(&L, &mt, sleeps_main, &f), 0);
    CHECK_EQ(f.t1, AIO_SEC(1000) + AIO_MS(3));
    CHECK_EQ(f.t2, AIO_SEC(1000) + AIO_MS(3)); /* AIO_MS(10) is long past on this clock */
    CHECK_EQ(f.t4, AIO_SEC(1000) + AIO_MS(3) + AIO_SEC(3600));
    CHECK(idle_calls >= 2);
    CHECK_EQ(idle_deadline, f.t4);
    CHECK_EQ(aio_clock_advance(&L, 5), AIO_EINVAL); /* only a virtual clock can be advanced */
}

TEST(null_arguments_are_rejected_with_einval)
{
    static aio_group g;
    static aio_scope s;
    memset(&g, 0, sizeof g);
    test_loop_init(&L);
    CHECK_EQ(aio_loop_init(NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_spawn(NULL, &mt, returns_positive, &g), AIO_EINVAL);
    CHECK_EQ(aio_scope_enter(NULL, &s, 0), AIO_EINVAL);
    CHECK_EQ(aio_scope_exit(&mt, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_group_enter(NULL, &g, 0), AIO_EINVAL);
    CHECK_EQ(aio_task_cancel(NULL), AIO_EINVAL);
    CHECK_EQ(aio_started(NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_call_later(&L, NULL, 1, on_call, NULL), AIO_EINVAL);
    CHECK_EQ(aio_run(&L, &mt, NULL, &g), AIO_EINVAL);
}

/* A nested coroutine's error site stays in its own frame. */
struct inner_fail { aio_frame hdr; };
static int inner_fail(aio_task *t, void *p)
{
    AIO_BEGIN(t, p);
    AIO_RETURN(-77);
    AIO_END(0);
}
struct outer_pass { aio_frame hdr; struct inner_fail in; int line_in; };
static int outer_pass(aio_task *t, void *p)
{
    struct outer_pass *f = (struct outer_pass *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_AWAIT(rc, inner_fail, &f->in);
    AIO_RETURN(rc);
    AIO_END(0);
}

TEST(nested_error_sites_are_kept_per_frame)
{
    static struct outer_pass f;
    unsigned line_outer = 0, line_inner = 0;
    const char *fo, *fi;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, outer_pass, &f), -77);
    fo = aio_task_error_site(&mt, &line_outer);
    fi = aio_frame_error_site(&f.in.hdr, &line_inner);
    CHECK(fo && strstr(fo, "test_core.c"));
    CHECK(fi && strstr(fi, "test_core.c"));
    CHECK(line_inner > 0 && line_outer > line_inner);
    CHECK(aio_frame_error_site(&f.hdr, NULL) != NULL);
    CHECK(aio_task_error_site(&mt, NULL) == fo);
}

int main(void)
{
    RUN(await_returns_sub_coroutine_results_through_ten_frames);
    RUN_ONCE(resume_goes_to_the_innermost_frame);
    RUN(await_inside_user_switch_is_reported);
    RUN_ONCE(spawn_enqueues_and_tasks_run_in_fifo_order);
    RUN_ONCE(seeded_schedules_permute_order_and_replay_exactly);
    RUN(run_returns_the_main_tasks_result_including_positive_values);
    RUN(join_waits_for_one_child_and_returns_its_result);
    RUN(join_contract_precancelled_and_cancelled_while_parked);
    RUN(sleep_is_exact_on_the_virtual_clock);
    RUN(sleepers_never_wake_early_and_wake_exactly_on_time);
    RUN(call_later_fires_in_deadline_order_fcfs_among_equals);
    RUN(timer_heap_matches_a_model_under_random_arm_and_cancel);
    RUN(loop_can_be_stepped_from_outside);
    RUN(deadlock_cancels_everything_once_and_reports_edeadlk);
    RUN(spawning_a_linked_task_or_into_a_closed_group_fails_with_a_code);
    RUN(dump_shows_tasks_what_they_wait_on_and_where);
    RUN(dump_says_how_long_a_parked_task_has_waited);
    RUN(injected_clock_and_idle_hook_drive_time);
    RUN(null_arguments_are_rejected_with_einval);
    RUN(nested_error_sites_are_kept_per_frame);
    return harness_report();
}
