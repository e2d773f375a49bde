/*
 * tests/embedded/test_embedded.c - the core suite for firmware targets.
 *
 * aio.h with AIO_NO_OS (the "none" backend), aio_sync.h and aio_chan.h,
 * built with -ffreestanding and run under emulation on Cortex-M3, AVR and
 * RISC-V (make test-embedded), and natively as a freestanding object.  The
 * platform supplies plat_puts() and turns main's result into the exit
 * status.  Every test keeps its state on the stack (one test at a time), so
 * the program fits the 8 KiB of an ATmega2560.
 *
 * Covered: tasks and nested awaits, sleeps on the virtual clock, deadline
 * order, cancel scopes (move_on_after, fail_after, shield), task groups
 * (waiting for every child, a failing child cancelling its siblings), the
 * start handshake, deadlock reporting, an injected clock with an idle hook
 * and an interrupt waking a task through aio_loop_post, events, locks,
 * semaphores, buffered and rendezvous channels with their close rules, and
 * the int range of the internal codes (int is 16 bits on AVR).
 */
#ifndef AIO_NO_OS
#define AIO_NO_OS
#endif
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"
#include "aio_chan.h"
#include "eharness.h"

eh_state eh;

#define MS(t) ((long)((t) / AIO_MS(1))) /* a time in whole ms, as a long */

static void e_loop_init(aio_loop *L)
{
    aio_config cfg;
    eh_zero(&cfg, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = eh.seed;
    ECHECK_EQ(aio_loop_init(L, &cfg), 0);
}

/* ---- the codes a coroutine returns fit int, whatever its width --------- */

ETEST(internal_codes_fit_int)
{
    long parked = (long)AIO_PARKED, suspended = (long)AIO__SUSPENDED;
    ECHECK(parked < 0 && suspended < 0);
    ECHECK(parked != suspended);
    ECHECK((long)(int)AIO_PARKED == parked);
    ECHECK((long)(int)AIO__SUSPENDED == suspended);
    ECHECK(parked < (long)AIO_EMISUSE && suspended < (long)AIO_EMISUSE);
    ECHECK((long)(int)AIO_ECANCELED == -10001L);
}

/* ---- tasks, sleeps, awaits --------------------------------------------- */

struct sleep_frame { aio_frame hdr; aio_time d; aio_time woke; };

static int sleeper(aio_task *t, void *p)
{
    struct sleep_frame *f = (struct sleep_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->d);
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(rc);
}

ETEST(sleep_advances_the_virtual_clock)
{
    aio_loop L;
    aio_task t;
    struct sleep_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    f.d = AIO_MS(5);
    ECHECK_EQ(aio_run(&L, &t, sleeper, &f), 0);
    ECHECK_EQ(MS(f.woke), 5);
    ECHECK_EQ(MS(aio_now(&L)), 5);
}

struct order { int seen[3]; int n; };
struct order_frame { aio_frame hdr; struct order *o; int id; aio_time d; };

static int order_sleeper(aio_task *t, void *p)
{
    struct order_frame *f = (struct order_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->d);
    f->o->seen[f->o->n++] = f->id;
    AIO_END(rc);
}

struct three_frame {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[3];
    struct order_frame frames[3];
    struct order o;
    int i;
};

static int spawn_three(aio_task *t, void *p)
{
    static const int ms[3] = { 30, 10, 20 };
    struct three_frame *f = (struct three_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < 3; f->i++) {
        f->frames[f->i].o = &f->o;
        f->frames[f->i].id = ms[f->i];
        f->frames[f->i].d = AIO_MS(ms[f->i]);
        ECHECK_EQ(aio_spawn(&f->g, &f->tasks[f->i], order_sleeper, &f->frames[f->i]), 0);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

ETEST(sleepers_wake_in_deadline_order_and_the_group_waits_for_all)
{
    aio_loop L;
    aio_task t;
    struct three_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, spawn_three, &f), 0);
    ECHECK_EQ(f.o.n, 3);
    ECHECK_EQ(f.o.seen[0], 10);
    ECHECK_EQ(f.o.seen[1], 20);
    ECHECK_EQ(f.o.seen[2], 30);
    ECHECK_EQ(MS(aio_now(&L)), 30);
}

struct child_frame { aio_frame hdr; int result; };
static int child_returns(aio_task *t, void *p)
{
    struct child_frame *f = (struct child_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(2));
    if (rc)
        AIO_RETURN(rc);
    AIO_END(f->result);
}

struct parent_frame { aio_frame hdr; struct child_frame child; int got1, got2; };
static int parent_awaits(aio_task *t, void *p)
{
    struct parent_frame *f = (struct parent_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->child.result = 1234;
    AIO_AWAIT(rc, child_returns, &f->child);
    f->got1 = rc;
    eh_zero(&f->child, sizeof f->child);
    f->child.result = -20000;
    AIO_AWAIT(rc, child_returns, &f->child);
    f->got2 = rc;
    AIO_END(0);
}

ETEST(await_gives_the_child_result_and_error)
{
    aio_loop L;
    aio_task t;
    struct parent_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, parent_awaits, &f), 0);
    ECHECK_EQ(f.got1, 1234);
    ECHECK_EQ(f.got2, -20000);
    ECHECK_EQ(MS(aio_now(&L)), 4);
}

