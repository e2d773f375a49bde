/*
 * tls_https_get.c - an HTTPS GET, as with asyncio:
 *
 *     ctx = ssl.create_default_context(); ctx.set_alpn_protocols(['http/1.1'])
 *     reader, writer = await asyncio.open_connection(host, port, ssl=ctx,
 *                                                    server_hostname=name)
 *     writer.write(b'GET / HTTP/1.0\r\nHost: ...\r\n\r\n')
 *     status = await reader.readline(); body = await reader.read()
 *
 * Usage:
 *   tls_https_get                           demo: an HTTPS server in-process
 *                                           (throwaway certificate), one GET
 *   tls_https_get HOST PORT NAME [CAFILE]   GET / from a running server at
 *                                           numeric HOST, verifying NAME
 *                                           (system store, plus CAFILE)
 * The client is plain stream code (read_line, read_some, write_all) over a
 * TLS-wrapped stream; the whole exchange runs under a 5 s fail_after.
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

/* ---- the demo server: one page ------------------------------------------- */

struct page {
    aio_tls_handler h; /* first */
    unsigned char buf[512];
};
struct slot {
    aio_tls_conn tc;
    struct page p;
};
static struct slot pool[2];
static aio_listener lst;
static aio_tls_server ts;

static int page(aio_task *t, void *frame)
{
    static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello over tls\n";
    struct page *f = (struct page *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(f->h.stream, f->buf, sizeof f->buf);
    AIO_STREAM_READ_UNTIL(rc, f->h.stream, "\r\n\r\n", 4, sizeof f->buf); /* the request head */
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_STREAM_WRITE_ALL(rc, f->h.stream, reply, sizeof reply - 1);
    AIO_END(rc < 0 ? rc : 0); /* then the helper sends close_notify */
}

/* ---- the client ---------------------------------------------------------- */

struct get {
    aio_frame hdr;
    const char *host, *name;
    int port;
    aio_scope timeout;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    unsigned char rbuf[1024];
    char req[256], body[2048], info[64];
    size_t got;
};

static int get(aio_task *t, void *frame)
{
    struct get *f = (struct get *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_SEC(5));
    aio_stream_init(&f->s, -1, f->rbuf, sizeof f->rbuf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, f->host, f->port);
    if (rc < 0)
        goto out;
    rc = aio_tls_wrap_client(&f->tls, &f->s, &cctx, f->name);
    if (rc < 0)
        goto out;
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    if (rc < 0)
        goto out;
    aio_tls_alpn(&f->tls, f->info, sizeof f->info);
    printf("tls: %s, alpn: %s\n", aio_tls_version(&f->tls), f->info[0] ? f->info : "(none)");
    aio_tls_peer_name(&f->tls, f->info, sizeof f->info);
    printf("certificate: CN=%s\n", f->info);
    snprintf(f->req, sizeof f->req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", f->name);
    AIO_STREAM_WRITE_ALL(rc, &f->s, f->req, strlen(f->req));
    if (rc < 0)
        goto out;
    AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
    if (rc < 0)
        goto out;
    printf("status: %.*s\n", rc > 1 ? rc - 2 : 0, aio_stream_line(&f->s)); /* without \r\n */
    for (;;) { /* to the end: close_notify reads as AIO_EEND */
        AIO_STREAM_READ_SOME(rc, &f->s, f->body + f->got, sizeof f->body - 1 - f->got);
        if (rc <= 0 || (f->got += (size_t)rc) == sizeof f->body - 1)
            break;
    }
    f->body[f->got] = 0;
    if (rc == AIO_EEND || rc == AIO_ETLS_TRUNCATED) /* HTTP/1.0 servers often skip close_notify */
        rc = 0;
    printf("response: %u bytes after the status line, ends with close_notify: %s\n", (unsigned)f->got,
           aio_tls_broken(&f->tls) ? "no" : "yes");
out:
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
    struct get c;
};

static int demo(aio_task *t, void *frame)
{
    struct demo *f = (struct demo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, get, &f->c);
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
    if (aio_tls_ctx_init(&cctx, AIO_TLS_CLIENT) || aio_tls_ctx_set_alpn(&cctx, "http/1.1"))
        return 1;
    if (argc >= 4) {
        if (argc > 4 && aio_tls_ctx_trust(&cctx, argv[4]) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[4]);
            return 1;
        }
        d.c.host = argv[1];
        d.c.port = atoi(argv[2]);
        d.c.name = argv[3];
        rc = run(get, &d.c);
    } else {
        if (aio_tls_ctx_init(&sctx, AIO_TLS_SERVER) || aio_tls_ctx_set_alpn(&sctx, "http/1.1") ||
            demo_cert(&sctx, &cctx) || aio_tcp_listen(&lst, "127.0.0.1", 0, 8) ||
            aio_tls_server_init(&ts, &lst, &sctx, pool, 2, sizeof pool[0], offsetof(struct slot, p), page))
            return 1;
        d.c.host = "127.0.0.1";
        d.c.port = lst.port;
        d.c.name = "localhost";
        rc = run(demo, &d);
        printf("body: %s", d.c.body);
    }
    aio_loop_close(&loop);
    aio_tls_ctx_free(&cctx);
    aio_tls_ctx_free(&sctx);
    return rc == 0 ? 0 : 1;
}
