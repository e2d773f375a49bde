/*
 * bench_core.c - cost of the core runtime's operations, side by side with
 * the floor they are built over.
 *
 * Every switch figure is the cost of one task step as the loop performs it
 * (aio_loop_step, monotonic clock read once per turn, exactly what aio_run
 * does between idle waits), divided per resumed task.  The floor is a bare
 * function-pointer resume of a switch/case coroutine in this binary.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include "bench_util.h"

/* ---- scheduled yield among k runnable tasks ---------------------------- */

struct yielder {
    aio_frame hdr;
    long i, n;
};

static int yielder(aio_task *t, void *frame)
{
    struct yielder *f = (struct yielder *)frame;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++)
        AIO_YIELD();
    AIO_END(0);
}

struct yield_ctx {
    int virt; /* virtual clock: no clock read per turn */
    int instr; /* one instrument registered, counting steps in before_step and after_step */
    long ntasks;
    aio_task *tasks;
    struct yielder *frames;
};

/* Time to run every task's steps to the end, scaled to n operations. */
static uint64_t run_steps(aio_loop *L, long n)
{
    uint64_t t0 = bu_now(), dt;
    uint64_t s0 = L->steps;
    while (L->nready)
        aio_loop_step(L);
    dt = bu_now() - t0;
    return (uint64_t)((double)dt * (double)n / (double)(L->steps - s0));
}

/* Loop with the monotonic clock, or the virtual clock (no clock read). */
static void loop_init(aio_loop *L, int virt)
{
    aio_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = virt;
    aio_loop_init(L, &cfg);
}

static long instr_count;
static void count_step(void *ctx, aio_loop *loop, aio_task *t)
{
    (void)ctx;
    (void)loop;
    (void)t;
    instr_count++;
}

static uint64_t run_yield(void *ctx, long n)
{
    struct yield_ctx *c = (struct yield_ctx *)ctx;
    aio_loop L;
    aio_instrument ins;
    long i, per = n / c->ntasks;
    if (per < 1)
        per = 1;
    loop_init(&L, c->virt);
    memset(&ins, 0, sizeof ins);
    if (c->instr) {
        ins.before_step = count_step;
        ins.after_step = count_step;
        aio_instrument_add(&L, &ins);
    }
    for (i = 0; i < c->ntasks; i++) {
        c->frames[i].n = per;
        if (aio_spawn(&L.root, &c->tasks[i], yielder, &c->frames[i]))
            abort();
    }
    return run_steps(&L, n);
}

static bu_stat bench_yield_ex(long ntasks, long n, int virt, int instr)
{
    struct yield_ctx c;
    bu_stat s;
    c.virt = virt;
    c.instr = instr;
    c.ntasks = ntasks;
    c.tasks = (aio_task *)calloc((size_t)ntasks, sizeof *c.tasks);
    c.frames = (struct yielder *)calloc((size_t)ntasks, sizeof *c.frames);
    if (!c.tasks || !c.frames)
        abort();
    s = bu_measure(run_yield, &c, n);
    free(c.tasks);
    free(c.frames);
    return s;
}

static bu_stat bench_yield(long ntasks, long n, int virt)
{
    return bench_yield_ex(ntasks, n, virt, 0);
}

/* ---- resume through 10 nested frames ----------------------------------- */

#define NEST 10

struct nest {
    aio_frame hdr;
    int depth;
    long i, n;
    struct nest *child;
};

/* Awaits its child until the innermost frame, which yields n times. */
static int nest_fn(aio_task *t, void *frame)
{
    struct nest *f = (struct nest *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->child) {
        AIO_AWAIT(rc, nest_fn, f->child);
        AIO_RETURN(rc);
    }
    for (f->i = 0; f->i < f->n; f->i++)
        AIO_YIELD();
    AIO_END(0);
}

static uint64_t run_nested_yield(void *ctx, long n)
{
    struct nest(*fr)[NEST] = (struct nest(*)[NEST])ctx;
    aio_task tasks[2];
    aio_loop L;
    int k, d;
    memset(tasks, 0, sizeof tasks);
    aio_loop_init(&L, NULL);
    for (k = 0; k < 2; k++) {
        for (d = 0; d < NEST; d++) {
            memset(&fr[k][d], 0, sizeof fr[k][d]);
            fr[k][d].depth = NEST - d;
            fr[k][d].child = d + 1 < NEST ? &fr[k][d + 1] : NULL;
            fr[k][d].n = n / 2;
        }
        aio_spawn(&L.root, &tasks[k], nest_fn, &fr[k][0]);
    }
    return run_steps(&L, n);
}