/* ---- cancel scopes ----------------------------------------------------- */

struct scope_frame { aio_frame hdr; aio_scope s, inner; int fail; int body_rc, exit_rc, caught; };

static int sleep_in_scope(aio_task *t, void *p)
{
    struct scope_frame *f = (struct scope_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->fail)
        aio_fail_after(t, &f->s, AIO_MS(10));
    else
        aio_move_on_after(t, &f->s, AIO_MS(10));
    AIO_SLEEP(rc, AIO_MS(100));
    f->body_rc = rc;
    f->exit_rc = aio_scope_exit(t, &f->s, rc);
    f->caught = aio_scope_cancelled_caught(&f->s);
    AIO_END(0);
}

ETEST(move_on_after_cancels_the_sleep_quietly)
{
    aio_loop L;
    aio_task t;
    struct scope_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, sleep_in_scope, &f), 0);
    ECHECK_EQ(f.body_rc, AIO_ECANCELED);
    ECHECK_EQ(f.exit_rc, 0);
    ECHECK(f.caught);
    ECHECK_EQ(MS(aio_now(&L)), 10);
}

ETEST(fail_after_turns_the_deadline_into_a_timeout)
{
    aio_loop L;
    aio_task t;
    struct scope_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    f.fail = 1;
    ECHECK_EQ(aio_run(&L, &t, sleep_in_scope, &f), 0);
    ECHECK_EQ(f.body_rc, AIO_ECANCELED);
    ECHECK_EQ(f.exit_rc, AIO_ETIMEDOUT);
    ECHECK_EQ(MS(aio_now(&L)), 10);
}

static int shielded_sleep(aio_task *t, void *p)
{
    struct scope_frame *f = (struct scope_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->s, AIO_MS(10));
    aio_scope_init(&f->inner);
    aio_scope_set_shield(&f->inner, 1);
    aio_scope_enter(t, &f->inner, AIO_TIME_INF);
    AIO_SLEEP(rc, AIO_MS(20));
    f->body_rc = aio_scope_exit(t, &f->inner, rc);
    AIO_CHECKPOINT(rc);
    f->exit_rc = aio_scope_exit(t, &f->s, rc);
    f->caught = aio_scope_cancelled_caught(&f->s);
    AIO_END(0);
}

ETEST(a_shield_hides_the_outer_deadline_until_it_is_left)
{
    aio_loop L;
    aio_task t;
    struct scope_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, shielded_sleep, &f), 0);
    ECHECK_EQ(f.body_rc, 0);
    ECHECK_EQ(f.exit_rc, 0);
    ECHECK(f.caught);
    ECHECK_EQ(MS(aio_now(&L)), 20);
}

/* ---- task groups and the start handshake ------------------------------- */

struct fail_frame { aio_frame hdr; aio_time d; int result; int rc_seen; };
static int fails_after(aio_task *t, void *p)
{
    struct fail_frame *f = (struct fail_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->d);
    f->rc_seen = rc;
    if (rc)
        AIO_RETURN(rc);
    AIO_END(f->result);
}

struct group_frame {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    struct fail_frame fa, fb;
    int body_rc, wait_rc;
};

static int group_with_failure(aio_task *t, void *p)
{
    struct group_frame *f = (struct group_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->fa.d = AIO_MS(5);
    f->fa.result = -7;
    f->fb.d = AIO_SEC(1);
    aio_spawn(&f->g, &f->a, fails_after, &f->fa);
    aio_spawn(&f->g, &f->b, fails_after, &f->fb);
    AIO_SLEEP(rc, AIO_SEC(2)); /* the body is woken by the failure */
    f->body_rc = rc;
    AIO_GROUP_WAIT(rc, &f->g, rc);
    f->wait_rc = rc;
    AIO_END(0);
}

ETEST(a_failing_child_cancels_its_siblings_and_the_body)
{
    aio_loop L;
    aio_task t;
    struct group_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, group_with_failure, &f), 0);
    ECHECK_EQ(f.body_rc, AIO_ECANCELED);
    ECHECK_EQ(f.wait_rc, -7);
    ECHECK_EQ(f.fb.rc_seen, AIO_ECANCELED);
    ECHECK_EQ(aio_task_rc(&f.a), -7);
    ECHECK(aio_group_failed_first(&f.g) == &f.a);
    ECHECK_EQ(MS(aio_now(&L)), 5);
}

