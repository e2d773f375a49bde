/*
 * blink_app.c - the coroutines of the ArduinoBlink sketch, in C (the sketch
 * itself is C++): one task blinks the LED every 500 ms, another switches it
 * to a fast blink for two seconds whenever the button interrupt sets a flag.
 * This file compiles the library (AIO_IMPLEMENTATION) in its lean profile.
 */
#define AIO_NO_OS
#define AIO_LEAN
#define AIO_STATIC
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"
#include "blink_app.h"

#define BUTTON 0x1u

static aio_loop loop;
static aio_flags button;
static aio_task main_task;
static unsigned period_ms = 500;

static aio_time clock_ms(void *ctx)
{
    (void)ctx;
    return (aio_time)board_millis() * AIO_MS(1);
}

struct blinker { aio_frame hdr; int on; };

static int blink(aio_task *t, void *p)
{
    struct blinker *f = (struct blinker *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        f->on = !f->on;
        board_led(f->on);
        AIO_SLEEP(rc, AIO_MS(period_ms));
        if (rc)
            break;
    }
    AIO_END(rc);
}

struct presses { aio_frame hdr; };

static int on_presses(aio_task *t, void *p)
{
    struct presses *f = (struct presses *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_FLAGS_WAIT_ANY(rc, &button, BUTTON);
        if (rc < 0)
            break;
        period_ms = 100;
        AIO_SLEEP(rc, AIO_SEC(2));
        period_ms = 500;
        if (rc)
            break;
    }
    AIO_END(rc);
}

struct app { aio_frame hdr; aio_group g; aio_task a, b; struct blinker bl; struct presses pr; };
static struct app app;

static int app_main(aio_task *t, void *p)
{
    struct app *f = (struct app *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, blink, &f->bl);
    aio_spawn(&f->g, &f->b, on_presses, &f->pr);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

int blink_setup(void)
{
    aio_config cfg = { 0 };
    int rc;
    cfg.clock = clock_ms;
    rc = aio_loop_init(&loop, &cfg);
    if (rc == 0)
        rc = aio_flags_init(&button, &loop);
    if (rc == 0)
        rc = aio_spawn(&loop.root, &main_task, app_main, &app);
    return rc;
}

void blink_poll(void)
{
    aio_loop_poll(&loop, 0);
}

void blink_button(void)
{
    aio_flags_set(&button, BUTTON);
}
