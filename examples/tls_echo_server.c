/*
 * tls_echo_server.c - a TLS echo server, as with asyncio:
 *
 *     ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
 *     ctx.load_cert_chain('cert.pem', 'key.pem')
 *     async def handle(reader, writer):
 *         while line := await reader.readline():
 *             writer.write(line); await writer.drain()
 *         writer.close()
 *     server = await asyncio.start_server(handle, '127.0.0.1', port, ssl=ctx)
 *
 * Usage:
 *   tls_echo_server                       demo: throwaway certificate, one
 *                                         in-process client sends two lines
 *   tls_echo_server PORT CERT KEY         serve until killed; try it with
 *       openssl s_client -connect 127.0.0.1:PORT -servername localhost
 * The handler is the plain-stream echo (read_line, write_all); the TLS
 * server helper runs the handshake (10 s deadline) before it and sends
 * close_notify after it.
 */
#define AIO_IMPLEMENTATION
#include "aio_tls.h"
#include "tls_demo_cert.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

static aio_loop loop;
static aio_tls_ctx cctx, sctx;
static aio_listener lst;
static aio_tls_server ts;

struct echo {
    aio_tls_handler h; /* first */
    unsigned char buf[1024];
    int n;
};
struct slot {
    aio_tls_conn tc;
    struct echo e;
};
static struct slot pool[16];

static int echo(aio_task *t, void *frame)
{
    struct echo *f = (struct echo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(f->h.stream, f->buf, sizeof f->buf);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, f->h.stream, sizeof f->buf);
        if (rc == AIO_EEND)
            break; /* the client's close_notify */
        if (rc < 0)
            AIO_RETURN(rc);
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, f->h.stream, aio_stream_line(f->h.stream), (size_t)f->n);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

/* ---- the demo client ----------------------------------------------------- */

struct client {
    aio_frame hdr;
    aio_scope timeout;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    int i;
    unsigned char rbuf[256];
};

static const char *const lines[] = { "Hello World!\n", "second line\n" };

static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_SEC(5));
    aio_stream_init(&f->s, -1, f->rbuf, sizeof f->rbuf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    if (rc == 0)
        rc = aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
    if (rc == 0)
        AIO_TLS_HANDSHAKE(rc, &f->tls);
    for (f->i = 0; rc >= 0 && f->i < 2; f->i++) {
        printf("Send: %s", lines[f->i]);
        AIO_STREAM_WRITE_ALL(rc, &f->s, lines[f->i], strlen(lines[f->i]));
        if (rc < 0)
            break;
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
        if (rc > 0)
            printf("Received: %.*s", rc, aio_stream_line(&f->s));
    }
    if (rc >= 0)
        AIO_TLS_SHUTDOWN(rc, &f->tls); /* our close_notify: the handler reads end of stream */
    if (rc >= 0)
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf); /* and the server's */
    if (rc == AIO_EEND) {
        printf("closed with close_notify on both sides\n");
        rc = 0;
    }
    rc = aio_scope_exit(t, &f->timeout, rc);
    if (rc < 0)
        printf("error: %s\n", aio_tls_strerror(rc));
    aio_tls_close(aio_task_loop(t), &f->tls);
    AIO_END(rc);
}

struct demo {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    int rc;
    struct client c;
};

static int demo(aio_task *t, void *frame)
{
    struct demo *f = (struct demo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, client, &f->c);
    AIO_JOIN(f->rc, &f->ct);
    aio_server_shutdown(&ts.srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(f->rc < 0 ? f->rc : rc);
}

/* Loop setup in one place. */
static int run(aio_fn fn, void *frame)
{
    static aio_task task;
    static aio_reactor io; /* the OS reactor: sockets */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, fn, frame);
}

int main(int argc, char **argv)
{
    static struct demo d;
    int rc;
    if (aio_tls_ctx_init(&sctx, AIO_TLS_SERVER) || aio_tls_ctx_init(&cctx, AIO_TLS_CLIENT))
        return 1;
    if (argc >= 4) {
        if (aio_tls_ctx_load_cert(&sctx, argv[2], argv[3]) != 0) {
            fprintf(stderr, "cannot load %s / %s\n", argv[2], argv[3]);
            return 1;
        }
        if (aio_tcp_listen(&lst, "127.0.0.1", atoi(argv[1]), 0) ||
            aio_tls_server_init(&ts, &lst, &sctx, pool, 16, sizeof pool[0], offsetof(struct slot, e), echo))
            return 1;
        printf("serving TLS echo on 127.0.0.1:%d\n", lst.port);
        fflush(stdout);
        rc = run(aio_server_serve, &ts.srv);
    } else {
        if (demo_cert(&sctx, &cctx) || aio_tcp_listen(&lst, "127.0.0.1", 0, 8) ||
            aio_tls_server_init(&ts, &lst, &sctx, pool, 16, sizeof pool[0], offsetof(struct slot, e), echo))
            return 1;
        rc = run(demo, &d);
        printf("server: %llu connection(s), %llu failed handshake(s)\n", (unsigned long long)ts.srv.accepted,
               (unsigned long long)ts.handshake_failed);
    }
    aio_loop_close(&loop);
    aio_tls_ctx_free(&cctx);
    aio_tls_ctx_free(&sctx);
    return rc == 0 ? 0 : 1;
}
