/*
 * bench/bench_net.c - echo round trips per second on loopback TCP: an aio
 * echo server (aio_server, one handler task per connection, read_some +
 * write_all), driven by a bare epoll client and by aio client tasks.
 * Server and clients share the machine's cores, so the figures move with
 * the load; no comparison with another server is drawn from them (one with
 * a hand-written epoll server did not reproduce between runs).
 *
 * The server runs on its own thread; the client driver is a bare epoll loop
 * on the main thread holding 1 or 100 connections, each sending 64 bytes and
 * waiting for all 64 to come back before sending again.  A last pair of rows
 * runs aio on both sides (the clients are aio tasks too).  Each row runs
 * for BN_SECONDS after a short warm-up; the figure is round trips per second
 * over all connections.  Runs in about 8 seconds.
 */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include "bench_util.h"
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <netinet/tcp.h>

#define BN_MSG 64
#define BN_SECONDS 1.0
#define BN_WARMUP 0.15
#define BN_MAXC 100

/* Non-blocking, no Nagle delay: a client connection of the driver. */
static void set_nb(int fd)
{
    int one = 1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- the aio echo server --------------------------------------------------- */

struct echo_conn {
    aio_conn conn;
    unsigned char buf[4096];
    int n;
};

static int echo_handler(aio_task *t, void *frame)
{
    struct echo_conn *f = (struct echo_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);
        if (rc < 0)
            break;
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, (size_t)f->n);
        if (rc < 0)
            break;
    }
    AIO_END(0);
}

struct aio_srv {
    aio_loop loop;
    aio_reactor io;
    aio_task task;
    aio_listener lst;
    aio_server srv;
    struct echo_conn slots[BN_MAXC + 8];
    aio_post post;
    int port;
};

static void *aio_server_thread(void *arg)
{
    struct aio_srv *s = (struct aio_srv *)arg;
    aio_run(&s->loop, &s->task, aio_server_serve, &s->srv);
    return NULL;
}

static void aio_srv_start(struct aio_srv *s, pthread_t *th)
{
    memset(s, 0, sizeof *s);
    aio_loop_init(&s->loop, NULL);
    aio_reactor_init(&s->io, &s->loop);
    aio_loop_wake_enable(&s->loop);
    if (aio_tcp_listen(&s->lst, "127.0.0.1", 0, 0) != 0)
        abort();
    s->port = s->lst.port;
    aio_server_init(&s->srv, &s->lst, s->slots, BN_MAXC + 8, sizeof s->slots[0], echo_handler);
    pthread_create(th, NULL, aio_server_thread, s);
}

static void aio_srv_shutdown_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    aio_server_shutdown((aio_server *)arg, 0);
}

static void aio_srv_stop(struct aio_srv *s, pthread_t th)
{
    aio_loop_post(&s->loop, &s->post, aio_srv_shutdown_cb, &s->srv);
    pthread_join(th, NULL);
    aio_loop_close(&s->loop);
}

/* ---- the client driver (bare epoll) ----------------------------------------- */

struct cl {
    int fd;
    size_t got;
};

static double now_s(void)
{
    return (double)bu_now() / 1e9;
}

/* Round trips per second over `nc` connections to `port`. */
static double drive(int port, int nc)
{
    static struct cl c[BN_MAXC];
    static char msg[BN_MSG], buf[4096];
    struct epoll_event evs[BN_MAXC], e;
    aio_sockaddr a;
    int ep = epoll_create1(0), i;
    long count = 0, counted = 0;
    double t0, tw, t1;
    aio_sockaddr_ip(&a, "127.0.0.1", port);
    memset(msg, 'm', sizeof msg);
    for (i = 0; i < nc; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c[i].fd, (struct sockaddr *)&a.ss, a.len) != 0)
            abort();
        set_nb(c[i].fd);
        c[i].got = 0;
        e.events = EPOLLIN;
        e.data.u32 = (uint32_t)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e);
        if (write(c[i].fd, msg, BN_MSG) != BN_MSG)
            abort();
    }
    t0 = now_s();
    tw = t0 + BN_WARMUP;
    t1 = tw + BN_SECONDS;
    for (;;) {
        int n = epoll_wait(ep, evs, BN_MAXC, 100);
        double t = now_s();
        if (t >= t1)
            break;
        if (!counted && t >= tw) {
            counted = 1;
            count = 0;
        }
        for (i = 0; i < n; i++) {
            struct cl *x = &c[evs[i].data.u32];
            ssize_t r = read(x->fd, buf, sizeof buf);
            if (r <= 0)
                abort();
            x->got += (size_t)r;
            if (x->got >= BN_MSG) {
                x->got -= BN_MSG;
                count++;
                if (write(x->fd, msg, BN_MSG) != BN_MSG)
                    abort();
            }
        }
    }
    for (i = 0; i < nc; i++)
        close(c[i].fd);
    close(ep);
    return (double)count / BN_SECONDS;
}