struct server_frame { aio_frame hdr; int port; int fail_early; };
static int server(aio_task *t, void *p)
{
    struct server_frame *f = (struct server_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(3));
    if (rc)
        AIO_RETURN(rc);
    if (f->fail_early)
        AIO_RETURN(-9);
    f->port = 8080;
    aio_started(t, &f->port);
    AIO_SLEEP_FOREVER(rc);
    AIO_END(rc);
}

struct start_frame {
    aio_frame hdr;
    aio_group g;
    aio_task child;
    struct server_frame srv;
    void *value;
    int start_rc, wait_rc;
    aio_time started_at;
};

static int starter(aio_task *t, void *p)
{
    struct start_frame *f = (struct start_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_START(rc, &f->g, &f->child, server, &f->srv, &f->value);
    f->start_rc = rc;
    f->started_at = aio_now(aio_task_loop(t));
    aio_group_cancel(&f->g, "done");
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->wait_rc = rc;
    AIO_END(0);
}

ETEST(start_waits_for_started_and_passes_its_value)
{
    aio_loop L;
    aio_task t;
    struct start_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, starter, &f), 0);
    ECHECK_EQ(f.start_rc, 0);
    ECHECK(f.value == &f.srv.port);
    ECHECK_EQ(*(int *)f.value, 8080);
    ECHECK_EQ(MS(f.started_at), 3);
    ECHECK_EQ(f.wait_rc, 0);
}

ETEST(an_error_before_started_comes_out_of_start)
{
    aio_loop L;
    aio_task t;
    struct start_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    f.srv.fail_early = 1;
    ECHECK_EQ(aio_run(&L, &t, starter, &f), 0);
    ECHECK_EQ(f.start_rc, -9);
    ECHECK(f.value == NULL);
}

static int sleeps_forever(aio_task *t, void *p)
{
    aio_frame *f = (aio_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP_FOREVER(rc);
    AIO_END(rc);
}

ETEST(a_loop_with_nothing_to_wake_reports_deadlock)
{
    aio_loop L;
    aio_task t;
    aio_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, sleeps_forever, &f), AIO_EDEADLK);
}

/* ---- the firmware hooks: clock, idle, interrupt wake-up ---------------- */

/* A board: a tick counter in ns, an idle hook that "sleeps" until the next
 * deadline, and an interrupt that fires when the loop idles with nothing
 * armed.  The interrupt sets an event through aio_loop_post. */
struct board {
    aio_loop *L;
    aio_time ticks;
    int idles, irqs;
    aio_event ev;
    aio_post post;
};

static aio_time board_clock(void *ctx) { return ((struct board *)ctx)->ticks; }

static void board_post_cb(aio_loop *L, void *arg)
{
    (void)L;
    aio_event_set(&((struct board *)arg)->ev);
}

static void board_idle(void *ctx, aio_time deadline)
{
    struct board *b = (struct board *)ctx;
    b->idles++;
    if (deadline != AIO_TIME_INF) {
        b->ticks = deadline; /* WFI until the tick interrupt */
    } else {
        b->ticks += AIO_MS(1); /* the button interrupt, 1 ms later */
        b->irqs++;
        aio_loop_post(b->L, &b->post, board_post_cb, b);
    }
}

struct irq_frame { aio_frame hdr; struct board *b; int rc1, rc2; aio_time woke; };
static int irq_waiter(aio_task *t, void *p)
{
    struct irq_frame *f = (struct irq_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(7));
    f->rc1 = rc;
    AIO_EVENT_WAIT(rc, &f->b->ev);
    f->rc2 = rc;
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(0);
}

ETEST(an_interrupt_wakes_a_task_through_the_post_path)
{
    aio_loop L;
    aio_task t;
    struct irq_frame f;
    struct board b;
    aio_config cfg;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    eh_zero(&b, sizeof b);
    eh_zero(&cfg, sizeof cfg);
    b.L = &L;
    aio_event_init(&b.ev);
    cfg.clock = board_clock;
    cfg.clock_ctx = &b;
    cfg.idle = board_idle;
    cfg.idle_ctx = &b;
    ECHECK_EQ(aio_loop_init(&L, &cfg), 0);
    ECHECK_EQ(aio_loop_wake_enable(&L), 0);
    f.b = &b;
    ECHECK_EQ(aio_run(&L, &t, irq_waiter, &f), 0);
    ECHECK_EQ(f.rc1, 0);
    ECHECK_EQ(f.rc2, 0);
    ECHECK_EQ(MS(f.woke), 8);
    ECHECK_EQ(b.irqs, 1);
    ECHECK(b.idles >= 2);
}

/* A bouncing button: the "interrupt" (the idle hook) posts the same node
 * three times in one go; the post is merged, the callback runs once, and the
 * loop keeps running.  The callback posts the node again, as an interrupt
 * arriving while it runs would (the node is free once the callback starts). */
