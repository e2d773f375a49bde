/*
 * embedded/fw_size.c - the smallest useful firmware program, for
 * `make size`: a super-loop driving aio with a tick counter as the clock and
 * a wait-for-interrupt idle hook; two tasks, one sleeps and sets an event,
 * the other waits for it.  Built with -Os, without AIO_DEBUG.  With
 * FW_SIZE_RUN the idle hook skips its WFI, so that the program runs to the
 * end under qemu (the stack measurement of `make size`).
 */
#define AIO_NO_OS
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

struct board {
    volatile aio_time ticks; /* advanced by the tick interrupt */
};

static aio_time board_clock(void *ctx) { return ((struct board *)ctx)->ticks; }

static void board_idle(void *ctx, aio_time deadline)
{
    struct board *b = (struct board *)ctx;
#if defined(__arm__) && !defined(FW_SIZE_RUN) /* WFI: in qemu nothing would wake it */
    __asm__ volatile("wfi");
#endif
    b->ticks = deadline; /* stands in for the tick interrupt */
}

struct child { aio_frame hdr; aio_event *ev; };

struct app {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    struct child fa, fb;
    aio_event ev;
};

static int setter(aio_task *t, void *p)
{
    struct child *f = (struct child *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(10));
    if (rc == 0)
        aio_event_set(f->ev);
    AIO_END(rc);
}

static int waiter(aio_task *t, void *p)
{
    struct child *f = (struct child *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_EVENT_WAIT(rc, f->ev);
    AIO_END(rc);
}

static int app_main(aio_task *t, void *p)
{
    struct app *f = (struct app *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->fa.ev = f->fb.ev = &f->ev;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, setter, &f->fa);
    aio_spawn(&f->g, &f->b, waiter, &f->fb);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_task task;
    static struct app app;
    static struct board board;
    aio_config cfg = { 0 };
    cfg.clock = board_clock;
    cfg.clock_ctx = &board;
    cfg.idle = board_idle;
    cfg.idle_ctx = &board;
    aio_loop_init(&loop, &cfg);
    return aio_run(&loop, &task, app_main, &app);
}
