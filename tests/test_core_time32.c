/*
 * tests/test_core_time32.c - 32-bit time in ticks (AIO_TIME32): the unit
 * macros, wrap-safe comparisons, and sleeps, scope deadlines, timers and
 * the timer heap's order on a 32-bit tick counter that wraps while they are
 * pending -- with the idle hook and an injected clock, as firmware runs it.
 */
#define AIO_TIME32
#define AIO_BACKEND_NONE /* the firmware configuration: the idle hook is the wait */
#define AIO_IMPLEMENTATION
#include "harness.h"

static aio_loop L;
static aio_task mt;

/* The part's tick counter: a wrapping uint32_t, as a timer interrupt keeps it. */
static uint32_t ticks;
static int idle_calls;
static aio_time clock_ticks(void *ctx)
{
    (void)ctx;
    return (aio_time)ticks;
}
/* "Sleep until the timer interrupt": jump the counter to the deadline. */
static void idle_to(void *ctx, aio_time deadline)
{
    (void)ctx;
    idle_calls++;
    if (deadline != AIO_TIME_INF && AIO_TIME_BEFORE((aio_time)ticks, deadline))
        ticks = (uint32_t)deadline;
}

static void loop_at(uint32_t start)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.clock = clock_ticks;
    cfg.idle = idle_to;
    cfg.seed = harness_seed;
    ticks = start;
    idle_calls = 0;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
}

TEST(time_is_32_bit_ticks_of_the_tick_rate)
{
    CHECK_EQ((long)sizeof(aio_time), 4);
    CHECK_EQ(AIO_TICK_HZ, 1000);
    CHECK_EQ(AIO_MS(5), 5);
    CHECK_EQ(AIO_SEC(2), 2000);
    CHECK_EQ(AIO_US(1500), 1);    /* truncated to whole ticks */
    CHECK_EQ(AIO_NS(2999999), 2);
    CHECK_EQ(AIO_TIME_MAX_DELAY, 0x3FFFFFFF);
}

TEST(comparisons_are_wrap_safe_and_infinity_is_after_everything)
{
    aio_time before_wrap = (aio_time)0xFFFFFF00u, after_wrap = 100;
    CHECK(AIO_TIME_BEFORE(before_wrap, after_wrap));
    CHECK(!AIO_TIME_BEFORE(after_wrap, before_wrap));
    CHECK_EQ(AIO_TIME_DIFF(after_wrap, before_wrap), 356);
    CHECK_EQ(AIO_TIME_DIFF(before_wrap, after_wrap), -356);
    CHECK(!AIO_TIME_BEFORE(after_wrap, after_wrap));
    CHECK(AIO_TIME_BEFORE(after_wrap, AIO_TIME_INF));
    CHECK(AIO_TIME_BEFORE((aio_time)0x7FFFFFF0, AIO_TIME_INF));
    CHECK(!AIO_TIME_BEFORE(AIO_TIME_INF, after_wrap));
    CHECK(AIO_TIME_BEFORE(AIO_TIME_NEG_INF, after_wrap));
    CHECK(!AIO_TIME_BEFORE(after_wrap, AIO_TIME_NEG_INF));
    /* Across the signed boundary too: 0x7FFFFF00 is before 0x80000100. */
    CHECK(AIO_TIME_BEFORE((aio_time)0x7FFFFF00, (aio_time)(int32_t)0x80000100u));
}

static int nfired_early;
static void count_fire(aio_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    nfired_early++;
}

struct sleeper32 { aio_frame hdr; aio_time dur, woke; int rc; };
static int sleeper32(aio_task *t, void *p)
{
    struct sleeper32 *f = (struct sleeper32 *)p;
    AIO_BEGIN(t, f);
    AIO_SLEEP(f->rc, f->dur);
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(f->rc);
}