struct bounce {
    aio_loop *L;
    aio_time ticks;
    aio_post post;
    aio_event ev;
    int rcs[3], runs, irqs, pending_in_cb, repost_rc;
};

static aio_time bounce_clock(void *ctx) { return ((struct bounce *)ctx)->ticks; }

static void bounce_cb(aio_loop *L, void *arg)
{
    struct bounce *b = (struct bounce *)arg;
    b->runs++;
    b->pending_in_cb = aio_post_pending(&b->post);
    if (b->runs == 1)
        b->repost_rc = aio_loop_post(L, &b->post, bounce_cb, b);
    else
        aio_event_set(&b->ev);
}

static void bounce_idle(void *ctx, aio_time deadline)
{
    struct bounce *b = (struct bounce *)ctx;
    int i;
    (void)deadline;
    b->ticks += AIO_MS(1);
    if (b->irqs++ == 0)
        for (i = 0; i < 3; i++)
            b->rcs[i] = aio_loop_post(b->L, &b->post, bounce_cb, b);
}

struct bounce_frame { aio_frame hdr; struct bounce *b; int rc; };
static int bounce_waiter(aio_task *t, void *p)
{
    struct bounce_frame *f = (struct bounce_frame *)p;
    AIO_BEGIN(t, f);
    AIO_EVENT_WAIT(f->rc, &f->b->ev);
    AIO_END(0);
}

ETEST(posting_a_queued_node_is_merged_from_an_interrupt_and_the_loop_runs_on)
{
    aio_loop L;
    aio_task t;
    struct bounce_frame f;
    struct bounce b;
    aio_config cfg;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    eh_zero(&b, sizeof b);
    eh_zero(&cfg, sizeof cfg);
    b.L = &L;
    aio_event_init(&b.ev);
    cfg.clock = bounce_clock;
    cfg.clock_ctx = &b;
    cfg.idle = bounce_idle;
    cfg.idle_ctx = &b;
    ECHECK_EQ(aio_loop_init(&L, &cfg), 0);
    ECHECK_EQ(aio_loop_wake_enable(&L), 0);
    /* From the main context: twice in a row, then drained. */
    ECHECK_EQ(aio_loop_post(&L, &b.post, bounce_cb, &b), 0);
    ECHECK_EQ(aio_loop_post(&L, &b.post, bounce_cb, &b), AIO_EBUSY);
    ECHECK(aio_post_pending(&b.post));
    ECHECK(aio_loop_wake_pending(&L));
    aio_loop_step(&L);
    ECHECK_EQ(b.runs, 1);
    ECHECK_EQ(b.repost_rc, 0); /* posted again from its own callback */
    aio_loop_step(&L);
    ECHECK_EQ(b.runs, 2);
    ECHECK(!aio_post_pending(&b.post));
    ECHECK(aio_event_is_set(&b.ev));
    /* From the "interrupt", three times while queued. */
    b.runs = 0;
    aio_event_init(&b.ev);
    f.b = &b;
    ECHECK_EQ(aio_run(&L, &t, bounce_waiter, &f), 0);
    ECHECK_EQ(f.rc, 0);
    ECHECK_EQ(b.rcs[0], 0);
    ECHECK_EQ(b.rcs[1], AIO_EBUSY);
    ECHECK_EQ(b.rcs[2], AIO_EBUSY);
    ECHECK_EQ(b.runs, 2); /* once for the three posts, once for the repost */
    ECHECK_EQ(b.pending_in_cb, 0);
    ECHECK(!aio_post_pending(&b.post));
    ECHECK_EQ(b.irqs, 1);
}

/* Interrupt-safe signals: the "interrupt" (the idle hook) sets event flags
 * and gives notifications directly, with no callback of its own. */
struct sigboard {
    aio_time ticks;
    aio_flags fl;
    aio_notify nt;
    int irqs;
};

static aio_time sigboard_clock(void *ctx) { return ((struct sigboard *)ctx)->ticks; }

static void sigboard_idle(void *ctx, aio_time deadline)
{
    struct sigboard *b = (struct sigboard *)ctx;
    (void)deadline;
    b->ticks += AIO_MS(1);
    switch (b->irqs++) {
    case 0:
        ECHECK_EQ(aio_flags_set(&b->fl, 0x4u), 0); /* not what the task waits for yet */
        break;
    case 1:
        ECHECK_EQ(aio_flags_set(&b->fl, 0x1u), 0);
        ECHECK_EQ(aio_flags_set(&b->fl, 0x2u), 0); /* merged into the pending hand-off */
        break;
    case 2:
        ECHECK_EQ(aio_flags_set(&b->fl, 0x2u), 0); /* completes the wait for 0x4 and 0x2 */
        break;
    case 3:
        ECHECK_EQ(aio_notify_give(&b->nt, 1), 0);
        ECHECK_EQ(aio_notify_give(&b->nt, 1), 0);
        break;
    default:
        ECHECK_EQ(aio_notify_give(&b->nt, 1), 0);
        break;
    }
}

