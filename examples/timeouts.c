/*
 * examples/timeouts.c - fail_after and move_on_after.
 *
 * The Python original (trio; anyio spells it the same, asyncio 3.11+ has
 * `async with asyncio.timeout(d)` for the first form):
 *
 *     with trio.fail_after(0.050):          # raises TooSlowError
 *         value = await fetch(0.100)
 *
 *     with trio.move_on_after(0.050) as scope:
 *         value = await fetch(0.100)
 *     print(scope.cancelled_caught)          # True: gave up quietly
 *
 *     with trio.fail_after(0.030):           # nested: the outer deadline
 *         with trio.move_on_after(0.050):    # is earlier, so the outer
 *             await fetch(0.100)             # scope catches (TooSlowError)
 *
 * The C mapping:
 *   - `with fail_after(d):` is aio_fail_after(t, &scope, d) before the
 *     block and rc = aio_scope_exit(t, &scope, rc) after it, where rc is the
 *     block's result.  When the deadline passes, the await in progress
 *     returns AIO_ECANCELED; the scope catches that on exit and turns it
 *     into AIO_ETIMEDOUT (TooSlowError).
 *   - move_on_after is the same, but the caught cancellation becomes 0, and
 *     aio_scope_cancelled_caught(&scope) says whether the deadline hit.
 *   - Scopes are plain structs in the frame: entering and leaving them is a
 *     function call, not an await, and costs no allocation.
 *   - fetch() returns its value as a positive result; a coroutine's result
 *     is an int that is 0, a negative error, or a value of your choosing.
 *
 * Clock: virtual, so every time printed is exact.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <stdio.h>
#include <string.h>

static long long ms(aio_task *t)
{
    return (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1));
}

/* async def fetch(delay): await sleep(delay); return 42 */
struct fetch {
    aio_frame hdr;
    aio_time delay;
};

static int fetch(aio_task *t, void *frame)
{
    struct fetch *f = (struct fetch *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->delay);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_END(42);
}

struct main_frame {
    aio_frame hdr;
    aio_scope outer, inner;
    struct fetch call;
    aio_time t0;
};

static void report(aio_task *t, const char *what, aio_time t0, int rc)
{
    if (rc > 0)
        printf("%3lld ms  %-44s -> value %d (took %lld ms)\n", ms(t), what, rc,
               (long long)((aio_now(aio_task_loop(t)) - t0) / AIO_MS(1)));
    else
        printf("%3lld ms  %-44s -> %s (took %lld ms)\n", ms(t), what, aio_strerror(rc),
               (long long)((aio_now(aio_task_loop(t)) - t0) / AIO_MS(1)));
}

static int main_coro(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);

    /* 1. fail_after: the deadline becomes an error */
    f->t0 = aio_now(aio_task_loop(t));
    aio_fail_after(t, &f->outer, AIO_MS(50));
    f->call.delay = AIO_MS(100);
    AIO_AWAIT(rc, fetch, &f->call);
    rc = aio_scope_exit(t, &f->outer, rc);
    report(t, "fail_after(50 ms): fetch(100 ms)", f->t0, rc);

    /* 2. move_on_after: the deadline ends the block quietly */
    f->t0 = aio_now(aio_task_loop(t));
    aio_move_on_after(t, &f->outer, AIO_MS(50));
    f->call.delay = AIO_MS(100);
    AIO_AWAIT(rc, fetch, &f->call);
    rc = aio_scope_exit(t, &f->outer, rc);
    report(t, "move_on_after(50 ms): fetch(100 ms)", f->t0, rc);
    printf("         cancelled_caught = %d\n", aio_scope_cancelled_caught(&f->outer));

    /* 3. move_on_after that does not expire: the value comes through */
    f->t0 = aio_now(aio_task_loop(t));
    aio_move_on_after(t, &f->outer, AIO_MS(50));
    f->call.delay = AIO_MS(20);
    AIO_AWAIT(rc, fetch, &f->call);
    rc = aio_scope_exit(t, &f->outer, rc);
    report(t, "move_on_after(50 ms): fetch(20 ms)", f->t0, rc);
    printf("         cancelled_caught = %d\n", aio_scope_cancelled_caught(&f->outer));

    /* 4. nested: the outer (earlier) deadline wins; the inner scope does not
     *    swallow a cancellation that belongs to the outer one */
    f->t0 = aio_now(aio_task_loop(t));
    aio_fail_after(t, &f->outer, AIO_MS(30));
    aio_move_on_after(t, &f->inner, AIO_MS(50));
    printf("%3lld ms  nested: effective deadline is in %lld ms\n", ms(t),
           (long long)((aio_effective_deadline(t) - aio_now(aio_task_loop(t))) / AIO_MS(1)));
    f->call.delay = AIO_MS(100);
    AIO_AWAIT(rc, fetch, &f->call);
    rc = aio_scope_exit(t, &f->inner, rc);
    printf("         inner move_on_after exit -> %s (caught: %d)\n", aio_strerror(rc),
           aio_scope_cancelled_caught(&f->inner));
    rc = aio_scope_exit(t, &f->outer, rc);
    report(t, "fail_after(30) { move_on_after(50) }", f->t0, rc);

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
    return rc == 0 ? 0 : 1;
}
