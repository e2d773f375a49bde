/*
 * net_fetch_limited.c - anyio's "collect every result" fetcher: N requests,
 * at most 3 connections at once (a semaphore), each under its own
 * fail_after, every result kept without failing the batch:
 *
 *     limit = anyio.Semaphore(3)
 *     async def fetch(i):
 *         async with limit:
 *             with anyio.fail_after(0.2):
 *                 async with await anyio.connect_tcp(host, port) as s:
 *                     await s.send(f"GET {i}\n".encode()); results[i] = await s.receive()
 *     # errors are recorded per request, the batch goes on
 *
 * It starts its own server: requests 0..4 are answered after i * 30 ms and
 * the rest after 400 ms, so those slow ones hit the 200 ms deadline; one
 * request goes to a closed port and is refused.  Run without arguments; it
 * exits after about half a second.
 */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include <stdio.h>
#include <string.h>

#define N 9

/* ---- the local server: "GET i\n" -> "item i\n" after i * 30 ms or 400 ms -- */

struct conn {
    aio_conn conn;
    char buf[64];
    char reply[32];
    int i;
};

static int serve_one(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    AIO_STREAM_READ_LINE(rc, &f->conn.stream, sizeof f->buf);
    if (rc < 0 || sscanf(aio_stream_line(&f->conn.stream), "GET %d", &f->i) != 1)
        AIO_RETURN(0);
    AIO_SLEEP(rc, f->i < 5 ? AIO_MS(30) * f->i : AIO_MS(400));
    if (rc < 0)
        AIO_RETURN(rc);
    snprintf(f->reply, sizeof f->reply, "item %d\n", f->i);
    AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->reply, strlen(f->reply));
    AIO_END(0);
}

/* ---- one fetch ------------------------------------------------------------ */

struct fetch {
    aio_frame hdr;
    int i, port;
    aio_sem *limit;
    aio_scope deadline;
    aio_stream s;
    aio_connect op;
    char buf[64], req[32], body[32];
    int rc;
    aio_time started, ended;
};

static int fetch(aio_task *t, void *frame)
{
    struct fetch *f = (struct fetch *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SEM_ACQUIRE(rc, f->limit);                        /* async with limit: */
    if (rc < 0)
        AIO_RETURN(rc);
    f->started = aio_now(aio_task_loop(t));
    aio_fail_after(t, &f->deadline, AIO_MS(200));         /* with fail_after(0.2): */
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc == 0) {
        snprintf(f->req, sizeof f->req, "GET %d\n", f->i);
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->req, strlen(f->req));
    }
    if (rc >= 0)
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);
    if (rc > 0)
        snprintf(f->body, sizeof f->body, "%.*s", rc - 1, aio_stream_line(&f->s));
    aio_stream_close(aio_task_loop(t), &f->s);
    rc = aio_scope_exit(t, &f->deadline, rc < 0 ? rc : 0);
    aio_sem_release(f->limit);
    f->ended = aio_now(aio_task_loop(t));
    f->rc = rc;
    AIO_END(rc);                                           /* an error is kept, not fatal */
}

/* ---- main ------------------------------------------------------------------ */

struct main_frame {
    aio_frame hdr;
    aio_group outer, batch;
    aio_task server_task, tasks[N];
    aio_listener lst, closed;
    aio_server srv;
    struct conn slots[8];
    struct fetch f[N];
    aio_sem limit;
    int i, closed_port;
    aio_time t0;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc, ok = 0;
    AIO_BEGIN(t, f);
    rc = aio_tcp_listen(&f->lst, "127.0.0.1", 0, 0);
    if (rc == 0)
        rc = aio_tcp_listen(&f->closed, "127.0.0.1", 0, 0);
    if (rc < 0)
        AIO_RETURN(rc);
    f->closed_port = f->closed.port;
    aio_listener_close(aio_task_loop(t), &f->closed);     /* nothing listens there now */
    aio_server_init(&f->srv, &f->lst, f->slots, 8, sizeof f->slots[0], serve_one);
    aio_group_enter(t, &f->outer, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->outer, &f->server_task, aio_server_serve, &f->srv);

    aio_sem_init(&f->limit, 3);
    f->t0 = aio_now(aio_task_loop(t));
    aio_group_enter(t, &f->batch, AIO_GROUP_ALL_SETTLED); /* collect, don't cancel */
    for (f->i = 0; f->i < N; f->i++) {
        f->f[f->i].i = f->i;
        f->f[f->i].limit = &f->limit;
        f->f[f->i].port = f->i == N - 1 ? f->closed_port : f->lst.port;
        aio_spawn(&f->batch, &f->tasks[f->i], fetch, &f->f[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->batch, 0);

    for (f->i = 0; f->i < N; f->i++) {
        struct fetch *x = &f->f[f->i];
        printf("fetch %d: %-20s [%3lld..%3lld ms]\n", x->i, x->rc == 0 ? x->body : aio_strerror(x->rc),
               (long long)((x->started - f->t0) / 1000000), (long long)((x->ended - f->t0) / 1000000));
        ok += x->rc == 0;
    }
    printf("%d of %d fetched; the batch went on (first error: %s)\n", ok, N, rc == 0 ? "none" : aio_strerror(rc));
    aio_server_shutdown(&f->srv, 0);
    AIO_GROUP_WAIT(rc, &f->outer, 0);
    AIO_END(0);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