struct sig_frame { aio_frame hdr; struct sigboard *b; int rc_any, rc_all, rc_n; aio_time t_any, t_n; unsigned left; };
static int sig_waiter(aio_task *t, void *p)
{
    struct sig_frame *f = (struct sig_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_FLAGS_WAIT_ANY(rc, &f->b->fl, 0x3u);
    f->rc_any = rc;
    f->t_any = aio_now(aio_task_loop(t));
    AIO_FLAGS_WAIT_ALL(rc, &f->b->fl, 0x6u);
    f->rc_all = rc;
    f->left = aio_flags_get(&f->b->fl);
    AIO_NOTIFY_WAIT(rc, &f->b->nt, 3);
    f->rc_n = rc;
    f->t_n = aio_now(aio_task_loop(t));
    AIO_END(0);
}

ETEST(an_interrupt_sets_flags_and_gives_notifications_without_a_callback)
{
    aio_loop L;
    aio_task t;
    struct sig_frame f;
    struct sigboard b;
    aio_config cfg;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    eh_zero(&b, sizeof b);
    eh_zero(&cfg, sizeof cfg);
    cfg.clock = sigboard_clock;
    cfg.clock_ctx = &b;
    cfg.idle = sigboard_idle;
    cfg.idle_ctx = &b;
    ECHECK_EQ(aio_loop_init(&L, &cfg), 0);
    ECHECK_EQ(aio_flags_init(&b.fl, &L), 0);
    ECHECK_EQ(aio_notify_init(&b.nt, &L), 0);
    f.b = &b;
    ECHECK_EQ(aio_run(&L, &t, sig_waiter, &f), 0);
    ECHECK_EQ(f.rc_any, 0x3); /* both bits of the merged sets, both taken */
    ECHECK_EQ(MS(f.t_any), 2);
    ECHECK_EQ(f.rc_all, 0x6);
    ECHECK_EQ(f.left, 0u);
    ECHECK_EQ(f.rc_n, 0);
    ECHECK_EQ(MS(f.t_n), 5); /* two gives at 4 ms, the third at 5 ms */
    ECHECK_EQ(aio_notify_count(&b.nt), 0u);
    ECHECK_EQ(b.irqs, 5);
}

/* The race-free idle: an interrupt lands after the loop decided to idle but
 * before the hook masks interrupts.  The hook's masked check
 * (aio_loop_wake_pending) sees it and does not sleep; a hook that slept
 * would wait for the next interrupt, and in a tickless design there is none. */
struct racer {
    aio_time ticks;
    aio_notify nt;
    int idles, skipped, slept;
};

static aio_time racer_clock(void *ctx) { return ((struct racer *)ctx)->ticks; }

static void racer_idle(void *ctx, aio_time deadline)
{
    struct racer *r = (struct racer *)ctx;
    (void)deadline;
    if (r->idles++ == 0)
        aio_notify_give(&r->nt, 1); /* the interrupt, just before the mask */
    /* mask interrupts (cpsid i / cli) */
    if (aio_loop_wake_pending(r->nt.loop)) {
        r->skipped++; /* unmask and return: the loop has work */
        return;
    }
    r->slept++; /* wfi; unmask: stands in for the next tick */
    r->ticks += AIO_MS(1);
    aio_notify_give(&r->nt, 1);
}

struct racer_frame { aio_frame hdr; struct racer *r; int rc; aio_time woke; };
static int racer_waiter(aio_task *t, void *p)
{
    struct racer_frame *f = (struct racer_frame *)p;
    AIO_BEGIN(t, f);
    AIO_NOTIFY_WAIT(f->rc, &f->r->nt, 1);
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(0);
}

ETEST(the_masked_idle_check_sees_a_wake_that_lands_before_the_sleep)
{
    aio_loop L;
    aio_task t;
    struct racer_frame f;
    struct racer r;
    aio_config cfg;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    eh_zero(&r, sizeof r);
    eh_zero(&cfg, sizeof cfg);
    cfg.clock = racer_clock;
    cfg.clock_ctx = &r;
    cfg.idle = racer_idle;
    cfg.idle_ctx = &r;
    ECHECK_EQ(aio_loop_init(&L, &cfg), 0);
    ECHECK_EQ(aio_notify_init(&r.nt, &L), 0);
    ECHECK(!aio_loop_wake_pending(&L));
    f.r = &r;
    ECHECK_EQ(aio_run(&L, &t, racer_waiter, &f), 0);
    ECHECK_EQ(f.rc, 0);
    ECHECK_EQ(r.skipped, 1);
    ECHECK_EQ(r.slept, 0);
    ECHECK_EQ(MS(f.woke), 0); /* no tick passed */
    ECHECK(!aio_loop_wake_pending(&L));
}

ETEST(a_no_os_loop_needs_a_clock)
{
    aio_loop L;
    ECHECK_EQ(aio_loop_init(&L, NULL), AIO_EINVAL);
}

/* ---- aio_sync.h -------------------------------------------------------- */

struct shared {
    aio_event ev;
    aio_lock lock;
    aio_sem sem;
    int inside, max_inside, done;
};

struct worker_frame { aio_frame hdr; struct shared *sh; int rc; aio_time woke; };

static int event_waiter(aio_task *t, void *p)
{
    struct worker_frame *f = (struct worker_frame *)p;
    AIO_BEGIN(t, f);
    AIO_EVENT_WAIT(f->rc, &f->sh->ev);
    f->woke = aio_now(aio_task_loop(t));
    AIO_END(0);
}

static int lock_worker(aio_task *t, void *p)
{
    struct worker_frame *f = (struct worker_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_LOCK_ACQUIRE(rc, &f->sh->lock);
    if (rc)
        AIO_RETURN(rc);
    if (++f->sh->inside > f->sh->max_inside)
        f->sh->max_inside = f->sh->inside;
    AIO_SLEEP(rc, AIO_MS(1));
    f->sh->inside--;
    f->sh->done++;
    f->rc = aio_lock_release(t, &f->sh->lock);
    AIO_END(rc);
}

static int sem_worker(aio_task *t, void *p)
{
    struct worker_frame *f = (struct worker_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SEM_ACQUIRE(rc, &f->sh->sem);
    if (rc)
        AIO_RETURN(rc);
    if (++f->sh->inside > f->sh->max_inside)
        f->sh->max_inside = f->sh->inside;
    AIO_SLEEP(rc, AIO_MS(10));
    f->sh->inside--;
    f->sh->done++;
    f->rc = aio_sem_release(&f->sh->sem);
    AIO_END(rc);
}

#define NW 4
struct sync_frame {
    aio_frame hdr;
    aio_group g;
    aio_task w[NW];
    struct worker_frame wf[NW];
    struct shared sh;
    aio_fn fn;
    int i, rc;
};

static int run_workers(aio_task *t, void *p)
{
    struct sync_frame *f = (struct sync_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < NW; f->i++) {
        f->wf[f->i].sh = &f->sh;
        aio_spawn(&f->g, &f->w[f->i], f->fn, &f->wf[f->i]);
    }
    if (f->fn == event_waiter) {
        AIO_SLEEP(rc, AIO_MS(5));
        aio_event_set(&f->sh.ev);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    AIO_END(0);
}

static void run_sync(struct sync_frame *f, aio_fn fn, aio_loop *L)
{
    aio_task t;
    eh_zero(&t, sizeof t);
    f->fn = fn;
    e_loop_init(L);
    ECHECK_EQ(aio_run(L, &t, run_workers, f), 0);
    ECHECK_EQ(f->rc, 0);
}

ETEST(an_event_wakes_every_waiter)
{
    aio_loop L;
    struct sync_frame f;
    int i;
    eh_zero(&f, sizeof f);
    aio_event_init(&f.sh.ev);
    run_sync(&f, event_waiter, &L);
    for (i = 0; i < NW; i++) {
        ECHECK_EQ(f.wf[i].rc, 0);
        ECHECK_EQ(MS(f.wf[i].woke), 5);
    }
    ECHECK(aio_event_is_set(&f.sh.ev));
}

ETEST(a_lock_admits_one_task_at_a_time)
{
    aio_loop L;
    struct sync_frame f;
    int i;
    eh_zero(&f, sizeof f);
    aio_lock_init(&f.sh.lock);
    run_sync(&f, lock_worker, &L);
    ECHECK_EQ(f.sh.max_inside, 1);
    ECHECK_EQ(f.sh.done, NW);
    for (i = 0; i < NW; i++)
        ECHECK_EQ(f.wf[i].rc, 0);
    ECHECK_EQ(MS(aio_now(&L)), NW);
    ECHECK(!aio_lock_locked(&f.sh.lock));
}

ETEST(a_semaphore_limits_concurrency_to_its_value)
{
    aio_loop L;
    struct sync_frame f;
    eh_zero(&f, sizeof f);
    aio_sem_init(&f.sh.sem, 2);
    run_sync(&f, sem_worker, &L);
    ECHECK_EQ(f.sh.max_inside, 2);
    ECHECK_EQ(f.sh.done, NW);
    ECHECK_EQ(MS(aio_now(&L)), 20);
}

static int release_unowned(aio_task *t, void *p)
{
    struct worker_frame *f = (struct worker_frame *)p;
    AIO_BEGIN(t, f);
    f->rc = aio_lock_release(t, &f->sh->lock);
    AIO_END(0);
}

ETEST(releasing_a_lock_not_held_is_eperm)
{
    aio_loop L;
    aio_task t;
    struct worker_frame f;
    struct shared sh;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    eh_zero(&sh, sizeof sh);
    aio_lock_init(&sh.lock);
    f.sh = &sh;
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, release_unowned, &f), 0);
    ECHECK_EQ(f.rc, AIO_EPERM);
}

/* ---- aio_chan.h -------------------------------------------------------- */

#define NITEMS 6
struct prod_frame { aio_frame hdr; aio_chan_tx tx; int16_t v; int i; int rc; aio_time delay; aio_time sent_at; };
struct cons_frame { aio_frame hdr; aio_chan_rx rx; int16_t item; int16_t got[NITEMS]; int n; int rc; aio_time delay; };

static int producer(aio_task *t, void *p)
{
    struct prod_frame *f = (struct prod_frame *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < NITEMS; f->i++) {
        f->v = (int16_t)(100 + f->i);
        AIO_CHAN_SEND(rc, &f->tx, &f->v);
        if (rc)
            break;
    }
    f->sent_at = aio_now(aio_task_loop(t));
    f->rc = rc;
    aio_chan_tx_close(&f->tx);
    AIO_END(0);
}

static int consumer(aio_task *t, void *p)
{
    struct cons_frame *f = (struct cons_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->delay) {
        AIO_SLEEP(rc, f->delay);
    }
    AIO_CHAN_FOR(rc, &f->rx, &f->item) {
        if (f->n < NITEMS)
            f->got[f->n] = f->item;
        f->n++;
    }
    f->rc = rc;
    aio_chan_rx_close(&f->rx);
    AIO_END(0);
}

struct pipe_frame {
    aio_frame hdr;
    aio_group g;
    aio_chan ch;
    int16_t ring[4];
    aio_task pt, ct;
    struct prod_frame pf;
    struct cons_frame cf;
    uint32_t cap;
};

static int pipeline(aio_task *t, void *p)
{
    struct pipe_frame *f = (struct pipe_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_chan_init(&f->ch, f->cap ? f->ring : NULL, sizeof(int16_t), f->cap, &f->pf.tx, &f->cf.rx);
    if (rc)
        AIO_RETURN(rc);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->pt, producer, &f->pf);
    aio_spawn(&f->g, &f->ct, consumer, &f->cf);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static void check_items(const struct cons_frame *cf)
{
    int i;
    ECHECK_EQ(cf->n, NITEMS);
    for (i = 0; i < NITEMS; i++)
        ECHECK_EQ(cf->got[i], 100 + i);
    ECHECK_EQ(cf->rc, AIO_EEND);
}

ETEST(a_buffered_channel_delivers_in_order_then_drains_after_close)
{
    aio_loop L;
    aio_task t;
    struct pipe_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    f.cap = 4;
    f.cf.delay = AIO_MS(10); /* the producer fills the ring, then blocks */
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, pipeline, &f), 0);
    check_items(&f.cf);
    ECHECK_EQ(f.pf.rc, 0);
    ECHECK_EQ(MS(f.pf.sent_at), 10);
}

ETEST(a_rendezvous_send_completes_when_a_receiver_takes_it)
{
    aio_loop L;
    aio_task t;
    struct pipe_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    f.cap = 0;
    f.cf.delay = AIO_MS(10);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, pipeline, &f), 0);
    check_items(&f.cf);
    ECHECK_EQ(f.pf.rc, 0);
    ECHECK_EQ(MS(f.pf.sent_at), 10);
}

