/*
 * tests/test_misuse.c - every debug assertion of the headers, triggered the
 * way a program could trigger it.
 *
 * Each entry of sites[] below misuses the public API once, in a forked child:
 *
 *  - with AIO_DEBUG and no cfg.panic hook (the default panic path), the
 *    child must die of SIGABRT after writing exactly one line to stderr:
 *    "aio: <path>/<header>:<line>: <message>", the message of that site;
 *  - with a cfg.panic hook that returns, the hook must receive the same
 *    message (with the header and a line), and the misused call must then
 *    fall back to its documented result (`fallback` below); sites with no
 *    safe way to go on after the assertion are marked NOFALLBACK and only
 *    run in the first form;
 *  - without AIO_DEBUG (make test-release) the assertions compile to
 *    nothing: the sites with a fallback must give it, silently (except
 *    the debug_only ones, whose check exists only in debug builds).
 *
 * tests/check_misuse_coverage.sh (run by make test) extracts every message
 * of AIO__ASSERT and aio__panic from the headers and fails when one is
 * missing from this file, so a new assertion needs a new entry here.  Every
 * site is reachable through the API; one that was not (a purely internal
 * invariant) would have its message in a string array here, with the
 * reason, which the check accepts too.
 * One site depends on the resume-point implementation: with AIO_USE_LABELS
 * an await inside a user switch works, so the "unknown resume point"
 * assertion (the switch implementation's default label) cannot be reached
 * and its entry is skipped.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_chan.h"
#include "../aio_easy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOFALLBACK INT_MIN

static aio_loop L;
static aio_task mt;
/* The hook of the loops built below; NULL = the default panic path. */
static void (*misuse_hook)(const char *msg, const char *file, int line);
/* What the misused call returned (or what the scenario observed instead). */
static int observed;

static void misuse_loop_init(void)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = harness_seed;
    cfg.panic = misuse_hook;
    if (aio_loop_init(&L, &cfg) != 0)
        _exit(90);
    test_reactor_attach(&L);
}

/* Runs `fn` over `frame` as the main task of a fresh loop; returns aio_run's result. */
static int misuse_run(aio_fn fn, void *frame)
{
    int rc;
    memset(&mt, 0, sizeof mt);
    misuse_loop_init();
    rc = aio_run(&L, &mt, fn, frame);
    aio_loop_close(&L);
    return rc;
}

/* ---- helpers: small coroutines the scenarios spawn --------------------- */

struct napper { aio_frame hdr; };
static int napper(aio_task *t, void *p)
{
    struct napper *f = (struct napper *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(1));
    AIO_END(rc);
}

struct starter { aio_frame hdr; };
static int starter(aio_task *t, void *p)
{
    struct starter *f = (struct starter *)p;
    AIO_BEGIN(t, f);
    aio_started(t, NULL);
    AIO_END(0);
}

/* ---- cancel scopes ----------------------------------------------------- */

struct scopes { aio_frame hdr; aio_scope a, b; aio_group g; int rc; };
static struct scopes sf;

static int scope_enter_twice_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->a);
    aio_scope_enter(t, &f->a, AIO_TIME_INF);
    observed = aio_scope_enter(t, &f->a, AIO_TIME_INF); /* misuse */
    aio_scope_exit(t, &f->a, 0);
    AIO_END(0);
}
static int scope_enter_twice(void)
{
    memset(&sf, 0, sizeof sf);
    misuse_run(scope_enter_twice_main, &sf);
    return observed;
}

static int scope_exit_twice_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    aio_scope_exit(t, &f->a, 0);
    observed = aio_scope_exit(t, &f->a, 0); /* misuse */
    AIO_END(0);
}
static int scope_exit_twice(void)
{
    memset(&sf, 0, sizeof sf);
    misuse_run(scope_exit_twice_main, &sf);
    return observed;
}

static int scope_exit_out_of_order_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    aio_move_on_after(t, &f->b, AIO_MS(5));
    observed = aio_scope_exit(t, &f->a, 0); /* misuse: b is inside a */
    aio_scope_exit(t, &f->b, 0);
    aio_scope_exit(t, &f->a, 0);
    AIO_END(0);
}
static int scope_exit_out_of_order(void)
{
    memset(&sf, 0, sizeof sf);
    misuse_run(scope_exit_out_of_order_main, &sf);
    return observed;
}

