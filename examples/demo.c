/*
 * examples/demo.c - a short tour of aio: a task group, the start handshake,
 * timeouts, a failing child, and cleanup that completes under cancellation.
 *
 * What it does, in Python (trio) terms:
 *
 *     async with trio.open_nursery() as outer:
 *         port = await outer.start(server, 8080)        # wait until ready
 *         with trio.fail_after(0.050):                  # TooSlowError
 *             await backend(0.200)
 *         with trio.move_on_after(0.050):               # fast enough
 *             value = await backend(0.020)
 *         try:
 *             async with trio.open_nursery() as jobs:   # one job fails:
 *                 jobs.start_soon(job, "fast", ...)     # the slow one is
 *                 jobs.start_soon(job, "flaky", ...)    # cancelled and its
 *                 jobs.start_soon(job, "slow", ...)     # cleanup still runs
 *         except* ConnectionResetError: ...
 *         outer.cancel_scope.cancel()                   # stop the server
 *
 * Every task, frame, scope and group below is a field of one caller-owned
 * struct; nothing is allocated.  The loop runs on the virtual clock (trio's
 * autojump MockClock): when every task waits, time jumps to the next
 * deadline, so the times printed are exact and the tour runs in well under
 * a millisecond of real time.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(aio_task *t, const char *who, const char *fmt, ...)
{
    va_list ap;
    printf("[%3lld ms] %-7s ", (long long)(aio_now(aio_task_loop(t)) / AIO_MS(1)), who);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* ---- the server: binds, signals readiness with its port, serves ------- */

struct server {
    aio_frame hdr;
    int port;
    int rc;
    aio_scope cleanup;
};

static int server(aio_task *t, void *frame)
{
    struct server *f = (struct server *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(5));                    /* bind */
    if (rc < 0)
        AIO_RETURN(rc);
    say(t, "server", "listening on port %d", f->port);
    aio_started(t, &f->port);                    /* task_status.started(port) */
    AIO_SLEEP_FOREVER(rc);                       /* serve until cancelled */
    f->rc = rc;
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(100));
    say(t, "server", "%s: closing the listener (shielded, 2 ms)", aio_strerror(rc));
    AIO_SLEEP(rc, AIO_MS(2));
    aio_scope_exit(t, &f->cleanup, rc);
    say(t, "server", "closed");
    AIO_END(f->rc);
}

/* ---- a backend call: a sub-coroutine awaited by main ------------------ */

struct backend {
    aio_frame hdr;
    aio_time latency;
};

static int backend(aio_task *t, void *frame)
{
    struct backend *f = (struct backend *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->latency);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_END(42);
}

/* ---- jobs: one succeeds, one fails, one is cancelled and cleans up ---- */

struct job {
    aio_frame hdr;
    const char *name;
    aio_time duration;
    int error;                                   /* returned when done; 0 = success */
    int rc;
    aio_scope cleanup;
};

static int job(aio_task *t, void *frame)
{
    struct job *f = (struct job *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->duration);
    if (rc == 0 && f->error) {
        say(t, f->name, "fails: %s", aio_strerror(f->error));
        AIO_RETURN(f->error);
    }
    if (rc == 0) {
        say(t, f->name, "done");
        AIO_RETURN(0);
    }
    f->rc = rc;
    say(t, f->name, "%s mid-job; saving a checkpoint (shielded, 5 ms)", aio_strerror(rc));
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(100));
    AIO_SLEEP(rc, AIO_MS(5));
    aio_scope_exit(t, &f->cleanup, rc);
    say(t, f->name, "checkpoint saved");
    AIO_END(f->rc);
}

/* ---- main -------------------------------------------------------------- */

struct demo {
    aio_frame hdr;
    aio_group outer, jobs;
    aio_scope timeout;
    aio_task server_task, job_tasks[3];
    struct server srv;
    struct backend call;
    struct job job[3];
    void *port;
};