ETEST(channel_close_rules)
{
    aio_chan ch;
    aio_chan_tx tx, tx2;
    aio_chan_rx rx;
    int16_t ring[2], v = 5, out = 0;
    eh_zero(&ch, sizeof ch);
    eh_zero(&tx, sizeof tx);
    eh_zero(&tx2, sizeof tx2);
    eh_zero(&rx, sizeof rx);
    ECHECK_EQ(aio_chan_init(&ch, ring, sizeof v, 2, &tx, &rx), 0);
    ECHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    ECHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    ECHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    ECHECK_EQ(aio_chan_try_send(&tx, &v), AIO_EAGAIN); /* full */
    aio_chan_tx_close(&tx);
    ECHECK_EQ(aio_chan_try_send(&tx, &v), AIO_ECLOSED); /* this end is closed */
    ECHECK_EQ(aio_chan_try_recv(&rx, &out), 0);
    ECHECK_EQ(out, 5);
    aio_chan_tx_close(&tx2);                            /* last send end */
    ECHECK_EQ(aio_chan_try_recv(&rx, &out), 0);          /* the buffer drains first */
    ECHECK_EQ(aio_chan_try_recv(&rx, &out), AIO_EEND);
    aio_chan_rx_close(&rx);
    ECHECK_EQ(aio_chan_try_recv(&rx, &out), AIO_ECLOSED);

    eh_zero(&ch, sizeof ch);
    eh_zero(&tx, sizeof tx);
    eh_zero(&rx, sizeof rx);
    ECHECK_EQ(aio_chan_init(&ch, ring, sizeof v, 2, &tx, &rx), 0);
    aio_chan_rx_close(&rx);                             /* every receiver gone */
    ECHECK_EQ(aio_chan_try_send(&tx, &v), AIO_EBROKEN);
}