static int scope_reentered_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    observed = aio_fail_after(t, &f->a, AIO_MS(5)); /* misuse: not exited */
    aio_scope_exit(t, &f->a, 0);
    AIO_END(0);
}
static int scope_reentered(void)
{
    memset(&sf, 0, sizeof sf);
    misuse_run(scope_reentered_main, &sf);
    return observed;
}

/* A child of the group leaves (or waits for) what its parent entered. */
struct intruder { aio_frame hdr; struct scopes *m; };
static struct intruder intruder_f;
static int scope_exit_intruder(aio_task *t, void *p)
{
    struct intruder *f = (struct intruder *)p;
    AIO_BEGIN(t, f);
    observed = aio_scope_exit(t, &f->m->a, 0); /* misuse: the parent's scope */
    AIO_END(0);
}
static int group_wait_intruder(aio_task *t, void *p)
{
    struct intruder *f = (struct intruder *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_GROUP_WAIT(rc, &f->m->g, 0); /* misuse: the parent's group */
    observed = rc;
    AIO_END(0);
}
static aio_task intruder_task;
static int intruder_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    intruder_f.m = f;
    aio_spawn(&f->g, &intruder_task, f->rc ? group_wait_intruder : scope_exit_intruder, &intruder_f);
    AIO_SLEEP(rc, AIO_MS(1)); /* the child runs while the group is open */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = aio_scope_exit(t, &f->a, rc);
    AIO_END(rc);
}
static int intruder(int group)
{
    memset(&sf, 0, sizeof sf);
    memset(&intruder_task, 0, sizeof intruder_task);
    sf.rc = group;
    misuse_run(intruder_main, &sf);
    return observed;
}
static int scope_exit_by_other_task(void) { return intruder(0); }
static int group_wait_by_other_task(void) { return intruder(1); }

static int scope_exit_of_group_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    observed = aio_scope_exit(t, &f->g.scope, 0); /* misuse */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static int scope_exit_of_group(void)
{
    memset(&sf, 0, sizeof sf);
    misuse_run(scope_exit_of_group_main, &sf);
    return observed;
}

static int task_ends_inside_scope_main(aio_task *t, void *p)
{
    struct scopes *f = (struct scopes *)p;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    AIO_RETURN(0); /* misuse: the scope is never exited */
    AIO_END(0);
}
static int task_ends_inside_scope(void)
{
    memset(&sf, 0, sizeof sf);
    memset(&mt, 0, sizeof mt);
    misuse_loop_init();
    aio_run(&L, &mt, task_ends_inside_scope_main, &sf);
    observed = (int)L.nheap; /* release builds exit the scope: no timer left */
    aio_loop_close(&L);
    return observed;
}

/* ---- a loop used before aio_loop_init, a plain return, a mistyped item -- */

static int loop_uninit(void)
{
    static aio_loop raw; /* zeroed, never initialised */
    memset(&mt, 0, sizeof mt);
    static struct napper nf;
    return aio_run(&raw, &mt, napper, &nf);
}

static int plain_return_main(aio_task *t, void *p)
{
    struct napper *f = (struct napper *)p;
    AIO_BEGIN(t, f);
    if (f)
        return 7; /* misuse: a plain return instead of AIO_RETURN(7) */
    AIO_END(0);
}
static int plain_return(void)
{
    static struct napper nf;
    memset(&nf, 0, sizeof nf);
    return misuse_run(plain_return_main, &nf);
}

