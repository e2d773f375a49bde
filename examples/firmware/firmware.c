/*
 * examples/firmware/firmware.c - aio hosted by a firmware super-loop on a
 * Cortex-M3 (QEMU mps2-an385), with the SysTick interrupt as the clock and
 * as an interrupt source that hands work to a task.
 *
 * - SysTick fires every millisecond and counts ticks; cfg.clock turns the
 *   count into nanoseconds.
 * - main() runs the loop itself: one turn whenever there is work, then WFI
 *   until the next deadline or until an interrupt posted something.
 * - Every 10th tick (5 times) the SysTick handler calls aio_loop_post; the
 *   callback, on the loop, releases a semaphore a task is waiting on.
 * - Three tasks run concurrently: a 100 ms sleep, the interrupt consumer and
 *   a 30 ms fail_after around a sleep that never ends.
 *
 * At the end the program checks what it saw, prints one line per check and
 * "N passed, M failed", and returns nonzero on a failure; the startup code
 * hands that to the emulator as its exit status (semihosting).  Build with
 * -DFORCE_FAIL to plant a failing check.
 */
#ifndef AIO_NO_OS
#define AIO_NO_OS
#endif
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

void plat_puts(const char *s); /* semihosting console (embedded/arm/startup.c) */
void SysTick_Handler(void);

/* ---- the board: SysTick at 1 kHz ---------------------------------------- */

#define CPU_HZ 25000000u /* mps2-an385 system clock */
#define TICK_HZ 1000u
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_ENABLE 1u
#define SYST_TICKINT 2u
#define SYST_CLKSOURCE 4u /* processor clock */

#define POST_EVERY 10 /* ticks between two interrupt posts */
#define POSTS 5       /* how many the interrupt makes */

/* Shared between the SysTick handler and the loop. */
static volatile uint32_t ticks; /* written by the handler only */
static volatile int posts_made, posts_missed;
static volatile uint32_t post_tick[POSTS];

/* Loop-side state. */
static aio_loop loop;
static aio_post post_node;
static aio_sem isr_sem;
static uint32_t turns, sleeps;

static aio_time board_clock(void *ctx)
{
    (void)ctx;
    return (aio_time)ticks * (AIO_SEC(1) / TICK_HZ);
}

/* Runs on the loop, from its next turn, after the handler's post. */
static void on_isr_post(aio_loop *L, void *arg)
{
    (void)L;
    aio_sem_release((aio_sem *)arg);
}

/* Posting a node that is still queued is harmless: the post is merged into
 * the pending one and aio_loop_post returns AIO_EBUSY, so the handler needs
 * no flag of its own to know whether the loop has drained it. */
void SysTick_Handler(void)
{
    uint32_t now = ++ticks;
    if (now % POST_EVERY == 0 && posts_made < POSTS) {
        if (aio_loop_post(&loop, &post_node, on_isr_post, &isr_sem) != 0) {
            posts_missed++; /* merged: the loop did not drain the last one in time */
            return;
        }
        post_tick[posts_made] = now;
        posts_made++;
    }
}

static void systick_start(void)
{
    SYST_RVR = CPU_HZ / TICK_HZ - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_ENABLE | SYST_TICKINT | SYST_CLKSOURCE;
}

static void systick_stop(void) { SYST_CSR = 0; }

/* Sleeps until `deadline` (loop time) or until the handler posted.  The
 * check (aio_loop_wake_pending) and the WFI run with interrupts masked, so a
 * post that lands between them is not slept through: WFI still wakes on the
 * pending interrupt, which is taken once they are unmasked again. */
static void idle_until(aio_time deadline)
{
    __asm__ volatile("cpsid i" ::: "memory");
    while (!aio_loop_wake_pending(&loop) && board_clock(NULL) < deadline) {
        __asm__ volatile("wfi" ::: "memory");
        sleeps++;
        __asm__ volatile("cpsie i\n\tisb\n\tcpsid i" ::: "memory");
    }
    __asm__ volatile("cpsie i" ::: "memory");
}

/* ---- the application ---------------------------------------------------- */

#define TICK_OF(t) ((uint32_t)((t) / (AIO_SEC(1) / TICK_HZ)))

struct sleeper { aio_frame hdr; uint32_t start, woke; int rc; };