struct crecv_frame { aio_frame hdr; aio_scope s; aio_chan_rx rx; int16_t item; int rc, rc2; };
static int cancelled_recv(aio_task *t, void *p)
{
    struct crecv_frame *f = (struct crecv_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->s, AIO_MS(5));
    f->item = -1;
    AIO_CHAN_RECV(rc, &f->rx, &f->item);
    f->rc = rc;
    aio_scope_exit(t, &f->s, rc);
    AIO_CHAN_RECV(rc, &f->rx, &f->item);
    f->rc2 = rc;
    AIO_END(0);
}

struct late_send_frame { aio_frame hdr; aio_chan_tx tx; int16_t v; int rc; };
static int late_sender(aio_task *t, void *p)
{
    struct late_send_frame *f = (struct late_send_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(8));
    f->v = 77;
    AIO_CHAN_SEND(rc, &f->tx, &f->v);
    f->rc = rc;
    AIO_END(0);
}

struct cancel_chan_frame {
    aio_frame hdr;
    aio_group g;
    aio_chan ch;
    aio_task a, b;
    struct crecv_frame rf;
    struct late_send_frame sf;
    int16_t seen_at_5;
    int rc;
};

static int cancel_chan_main(aio_task *t, void *p)
{
    struct cancel_chan_frame *f = (struct cancel_chan_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_chan_init(&f->ch, NULL, sizeof(int16_t), 0, &f->sf.tx, &f->rf.rx);
    if (rc)
        AIO_RETURN(rc);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, cancelled_recv, &f->rf);
    aio_spawn(&f->g, &f->b, late_sender, &f->sf);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    AIO_END(0);
}

