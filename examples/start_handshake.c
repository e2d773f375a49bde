/*
 * examples/start_handshake.c - start a server task and wait until it is
 * ready, getting its port back.
 *
 * The Python original (trio; anyio's tg.start is the same):
 *
 *     async def server(port, *, task_status=trio.TASK_STATUS_IGNORED):
 *         listener = await bind(port)          # takes a moment; may fail
 *         task_status.started(port)            # "ready": start() returns
 *         try:
 *             await serve_forever(listener)
 *         finally:
 *             await listener.aclose()
 *
 *     async with trio.open_nursery() as nursery:
 *         port = await nursery.start(server, 8080)
 *         await client(port)                   # the server is listening
 *         try:
 *             await nursery.start(server, 80)  # bind fails before started
 *         except OSError as e:
 *             print(e)
 *         nursery.cancel_scope.cancel()        # stop the server
 *
 * The C mapping:
 *   - `await nursery.start(fn, ...)` is AIO_START(rc, &g, &task, fn, &frame,
 *     &value): the caller waits until the child calls aio_started(t, value)
 *     and gets rc = 0 and the value (a void *; here it points at the port in
 *     the server's frame).
 *   - An error the child returns before aio_started comes straight out of
 *     AIO_START as rc (and is not a failure of the group).  A child that
 *     returns without calling aio_started gives AIO_ENOTSTARTED.
 *   - Until it has started, the child runs under the caller's cancel scopes;
 *     aio_started moves it into the group, so it lives on after the caller
 *     moves on.
 *   - `nursery.cancel_scope.cancel()` is aio_group_cancel(&g, reason); the
 *     group catches its own cancellation, so its wait returns 0.
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

struct server {
    aio_frame hdr;
    int port;
    int listening;
    aio_scope cleanup;
    int rc;
};

static int server(aio_task *t, void *frame)
{
    struct server *f = (struct server *)frame;
    int rc;
    AIO_BEGIN(t, f);
    printf("%3lld ms  server: binding port %d\n", ms(t), f->port);
    AIO_SLEEP(rc, AIO_MS(5));                    /* stands for the bind */
    if (rc < 0)
        AIO_RETURN(rc);
    if (f->port < 1024) {
        printf("%3lld ms  server: port %d is taken\n", ms(t), f->port);
        AIO_RETURN(-EADDRINUSE);                 /* before started: out of AIO_START */
    }
    f->listening = 1;
    aio_started(t, &f->port);                    /* task_status.started(port) */
    printf("%3lld ms  server: listening, told the starter\n", ms(t));
    AIO_SLEEP_FOREVER(rc);                       /* serve until cancelled */
    f->rc = rc;
    aio_cleanup_enter(t, &f->cleanup, AIO_MS(100));
    printf("%3lld ms  server: %s; closing the listener\n", ms(t), aio_strerror(rc));
    AIO_SLEEP(rc, AIO_MS(2));                    /* stands for listener.aclose() */
    aio_scope_exit(t, &f->cleanup, rc);
    f->listening = 0;
    printf("%3lld ms  server: closed\n", ms(t));
    AIO_END(f->rc);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_task, bad_task;
    struct server srv, bad;
    void *value;
};

static int main_coro(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);

    f->srv.port = 8080;
    AIO_START(rc, &f->g, &f->server_task, server, &f->srv, &f->value);
    if (rc < 0) {
        aio_group_cancel(&f->g, "start failed");
        AIO_GROUP_WAIT(rc, &f->g, rc);
        AIO_RETURN(rc);
    }
    printf("%3lld ms  main: start returned %s, port %d, server listening: %s\n", ms(t), aio_strerror(rc),
           *(int *)f->value, f->srv.listening ? "yes" : "no");
    AIO_SLEEP(rc, AIO_MS(10));                   /* stands for the client's work */
    printf("%3lld ms  main: client done\n", ms(t));

    f->bad.port = 80;
    AIO_START(rc, &f->g, &f->bad_task, server, &f->bad, NULL);
    printf("%3lld ms  main: second start returned \"%s\"\n", ms(t), aio_strerror(rc));

    printf("%3lld ms  main: cancelling the group to stop the server\n", ms(t));
    aio_group_cancel(&f->g, "shutdown");
    AIO_GROUP_WAIT(rc, &f->g, 0);
    printf("%3lld ms  main: group finished: %s\n", ms(t), aio_strerror(rc));
    AIO_END(rc);
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
