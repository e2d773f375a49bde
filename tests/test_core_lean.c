/*
 * tests/test_core_lean.c - the lean profile (AIO_LEAN): the shuffler ignores
 * cfg.seed, aio_strerror and the dumps give no text, spawn and return sites
 * record no file (the line is kept), the loop's counters stay 0, instruments
 * and slow-step reports are compiled out -- and the
 * scheduler, scopes, groups and the interrupt-safe signals work as ever.
 */
#define AIO_LEAN
#define AIO_BACKEND_NONE /* the firmware configuration: the idle hook is the wait */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"

static aio_loop L;
static aio_task mt;

struct order { int seen[4]; int n; };
struct child { aio_frame hdr; struct order *o; int id; };

static int record(aio_task *t, void *p)
{
    struct child *c = (struct child *)p;
    int rc;
    AIO_BEGIN(t, c);
    AIO_YIELD();
    c->o->seen[c->o->n++] = c->id;
    if (c->id == 3)
        AIO_RETURN(-7);
    AIO_SLEEP(rc, AIO_MS(1));
    AIO_END(rc);
}

struct lean_main {
    aio_frame hdr;
    aio_group g;
    aio_task t[4];
    struct child c[4];
    struct order o;
    aio_scope sc;
    int i, group_rc, sleep_rc;
    const char *reason;
};

static int lean_main_fn(aio_task *t, void *p)
{
    struct lean_main *f = (struct lean_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    for (f->i = 0; f->i < 4; f->i++) {
        f->c[f->i].o = &f->o;
        f->c[f->i].id = f->i;
        aio_spawn(&f->g, &f->t[f->i], record, &f->c[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->group_rc = rc;
    aio_move_on_after(t, &f->sc, AIO_MS(5));
    AIO_SLEEP(rc, AIO_SEC(1));
    f->sleep_rc = rc;
    f->reason = f->sc.reason;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

static int dumped;
static void count_out(void *ctx, const char *s)
{
    (void)ctx;
    (void)s;
    dumped++;
}

TEST(the_lean_profile_drops_strings_sites_stats_and_the_shuffle)
{
    static struct lean_main f;
    aio_stats st;
    unsigned line = 99;
    const char *file;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L); /* a seed under RUN: ignored */
    CHECK_EQ(aio_run(&L, &mt, lean_main_fn, &f), 0);
    /* Strictly FIFO whatever the seed. */
    CHECK_EQ(f.o.n, 4);
    CHECK_EQ(f.o.seen[0], 0);
    CHECK_EQ(f.o.seen[1], 1);
    CHECK_EQ(f.o.seen[2], 2);
    CHECK_EQ(f.o.seen[3], 3);
    CHECK_EQ(f.group_rc, -7);
    CHECK_EQ(f.sleep_rc, AIO_ECANCELED);
    CHECK(f.reason == NULL); /* the deadline's reason text is compiled out */
    CHECK_EQ(aio_now(&L), AIO_MS(6));
    /* The failed child's site: no file, the line is kept. */
    file = aio_task_error_site(&f.t[3], &line);
    CHECK(file == NULL);
    CHECK(line > 0);
    CHECK(strcmp(aio_strerror(AIO_ECANCELED), "") == 0);
    CHECK(strcmp(aio_strerror(-2), "") == 0);
    dumped = 0;
    aio_dump(&L, count_out, NULL);
    CHECK_EQ(dumped, 0);
    aio_loop_stats(&L, &st);
    CHECK(st.turns > 0); /* kept: the cached time goes stale by it */
    CHECK_EQ(st.steps, 0);
    CHECK_EQ(st.tasks, 0);
}

#if AIO__HAVE_ATOMICS /* without them (tcc) there is no aio_loop_post, so no signals */
struct sig_wait { aio_frame hdr; aio_notify *n; int rc; };
static int notify_wait(aio_task *t, void *p)
{
    struct sig_wait *f = (struct sig_wait *)p;
    AIO_BEGIN(t, f);
    AIO_NOTIFY_WAIT(f->rc, f->n, 2);
    AIO_END(0);
}

static aio_notify NT;
static int idles;
static void give_on_idle(void *ctx, aio_time deadline)
{
    (void)ctx;
    (void)deadline;
    idles++;
    aio_notify_give(&NT, 1); /* the "interrupt" */
}

TEST(interrupt_signals_work_in_the_lean_profile)
{
    struct sig_wait f;
    aio_config cfg;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.idle = give_on_idle;
    idles = 0;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    CHECK_EQ(aio_notify_init(&NT, &L), 0);
    f.n = &NT;
    CHECK_EQ(aio_run(&L, &mt, notify_wait, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(idles, 2);
    CHECK_EQ(aio_loop_close(&L), 0);
}
#endif

TEST(the_lean_profile_has_no_instruments_or_slow_step_reports)
{
    aio_instrument ins;
    memset(&ins, 0, sizeof ins);
    test_loop_init(&L);
    CHECK_EQ(aio_instrument_add(&L, &ins), AIO_EINVAL);
    CHECK_EQ(aio_loop_set_slow_step(&L, AIO_MS(100), NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_loop_set_slow_step(&L, 0, NULL, NULL), 0);
    CHECK_EQ(L.slow.threshold, 0); /* not on by default either, even in AIO_DEBUG builds */
    CHECK_EQ(L.watched, 0);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(the_lean_profile_drops_strings_sites_stats_and_the_shuffle);
    RUN(the_lean_profile_has_no_instruments_or_slow_step_reports);
#if AIO__HAVE_ATOMICS
    RUN_ONCE(interrupt_signals_work_in_the_lean_profile);
#endif
    return harness_report();
}