ETEST(a_cancelled_receive_takes_nothing)
{
    aio_loop L;
    aio_task t;
    struct cancel_chan_frame f;
    eh_zero(&t, sizeof t);
    eh_zero(&f, sizeof f);
    e_loop_init(&L);
    ECHECK_EQ(aio_run(&L, &t, cancel_chan_main, &f), 0);
    ECHECK_EQ(f.rc, 0);
    ECHECK_EQ(f.rf.rc, AIO_ECANCELED);
    ECHECK_EQ(f.rf.rc2, 0);
    ECHECK_EQ(f.rf.item, 77);
    ECHECK_EQ(f.sf.rc, 0);
    ECHECK_EQ(MS(aio_now(&L)), 8);
}

#ifdef FORCE_FAIL
ETEST(planted_failure)
{
    ECHECK_EQ(1 + 1, 3);
}
#endif

int main(void)
{
    ERUN_ONCE(internal_codes_fit_int);
    ERUN(sleep_advances_the_virtual_clock);
    ERUN(sleepers_wake_in_deadline_order_and_the_group_waits_for_all);
    ERUN(await_gives_the_child_result_and_error);
    ERUN(move_on_after_cancels_the_sleep_quietly);
    ERUN(fail_after_turns_the_deadline_into_a_timeout);
    ERUN(a_shield_hides_the_outer_deadline_until_it_is_left);
    ERUN(a_failing_child_cancels_its_siblings_and_the_body);
    ERUN(start_waits_for_started_and_passes_its_value);
    ERUN(an_error_before_started_comes_out_of_start);
    ERUN(a_loop_with_nothing_to_wake_reports_deadlock);
    ERUN_ONCE(an_interrupt_wakes_a_task_through_the_post_path);
    ERUN_ONCE(posting_a_queued_node_is_merged_from_an_interrupt_and_the_loop_runs_on);
    ERUN_ONCE(an_interrupt_sets_flags_and_gives_notifications_without_a_callback);
    ERUN_ONCE(the_masked_idle_check_sees_a_wake_that_lands_before_the_sleep);
    ERUN_ONCE(a_no_os_loop_needs_a_clock);
    ERUN(an_event_wakes_every_waiter);
    ERUN(a_lock_admits_one_task_at_a_time);
    ERUN(a_semaphore_limits_concurrency_to_its_value);
    ERUN(releasing_a_lock_not_held_is_eperm);
    ERUN(a_buffered_channel_delivers_in_order_then_drains_after_close);
    ERUN(a_rendezvous_send_completes_when_a_receiver_takes_it);
    ERUN_ONCE(channel_close_rules);
    ERUN(a_cancelled_receive_takes_nothing);
#ifdef FORCE_FAIL
    ERUN_ONCE(planted_failure);
#endif
    return ereport();
}
