/*
 * examples/quickstart.c - the README's quick start, verbatim: three sleepers
 * in a task group under a 250 ms fail_after (real clock, about 0.25 s).
 */
#define AIO_IMPLEMENTATION      /* in exactly one .c file */
#include "aio.h"
#include <stdio.h>

struct sleeper { aio_frame hdr; int id; };          /* aio_frame comes first */

static int sleeper(aio_task *t, void *frame)
{
    struct sleeper *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(100 * f->id));              /* suspends; rc = 0 or an error */
    if (rc < 0)
        AIO_RETURN(rc);                              /* cancelled: propagate */
    printf("sleeper %d woke\n", f->id);
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;                                     /* every object lives in a frame you own */
    aio_task tasks[3];
    struct sleeper frames[3];
    aio_scope timeout;
    int i;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_MS(250));     /* like trio.fail_after(0.25) */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);  /* like trio.open_nursery() */
    for (f->i = 0; f->i < 3; f->i++) {
        f->frames[f->i].id = f->i + 1;
        aio_spawn(&f->g, &f->tasks[f->i], sleeper, &f->frames[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);                    /* waits for all three */
    rc = aio_scope_exit(t, &f->timeout, rc);         /* the deadline became AIO_ETIMEDOUT */
    printf("group: %s\n", aio_strerror(rc));         /* sleeper 3 was cancelled at 250 ms */
    AIO_END(0);
}

int main(void)
{
    static aio_loop loop;
    static aio_task task;
    static struct main_frame frame;
    aio_loop_init(&loop, NULL);                      /* NULL: CLOCK_MONOTONIC */
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