static int demo_main(aio_task *t, void *frame)
{
    struct demo *f = (struct demo *)frame;
    aio_task *x;
    int rc;
    AIO_BEGIN(t, f);

    say(t, "main", "open a task group; start the server, wait until it is ready");
    aio_group_enter(t, &f->outer, AIO_GROUP_FAIL_FAST);
    f->srv.port = 8080;
    AIO_START(rc, &f->outer, &f->server_task, server, &f->srv, &f->port);
    if (rc < 0)
        AIO_RETURN(rc);                          /* (not reached: the server starts) */
    say(t, "main", "start returned: the server is up on port %d", *(int *)f->port);

    say(t, "main", "fail_after(50 ms) around a backend call that takes 200 ms");
    aio_fail_after(t, &f->timeout, AIO_MS(50));
    f->call.latency = AIO_MS(200);
    AIO_AWAIT(rc, backend, &f->call);
    rc = aio_scope_exit(t, &f->timeout, rc);
    say(t, "main", "-> %s%s", aio_strerror(rc), rc == AIO_ETIMEDOUT ? " (AIO_ETIMEDOUT)" : "");

    say(t, "main", "move_on_after(50 ms) around a backend call that takes 20 ms");
    aio_move_on_after(t, &f->timeout, AIO_MS(50));
    f->call.latency = AIO_MS(20);
    AIO_AWAIT(rc, backend, &f->call);
    rc = aio_scope_exit(t, &f->timeout, rc);
    say(t, "main", "-> value %d, deadline hit: %s", rc, aio_scope_cancelled_caught(&f->timeout) ? "yes" : "no");

    say(t, "main", "nested group: jobs of 10, 20 (fails) and 100 ms");
    f->job[0].name = "fast";
    f->job[0].duration = AIO_MS(10);
    f->job[1].name = "flaky";
    f->job[1].duration = AIO_MS(20);
    f->job[1].error = -ECONNRESET;
    f->job[2].name = "slow";
    f->job[2].duration = AIO_MS(100);
    aio_group_enter(t, &f->jobs, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->jobs, &f->job_tasks[0], job, &f->job[0]);
    aio_spawn(&f->jobs, &f->job_tasks[1], job, &f->job[1]);
    aio_spawn(&f->jobs, &f->job_tasks[2], job, &f->job[2]);
    AIO_GROUP_WAIT(rc, &f->jobs, 0);
    say(t, "main", "nested group returned \"%s\"", aio_strerror(rc));
    for (x = aio_group_failed_first(&f->jobs); x; x = aio_group_failed_next(x)) {
        unsigned line;
        const char *file = aio_task_error_site(x, &line);
        say(t, "main", "  failed: %s, returned at %s:%u", f->job[x - f->job_tasks].name, file, line);
    }

    say(t, "main", "error handled; the server (outer group) was untouched: cancel it");
    aio_group_cancel(&f->outer, "shutdown");
    AIO_GROUP_WAIT(rc, &f->outer, 0);
    say(t, "main", "outer group returned \"%s\" (it caught its own cancel)", aio_strerror(rc));
    AIO_END(rc);
}

int main(void)
{
    aio_loop loop;
    aio_config cfg;
    aio_task main_task;
    struct demo frame;
    struct timespec a, b;
    aio_stats st;
#ifdef AIO_DEBUG
    const char *build_kind = ", AIO_DEBUG build";
#else
    const char *build_kind = "";
#endif
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    memset(&main_task, 0, sizeof main_task);
    memset(&frame, 0, sizeof frame);
    aio_loop_init(&loop, &cfg);
    printf("aio %s demo: 5 tasks, 2 task groups, timeouts; virtual clock, times are exact\n", AIO_VERSION_STRING);
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = aio_run(&loop, &main_task, demo_main, &frame);
    clock_gettime(CLOCK_MONOTONIC, &b);
    aio_loop_stats(&loop, &st);
    printf("%lld ms of simulated time in %ld us of real time; %llu task steps in %llu loop turns\n",
           (long long)(aio_now(&loop) / AIO_MS(1)),
           (long)((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000),
           (unsigned long long)st.steps, (unsigned long long)st.turns);
    printf("all state: %u bytes in caller-owned structs (loop %u, task %u, frames %u)%s; no malloc\n",
           (unsigned)(sizeof loop + sizeof main_task + sizeof frame), (unsigned)sizeof loop,
           (unsigned)sizeof main_task, (unsigned)sizeof frame, build_kind);
    return rc == 0 ? 0 : 1;
}