/* ---- aio clients ------------------------------------------------------------- */

struct aio_cl {
    aio_frame hdr;
    int port;
    aio_stream s;
    aio_connect op;
    unsigned char msg[BN_MSG], got[BN_MSG];
    long *count;
    const int *stop;
};

static int aio_client(aio_task *t, void *frame)
{
    struct aio_cl *f = (struct aio_cl *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    while (rc == 0 && !*f->stop) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->msg, BN_MSG);
        if (rc < 0)
            break;
        AIO_STREAM_READ_EXACT(rc, &f->s, f->got, BN_MSG);
        if (rc < 0)
            break;
        (*f->count)++;
        rc = 0;
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(0);
}

struct aio_drive {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[BN_MAXC];
    struct aio_cl cl[BN_MAXC];
    int nc, i, stop;
    long count;
    double t0;
};

static int aio_drive_fn(aio_task *t, void *frame)
{
    struct aio_drive *f = (struct aio_drive *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < f->nc; f->i++) {
        f->cl[f->i].count = &f->count;
        f->cl[f->i].stop = &f->stop;
        aio_spawn(&f->g, &f->tasks[f->i], aio_client, &f->cl[f->i]);
    }
    AIO_SLEEP(rc, (aio_time)(BN_WARMUP * 1e9));
    f->count = 0;
    AIO_SLEEP(rc, (aio_time)(BN_SECONDS * 1e9));
    f->stop = 1;
    f->t0 = (double)f->count / BN_SECONDS;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static double drive_aio(int port, int nc)
{
    static aio_loop loop;
    static aio_reactor io;
    static aio_task task;
    static struct aio_drive d;
    int i;
    memset(&d, 0, sizeof d);
    d.nc = nc;
    for (i = 0; i < nc; i++)
        d.cl[i].port = port;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    aio_run(&loop, &task, aio_drive_fn, &d);
    aio_loop_close(&loop);
    return d.t0;
}

int main(void)
{
    static struct aio_srv as;
    pthread_t th;
    double r[6];
    int nc[2] = { 1, 100 }, k;
    for (k = 0; k < 2; k++) {
        aio_srv_start(&as, &th);
        r[k * 3 + 1] = drive(as.port, nc[k]);
        aio_srv_stop(&as, th);
        aio_srv_start(&as, &th);
        r[k * 3 + 2] = drive_aio(as.port, nc[k]);
        aio_srv_stop(&as, th);
    }
    printf("### bench_net: echo round trips per second, loopback TCP, %d-byte messages\n\n", BN_MSG);
    printf("| server | client | 1 connection | 100 connections |\n|---|---|---|---|\n");
    printf("| aio_server (aio_net.h) | bare epoll | %.0f | %.0f |\n", r[1], r[4]);
    printf("| aio_server (aio_net.h) | aio tasks | %.0f | %.0f |\n", r[2], r[5]);
    printf("\n");
    printf("sizeof: aio_stream %zu, aio_connect %zu, aio_listener %zu, aio_conn %zu, aio_server %zu, aio_udp %zu, "
           "aio_sockaddr %zu\n",
           sizeof(aio_stream), sizeof(aio_connect), sizeof(aio_listener), sizeof(aio_conn), sizeof(aio_server),
           sizeof(aio_udp), sizeof(aio_sockaddr));
    return 0;
}
