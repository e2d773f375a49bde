/*
 * examples/failing_worker.c - a failing child cancels its siblings; every
 * failure is reported with the place it came from.
 *
 * The Python original (asyncio.TaskGroup; a trio nursery behaves the same):
 *
 *     async def fetch(delay):
 *         await asyncio.sleep(delay)
 *         raise ConnectionRefusedError
 *     async def parse(delay): ...  raise OSError(errno.EBADMSG)
 *
 *     async def slow_job():
 *         try:
 *             await asyncio.sleep(1)
 *         finally:
 *             await save_progress()          # still runs when cancelled
 *
 *     try:
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(fetch(0.010))   # ConnectionRefusedError
 *             tg.create_task(parse(0.010))   # OSError(EBADMSG)
 *             tg.create_task(slow_job())
 *     except* OSError as eg:
 *         for e in eg.exceptions: traceback.print_exception(e)
 *
 * The C mapping:
 *   - Raising is returning a negative code: AIO_RETURN(-ECONNREFUSED).  The
 *     task records the code and the file:line of that AIO_RETURN.
 *   - In AIO_GROUP_FAIL_FAST mode (TaskGroup, nursery) the first failure
 *     cancels the group: the siblings' awaits return AIO_ECANCELED, and so
 *     does an await in the group body.  Cleanup code still runs, shielded
 *     by aio_cleanup_enter.
 *   - AIO_GROUP_WAIT returns the first error.  The ExceptionGroup is the
 *     list of failed children: aio_group_failed_first / aio_group_failed_next,
 *     with aio_task_rc for the code and aio_task_error_site for file:line.
 *     A child that was cancelled (result AIO_ECANCELED) is not in the list.
 *   - Here both children fail in the same loop turn (their timers expire
 *     together), so two failures are reported, as in an ExceptionGroup
 *     with two exceptions.
 *
 * Clock: virtual, so every time printed is exact.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static long long ms(aio_task *t)
{
    return (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1));
}

struct fetch {
    aio_frame hdr;
    const char *name;
    aio_time delay;
    int error;
};

static int fetch(aio_task *t, void *frame)
{
    struct fetch *f = (struct fetch *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->delay);
    if (rc < 0)
        AIO_RETURN(rc);
    printf("%3lld ms  %s: fails with \"%s\"\n", ms(t), f->name, aio_strerror(f->error));
    AIO_RETURN(f->error);
    AIO_END(0);
}

/* A second kind of failure, from another place in the program. */
struct parse {
    aio_frame hdr;
    aio_time delay;
};

static int parse(aio_task *t, void *frame)
{
    struct parse *f = (struct parse *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->delay);
    if (rc < 0)
        AIO_RETURN(rc);
    printf("%3lld ms  parse: fails with \"%s\"\n", ms(t), aio_strerror(-EBADMSG));
    AIO_RETURN(-EBADMSG);
    AIO_END(0);
}

struct slow_job {
    aio_frame hdr;
    aio_scope cleanup;
    int rc;
};

static int slow_job(aio_task *t, void *frame)
{
    struct slow_job *f = (struct slow_job *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_SEC(1));
    f->rc = rc;
    printf("%3lld ms  slow_job: sleep returned \"%s\"; saving progress (5 ms)\n", ms(t), aio_strerror(rc));
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(50));
    AIO_SLEEP(rc, AIO_MS(5));
    rc = aio_scope_exit(t, &f->cleanup, rc);
    printf("%3lld ms  slow_job: progress saved: %s\n", ms(t), aio_strerror(rc));
    AIO_END(f->rc);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[3];
    struct fetch a;
    struct parse b;
    struct slow_job slow;
};

static int main_coro(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    aio_task *x;
    int rc;
    AIO_BEGIN(t, f);
    f->a.name = "fetch a";
    f->a.delay = AIO_MS(10);
    f->a.error = -ECONNREFUSED;
    f->b.delay = AIO_MS(10);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->tasks[0], fetch, &f->a);
    aio_spawn(&f->g, &f->tasks[1], parse, &f->b);
    aio_spawn(&f->g, &f->tasks[2], slow_job, &f->slow);
    AIO_SLEEP(rc, AIO_SEC(2));      /* the body waits too; it is cancelled as well */
    printf("%3lld ms  main: body's sleep returned \"%s\"\n", ms(t), aio_strerror(rc));
    AIO_GROUP_WAIT(rc, &f->g, rc);
    printf("%3lld ms  main: group returned \"%s\"; failed children:\n", ms(t), aio_strerror(rc));
    for (x = aio_group_failed_first(&f->g); x; x = aio_group_failed_next(x)) {
        unsigned line;
        const char *file = aio_task_error_site(x, &line);
        printf("           task %d: %-20s at %s:%u\n", (int)(x - f->tasks), aio_strerror(aio_task_rc(x)), file,
               line);
    }
    printf("           slow_job's result: \"%s\" (cancelled, not failed)\n", aio_strerror(aio_task_rc(&f->tasks[2])));
    AIO_RETURN(rc);
    AIO_END(0);
}

int main(void)
{
    aio_loop loop;
    aio_config cfg;
    aio_task main_task;
    struct main_frame frame;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    memset(&main_task, 0, sizeof main_task);
    memset(&frame, 0, sizeof frame);
    aio_loop_init(&loop, &cfg);
    rc = aio_run(&loop, &main_task, main_coro, &frame);
    printf("aio_run returned \"%s\": the program handled it\n", aio_strerror(rc));
    return rc == -ECONNREFUSED ? 0 : 1;
}
