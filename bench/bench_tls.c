/*
 * bench/bench_tls.c - TLS echo throughput and handshake rate on loopback,
 * beside the same work over plain TCP (the baseline): one loop, one
 * thread, an echo server (aio_server, or aio_tls_server with the same
 * handler) and one client task.  Throughput: the client writes 16 KiB
 * blocks and reads each back, BT_BYTES in all; MB/s counts each byte once.
 * Both ends encrypt and decrypt on the one core, so a TLS byte costs two
 * encryptions and two decryptions.  Connections: BT_CONNS sequential
 * connect + handshake (TLS 1.3, P-256 certificate, X25519) + close, per
 * second.  Each figure is the best of BT_RUNS runs.  Runs in about 5 s.
 */
#define AIO_IMPLEMENTATION
#include "aio_tls.h"
#include "../examples/tls_demo_cert.h"
#include "bench_util.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BT_BLOCK 16384
#define BT_BYTES (64L << 20)
#define BT_CONNS 200
#define BT_RUNS 3

static aio_tls_ctx cctx, sctx;
static aio_listener lst;
static aio_server srv;
static aio_tls_server ts;
static int use_tls, conns_mode;

struct echo {
    aio_tls_handler h; /* first: unused by the plain server (its slot is an aio_conn) */
    unsigned char buf[BT_BLOCK];
};
struct slot {
    aio_tls_conn tc;
    struct echo e;
};
static struct slot pool[2];
struct pslot {
    aio_conn conn;
    unsigned char buf[BT_BLOCK];
};
static struct pslot ppool[2];

static int tls_echo(aio_task *t, void *frame)
{
    struct echo *f = (struct echo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, f->h.stream, f->buf, sizeof f->buf);
        if (rc < 0)
            break;
        AIO_STREAM_WRITE_ALL(rc, f->h.stream, f->buf, (size_t)rc);
        if (rc < 0)
            break;
    }
    AIO_END(0);
}

static int plain_echo(aio_task *t, void *frame)
{
    struct pslot *f = (struct pslot *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);
        if (rc < 0)
            break;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, (size_t)rc);
        if (rc < 0)
            break;
    }
    AIO_END(0);
}

struct client {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    long sent;
    int rc, conns;
    unsigned char out[BT_BLOCK], in[BT_BLOCK];
};

static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->conns = 0; f->conns < (conns_mode ? BT_CONNS : 1); f->conns++) {
        aio_stream_init(&f->s, -1, NULL, 0);
        AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
        if (rc < 0)
            AIO_RETURN(rc);
        if (use_tls) {
            aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
            AIO_TLS_HANDSHAKE(rc, &f->tls);
            if (rc < 0)
                AIO_RETURN(rc);
        }
        if (!conns_mode)
            break;
        if (use_tls)
            aio_tls_close(aio_task_loop(t), &f->tls);
        else
            aio_stream_close(aio_task_loop(t), &f->s);
    }
    if (conns_mode)
        AIO_RETURN(0);
    for (f->sent = 0; f->sent < BT_BYTES; f->sent += BT_BLOCK) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->out, BT_BLOCK);
        if (rc < 0)
            break;
        AIO_STREAM_READ_EXACT(rc, &f->s, f->in, BT_BLOCK);
        if (rc < 0)
            break;
    }
    f->rc = rc < 0 ? rc : 0;
    if (use_tls)
        aio_tls_close(aio_task_loop(t), &f->tls);
    else
        aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(f->rc);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    int rc;
    struct client c;
};

static int main_fn(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, use_tls ? &ts.srv : &srv);
    aio_spawn(&f->g, &f->ct, client, &f->c);
    AIO_JOIN(f->rc, &f->ct);
    aio_server_shutdown(use_tls ? &ts.srv : &srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(f->rc < 0 ? f->rc : rc);
}

/* Bytes per second (conns 0) or connections per second (conns 1). */
static double run_once(int tls, int conns)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: sockets */
    static aio_task task;
    static struct main_frame m;
    struct timespec a, b;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    use_tls = tls;
    conns_mode = conns;
    if (aio_tcp_listen(&lst, "127.0.0.1", 0, 0) != 0)
        return -1;
    if (tls ? aio_tls_server_init(&ts, &lst, &sctx, pool, 2, sizeof pool[0], offsetof(struct slot, e), tls_echo)
            : aio_server_init(&srv, &lst, ppool, 2, sizeof ppool[0], plain_echo))
        return -1;
    aio_loop_init(&loop, NULL); /* loop setup in one place */
    aio_reactor_init(&io, &loop);
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (aio_run(&loop, &task, main_fn, &m) != 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    aio_loop_close(&loop);
    return (conns ? (double)BT_CONNS : (double)BT_BYTES / 1e6) /
           ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

int main(void)
{
    double best[4] = { 0, 0, 0, 0 }; /* plain MB/s, TLS MB/s, plain conn/s, TLS conn/s */
    int i, k;
    if (aio_tls_ctx_init(&sctx, AIO_TLS_SERVER) || aio_tls_ctx_init(&cctx, AIO_TLS_CLIENT) ||
        demo_cert(&sctx, &cctx))
        return 1;
    for (i = 0; i < BT_RUNS; i++)
        for (k = 0; k < 4; k++) {
            double r = run_once(k & 1, k >> 1);
            if (r < 0) {
                printf("bench_tls: a run failed\n");
                return 1;
            }
            if (r > best[k])
                best[k] = r;
        }
    printf("### bench_tls: TLS echo on loopback beside plain TCP (one loop, one thread, both ends)\n\n");
    bu_print_machine();
    printf("%s; best of %d runs\n\n", OpenSSL_version(OPENSSL_VERSION), BT_RUNS);
    printf("| stream | echo MB/s (%d-byte blocks, %ld MiB) | connections/s (connect + handshake + close) |\n",
           BT_BLOCK, BT_BYTES >> 20);
    printf("|---|---:|---:|\n");
    printf("| plain TCP (aio_net.h) | %.0f | %.0f |\n", best[0], best[2]);
    printf("| TLS 1.3 (aio_tls.h) | %.0f | %.0f |\n", best[1], best[3]);
    printf("\nTLS / plain: %.2f (throughput), %.3f (connections)\n", best[1] / best[0], best[3] / best[2]);
    printf("sizeof: aio_tls %zu, aio_tls_ctx %zu, aio_tls_conn %zu, aio_tls_server %zu\n", sizeof(aio_tls),
           sizeof(aio_tls_ctx), sizeof(aio_tls_conn), sizeof(aio_tls_server));
    aio_tls_ctx_free(&cctx);
    aio_tls_ctx_free(&sctx);
    return 0;
}