static int sleeper(aio_task *t, void *p)
{
    struct sleeper *f = (struct sleeper *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->start = TICK_OF(aio_now(aio_task_loop(t)));
    AIO_SLEEP(rc, AIO_MS(100));
    f->rc = rc;
    f->woke = TICK_OF(aio_now(aio_task_loop(t)));
    AIO_END(rc);
}

struct consumer { aio_frame hdr; int n, rc; uint32_t woke[POSTS]; };

static int consumer(aio_task *t, void *p)
{
    struct consumer *f = (struct consumer *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->n = 0; f->n < POSTS; f->n++) {
        AIO_SEM_ACQUIRE(rc, &isr_sem); /* one release per interrupt post */
        if (rc < 0)
            break;
        f->woke[f->n] = TICK_OF(aio_now(aio_task_loop(t)));
    }
    f->rc = rc;
    AIO_END(rc);
}

struct timeout { aio_frame hdr; aio_scope sc; uint32_t start, end; int rc; };

static int timeout(aio_task *t, void *p)
{
    struct timeout *f = (struct timeout *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->start = TICK_OF(aio_now(aio_task_loop(t)));
    aio_fail_after(t, &f->sc, AIO_MS(30));
    AIO_SLEEP_FOREVER(rc);
    f->rc = aio_scope_exit(t, &f->sc, rc);
    f->end = TICK_OF(aio_now(aio_task_loop(t)));
    AIO_END(0);
}

struct app {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[3];
    struct sleeper s;
    struct consumer c;
    struct timeout to;
    aio_scope quiet;
    int group_rc, quiet_rc, quiet_caught;
};

static int app_main(aio_task *t, void *p)
{
    struct app *f = (struct app *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->tasks[0], sleeper, &f->s);
    aio_spawn(&f->g, &f->tasks[1], consumer, &f->c);
    aio_spawn(&f->g, &f->tasks[2], timeout, &f->to);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->group_rc = rc;
    /* The handler has stopped posting: nothing more arrives in 50 ms. */
    aio_move_on_after(t, &f->quiet, AIO_MS(50));
    AIO_SEM_ACQUIRE(rc, &isr_sem);
    f->quiet_rc = aio_scope_exit(t, &f->quiet, rc);
    f->quiet_caught = aio_scope_cancelled_caught(&f->quiet);
    AIO_END(0);
}

/* ---- checks and output -------------------------------------------------- */

static int passed, failed;

static void put_long(long v)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0)
        *--p = '-';
    plat_puts(p);
}

static void check(int ok, const char *what, long seen)
{
    plat_puts(ok ? "ok   " : "FAIL ");
    plat_puts(what);
    plat_puts(" (");
    put_long(seen);
    plat_puts(")\n");
    if (ok)
        passed++;
    else
        failed++;
}

int main(void)
{
    static aio_task main_task;
    static struct app app;
    static aio_config cfg; /* zeroed */
    uint32_t end_tick, max_latency = 0;
    int i, rc;

    cfg.clock = board_clock;
    aio_sem_init(&isr_sem, 0);
    if (aio_loop_init(&loop, &cfg) != 0 || aio_loop_wake_enable(&loop) != 0 ||
        aio_spawn(&loop.root, &main_task, app_main, &app) != 0) {
        plat_puts("loop setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    systick_start();

    /* The super-loop.  aio_loop_poll(&loop, 0) is aio_loop_step preceded by
     * the callbacks interrupts posted; it never waits. */
    while (!aio_task_done(&main_task)) {
        aio_loop_poll(&loop, 0);
        turns++;
        if (!aio_task_done(&main_task))
            idle_until(aio_loop_next_deadline(&loop));
    }
    end_tick = ticks;
    systick_stop();

    check(aio_task_rc(&main_task) == 0, "the application finished cleanly", aio_task_rc(&main_task));
    check(app.group_rc == 0, "the task group finished without an error", app.group_rc);

    rc = (int)(app.s.woke - app.s.start);
#ifdef FORCE_FAIL
    check(app.s.rc == 0 && rc == 99, "planted failure: a 100 ms sleep took 99 ticks", rc);
#else
    check(app.s.rc == 0 && rc >= 100 && rc <= 101, "a 100 ms sleep took 100 ticks", rc);
#endif

    check(posts_made == POSTS, "the SysTick handler posted 5 times", posts_made);
    check(posts_missed == 0, "every post was drained before the next one", posts_missed);
    check(app.c.rc == 0 && app.c.n == POSTS, "the consumer woke once per post", app.c.n);
    for (i = 0; i < app.c.n && i < POSTS; i++) {
        uint32_t lat = app.c.woke[i] - post_tick[i];
        if (app.c.woke[i] < post_tick[i])
            lat = 1000;
        if (lat > max_latency)
            max_latency = lat;
    }
    check(app.c.n == POSTS && max_latency <= 1, "each wake came within a tick of its post", (long)max_latency);
    check(app.c.n == POSTS && post_tick[0] == POST_EVERY && post_tick[POSTS - 1] == POST_EVERY * POSTS,
          "the posts came at ticks 10..50", (long)post_tick[POSTS - 1]);

    rc = (int)(app.to.end - app.to.start);
    check(app.to.rc == AIO_ETIMEDOUT, "fail_after(30 ms) ended with AIO_ETIMEDOUT", app.to.rc);
    check(rc >= 30 && rc <= 31, "fail_after(30 ms) fired at 30 ticks", rc);

    check(app.quiet_rc == 0 && app.quiet_caught, "no post arrived after the fifth (move_on_after 50 ms)",
          app.quiet_rc);

    /* The loop turned only when it had work, and slept in WFI otherwise. */
    check(turns < end_tick / 4, "loop turns, far fewer than ticks", (long)turns);
    check(sleeps + turns >= end_tick && sleeps <= end_tick + turns, "WFI sleeps, about one per tick",
          (long)sleeps);
    plat_puts("ticks: ");
    put_long((long)end_tick);
    plat_puts("\n");

    put_long(passed);
    plat_puts(" passed, ");
    put_long(failed);
    plat_puts(" failed\n");
    return failed ? 1 : 0;
}
