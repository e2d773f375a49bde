/*
 * examples/async_close.c - an async close in cleanup that completes even
 * though the task was cancelled.
 *
 * The Python original (the shape of asyncio's stream tutorials):
 *
 *     async def handle(reader, writer):
 *         try:
 *             await serve(reader, writer)
 *         finally:
 *             writer.close()
 *             await writer.wait_closed()   # may be cancelled itself
 *
 * When handle() is cancelled, the await in `finally` is exposed to
 * cancellation too: in asyncio a second cancel() (a timeout, a TaskGroup
 * shutting down) interrupts it, and in trio/anyio it fails at once unless
 * wrapped in `with CancelScope(shield=True)`.  The connection is left
 * half-closed.
 *
 * The C mapping:
 *   - A cancelled task stays cancelled (level-triggered): every await after
 *     the cancel returns AIO_ECANCELED.  Round 1 shows the naive cleanup
 *     failing at once and the connection left half-closed.
 *   - aio_cleanup_enter(t, &scope, grace) opens a scope shielded from every
 *     outer cancellation, with its own grace deadline.  Awaits inside run to
 *     completion (round 2), so a close always finishes or is cut off by the
 *     grace period only (round 3: the peer never answers, the close gives up
 *     after 50 ms and the connection is aborted, synchronously).
 *   - aio_scope_exit returns 0 when the grace deadline cut the close off,
 *     and aio_scope_cancelled_caught(&scope) tells that it happened.
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

enum { CONN_OPEN, CONN_HALF_CLOSED, CONN_CLOSED, CONN_ABORTED };
static const char *const conn_state_names[] = { "open", "half-closed (leaked)", "closed", "aborted" };

struct conn {
    int state;
    aio_time ack_delay;          /* how long the peer takes to acknowledge the close */
};

/* async def close(conn): send goodbye, wait for the peer's ack */
struct conn_close {
    aio_frame hdr;
    struct conn *c;
};

static int conn_close(aio_task *t, void *frame)
{
    struct conn_close *f = (struct conn_close *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->c->state = CONN_HALF_CLOSED;              /* goodbye sent */
    if (f->c->ack_delay == AIO_TIME_INF)
        AIO_SLEEP_FOREVER(rc);                   /* the peer never answers */
    else
        AIO_SLEEP(rc, f->c->ack_delay);
    if (rc < 0)
        AIO_RETURN(rc);                          /* interrupted: still half-closed */
    f->c->state = CONN_CLOSED;
    AIO_END(0);
}

enum { CLEANUP_NAIVE, CLEANUP_SHIELDED };

struct handler {
    aio_frame hdr;
    struct conn *c;
    int cleanup_kind;
    aio_scope cleanup;
    struct conn_close close;
    int rc;
};

static int handler(aio_task *t, void *frame)
{
    struct handler *f = (struct handler *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->c->state = CONN_OPEN;
    AIO_SLEEP_FOREVER(rc);                       /* serve until cancelled */
    f->rc = rc;
    printf("%3lld ms  handler: %s; closing the connection\n", ms(t), aio_strerror(rc));
    f->close.c = f->c;
    if (f->cleanup_kind == CLEANUP_NAIVE) {
        AIO_AWAIT(rc, conn_close, &f->close);
        printf("%3lld ms  handler: close returned \"%s\"\n", ms(t), aio_strerror(rc));
    } else {
        aio_cleanup_enter(t, &f->cleanup, AIO_MS(50));
        AIO_AWAIT(rc, conn_close, &f->close);
        printf("%3lld ms  handler: close returned \"%s\"\n", ms(t), aio_strerror(rc));
        aio_scope_exit(t, &f->cleanup, rc);
        if (aio_scope_cancelled_caught(&f->cleanup)) {
            f->c->state = CONN_ABORTED;          /* transport.abort(): no await needed */
            printf("%3lld ms  handler: grace period over; connection aborted\n", ms(t));
        }
    }
    AIO_END(f->rc);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task task;
    struct handler h;
    struct conn conns[3];
    int round, leaked;
};

static int main_coro(aio_task *t, void *frame)
{
    static const char *const titles[3] = {
        "naive cleanup", "cleanup scope, peer acks in 5 ms", "cleanup scope, peer never acks"
    };
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->conns[0].ack_delay = AIO_MS(5);
    f->conns[1].ack_delay = AIO_MS(5);
    f->conns[2].ack_delay = AIO_TIME_INF;
    for (f->round = 0; f->round < 3; f->round++) {
        printf("%3lld ms  round %d: %s\n", ms(t), f->round + 1, titles[f->round]);
        memset(&f->h, 0, sizeof f->h);
        f->h.c = &f->conns[f->round];
        f->h.cleanup_kind = f->round == 0 ? CLEANUP_NAIVE : CLEANUP_SHIELDED;
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
        aio_spawn(&f->g, &f->task, handler, &f->h);
        AIO_SLEEP(rc, AIO_MS(20));
        aio_task_cancel(&f->task);
        AIO_GROUP_WAIT(rc, &f->g, rc);
        printf("%3lld ms  round %d: connection is %s\n", ms(t), f->round + 1,
               conn_state_names[f->conns[f->round].state]);
        if (f->conns[f->round].state == CONN_HALF_CLOSED)
            f->leaked++;
    }
    printf("leaked: %d (the naive round only)\n", f->leaked);
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
    return rc == 0 && frame.leaked == 1 ? 0 : 1;
}
