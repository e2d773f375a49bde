/*
 * tests/freestanding/freestanding.c - the firmware configuration: aio.h
 * (and aio_sync.h / aio_chan.h when present) with AIO_NO_OS, compiled with
 * -ffreestanding.  The platform supplies the clock and the idle hook.  The
 * Makefile checks that the object needs no symbol from a C library.
 */
#ifndef AIO_NO_OS
#define AIO_NO_OS
#endif
#define AIO_IMPLEMENTATION
#include "aio.h"
#if defined(__has_include)
#if __has_include("aio_sync.h")
#include "aio_sync.h"
#endif
#if __has_include("aio_chan.h")
#include "aio_chan.h"
#endif
#endif

/* A tick counter an interrupt would advance. */
static volatile aio_time ticks;
static aio_time board_clock(void *ctx) { (void)ctx; return ticks; }
static void board_idle(void *ctx, aio_time deadline) { (void)ctx; ticks = deadline; /* WFI until the timer IRQ */ }

struct blink { aio_frame hdr; int i; int on; };
static int blink(aio_task *t, void *p)
{
    struct blink *f = (struct blink *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 4; f->i++) {
        f->on = !f->on;
        AIO_SLEEP(rc, AIO_MS(500));
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

int firmware_main(void);
int firmware_main(void)
{
    static aio_loop loop;
    static aio_task task;
    static struct blink frame;
    aio_config cfg = { 0 };
    cfg.clock = board_clock;
    cfg.idle = board_idle;
    if (aio_loop_init(&loop, &cfg))
        return 1;
    return aio_run(&loop, &task, blink, &frame);
}