struct three { aio_frame hdr; aio_group g; aio_task t[3]; struct sleeper32 s[3]; int order[3], n; };
static int three_main(aio_task *t, void *p)
{
    struct three *f = (struct three *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s[0].dur = 500; /* ends 244 ticks after the wrap */
    f->s[1].dur = 100; /* before the wrap */
    f->s[2].dur = 300; /* 44 ticks after it */
    for (i = 0; i < 3; i++)
        aio_spawn(&f->g, &f->t[i], sleeper32, &f->s[i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* Both places a 32-bit counter turns over: 2^32 -> 0 (unsigned) and
 * 0x7FFFFFFF -> 0x80000000 (signed). */
static const uint32_t wraps[2] = { 0x00000000u, 0x80000000u };

TEST(sleeps_across_the_wrap_wake_in_order_at_their_ticks)
{
    static struct three f;
    int w;
    for (w = 0; w < 2; w++) {
        uint32_t start = wraps[w] - 256; /* 256 ticks before the counter turns over */
        memset(&f, 0, sizeof f);
        memset(&mt, 0, sizeof mt);
        loop_at(start);
        CHECK_EQ(aio_run(&L, &mt, three_main, &f), 0);
        CHECK_EQ((uint32_t)f.s[1].woke, start + 100);
        CHECK_EQ((uint32_t)f.s[2].woke, wraps[w] + 44);
        CHECK_EQ((uint32_t)f.s[0].woke, wraps[w] + 244);
        CHECK_EQ(f.s[0].rc, 0);
        CHECK_EQ(ticks, wraps[w] + 244);
        CHECK(idle_calls >= 3);
        aio_loop_close(&L);
    }
}

TEST(a_clock_reading_the_infinity_value_fires_nothing_early)
{
    static aio_call c;
    memset(&c, 0, sizeof c);
    loop_at(0x7FFFFF00u);
    nfired_early = 0;
    aio_call_later(&L, &c, 0x200, count_fire, NULL); /* due at 0x80000100 */
    ticks = 0x7FFFFFFFu; /* the counter reads INT32_MAX, the value of AIO_TIME_INF */
    aio_loop_step(&L);
    CHECK_EQ(nfired_early, 0);
    ticks = 0x80000000u; /* INT32_MIN, the value of AIO_TIME_NEG_INF */
    aio_loop_step(&L);
    CHECK_EQ(nfired_early, 0);
    ticks = 0x80000100u;
    aio_loop_step(&L);
    CHECK_EQ(nfired_early, 1);
    aio_loop_close(&L);
}

struct scoped { aio_frame hdr; aio_scope sc; int rc; aio_time woke; };
static int scoped_main(aio_task *t, void *p)
{
    struct scoped *f = (struct scoped *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->sc, 200); /* due 56 ticks after the wrap */
    AIO_SLEEP(rc, AIO_SEC(10));
    rc = aio_scope_exit(t, &f->sc, rc);
    f->rc = rc;
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(0);
}

TEST(a_scope_deadline_across_the_wrap_times_out_on_its_tick)
{
    static struct scoped f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    loop_at(0xFFFFFF90u); /* 112 ticks before the wrap */
    CHECK_EQ(aio_run(&L, &mt, scoped_main, &f), 0);
    CHECK_EQ(f.rc, AIO_ETIMEDOUT);
    CHECK_EQ((uint32_t)f.woke, 0xFFFFFF90u + 200);
    aio_loop_close(&L);
}

TEST(a_delay_longer_than_the_maximum_is_cut_to_it)
{
    static struct sleeper32 s;
    static aio_task t;
    memset(&s, 0, sizeof s);
    memset(&t, 0, sizeof t);
    loop_at(1000);
    s.dur = (aio_time)0x7FFFFFF0; /* about 24.8 days at 1 kHz */
    aio_spawn(&L.root, &t, sleeper32, &s);
    aio_loop_step(&L); /* it parks */
    CHECK_EQ(aio_loop_next_deadline(&L), 1000 + AIO_TIME_MAX_DELAY);
    aio_task_cancel(&t);
    aio_loop_step(&L);
    CHECK_EQ(s.rc, AIO_ECANCELED);
    aio_loop_close(&L);
}

/* The heap's order across the wrap: 64 timers at scattered deadlines that
 * straddle it fire in deadline order (in the wrapped sense). */
static aio_time fired_at[64];
static int nfired;
static void on_timer(aio_loop *loop, void *arg)
{
    (void)arg;
    fired_at[nfired++] = aio_now(loop);
}

TEST(timers_straddling_the_wrap_fire_in_deadline_order)
{
    static aio_call c[64];
    int i, w;
    for (w = 0; w < 2; w++) {
        aio_time wrap = (aio_time)(wraps[w] + 1); /* 0x80000000 itself is AIO_TIME_NEG_INF */
        memset(c, 0, sizeof c);
        loop_at(wraps[w] - 65536); /* 65,536 ticks before the counter turns over */
        nfired = 0;
        for (i = 0; i < 64; i++)
            aio_call_later(&L, &c[i], (aio_time)((i * 7919) % 131072), on_timer, NULL);
        while (nfired < 64) {
            aio_time dl = aio_loop_next_deadline(&L);
            if (dl == AIO_TIME_INF)
                break;
            ticks = (uint32_t)dl; /* time passes to the next deadline */
            aio_loop_step(&L);
        }
        CHECK_EQ(nfired, 64);
        for (i = 1; i < 64; i++)
            CHECK(!AIO_TIME_BEFORE(fired_at[i], fired_at[i - 1]));
        CHECK(AIO_TIME_BEFORE(fired_at[0], wrap));  /* the first before the turn-over */
        CHECK(AIO_TIME_BEFORE(wrap, fired_at[63])); /* the last after it */
        aio_loop_close(&L);
    }
}

TEST(the_virtual_clock_jumps_across_the_wrap)
{
    static struct three f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_clock_advance(&L, 0x7FFFFF80), 0);
    CHECK_EQ(aio_clock_advance(&L, 0x7FFFFF80), 0); /* now 0xFFFFFF00: 256 ticks before the wrap */
    CHECK_EQ((uint32_t)aio_now(&L), 0xFFFFFF00u);
    CHECK_EQ(aio_run(&L, &mt, three_main, &f), 0);
    CHECK_EQ((uint32_t)f.s[1].woke, 0xFFFFFF00u + 100);
    CHECK_EQ((uint32_t)f.s[2].woke, 44u);
    CHECK_EQ((uint32_t)f.s[0].woke, 244u);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(time_is_32_bit_ticks_of_the_tick_rate);
    RUN(comparisons_are_wrap_safe_and_infinity_is_after_everything);
    RUN(sleeps_across_the_wrap_wake_in_order_at_their_ticks);
    RUN(a_scope_deadline_across_the_wrap_times_out_on_its_tick);
    RUN(a_delay_longer_than_the_maximum_is_cut_to_it);
    RUN(a_clock_reading_the_infinity_value_fires_nothing_early);
    RUN(timers_straddling_the_wrap_fire_in_deadline_order);
    RUN(the_virtual_clock_jumps_across_the_wrap);
    return harness_report();
}
