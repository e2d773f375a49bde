/*
 * tests/net_util.h - shared pieces of the aio_net.h suites: an echo handler
 * for the server, an echo client, a fault-injecting syscall hook, and a
 * watchdog so a hung socket test ends the program instead of the suite.
 * Loopback only; the virtual clock for every timeout.
 */
#ifndef AIO_TEST_NET_UTIL_H
#define AIO_TEST_NET_UTIL_H

#define AIO_IMPLEMENTATION
#include "../aio_net.h"
#include "harness.h"
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>

static aio_loop L;
static aio_task mt;

/* A hung test is killed by SIGALRM (default action) rather than hanging make. */
AIO__UNUSED static void net_watchdog(unsigned seconds)
{
    alarm(seconds);
}

AIO__UNUSED static int net_run(aio_fn fn, void *frame)
{
    test_loop_init(&L);
    memset(&mt, 0, sizeof mt);
    return aio_run(&L, &mt, fn, frame);
}

/* ---- echo server handler ------------------------------------------------- */

struct echo_conn {
    aio_conn conn; /* first */
    unsigned char buf[4096];
    int n;
};

/* Echoes whatever arrives until end of stream. */
AIO__UNUSED static int echo_handler(aio_task *t, void *frame)
{
    struct echo_conn *f = (struct echo_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);
        if (rc == AIO_EEND)
            break;
        if (rc < 0)
            AIO_RETURN(rc);
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, (size_t)f->n);
        if (rc < 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

/* ---- echo client --------------------------------------------------------- */

struct echo_client {
    aio_frame hdr;
    const char *host;  /* TCP host, or NULL with `path` */
    const char *path;  /* Unix path */
    int port;
    const char *msg;
    int rounds, i;
    aio_stream s;
    aio_connect op;
    char got[256];
    int rc;            /* result, also returned */
};

AIO__UNUSED static int echo_client(aio_task *t, void *frame)
{
    struct echo_client *f = (struct echo_client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    if (f->path)
        AIO_UNIX_CONNECT(rc, &f->op, &f->s, f->path);
    else
        AIO_TCP_CONNECT(rc, &f->op, &f->s, f->host, f->port);
    if (rc < 0)
        goto out;
    for (f->i = 0; f->i < (f->rounds ? f->rounds : 1); f->i++) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->msg, strlen(f->msg));
        if (rc < 0)
            goto out;
        memset(f->got, 0, sizeof f->got);
        AIO_STREAM_READ_EXACT(rc, &f->s, f->got, strlen(f->msg));
        if (rc < 0)
            goto out;
        if (memcmp(f->got, f->msg, strlen(f->msg)) != 0) {
            rc = AIO_EINVAL;
            goto out;
        }
    }
    rc = 0;
out:
    aio_stream_close(aio_task_loop(t), &f->s);
    f->rc = rc;
    AIO_END(rc);
}

/* ---- fault-injecting hook ------------------------------------------------ */

/* Each counter says how many of the next calls fail with the given code;
 * `short_send`/`short_recv` cap the size of each call (0: no cap). */
struct faults {
    int eintr_recv, eagain_recv, reset_recv;
    int eintr_send, eagain_send;
    int eintr_accept, emfile_accept;
    int eintr_connect;
    size_t short_send, short_recv;
    unsigned long recv_calls, send_calls;
    uint32_t rng;
};

static uint32_t faults_rand(struct faults *fl)
{
    fl->rng = fl->rng * 1103515245u + 12345u;
    return fl->rng >> 8;
}

static long f_recv(void *ctx, int fd, void *buf, size_t len)
{
    struct faults *fl = (struct faults *)ctx;
    fl->recv_calls++;
    if (fl->eintr_recv > 0) { fl->eintr_recv--; return -EINTR; }
    if (fl->eagain_recv > 0) { fl->eagain_recv--; return -EAGAIN; }
    if (fl->reset_recv > 0) { fl->reset_recv--; return -ECONNRESET; }
    if (fl->short_recv && len > 1)
        len = 1 + faults_rand(fl) % (len < fl->short_recv ? len : fl->short_recv);
    return aio_net_sys_ops()->recv(NULL, fd, buf, len);
}

static long f_send(void *ctx, int fd, const void *buf, size_t len)
{
    struct faults *fl = (struct faults *)ctx;
    fl->send_calls++;
    if (fl->eintr_send > 0) { fl->eintr_send--; return -EINTR; }
    if (fl->eagain_send > 0) { fl->eagain_send--; return -EAGAIN; }
    if (fl->short_send && len > 1)
        len = 1 + faults_rand(fl) % (len < fl->short_send ? len : fl->short_send);
    return aio_net_sys_ops()->send(NULL, fd, buf, len);
}

static int f_accept(void *ctx, int fd, struct sockaddr *sa, socklen_t *salen)
{
    struct faults *fl = (struct faults *)ctx;
    if (fl->eintr_accept > 0) { fl->eintr_accept--; return -EINTR; }
    if (fl->emfile_accept > 0) { fl->emfile_accept--; return -EMFILE; }
    return aio_net_sys_ops()->accept(NULL, fd, sa, salen);
}

static int f_connect(void *ctx, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct faults *fl = (struct faults *)ctx;
    if (fl->eintr_connect > 0) { fl->eintr_connect--; return -EINTR; }
    return aio_net_sys_ops()->connect(NULL, fd, sa, salen);
}

AIO__UNUSED static void faults_ops(aio_net_ops *o, struct faults *fl)
{
    *o = *aio_net_sys_ops();
    o->recv = f_recv;
    o->send = f_send;
    o->accept = f_accept;
    o->connect = f_connect;
    o->ctx = fl;
}

#endif