/* One task awaiting a chain of NEST coroutines that finish without suspending. */
struct nest_main {
    aio_frame hdr;
    long i, n;
    struct nest chain[NEST];
};

static int nest_main(aio_task *t, void *frame)
{
    struct nest_main *f = (struct nest_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_AWAIT(rc, nest_fn, &f->chain[0]);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

static uint64_t run_nested_call(void *ctx, long n)
{
    struct nest_main *m = (struct nest_main *)ctx;
    aio_task task;
    aio_loop L;
    uint64_t t0;
    int d;
    memset(&task, 0, sizeof task);
    memset(m, 0, sizeof *m);
    m->n = n;
    for (d = 0; d < NEST; d++) {
        m->chain[d].depth = NEST - d;
        m->chain[d].child = d + 1 < NEST ? &m->chain[d + 1] : NULL;
        m->chain[d].n = 0;
    }
    aio_loop_init(&L, NULL);
    aio_spawn(&L.root, &task, nest_main, m);
    t0 = bu_now();
    while (L.nready)
        aio_loop_step(&L);
    return bu_now() - t0;
}

/* Floor for the nested call: NEST switch/case coroutines calling each other
 * through function pointers, each finishing at once. */
struct fco {
    uint32_t pc;
    int rc;
    struct fco *child;
    int (*fn)(struct fco *);
};

static BU_NOINLINE int fco_step(struct fco *c)
{
    switch (c->pc) {
    case 0:
        if (c->child) {
            c->child->pc = 0;
            return c->child->fn(c->child);
        }
        return 0;
    default:
        break;
    }
    return 1;
}

static uint64_t run_floor_nested(void *ctx, long n)
{
    struct fco chain[NEST];
    uint64_t t0;
    long i;
    int d, acc = 0;
    (void)ctx;
    for (d = 0; d < NEST; d++) {
        chain[d].pc = 0;
        chain[d].rc = 0;
        chain[d].child = d + 1 < NEST ? &chain[d + 1] : NULL;
        chain[d].fn = fco_step;
    }
    t0 = bu_now();
    for (i = 0; i < n; i++) {
        chain[0].pc = 0;
        acc += chain[0].fn(&chain[0]);
    }
    t0 = bu_now() - t0;
    if (acc)
        abort();
    return t0;
}

/* ---- spawn + finish + join --------------------------------------------- */

struct spawner {
    aio_frame hdr;
    int virt;
    aio_group g;
    aio_task child;
    aio_frame cf;
    long i, n;
};

static int child_fn(aio_task *t, void *frame)
{
    AIO_BEGIN(t, frame);
    AIO_END(0);
}

static int spawner(aio_task *t, void *frame)
{
    struct spawner *f = (struct spawner *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (aio_spawn(&f->g, &f->child, child_fn, &f->cf))
            abort();
        AIO_JOIN(rc, &f->child);
        if (rc)
            break;
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static uint64_t run_spawn_join(void *ctx, long n)
{
    struct spawner *f = (struct spawner *)ctx;
    aio_task main_task;
    aio_loop L;
    uint64_t t0;
    int virt = f->virt;
    memset(f, 0, sizeof *f);
    memset(&main_task, 0, sizeof main_task);
    f->n = n;
    f->virt = virt;
    loop_init(&L, virt);
    aio_spawn(&L.root, &main_task, spawner, f);
    t0 = bu_now();
    while (L.nready)
        aio_loop_step(&L);
    t0 = bu_now() - t0;
    if (aio_task_rc(&main_task) != 0)
        abort();
    return t0;
}

/* ---- timers ------------------------------------------------------------ */

static void nop_cb(aio_loop *L, void *arg)
{
    (void)L;
    (void)arg;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

struct timer_ctx {
    long m;       /* other timers armed */
    aio_call *bg; /* their nodes */
    int worst;    /* 0: after every other timer; 1: before all (new root); 2: churn, random deadlines */
    aio_call win[1024]; /* worst == 2: timers re-armed in turn */
    aio_loop L;
};

/* Arms m timers at pseudo-random deadlines in [1 s, 2 s), then re-arms the
 * root once so the heap has the shape it has after timers have fired. */
static void timer_setup(struct timer_ctx *c)
{
    aio_config cfg;
    long i;
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&c->L, &cfg);
    for (i = 0; i < c->m; i++) {
        c->bg[i].tm.armed = 0;
        aio_call_at(&c->L, &c->bg[i], AIO_SEC(1) + (aio_time)(mix((uint64_t)i + 1) % 1000000000u), nop_cb, NULL);
    }
    if (c->L.heap) {
        aio_call *root = (aio_call *)(void *)c->L.heap;
        aio_call_at(&c->L, root, root->tm.deadline, nop_cb, NULL);
    }
}

static uint64_t run_timer(void *ctx, long n)
{
    struct timer_ctx *c = (struct timer_ctx *)ctx;
    aio_call call;
    aio_time when = c->worst ? AIO_MS(500) : AIO_SEC(3);
    uint64_t t0;
    long i;
    memset(&call, 0, sizeof call);
    timer_setup(c);
    if (c->worst == 2) {
        /* Churn: a window of 1,024 timers at random deadlines among the
         * others; each operation cancels the one armed 1,024 operations
         * ago and arms it again at a new random deadline. */
        for (i = 0; i < 1024; i++) {
            c->win[i].tm.armed = 0;
            aio_call_at(&c->L, &c->win[i], AIO_SEC(1) + (aio_time)(mix((uint64_t)i + 3) % 1000000000u), nop_cb, NULL);
        }
        t0 = bu_now();
        for (i = 0; i < n; i++) {
            aio_call *w = &c->win[i & 1023];
            aio_call_cancel(&c->L, w);
            aio_call_at(&c->L, w, AIO_SEC(1) + (aio_time)(mix((uint64_t)i + 7) % 1000000000u), nop_cb, NULL);
        }
        t0 = bu_now() - t0;
        if (c->L.nheap != (uint32_t)c->m + 1024)
            abort();
        return t0;
    }
    t0 = bu_now();
    for (i = 0; i < n; i++) {
        aio_call_at(&c->L, &call, when + (i & 7), nop_cb, NULL);
        aio_call_cancel(&c->L, &call);
    }
    t0 = bu_now() - t0;
    if (c->L.nheap != (uint32_t)c->m)
        abort();
    return t0;
}

/* A cancel scope with a deadline entered and exited inside a task (the
 * timeout every `move_on_after` block arms and cancels). */
struct scoper {
    aio_frame hdr;
    aio_scope sc;
    long i, n;
};

static int scoper(aio_task *t, void *frame)
{
    struct scoper *f = (struct scoper *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        aio_scope_init(&f->sc);
        aio_move_on_after(t, &f->sc, AIO_MS(100));
        rc = aio_scope_exit(t, &f->sc, 0);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

static uint64_t run_scope(void *ctx, long n)
{
    struct timer_ctx *c = (struct timer_ctx *)ctx;
    struct scoper f;
    aio_task task;
    uint64_t t0;
    memset(&f, 0, sizeof f);
    memset(&task, 0, sizeof task);
    f.n = n;
    timer_setup(c);
    aio_spawn(&c->L.root, &task, scoper, &f);
    t0 = bu_now();
    while (c->L.nready)
        aio_loop_step(&c->L);
    t0 = bu_now() - t0;
    if (aio_task_rc(&task) != 0)
        abort();
    return t0;
}

/* ---- cancelling the outermost of n nested scopes, and unwinding ------- */

struct nester {
    aio_frame hdr;
    aio_scope *s;
    long i, n;
};

static int nester(aio_task *t, void *frame)
{
    struct nester *f = (struct nester *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++)
        aio_move_on_after(t, &f->s[f->i], AIO_SEC(1000));
    aio_scope_cancel(&f->s[0], "unwind");
    AIO_SLEEP_FOREVER(rc);
    for (f->i = f->n - 1; f->i >= 0; f->i--)
        rc = aio_scope_exit(t, &f->s[f->i], rc);
    AIO_END(rc);
}

/* n = the nesting depth; the whole run (enter n, cancel, unwind n). */
static uint64_t run_unwind(void *ctx, long n)
{
    struct nester f;
    aio_task task;
    aio_loop L;
    aio_config cfg;
    uint64_t t0;
    (void)ctx;
    memset(&f, 0, sizeof f);
    memset(&task, 0, sizeof task);
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&L, &cfg);
    f.n = n;
    f.s = (aio_scope *)calloc((size_t)n, sizeof *f.s);
    if (!f.s)
        abort();
    aio_spawn(&L.root, &task, nester, &f);
    t0 = bu_now();
    while (L.nready)
        aio_loop_step(&L);
    t0 = bu_now() - t0;
    if (aio_task_rc(&task) != 0)
        abort();
    free(f.s);
    return t0;
}

/* ---- the clock read every loop turn pays ---------------------------- */

static uint64_t run_clock(void *ctx, long n)
{
    aio_loop *L = (aio_loop *)ctx;
    uint64_t t0 = bu_now();
    long i;
    for (i = 0; i < n; i++)
        aio_loop_update_time(L);
    return bu_now() - t0;
}

/* ---- sizes ------------------------------------------------------------- */

static void print_sizes(void)
{
    printf("\n| struct | bytes |\n|---|---:|\n");
#define SZ(T) printf("| %s | %u |\n", #T, (unsigned)sizeof(T))
    SZ(aio_loop);
    SZ(aio_task);
    SZ(aio_frame);
    SZ(aio_scope);
    SZ(aio_group);
    SZ(aio_timer);
    SZ(aio_call);
    SZ(aio_lot);
    SZ(aio_waiter);
    SZ(aio_hold);
    SZ(aio_config);
#undef SZ
}

int main(int argc, char **argv)
{
    static struct nest nested[2][NEST];
    static struct nest_main nm;
    static struct spawner sp;
    bu_stat floor, floor_nest, s;
    char name[128];
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long big = quick ? 100000 : 1000000;
    long heaps[4];
    int h, w;

    heaps[0] = 0;
    heaps[1] = 10000;
    heaps[2] = 100000;
    heaps[3] = big;

    printf("## aio core\n\n");
    bu_print_machine();
    bu_table_head();
    floor = bu_floor_resume();
    bu_row("floor: bare function-pointer resume of a switch/case coroutine", floor, 0);
    floor_nest = bu_measure(run_floor_nested, NULL, 2000000);
    bu_row("floor: 10 nested switch/case coroutines called through function pointers", floor_nest, 0);

    {
        aio_loop L;
        aio_loop_init(&L, NULL);
        bu_row("clock read (aio_loop_update_time, monotonic; paid once per loop turn)",
               bu_measure(run_clock, &L, 5000000), 0);
    }
    bu_row("scheduled yield, 2 tasks", bench_yield(2, 10000000, 0), floor.med);
    bu_row("scheduled yield, 2 tasks, virtual clock (no clock read per turn)", bench_yield(2, 10000000, 1), floor.med);
    bu_row("scheduled yield, 2 tasks, one instrument counting before and after every step",
           bench_yield_ex(2, 10000000, 0, 1), floor.med);
    bu_row("scheduled yield, 1000 runnable tasks", bench_yield(1000, 10000000, 0), floor.med);
    snprintf(name, sizeof name, "scheduled yield, %ld runnable tasks", big);
    bu_row(name, bench_yield(big, 4 * big, 0), floor.med);
    bu_row("scheduled yield at depth 10 (2 tasks, 10 nested frames each)", bu_measure(run_nested_yield, nested, 10000000),
           floor.med);
    bu_row("await of 10 nested frames that finish without suspending", bu_measure(run_nested_call, &nm, 2000000),
           floor_nest.med);
    bu_row("spawn + finish + join (one child)", bu_measure(run_spawn_join, &sp, 2000000), floor.med);
    sp.virt = 1;
    bu_row("spawn + finish + join, virtual clock (no clock read per turn)", bu_measure(run_spawn_join, &sp, 2000000),
           floor.med);

    for (h = 0; h < 4; h++) {
        struct timer_ctx c;
        memset(&c, 0, sizeof c);
        c.m = heaps[h];
        c.bg = (aio_call *)calloc((size_t)(c.m ? c.m : 1), sizeof *c.bg);
        if (!c.bg)
            abort();
        for (w = 0; w < 3; w++) {
            c.worst = w;
            s = bu_measure(run_timer, &c, 2000000);
            snprintf(name, sizeof name, "timer arm+cancel, %ld other timers armed, %s", c.m,
                     w == 2 ? "churn: a window of 1,024 re-armed at random deadlines"
                            : w ? "earliest deadline (becomes the heap root)" : "latest deadline (leaf)");
            bu_row(name, s, 0);
        }
        if (h == 0 || h == 2) {
            s = bu_measure(run_scope, &c, 2000000);
            snprintf(name, sizeof name, "move_on_after scope enter+exit, %ld other timers armed", c.m);
            bu_row(name, s, 0);
        }
        free(c.bg);
    }
    {
        bu_stat a = bu_measure(run_unwind, NULL, 5000), b = bu_measure(run_unwind, NULL, 50000);
        bu_row("cancel the outermost of 5,000 nested scopes and unwind (per scope)", a, 0);
        bu_row("cancel the outermost of 50,000 nested scopes and unwind (per scope)", b, 0);
        printf("\nnested-scope unwind: 50,000 costs %.1fx what 5,000 costs (linear: 10x; target <= 12x)\n",
               b.med * 50000.0 / (a.med * 5000.0));
    }
    print_sizes();
    return 0;
}
