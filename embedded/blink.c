/*
 * embedded/blink.c - the footprint benchmark of `make size`: three
 * coroutines in a task group (two LEDs blinking at their own rates, one
 * waiting for a button interrupt under a timeout scope), an interrupt-driven
 * event (aio_flags, set from the ISR), a tick clock and a race-free idle
 * hook.  Built -Os for Cortex-M3 and ATmega328P; never run (the "board" is
 * a few volatile words), only measured.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#define BUTTON 0x1u

static volatile uint32_t ticks; /* advanced by the tick interrupt */
static volatile uint8_t leds;   /* stands in for a GPIO port */
static aio_loop loop;
static aio_flags button;

static aio_time board_clock(void *ctx)
{
    uint32_t t;
    (void)ctx;
#if defined(__AVR__)
    __asm__ volatile("cli" ::: "memory");
    t = ticks;
    __asm__ volatile("sei" ::: "memory");
#else
    t = ticks;
#endif
    return (aio_time)t * AIO_MS(1);
}

static void board_idle(void *ctx, aio_time deadline)
{
    (void)ctx;
    (void)deadline;
#if defined(__AVR__)
    __asm__ volatile("cli" ::: "memory");
    if (!aio_loop_wake_pending(&loop))
        __asm__ volatile("sei\n\tsleep" ::: "memory");
    __asm__ volatile("sei" ::: "memory");
#elif defined(__arm__)
    __asm__ volatile("cpsid i" ::: "memory");
    if (!aio_loop_wake_pending(&loop))
        __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("cpsie i" ::: "memory");
#endif
}

/* The button interrupt. */
void button_isr(void);
void button_isr(void) { aio_flags_set(&button, BUTTON); }

struct blinker { aio_frame hdr; uint8_t bit; uint16_t ms; };

static int blink(aio_task *t, void *p)
{
    struct blinker *f = (struct blinker *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_SLEEP(rc, AIO_MS(f->ms));
        if (rc)
            break;
        leds ^= f->bit;
    }
    AIO_END(rc);
}

struct presser { aio_frame hdr; aio_scope sc; aio_group *g; int presses; };

static int presses(aio_task *t, void *p)
{
    struct presser *f = (struct presser *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->sc, AIO_SEC(10));
    for (;;) {
        AIO_FLAGS_WAIT_ANY(rc, &button, BUTTON);
        if (rc < 0)
            break;
        f->presses++;
    }
    rc = aio_scope_exit(t, &f->sc, rc);
    aio_group_cancel(f->g, NULL); /* ten seconds are over: stop blinking */
    AIO_END(rc);
}

struct app {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[3];
    struct blinker a, b;
    struct presser c;
};

static int app_main(aio_task *t, void *p)
{
    struct app *f = (struct app *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->a.bit = 1;
    f->a.ms = 250;
    f->b.bit = 2;
    f->b.ms = 400;
    f->c.g = &f->g;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->tasks[0], blink, &f->a);
    aio_spawn(&f->g, &f->tasks[1], blink, &f->b);
    aio_spawn(&f->g, &f->tasks[2], presses, &f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

int main(void)
{
    static aio_task main_task;
    static struct app app;
    aio_config cfg = { 0 };
    cfg.clock = board_clock;
    cfg.idle = board_idle;
    aio_loop_init(&loop, &cfg);
    aio_flags_init(&button, &loop);
    return aio_run(&loop, &main_task, app_main, &app);
}
