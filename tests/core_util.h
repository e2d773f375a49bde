/*
 * tests/core_util.h - small coroutines shared by the core tests.
 */
#ifndef AIO_TEST_CORE_UTIL_H
#define AIO_TEST_CORE_UTIL_H

#include "harness.h"

/* Sleeps `dur` (or forever when dur < 0), records the result and the wake time. */
struct sleeper {
    aio_frame hdr;
    aio_time dur;
    int rc;
    aio_time woke_at;
    int started, finished;
    int sleep_line; /* the line of the AIO_SLEEP below, for dump checks */
};
AIO__UNUSED static int sleeper(aio_task *t, void *p)
{
    struct sleeper *f = (struct sleeper *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->started = 1;
    if (f->dur < 0)
        AIO_SLEEP_FOREVER(rc);
    else {
        f->sleep_line = __LINE__; AIO_SLEEP(rc, f->dur);
    }
    f->rc = rc;
    f->woke_at = aio_now(aio_task_loop(t));
    f->finished = 1;
    AIO_END(rc);
}

/* Sleeps `dur`, then returns `err`. */
struct failer {
    aio_frame hdr;
    aio_time dur;
    int err;
    int slept_rc;
};
AIO__UNUSED static int failer(aio_task *t, void *p)
{
    struct failer *f = (struct failer *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->dur);
    f->slept_rc = rc;
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_RETURN(f->err);
    AIO_END(0);
}

/* Runs `n` checkpoints, recording each result, appending its id to a trace. */
struct stepper {
    aio_frame hdr;
    int id, n, i;
    int results[16];
    char *trace;
    int *trace_len;
};
AIO__UNUSED static int stepper(aio_task *t, void *p)
{
    struct stepper *f = (struct stepper *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (f->trace)
            f->trace[(*f->trace_len)++] = (char)('a' + f->id);
        AIO_CHECKPOINT(rc);
        f->results[f->i < 16 ? f->i : 15] = rc;
    }
    AIO_END(0);
}

/* Records panics instead of aborting, so misuse tests can observe them. */
static int panic_count;
static const char *panic_msg;
AIO__UNUSED static void record_panic(const char *msg, const char *file, int line)
{
    (void)file;
    (void)line;
    panic_count++;
    panic_msg = msg;
}

AIO__UNUSED static void test_loop_init_panics(aio_loop *L)
{
    test_loop_init(L);
    L->cfg.panic = record_panic;
    panic_count = 0;
    panic_msg = NULL;
}

#endif
