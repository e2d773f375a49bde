/*
 * tests/test_core_instrument.c - aio.h: instruments (the hooks around spawns,
 * steps, exits and waits), slow-step reports on an injected clock, and the
 * loop's timer lag in aio_loop_stats.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"

/* ---- an event log -------------------------------------------------------- */

enum { EV_SPAWN = 1, EV_BEFORE, EV_AFTER, EV_EXIT, EV_WAIT, EV_WOKE };
struct ev {
    int kind, who, rc;
    aio_task *t;
    aio_time at;
};
static struct ev evs[256];
static int nev;
static aio_task *known[4];

static int who(aio_task *t)
{
    int i;
    for (i = 0; i < 4; i++)
        if (known[i] == t)
            return i;
    return -1;
}

static void log_ev(int kind, int ins, aio_loop *L, aio_task *t, int rc)
{
    if (nev < 256) {
        evs[nev].kind = kind;
        evs[nev].who = ins * 10 + (t ? who(t) : 9);
        evs[nev].t = t;
        evs[nev].rc = rc;
        evs[nev].at = L->now;
        nev++;
    }
}

static void on_spawn(void *ctx, aio_loop *L, aio_task *t) { log_ev(EV_SPAWN, (int)(intptr_t)ctx, L, t, 0); }
static void on_before(void *ctx, aio_loop *L, aio_task *t) { log_ev(EV_BEFORE, (int)(intptr_t)ctx, L, t, 0); }
static void on_after(void *ctx, aio_loop *L, aio_task *t) { log_ev(EV_AFTER, (int)(intptr_t)ctx, L, t, 0); }
static void on_exit(void *ctx, aio_loop *L, aio_task *t, int rc) { log_ev(EV_EXIT, (int)(intptr_t)ctx, L, t, rc); }
static void on_wait(void *ctx, aio_loop *L, aio_time dl)
{
    log_ev(EV_WAIT, (int)(intptr_t)ctx, L, NULL, 0);
    evs[nev - 1].rc = dl == AIO_TIME_INF ? -1 : (int)(dl / AIO_MS(1));
}
static void on_woke(void *ctx, aio_loop *L) { log_ev(EV_WOKE, (int)(intptr_t)ctx, L, NULL, 0); }

static void instrument_init(aio_instrument *ins, int id)
{
    memset(ins, 0, sizeof *ins);
    ins->ctx = (void *)(intptr_t)id;
    ins->task_spawned = on_spawn;
    ins->before_step = on_before;
    ins->after_step = on_after;
    ins->task_exited = on_exit;
    ins->before_wait = on_wait;
    ins->after_wait = on_woke;
}

/* ---- the program observed ------------------------------------------------ */

struct child { aio_frame hdr; int fail; };
static int child(aio_task *t, void *p)
{
    struct child *f = (struct child *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(5));
    AIO_END(f->fail ? -5 : rc);
}