struct mistyped { aio_frame hdr; aio_queue q; long long items[2]; char c; int rc; };
static int mistyped_put_main(aio_task *t, void *p)
{
    struct mistyped *f = (struct mistyped *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_QUEUE_INIT_ARRAY(&f->q, AIO_QUEUE_FIFO, f->items);
    f->c = 'x';
    AIO_QUEUE_PUT_ITEM(rc, &f->q, &f->c); /* misuse: a char into a queue of long long */
    if (rc == AIO_EINVAL && aio_queue_len(&f->q) == 0)
        rc = -1; /* nothing was put */
    AIO_END(rc);
}
static int mistyped_put(void)
{
    static struct mistyped mf;
    memset(&mf, 0, sizeof mf);
    return misuse_run(mistyped_put_main, &mf);
}

/* ---- timers ------------------------------------------------------------ */

struct timer_reuse { aio_frame hdr; aio_call c; int calls; };
static struct timer_reuse tf;
static void count_call(aio_loop *l, void *arg)
{
    (void)l;
    ++*(int *)arg;
}
static int timer_reused_while_armed_main(aio_task *t, void *p)
{
    struct timer_reuse *f = (struct timer_reuse *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_call_later(aio_task_loop(t), &f->c, AIO_MS(1), count_call, &f->calls);
    memset(&f->c, 0, sizeof f->c); /* misuse: an armed call's memory is reset */
    AIO_SLEEP(rc, AIO_MS(2));
    AIO_END(rc);
}
static int timer_reused_while_armed(void)
{
    memset(&tf, 0, sizeof tf);
    misuse_run(timer_reused_while_armed_main, &tf);
    return tf.calls;
}

/* ---- the park/wake protocol -------------------------------------------- */

struct parked { aio_frame hdr; aio_call c; };
static struct parked pf;
static void wake_twice(aio_loop *l, void *arg)
{
    (void)l;
    aio_reschedule((aio_task *)arg, 0);
    aio_reschedule((aio_task *)arg, 0); /* misuse: already runnable */
}
static int reschedule_twice_main(aio_task *t, void *p)
{
    struct parked *f = (struct parked *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_call_later(aio_task_loop(t), &f->c, AIO_MS(1), wake_twice, t);
    aio_park_noabort(t);
    AIO_WAIT_PARKED(rc);
    AIO_END(rc);
}
static int reschedule_twice(void)
{
    memset(&pf, 0, sizeof pf);
    misuse_run(reschedule_twice_main, &pf);
    return 0;
}

/* A begin function that says it parked the task but did neither park nor
 * reschedule it. */
static int bogus_begin(aio_task *t)
{
    (void)t;
    return AIO_PARKED;
}
static int park_without_parking_main(aio_task *t, void *p)
{
    int rc;
    AIO_BEGIN(t, p);
    AIO_OP(rc, bogus_begin(aio__await_needs_AIO_BEGIN_first));
    AIO_END(rc);
}
static int park_without_parking(void)
{
    struct napper f;
    memset(&f, 0, sizeof f);
    misuse_run(park_without_parking_main, &f);
    return 0;
}

/* ---- resume points ----------------------------------------------------- */

struct sw { aio_frame hdr; int sel; };
#ifndef AIO_USE_LABELS
static struct sw swf;
static int await_in_switch_main(aio_task *t, void *p)
{
    struct sw *f = (struct sw *)p;
    AIO_BEGIN(t, f);
    switch (f->sel) {
    case 1:
        AIO_YIELD(); /* misuse: its resume label belongs to this switch */
        break;
    default:
        break;
    }
    AIO_END(0);
}
#endif
static int await_in_switch(void)
{
#ifndef AIO_USE_LABELS
    memset(&swf, 0, sizeof swf);
    swf.sel = 1;
    return misuse_run(await_in_switch_main, &swf);
#else
    return 0;
#endif
}

/* ---- tasks and groups -------------------------------------------------- */

struct groups { aio_frame hdr; aio_group g, g2; aio_task c; struct napper n; struct starter s; aio_scope a; };
static struct groups gf;

static int spawn_busy_main(aio_task *t, void *p)
{
    struct groups *f = (struct groups *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->c, napper, &f->n);
    observed = aio_spawn(&f->g, &f->c, napper, &f->n); /* misuse: still queued */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static int spawn_busy(void)
{
    memset(&gf, 0, sizeof gf);
    misuse_run(spawn_busy_main, &gf);
    return observed;
}

static int start_busy_main(aio_task *t, void *p)
{
    struct groups *f = (struct groups *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->c, napper, &f->n);
    AIO_START(rc, &f->g, &f->c, starter, &f->s, NULL); /* misuse: still queued */
    observed = rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static int start_busy(void)
{
    memset(&gf, 0, sizeof gf);
    misuse_run(start_busy_main, &gf);
    return observed;
}

static int group_enter_twice_main(aio_task *t, void *p)
{
    struct groups *f = (struct groups *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    observed = aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST); /* misuse */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static int group_enter_twice(void)
{
    memset(&gf, 0, sizeof gf);
    misuse_run(group_enter_twice_main, &gf);
    return observed;
}

static int group_wait_unopened_main(aio_task *t, void *p)
{
    struct groups *f = (struct groups *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_GROUP_WAIT(rc, &f->g, 0); /* misuse: never entered */
    observed = rc;
    AIO_END(0);
}
static int group_wait_unopened(void)
{
    memset(&gf, 0, sizeof gf);
    misuse_run(group_wait_unopened_main, &gf);
    return observed;
}

static int group_wait_inside_scope_main(aio_task *t, void *p)
{
    struct groups *f = (struct groups *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_move_on_after(t, &f->a, AIO_MS(5));
    AIO_GROUP_WAIT(rc, &f->g, 0); /* misuse: the scope is still active */
    observed = rc;
    aio_scope_exit(t, &f->a, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}
static int group_wait_inside_scope(void)
{
    memset(&gf, 0, sizeof gf);
    misuse_run(group_wait_inside_scope_main, &gf);
    return observed;
}

/* ---- the loop ---------------------------------------------------------- */

struct nested { aio_frame hdr; aio_task other; struct napper n; };
static struct nested nf;

static int run_in_task_main(aio_task *t, void *p)
{
    struct nested *f = (struct nested *)p;
    AIO_BEGIN(t, f);
    observed = aio_run(aio_task_loop(t), &f->other, napper, &f->n); /* misuse */
    AIO_END(0);
}
static int run_in_task(void)
{
    memset(&nf, 0, sizeof nf);
    misuse_run(run_in_task_main, &nf);
    return observed;
}

static int step_in_task_main(aio_task *t, void *p)
{
    struct nested *f = (struct nested *)p;
    AIO_BEGIN(t, f);
    observed = (int)aio_loop_step(aio_task_loop(t)); /* misuse */
    AIO_END(0);
}
static int step_in_task(void)
{
    memset(&nf, 0, sizeof nf);
    misuse_run(step_in_task_main, &nf);
    return observed;
}

static int poll_in_task_main(aio_task *t, void *p)
{
    struct nested *f = (struct nested *)p;
    AIO_BEGIN(t, f);
    observed = aio_loop_poll(aio_task_loop(t), 0); /* misuse */
    AIO_END(0);
}
static int poll_in_task(void)
{
    memset(&nf, 0, sizeof nf);
    misuse_run(poll_in_task_main, &nf);
    return observed;
}

/* An fd wait on a loop that has no reactor (aio_reactor_init never called). */
static int wait_without_reactor_main(aio_task *t, void *p)
{
    struct nested *f = (struct nested *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, 0); /* misuse */
    observed = rc;
    AIO_END(0);
}
static int wait_without_reactor(void)
{
    memset(&nf, 0, sizeof nf);
    misuse_loop_init();
    aio_loop_set_backend(&L, NULL, NULL);
    memset(&mt, 0, sizeof mt);
    aio_run(&L, &mt, wait_without_reactor_main, &nf);
    return observed;
}

/* ---- channels and select ----------------------------------------------- */

struct chans {
    aio_frame hdr;
    aio_chan ch;
    aio_chan_tx tx, tx0;
    aio_chan_rx rx, rx0;
    aio_group g;
    aio_task c[2];
    struct chan_user { aio_frame hdr; struct chans *m; int v; } u[2];
    aio_select sel;
    aio_select_case cases[2];
    aio_fn user; /* what the two children run: sender, receiver or selector */
    int v, w;
};
static struct chans cf;

static int sender(aio_task *t, void *p)
{
    struct chan_user *f = (struct chan_user *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_CHAN_SEND(rc, &f->m->tx, &f->v); /* both senders: one end */
    if (rc == AIO_EBUSY)
        observed = rc;
    AIO_END(0);
}
static int receiver(aio_task *t, void *p)
{
    struct chan_user *f = (struct chan_user *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_CHAN_RECV(rc, &f->m->rx, &f->v); /* both receivers: one end */
    if (rc == AIO_EBUSY)
        observed = rc;
    AIO_END(0);
}
static int selector(aio_task *t, void *p)
{
    struct chan_user *f = (struct chan_user *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SELECT(rc, &f->m->sel); /* both selectors: one select */
    if (rc == AIO_EBUSY)
        observed = rc;
    AIO_END(0);
}

/* Two tasks run `fn` over the same end (or select) while the main task
 * sleeps; then the main task completes the operation of the one that
 * blocked. */
static int shared_end_main(aio_task *t, void *p)
{
    struct chans *f = (struct chans *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    for (i = 0; i < 2; i++) {
        f->u[i].m = f;
        f->u[i].v = 7;
        aio_spawn(&f->g, &f->c[i], f->user, &f->u[i]);
    }
    AIO_SLEEP(rc, AIO_MS(1));
    if (f->user == sender)
        AIO_CHAN_RECV(rc, &f->rx, &f->w);
    else
        AIO_CHAN_SEND(rc, &f->tx, &f->v);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}
static int shared_end(aio_fn fn)
{
    memset(&cf, 0, sizeof cf);
    aio_chan_init(&cf.ch, NULL, sizeof(int), 0, &cf.tx, &cf.rx);
    aio_select_init(&cf.sel, cf.cases, 1);
    aio_select_recv(&cf.sel, 0, &cf.rx, &cf.w);
    cf.user = fn;
    misuse_run(shared_end_main, &cf);
    return observed;
}
static int send_end_shared(void) { return shared_end(sender); }
static int recv_end_shared(void) { return shared_end(receiver); }
static int select_shared(void) { return shared_end(selector); }

static int uninit_ends_main(aio_task *t, void *p)
{
    struct chans *f = (struct chans *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->v == 1)
        AIO_CHAN_SEND(rc, &f->tx0, &f->v); /* misuse: never initialised */
    else
        AIO_CHAN_RECV(rc, &f->rx0, &f->w); /* misuse: never initialised */
    observed = rc;
    AIO_END(0);
}
static int send_uninit(void)
{
    memset(&cf, 0, sizeof cf);
    cf.v = 1;
    misuse_run(uninit_ends_main, &cf);
    return observed;
}
static int recv_uninit(void)
{
    memset(&cf, 0, sizeof cf);
    misuse_run(uninit_ends_main, &cf);
    return observed;
}

static int select_one_end_twice_main(aio_task *t, void *p)
{
    struct chans *f = (struct chans *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_select_init(&f->sel, f->cases, 2);
    aio_select_recv(&f->sel, 0, &f->rx, &f->v);
    aio_select_recv(&f->sel, 1, &f->rx, &f->w); /* misuse: the same end */
    AIO_SELECT(rc, &f->sel);
    observed = rc;
    AIO_END(0);
}
static int select_one_end_twice(void)
{
    memset(&cf, 0, sizeof cf);
    aio_chan_init(&cf.ch, NULL, sizeof(int), 0, &cf.tx, &cf.rx);
    misuse_run(select_one_end_twice_main, &cf);
    return observed;
}

/* ---- the table --------------------------------------------------------- */

struct site {
    const char *name;
    int (*fn)(void);  /* performs the misuse; returns what the test observes */
    const char *header;
    const char *msg;
    int fallback;     /* fn's result when the assertion returns (hook) or is compiled out */
    int debug_only;   /* the fallback is part of the debug check: release builds do not check */
};

static const struct site sites[] = {
    { "scope_enter_twice", scope_enter_twice, "aio.h",
      "aio_scope_enter: scope is already active", AIO_EBUSY, 0 },
    { "scope_exit_twice", scope_exit_twice, "aio.h",
      "aio_scope_exit: scope is not active (exited twice, or never entered)", AIO_EINVAL, 0 },
    { "scope_exit_out_of_order", scope_exit_out_of_order, "aio.h",
      "aio_scope_exit: scopes must be exited innermost first", AIO_EINVAL, 0 },
    { "scope_exit_by_other_task", scope_exit_by_other_task, "aio.h",
      "aio_scope_exit: the scope was entered by another task", AIO_EINVAL, 0 },
    { "scope_reentered", scope_reentered, "aio.h",
      "aio_move_on_after/at, aio_fail_after/at, aio_cleanup_enter: "
      "scope is already active (entered again before aio_scope_exit)",
      AIO_EBUSY, 1 },
    { "scope_exit_of_group", scope_exit_of_group, "aio.h",
      "aio_scope_exit: a group's scope is left with AIO_GROUP_WAIT", AIO_EINVAL, 0 },
    { "timer_reused_while_armed", timer_reused_while_armed, "aio.h",
      "timer heap holds a node of unknown kind (corrupted or reused timer)", NOFALLBACK, 0 },
    { "reschedule_twice", reschedule_twice, "aio.h",
      "aio_reschedule: task is not parked or running (double wake?)", NOFALLBACK, 0 },
    { "park_without_parking", park_without_parking, "aio.h",
      "a coroutine suspended without parking or rescheduling its task "
      "(a begin function returned AIO_PARKED without parking)", NOFALLBACK, 0 },
    { "await_in_switch", await_in_switch, "aio.h",
      "coroutine resumed at an unknown resume point: an await inside a user switch statement, "
      "or a frame that was not zero-initialised", AIO_EMISUSE, 0 },
    { "spawn_busy", spawn_busy, "aio.h",
      "aio_spawn: the task is still in use (running, parked, or failed and linked)", AIO_EBUSY, 0 },
    { "task_ends_inside_scope", task_ends_inside_scope, "aio.h",
      "task finished inside a scope or group it did not exit (a group left with live children?)", 0, 0 },
    { "loop_uninit", loop_uninit, "aio.h",
      "loop used before aio_loop_init (or its memory was overwritten)", NOFALLBACK, 0 },
    { "plain_return", plain_return, "aio.h",
      "a coroutine returned without AIO_RETURN or AIO_END (a plain return statement?)", 7, 1 },
    { "mistyped_put", mistyped_put, "aio_easy.h",
      "AIO_QUEUE_PUT_ITEM/AIO_QUEUE_GET_ITEM: the item's size is not the queue's item size", -1, 0 },
    { "group_enter_twice", group_enter_twice, "aio.h",
      "aio_group_enter: group is already open", AIO_EBUSY, 0 },
    { "group_wait_unopened", group_wait_unopened, "aio.h",
      "AIO_GROUP_WAIT: group is not open (waited twice, or never entered)", AIO_EINVAL, 0 },
    { "group_wait_by_other_task", group_wait_by_other_task, "aio.h",
      "AIO_GROUP_WAIT: the group was entered by another task", AIO_EINVAL, 0 },
    { "group_wait_inside_scope", group_wait_inside_scope, "aio.h",
      "AIO_GROUP_WAIT: scopes entered inside the group body were not exited", AIO_EINVAL, 0 },
    { "start_busy", start_busy, "aio.h",
      "AIO_START: the task is still in use", AIO_EBUSY, 0 },
    { "step_in_task", step_in_task, "aio.h",
      "aio_loop_step called from inside a task", NOFALLBACK, 0 },
    { "wait_without_reactor", wait_without_reactor, "aio_reactor.h",
      "AIO_WAIT_READABLE/AIO_WAIT_WRITABLE: the loop has no reactor (call aio_reactor_init after aio_loop_init)",
      AIO_EINVAL, 0 },
    { "poll_in_task", poll_in_task, "aio.h",
      "aio_loop_poll called from inside a task", AIO_EINVAL, 0 },
    { "run_in_task", run_in_task, "aio.h",
      "aio_run called from inside a task", AIO_EINVAL, 0 },
    { "send_uninit", send_uninit, "aio_chan.h",
      "AIO_CHAN_SEND: NULL or uninitialised send end", AIO_EINVAL, 0 },
    { "send_end_shared", send_end_shared, "aio_chan.h",
      "AIO_CHAN_SEND: another task is blocked through this send end (give each task its own clone)", AIO_EBUSY, 0 },
    { "recv_uninit", recv_uninit, "aio_chan.h",
      "AIO_CHAN_RECV: NULL or uninitialised receive end", AIO_EINVAL, 0 },
    { "recv_end_shared", recv_end_shared, "aio_chan.h",
      "AIO_CHAN_RECV: another task is blocked through this receive end (give each task its own clone)",
      AIO_EBUSY, 0 },
    { "select_shared", select_shared, "aio_chan.h",
      "AIO_SELECT: this select is already in progress in another task", AIO_EBUSY, 0 },
    { "select_one_end_twice", select_one_end_twice, "aio_chan.h",
      "AIO_SELECT: two cases use the same channel end", AIO_EBUSY, 0 },
};
#define NSITES (sizeof sites / sizeof sites[0])

/* ---- the child --------------------------------------------------------- */

static void hook_report(const char *msg, const char *file, int line)
{
    const char *base = strrchr(file, '/');
    char buf[512];
    int n = snprintf(buf, sizeof buf, "hook %s:%d: %s\n", base ? base + 1 : file, line, msg);
    if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0)
        _exit(91);
}

struct outcome {
    int status; /* from waitpid */
    char err[4096];
    size_t len;
};

/* Runs site `s` in a child with stderr captured; with_hook installs hook_report.
 * The child exits 0 when the site gave its fallback result, 3 otherwise. */
static int run_child(const struct site *s, int with_hook, struct outcome *o)
{
    int fds[2];
    pid_t pid;
    memset(o, 0, sizeof *o);
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        struct rlimit no_core;
        int devnull = open("/dev/null", O_WRONLY);
        no_core.rlim_cur = no_core.rlim_max = 0;
        setrlimit(RLIMIT_CORE, &no_core); /* an expected abort leaves no core file */
        if (devnull >= 0)
            dup2(devnull, 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        misuse_hook = with_hook ? hook_report : NULL;
        exit(s->fn() == s->fallback ? 0 : 3); /* exit, not _exit: coverage builds write their counts */
    }
    close(fds[1]);
    for (;;) {
        char buf[512];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (o->len + (size_t)n < sizeof o->err) {
            memcpy(o->err + o->len, buf, (size_t)n);
            o->len += (size_t)n;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &o->status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* Nonzero if `text` is exactly one line "<prefix><path ending in header>:<digits>: <msg>\n". */
AIO__UNUSED static int is_report(const char *text, const char *prefix, const char *header, const char *msg)
{
    size_t pl = strlen(prefix), hl = strlen(header), ml = strlen(msg);
    const char *p, *colon;
    if (strncmp(text, prefix, pl) != 0)
        return 0;
    p = text + pl;
    /* The path runs to the colon before the line number. */
    colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) < hl || strncmp(colon - hl, header, hl) != 0)
        return 0;
    if ((size_t)(colon - p) > hl && colon[-(long)hl - 1] != '/')
        return 0;
    p = colon + 1;
    if (*p < '1' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ' || strncmp(p + 2, msg, ml) != 0)
        return 0;
    return strcmp(p + 2 + ml, "\n") == 0;
}

static const struct site *cur;

static int site_skipped(const struct site *s)
{
#ifdef AIO_USE_LABELS
    return s->fn == await_in_switch;
#else
    (void)s;
    return 0;
#endif
}

#ifdef AIO_DEBUG
/* The default panic path: SIGABRT, and the site's message on stderr. */
TEST(misuse_aborts_with_its_message)
{
    struct outcome o;
    const char *emu;
    CHECK_EQ(run_child(cur, 0, &o), 0);
    CHECK(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGABRT);
    /* Under qemu-user the emulator adds its own line about the signal. */
    emu = strstr(o.err, "\nqemu: uncaught target signal 6");
    if (emu)
        o.err[emu - o.err + 1] = '\0';
    CHECK(is_report(o.err, "aio: ", cur->header, cur->msg));
    if (harness_failed_checks)
        printf("  %s: status %d, stderr: %s\n", cur->name, o.status, o.err);
}

/* A cfg.panic hook gets the message, file and line, and the call falls back. */
TEST(misuse_reaches_the_hook_then_falls_back)
{
    struct outcome o;
    const char *nl;
    CHECK_EQ(run_child(cur, 1, &o), 0);
    CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
    /* The first report is this site's; a misuse may fail later checks too. */
    nl = strchr(o.err, '\n');
    if (nl)
        o.err[nl - o.err + 1] = '\0';
    CHECK(is_report(o.err, "hook ", cur->header, cur->msg));
    if (harness_failed_checks)
        printf("  %s: status %d, stderr: %s\n", cur->name, o.status, o.err);
}

#else
/* Release builds: no assertion, no output, and the same fallback. */
TEST(misuse_falls_back_silently)
{
    struct outcome o;
    CHECK_EQ(run_child(cur, 0, &o), 0);
    CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
    CHECK_EQ(o.len, 0);
    if (harness_failed_checks)
        printf("  %s: status %d, stderr: %s\n", cur->name, o.status, o.err);
}
#endif

int main(void)
{
    size_t i;
    char name[128];
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < NSITES; i++) {
        cur = &sites[i];
        if (site_skipped(cur)) {
            printf("skip %s (not reachable with AIO_USE_LABELS)\n", cur->name);
            continue;
        }
#ifdef AIO_DEBUG
        snprintf(name, sizeof name, "%s: aborts", cur->name);
        harness_run(misuse_aborts_with_its_message, name, 1);
        if (cur->fallback != NOFALLBACK) {
            snprintf(name, sizeof name, "%s: hook, then fallback", cur->name);
            harness_run(misuse_reaches_the_hook_then_falls_back, name, 0);
        }
#else
        if (cur->fallback != NOFALLBACK && !cur->debug_only) {
            snprintf(name, sizeof name, "%s: silent fallback", cur->name);
            harness_run(misuse_falls_back_silently, name, 0);
        }
#endif
    }
    return harness_report();
}