struct parent { aio_frame hdr; aio_group g; aio_task kids[2]; struct child c[2]; };
static int parent(aio_task *t, void *p)
{
    struct parent *f = (struct parent *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->c[1].fail = 1;
    aio_spawn(&f->g, &f->kids[0], child, &f->c[0]);
    aio_spawn(&f->g, &f->kids[1], child, &f->c[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static int find(int from, int kind, int whom)
{
    int i;
    for (i = from; i < nev; i++)
        if (evs[i].kind == kind && evs[i].who == whom)
            return i;
    return -1;
}

TEST(instruments_see_spawns_steps_exits_and_waits_in_order)
{
    static struct parent f;
    aio_loop L;
    aio_task mt;
    aio_instrument a, b;
    int i, k, steps = 0, depth = 0;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    nev = 0;
    known[0] = &mt;
    known[1] = &f.kids[0];
    known[2] = &f.kids[1];
    test_loop_init(&L);
    instrument_init(&a, 1);
    instrument_init(&b, 2);
    CHECK_EQ(aio_instrument_add(&L, &a), 0);
    CHECK_EQ(aio_instrument_add(&L, &b), 0);
    CHECK_EQ(aio_instrument_add(&L, &a), AIO_EBUSY);
    CHECK_EQ(aio_instrument_add(NULL, &a), AIO_EINVAL);
    CHECK_EQ(aio_run(&L, &mt, parent, &f), -5);
    /* Every task: spawned, then stepped, then exited inside its last step. */
    for (k = 0; k < 3; k++) {
        int sp = find(0, EV_SPAWN, 10 + k), ex = find(0, EV_EXIT, 10 + k);
        CHECK(sp >= 0);
        CHECK(ex > sp);
        CHECK(find(0, EV_BEFORE, 10 + k) > sp);
        CHECK_EQ(evs[ex].rc, k == 2 ? -5 : k == 1 ? 0 : -5);
        CHECK(find(ex, EV_AFTER, 10 + k) > ex); /* after_step follows task_exited */
    }
    /* Each event reached instrument 1, then instrument 2. */
    for (i = 0; i + 1 < nev; i += 2) {
        CHECK_EQ(evs[i].kind, evs[i + 1].kind);
        CHECK_EQ(evs[i].who / 10, 1);
        CHECK_EQ(evs[i + 1].who / 10, 2);
        CHECK(evs[i].t == evs[i + 1].t);
    }
    /* Steps do not nest and always close; waits come between steps, with
     * the deadline of the children's sleep. */
    for (i = 0; i < nev; i++) {
        if (evs[i].who / 10 != 1)
            continue;
        if (evs[i].kind == EV_BEFORE) {
            CHECK_EQ(depth, 0);
            depth++;
            steps++;
        } else if (evs[i].kind == EV_AFTER) {
            CHECK_EQ(depth, 1);
            depth--;
        } else if (evs[i].kind == EV_WAIT) {
            CHECK_EQ(depth, 0);
        }
    }
    CHECK_EQ(depth, 0);
    /* The first wait that waits at all (a wait while tasks are runnable has
     * the deadline "now" and returns at once) is for the sleep's deadline. */
    for (k = find(0, EV_WAIT, 19); k >= 0 && evs[k].rc == 0; k = find(k + 1, EV_WAIT, 19))
        ;
    CHECK(k >= 0);
    if (k >= 0) {
        CHECK_EQ(evs[k].rc, 5);
        CHECK(find(k, EV_WOKE, 19) > k);
    }
    {
        aio_stats st;
        aio_loop_stats(&L, &st);
        CHECK_EQ((long long)st.steps, steps);
    }
    CHECK_EQ(aio_instrument_remove(&L, &a), 0);
    CHECK_EQ(aio_instrument_remove(&L, &a), AIO_EINVAL);
    CHECK_EQ(aio_instrument_remove(&L, &b), 0);
    aio_loop_close(&L);
}

/* A hook that unregisters its own instrument: the walk goes on to the
 * next instrument, and the removed one hears nothing more. */
static aio_loop *self_L;
static aio_instrument self_a, self_b;
static int self_a_calls, self_b_calls;
static void self_remove(void *ctx, aio_loop *L, aio_task *t)
{
    (void)ctx;
    (void)t;
    self_a_calls++;
    aio_instrument_remove(L, &self_a);
}
static void self_count(void *ctx, aio_loop *L, aio_task *t)
{
    (void)ctx;
    (void)L;
    (void)t;
    self_b_calls++;
}

struct yielder { aio_frame hdr; int i; };
static int yielder(aio_task *t, void *p)
{
    struct yielder *f = (struct yielder *)p;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 3; f->i++)
        AIO_YIELD();
    AIO_END(0);
}

TEST(a_hook_may_remove_its_own_instrument)
{
    struct yielder y;
    aio_task mt;
    aio_loop L;
    memset(&y, 0, sizeof y);
    memset(&mt, 0, sizeof mt);
    memset(&self_a, 0, sizeof self_a);
    memset(&self_b, 0, sizeof self_b);
    self_a_calls = self_b_calls = 0;
    test_loop_init(&L);
    self_L = &L;
    self_a.before_step = self_remove;
    self_b.before_step = self_count;
    aio_instrument_add(&L, &self_a);
    aio_instrument_add(&L, &self_b);
    CHECK_EQ(aio_run(&L, &mt, yielder, &y), 0);
    CHECK_EQ(self_a_calls, 1);
    CHECK_EQ(self_b_calls, 4); /* four steps: three yields and the return */
    aio_loop_close(&L);
}

/* ---- slow steps on an injected clock -------------------------------------- */

static aio_time fake_now;
static aio_time fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}
static void fake_idle(void *ctx, aio_time deadline)
{
    (void)ctx;
    if (deadline != AIO_TIME_INF && deadline > fake_now)
        fake_now = deadline;
}

static aio_slow_step reports[4];
static int nreports;
static void on_slow(void *ctx, const aio_slow_step *s)
{
    (void)ctx;
    if (nreports < 4)
        reports[nreports] = *s;
    nreports++;
}

struct blocker { aio_frame hdr; unsigned resume_line, block_line, suspend_line; };
static int blocker(aio_task *t, void *p)
{
    struct blocker *f = (struct blocker *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->resume_line = __LINE__ + 1;
    AIO_SLEEP(rc, AIO_MS(1));
    f->block_line = __LINE__; fake_now += AIO_MS(150); /* a blocking call: the clock moves inside the step */
    f->suspend_line = __LINE__ + 1;
    AIO_SLEEP(rc, AIO_MS(1));
    fake_now += AIO_MS(20); /* quick enough */
    AIO_END(rc);
}

TEST(a_slow_step_is_reported_with_the_task_and_its_lines)
{
    struct blocker f;
    aio_task mt;
    aio_loop L;
    aio_config cfg;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    cfg.clock = fake_clock;
    cfg.idle = fake_idle;
    cfg.seed = harness_seed;
    fake_now = 0;
    nreports = 0;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    CHECK_EQ(aio_loop_set_slow_step(&L, -1, on_slow, NULL), AIO_EINVAL);
    CHECK_EQ(aio_loop_set_slow_step(&L, AIO_MS(100), on_slow, NULL), 0);
    aio_task_set_name(&mt, "blocker");
    CHECK_EQ(aio_run(&L, &mt, blocker, &f), 0);
    CHECK_EQ(nreports, 1);
    CHECK(reports[0].task == &mt);
    CHECK_EQ(reports[0].duration, AIO_MS(150));
#ifndef AIO_USE_LABELS
    CHECK_EQ(reports[0].resume_line, f.resume_line);
    CHECK_EQ(reports[0].suspend_line, f.suspend_line);
#endif
#ifdef AIO_DEBUG
    CHECK(reports[0].name && strcmp(reports[0].name, "blocker") == 0);
    CHECK(reports[0].resume_file && strstr(reports[0].resume_file, "test_core_instrument.c"));
    CHECK(reports[0].suspend_file && strstr(reports[0].suspend_file, "test_core_instrument.c"));
#else
    CHECK(reports[0].name == NULL);
#endif
    /* Turned off: the same program reports nothing. */
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    nreports = 0;
    CHECK_EQ(aio_loop_set_slow_step(&L, 0, NULL, NULL), 0);
    CHECK_EQ(aio_run(&L, &mt, blocker, &f), 0);
    CHECK_EQ(nreports, 0);
    aio_loop_close(&L);
}

TEST(slow_step_reports_are_on_by_default_only_in_debug_builds)
{
    aio_loop L;
    test_loop_init(&L);
#ifdef AIO_DEBUG
    CHECK_EQ(L.slow.threshold, AIO_MS(100));
#else
    CHECK_EQ(L.slow.threshold, 0);
#endif
    aio_loop_close(&L);
}

/* ---- loop lag ------------------------------------------------------------ */

static int fired;
static void on_fire(aio_loop *L, void *arg)
{
    (void)L;
    (void)arg;
    fired++;
}

TEST(loop_lag_is_how_late_timers_fire)
{
    aio_loop L;
    aio_config cfg;
    aio_call c[3];
    aio_stats st;
    memset(&cfg, 0, sizeof cfg);
    memset(c, 0, sizeof c);
    cfg.clock = fake_clock;
    fake_now = 0;
    fired = 0;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    aio_call_at(&L, &c[0], AIO_MS(10), on_fire, NULL);
    aio_call_at(&L, &c[1], AIO_MS(20), on_fire, NULL);
    aio_call_at(&L, &c[2], AIO_MS(40), on_fire, NULL);
    fake_now = AIO_MS(25); /* the loop was busy: two timers are late */
    aio_loop_step(&L);
    fake_now = AIO_MS(40); /* exactly on time */
    aio_loop_step(&L);
    CHECK_EQ(fired, 3);
    aio_loop_stats(&L, &st);
    CHECK_EQ((long long)st.timers_fired, 3);
    CHECK_EQ(st.timer_lag_max, AIO_MS(15));
    CHECK_EQ(st.timer_lag_total, AIO_MS(15) + AIO_MS(5));
    aio_loop_close(&L);
}

/* Two tasks in one batch, each moving the clock inside its step. */
struct busy { aio_frame hdr; aio_time work; };
static int busy(aio_task *t, void *p)
{
    struct busy *f = (struct busy *)p;
    AIO_BEGIN(t, f);
    fake_now += f->work;
    AIO_YIELD();
    fake_now += f->work / 2;
    AIO_END(0);
}

struct two_busy { aio_frame hdr; aio_group g; aio_task t[2]; struct busy b[2]; };
static int two_busy(aio_task *t, void *p)
{
    struct two_busy *f = (struct two_busy *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 2; i++) {
        f->b[i].work = AIO_MS(3 + 2 * i); /* 3 ms and 5 ms: their first steps share a batch */
        aio_spawn(&f->g, &f->t[i], busy, &f->b[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(run_queue_lag_is_the_longest_batch_while_slow_steps_are_watched)
{
    struct two_busy f;
    aio_task mt;
    aio_loop L;
    aio_config cfg;
    aio_stats st;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    cfg.clock = fake_clock;
    cfg.idle = fake_idle;
    fake_now = 0;
    nreports = 0;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    CHECK_EQ(aio_loop_set_slow_step(&L, AIO_SEC(1), on_slow, NULL), 0);
    CHECK_EQ(aio_run(&L, &mt, two_busy, &f), 0);
    aio_loop_stats(&L, &st);
    CHECK_EQ(st.batch_time_max, AIO_MS(8)); /* 3 + 5 in the first batch; 1.5 + 2.5 in the second */
    CHECK_EQ(nreports, 0);
    aio_loop_close(&L);
    /* Not measured without the reports. */
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    CHECK_EQ(aio_loop_set_slow_step(&L, 0, NULL, NULL), 0);
    CHECK_EQ(aio_run(&L, &mt, two_busy, &f), 0);
    aio_loop_stats(&L, &st);
    CHECK_EQ(st.batch_time_max, 0);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(instruments_see_spawns_steps_exits_and_waits_in_order);
    RUN(a_hook_may_remove_its_own_instrument);
    RUN(a_slow_step_is_reported_with_the_task_and_its_lines);
    RUN(slow_step_reports_are_on_by_default_only_in_debug_builds);
    RUN(loop_lag_is_how_late_timers_fire);
    RUN(run_queue_lag_is_the_longest_batch_while_slow_steps_are_watched);
    return harness_report();
}
