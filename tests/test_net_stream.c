/*
 * tests/test_net_stream.c - aio_net.h stream additions: buffered writes and
 * flush (their order, their send count, a cancelled flush that keeps its
 * bytes), gather writes (short writes across pieces, buffered bytes first,
 * a cancelled one, bad arguments), the would-block query and the lingering
 * close.  Socket pairs and
 * loopback TCP; the virtual clock for every time asserted.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The gather calls the stream makes, counted on their way to the real ones. */
static int nsendmsg, nwritev;
static ssize_t count_sendmsg(int fd, const struct msghdr *m, int fl) { nsendmsg++; return sendmsg(fd, m, fl); }
static ssize_t count_writev(int fd, const struct iovec *v, int n) { nwritev++; return writev(fd, v, n); }
#define AIO_SYS_sendmsg count_sendmsg
#define AIO_SYS_writev count_writev

#include "net_util.h"
#include <fcntl.h>

/* Counts the sends the stream makes, forwarding to the real calls. */
static int nsends;
static long count_send(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx;
    nsends++;
    return aio_net_sys_ops()->send(NULL, fd, buf, len);
}
static aio_net_ops counting;

static void pair(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
}

/* Reads what is there on the (non-blocking) peer end. */
static int drain(int fd, unsigned char *out, int cap)
{
    int n = 0;
    for (;;) {
        ssize_t k = read(fd, out + n, (size_t)(cap - n));
        if (k <= 0)
            return n;
        n += (int)k;
    }
}

static aio_stream s;
static unsigned char wb[256];
static unsigned char got[4096];

/* ---- buffered writes ------------------------------------------------------ */

struct m_bw {
    aio_frame hdr;
    int i, sends_before_flush, buffered_before_flush, peer_before_flush, rc, fl;
    int peer;
};

static int m_bw_fn(aio_task *t, void *frame)
{
    struct m_bw *f = (struct m_bw *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 50 && rc >= 0; f->i++)
        AIO_STREAM_WRITE(rc, &s, "abc", 3);
    f->rc = rc;
    f->sends_before_flush = nsends;
    f->buffered_before_flush = (int)aio_stream_wbuffered(&s);
    f->peer_before_flush = drain(f->peer, got, sizeof got);
    AIO_STREAM_FLUSH(rc, &s);
    f->fl = rc;
    AIO_END(0);
}

TEST(buffered_writes_reach_the_peer_in_one_send_at_the_flush)
{
    static struct m_bw m;
    int sv[2], i, n;
    memset(&m, 0, sizeof m);
    pair(sv);
    counting = *aio_net_sys_ops();
    counting.send = count_send;
    nsends = 0;
    CHECK_EQ(aio_stream_init(&s, sv[0], NULL, 0), 0);
    aio_stream_set_ops(&s, &counting);
    CHECK_EQ(aio_stream_set_wbuffer(&s, wb, sizeof wb), 0);
    m.peer = sv[1];
    CHECK_EQ(net_run(m_bw_fn, &m), 0);
    CHECK_EQ(m.rc, 3);
    CHECK_EQ(m.sends_before_flush, 0);
    CHECK_EQ(m.buffered_before_flush, 150);
    CHECK_EQ(m.peer_before_flush, 0);
    CHECK_EQ(m.fl, 0);
    CHECK_EQ(nsends, 1);
    CHECK_EQ(aio_stream_wbuffered(&s), 0);
    n = drain(sv[1], got, sizeof got);
    CHECK_EQ(n, 150);
    for (i = 0; i < n; i++)
        CHECK_EQ(got[i], "abc"[i % 3]);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

struct m_order {
    aio_frame hdr;
    unsigned char big[100];
    int r1, r2, r3, r4;
};

static int m_order_fn(aio_task *t, void *frame)
{
    struct m_order *f = (struct m_order *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_WRITE(rc, &s, "hello ", 6);
    f->r1 = rc;
    AIO_STREAM_WRITE_ALL(rc, &s, "world", 5);   /* sends the buffer first */
    f->r2 = rc;
    AIO_STREAM_WRITE(rc, &s, "0123456789", 10);
    f->r3 = rc;
    memset(f->big, 'b', sizeof f->big);
    AIO_STREAM_WRITE(rc, &s, f->big, sizeof f->big); /* larger than the 16-byte buffer: direct */
    f->r4 = rc;
    AIO_END(0);
}

TEST(writes_keep_their_order_and_a_write_larger_than_the_buffer_goes_direct)
{
    static struct m_order m;
    static unsigned char small[16];
    int sv[2], n;
    memset(&m, 0, sizeof m);
    pair(sv);
    counting = *aio_net_sys_ops();
    counting.send = count_send;
    nsends = 0;
    CHECK_EQ(aio_stream_init(&s, sv[0], NULL, 0), 0);
    aio_stream_set_ops(&s, &counting);
    CHECK_EQ(aio_stream_set_wbuffer(&s, small, sizeof small), 0);
    CHECK_EQ(net_run(m_order_fn, &m), 0);
    CHECK_EQ(m.r1, 6);
    CHECK_EQ(m.r2, 5);
    CHECK_EQ(m.r3, 10);
    CHECK_EQ(m.r4, 100);
    CHECK_EQ(nsends, 4);                  /* "hello ", "world", the 10 buffered, the 100 direct */
    CHECK_EQ(aio_stream_wbuffered(&s), 0);
    n = drain(sv[1], got, sizeof got);
    CHECK_EQ(n, 121);
    CHECK(memcmp(got, "hello world0123456789", 21) == 0);
    CHECK(got[21] == 'b' && got[120] == 'b');
    CHECK_EQ(aio_stream_set_wbuffer(&s, NULL, 0), 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

/* ---- a cancelled flush keeps what it did not send ------------------------- */

#define BIG (1 << 20)
static unsigned char bigbuf[2 * BIG];
static unsigned char pattern[BIG];

struct cf_peer {
    aio_frame hdr;
    int nread;
    aio_stream ps;
    unsigned char rb[8192];
    int corrupt;
};

struct m_cf {
    aio_frame hdr;
    aio_scope sc;
    aio_group g;
    aio_task reader;
    int w, fl1, fl2, written, left;
    aio_time at;
    struct cf_peer p;
};

static int cf_reader(aio_task *t, void *frame)
{
    struct cf_peer *f = (struct cf_peer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    while (f->nread < BIG) {
        AIO_STREAM_READ_SOME(rc, &f->ps, f->rb, sizeof f->rb);
        if (rc < 0)
            AIO_RETURN(rc);
        if (memcmp(f->rb, pattern + f->nread, (size_t)rc) != 0)
            f->corrupt = 1;
        f->nread += rc;
    }
    AIO_END(0);
}

static int m_cf_fn(aio_task *t, void *frame)
{
    struct m_cf *f = (struct m_cf *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_WRITE(rc, &s, pattern, BIG);
    f->w = rc;
    aio_move_on_after(t, &f->sc, AIO_SEC(1));
    AIO_STREAM_FLUSH(rc, &s);                   /* nobody reads: cut at 1 s */
    f->fl1 = rc;
    f->written = (int)aio_stream_written(&s);
    f->left = (int)aio_stream_wbuffered(&s);
    aio_scope_exit(t, &f->sc, rc);
    f->at = aio_now(aio_task_loop(t));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->reader, cf_reader, &f->p);
    AIO_STREAM_FLUSH(rc, &s);                   /* the rest, while the peer reads */
    f->fl2 = rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_cancelled_flush_keeps_the_unsent_bytes_for_the_next_one)
{
    static struct m_cf m;
    int sv[2], i;
    memset(&m, 0, sizeof m);
    for (i = 0; i < BIG; i++)
        pattern[i] = (unsigned char)(i * 31 + i / 251);
    pair(sv);
    CHECK_EQ(aio_stream_init(&s, sv[0], NULL, 0), 0);
    CHECK_EQ(aio_stream_set_wbuffer(&s, bigbuf, sizeof bigbuf), 0);
    CHECK_EQ(aio_stream_init(&m.p.ps, sv[1], NULL, 0), 0);
    CHECK_EQ(net_run(m_cf_fn, &m), 0);
    CHECK_EQ(m.w, BIG);
    CHECK_EQ(m.fl1, AIO_ECANCELED);
    CHECK_EQ(m.at, AIO_SEC(1));
    CHECK(m.written > 0 && m.written < BIG); /* the socket buffer took some */
    CHECK_EQ(m.left, BIG - m.written);
    CHECK_EQ(m.fl2, 0);
    CHECK_EQ(m.p.nread, BIG);
    CHECK_EQ(m.p.corrupt, 0);
    CHECK_EQ(aio_stream_wbuffered(&s), 0);
    aio_stream_close(&L, &s);
    aio_stream_close(&L, &m.p.ps);
}

/* ---- gather writes -------------------------------------------------------- */

#define GV_BIG (300 * 1024) /* more than a socket pair's buffers: short writes */
static unsigned char gv_a[GV_BIG], gv_b[7], gv_c[GV_BIG / 3], gv_got[GV_BIG + GV_BIG / 3 + 64];

struct m_gv {
    aio_frame hdr;
    struct iovec v[6];
    aio_stream *s;
    int peer, at, wrc, rrc, pre;
    aio_group g;
    aio_task w, r;
};

/* The writer's and reader's frames: a header, then the shared state. */
struct gv_sub { aio_frame hdr; struct m_gv *f; };
static struct gv_sub gv_wf, gv_rf;

static int m_gv_writer(aio_task *t, void *frame)
{
    struct m_gv *f = ((struct gv_sub *)frame)->f;
    int rc;
    AIO_BEGIN(t, frame);
    AIO_STREAM_WRITE(rc, f->s, "<", 1); /* buffered (when the stream has a buffer): goes first */
    f->pre = rc;
    AIO_STREAM_WRITEV(rc, f->s, f->v, 6);
    f->wrc = rc;
    if (aio_stream_shutdown_write(f->s) != 0) /* a pipe: the end of stream is the close */
        aio_stream_close(aio_task_loop(t), f->s);
    AIO_END(0);
}

static int m_gv_reader(aio_task *t, void *frame)
{
    struct m_gv *f = ((struct gv_sub *)frame)->f;
    AIO_BEGIN(t, frame);
    for (;;) {
        ssize_t k = read(f->peer, gv_got + f->at, sizeof gv_got - (size_t)f->at);
        if (k > 0) {
            f->at += (int)k;
        } else if (k == 0) {
            break;
        } else {
            int rc;
            AIO_WAIT_READABLE(rc, f->peer);
            if (rc != 0)
                break;
        }
    }
    AIO_END(0);
}

static int m_gv_fn(aio_task *t, void *frame)
{
    struct m_gv *f = (struct m_gv *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    gv_wf.f = gv_rf.f = f;
    aio_spawn(&f->g, &f->w, m_gv_writer, &gv_wf);
    aio_spawn(&f->g, &f->r, m_gv_reader, &gv_rf);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* Runs one gather write of six pieces (two empty) to the peer end, and
 * checks the peer got "<" (when buffered) and then every piece in order. */
static void gather_once(const aio_net_ops *ops, int buffered)
{
    static struct m_gv m;
    static aio_stream st;
    size_t want = 0, i, at = 0;
    int sv[2];
    memset(&m, 0, sizeof m);
    memset(&gv_wf, 0, sizeof gv_wf);
    memset(&gv_rf, 0, sizeof gv_rf);
    for (i = 0; i < GV_BIG; i++)
        gv_a[i] = (unsigned char)(i * 7u + (i >> 8));
    for (i = 0; i < sizeof gv_c; i++)
        gv_c[i] = (unsigned char)(i * 13u + 5u);
    memcpy(gv_b, "-middle", 7);
    m.v[0].iov_base = NULL; m.v[0].iov_len = 0;
    m.v[1].iov_base = gv_a; m.v[1].iov_len = GV_BIG;
    m.v[2].iov_base = gv_b; m.v[2].iov_len = 0;
    m.v[3].iov_base = gv_b; m.v[3].iov_len = 7;
    m.v[4].iov_base = gv_c; m.v[4].iov_len = sizeof gv_c;
    m.v[5].iov_base = (void *)"!"; m.v[5].iov_len = 1;
    for (i = 0; i < 6; i++)
        want += m.v[i].iov_len;
    pair(sv);
    CHECK_EQ(aio_stream_init(&st, sv[0], NULL, 0), 0);
    if (ops)
        aio_stream_set_ops(&st, ops);
    if (buffered)
        CHECK_EQ(aio_stream_set_wbuffer(&st, wb, sizeof wb), 0);
    m.s = &st;
    m.peer = sv[1];
    CHECK_EQ(net_run(m_gv_fn, &m), 0);
    CHECK_EQ(m.pre, 1);
    CHECK_EQ(m.wrc, (int)want);
    CHECK_EQ(aio_stream_written(&st), want);
    CHECK_EQ(m.at, (int)want + 1);
    CHECK_EQ(gv_got[at++], '<');
    CHECK(memcmp(gv_got + at, gv_a, GV_BIG) == 0);
    at += GV_BIG;
    CHECK(memcmp(gv_got + at, "-middle", 7) == 0);
    at += 7;
    CHECK(memcmp(gv_got + at, gv_c, sizeof gv_c) == 0);
    at += sizeof gv_c;
    CHECK_EQ(gv_got[at], '!');
    aio_stream_close(&L, &st);
    close(sv[1]);
}

TEST(a_gather_write_sends_every_piece_in_order_through_short_writes)
{
    nsends = nsendmsg = nwritev = 0;
    gather_once(NULL, 1);           /* the real calls: sendmsg, buffered "<" first */
    CHECK_EQ(nsends, 0);
    CHECK(nsendmsg >= 2);           /* more than a socket buffer: several gathers */
    CHECK(nsendmsg < 100);          /* ... of many pieces each, not one per piece */
    CHECK_EQ(nwritev, 0);
    nsendmsg = 0;
    counting = *aio_net_sys_ops();  /* a table of its own: one piece per send */
    counting.send = count_send;
    gather_once(&counting, 0);
    CHECK(nsends >= 5);             /* "<", then at least one send per nonempty piece */
    CHECK_EQ(nsendmsg, 0);
}

TEST(a_gather_write_to_a_pipe_uses_writev)
{
    static aio_stream st;
    static struct m_gv m;
    int p[2];
    memset(&m, 0, sizeof m);
    memset(&gv_wf, 0, sizeof gv_wf);
    memset(&gv_rf, 0, sizeof gv_rf);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK), 0);
    CHECK_EQ(aio_stream_init(&st, p[1], NULL, 0), 0);
    m.v[0].iov_base = (void *)"ab"; m.v[0].iov_len = 2;
    m.v[1].iov_base = (void *)"cde"; m.v[1].iov_len = 3;
    m.s = &st;
    m.peer = p[0];
    nwritev = 0;
    CHECK_EQ(net_run(m_gv_fn, &m), 0); /* v[2..5] are empty */
    CHECK_EQ(nwritev, 1);
    CHECK_EQ(m.wrc, 5);
    CHECK_EQ(m.at, 6);
    CHECK(memcmp(gv_got, "<abcde", 6) == 0);
    aio_stream_close(&L, &st);
    close(p[0]);
}

struct m_gvbad {
    aio_frame hdr;
    struct iovec v[2];
    int r[6];
};

static int m_gvbad_fn(aio_task *t, void *frame)
{
    struct m_gvbad *f = (struct m_gvbad *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_WRITEV(rc, &s, f->v, -1);
    f->r[0] = rc;
    AIO_STREAM_WRITEV(rc, &s, (const struct iovec *)NULL, 1);
    f->r[1] = rc;
    AIO_STREAM_WRITEV(rc, &s, f->v, AIO_STREAM_IOV_MAX + 1);
    f->r[2] = rc;
    f->v[0].iov_base = NULL; /* a NULL piece of nonzero length */
    f->v[0].iov_len = 1;
    AIO_STREAM_WRITEV(rc, &s, f->v, 1);
    f->r[3] = rc;
    f->v[0].iov_base = (void *)"x";
    f->v[0].iov_len = (size_t)0x40000000;
    f->v[1].iov_base = (void *)"x";
    f->v[1].iov_len = (size_t)0x40000000; /* the total is over INT_MAX */
    AIO_STREAM_WRITEV(rc, &s, f->v, 2);
    f->r[4] = rc;
    AIO_STREAM_WRITEV(rc, &s, f->v, 0); /* nothing: a checkpoint */
    f->r[5] = rc;
    AIO_END(0);
}

TEST(a_gather_write_refuses_bad_arguments_and_sends_nothing)
{
    static struct m_gvbad m;
    int sv[2];
    unsigned char b[4];
    memset(&m, 0, sizeof m);
    pair(sv);
    CHECK_EQ(aio_stream_init(&s, sv[0], NULL, 0), 0);
    CHECK_EQ(net_run(m_gvbad_fn, &m), 0);
    CHECK_EQ(m.r[0], AIO_EINVAL);
    CHECK_EQ(m.r[1], AIO_EINVAL);
    CHECK_EQ(m.r[2], AIO_EINVAL);
    CHECK_EQ(m.r[3], AIO_EINVAL);
    CHECK_EQ(m.r[4], AIO_EINVAL);
    CHECK_EQ(m.r[5], 0);
    CHECK_EQ(drain(sv[1], b, sizeof b), 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

struct m_gvcan {
    aio_frame hdr;
    struct iovec v[2];
    aio_scope sc;
    int rc;
};

static int m_gvcan_fn(aio_task *t, void *frame)
{
    struct m_gvcan *f = (struct m_gvcan *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->sc, AIO_MS(10));
    AIO_STREAM_WRITEV(rc, &s, f->v, 2); /* the peer never reads: blocks, then cancelled */
    f->rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(a_cancelled_gather_write_reports_the_bytes_it_wrote)
{
    static struct m_gvcan m;
    static unsigned char sink[GV_BIG + GV_BIG / 3 + 64];
    int sv[2], n, total = 0;
    memset(&m, 0, sizeof m);
    pair(sv);
    CHECK_EQ(aio_stream_init(&s, sv[0], NULL, 0), 0);
    m.v[0].iov_base = gv_a; m.v[0].iov_len = GV_BIG;
    m.v[1].iov_base = gv_c; m.v[1].iov_len = sizeof gv_c;
    CHECK_EQ(net_run(m_gvcan_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_ECANCELED);
    CHECK(aio_stream_written(&s) > 0);
    CHECK(aio_stream_written(&s) < (size_t)GV_BIG);
    while ((n = drain(sv[1], sink + total, (int)sizeof sink - total)) > 0)
        total += n;
    CHECK_EQ((size_t)total, aio_stream_written(&s)); /* what it says it wrote is what arrived */
    CHECK(memcmp(sink, gv_a, (size_t)total) == 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

/* ---- would a read block? --------------------------------------------------- */

struct m_wb {
    aio_frame hdr;
    int some, rc;
    char buf[8];
};

static int m_wb_fn(aio_task *t, void *frame)
{
    struct m_wb *f = (struct m_wb *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->some)
        AIO_STREAM_READ_SOME(rc, &s, f->buf, sizeof f->buf);
    else
        AIO_STREAM_READ_LINE(rc, &s, 64);
    f->rc = rc;
    AIO_END(0);
}

TEST(read_would_block_sees_buffered_bytes_kernel_data_and_end_of_stream)
{
    static struct m_wb m;
    static unsigned char rb[64];
    int sv[2];
    aio_stream none;
    memset(&m, 0, sizeof m);
    pair(sv);
    memset(&none, 0, sizeof none);
    none.fd = -1;
    CHECK_EQ(aio_stream_read_would_block(&none), AIO_EINVAL);
    CHECK_EQ(aio_stream_init(&s, sv[0], rb, sizeof rb), 0);
    CHECK_EQ(aio_stream_read_would_block(&s), 1);
    CHECK_EQ(write(sv[1], "ab\ncd", 5), 5);
    CHECK_EQ(aio_stream_read_would_block(&s), 0); /* in the kernel */
    CHECK_EQ(net_run(m_wb_fn, &m), 0);
    CHECK_EQ(m.rc, 3);
    CHECK_EQ(aio_stream_buffered(&s), 2);
    CHECK_EQ(aio_stream_read_would_block(&s), 0); /* "cd" is buffered */
    m.some = 1;
    CHECK_EQ(net_run(m_wb_fn, &m), 0);
    CHECK_EQ(m.rc, 2);
    CHECK_EQ(aio_stream_read_would_block(&s), 1); /* all consumed */
    CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
    CHECK_EQ(aio_stream_read_would_block(&s), 0); /* end of stream is ready */
    aio_stream_close(&L, &s);
    close(sv[1]);
}

/* ---- lingering close -------------------------------------------------------- */

static aio_listener lst;

struct lg_cl {
    aio_frame hdr;
    aio_stream cs;
    aio_connect op;
    aio_time client_close_after;
    int crc, n;
    aio_time cend;
    char buf[64];
};

struct m_lg {
    aio_frame hdr;
    aio_group g;
    aio_task ct;
    aio_stream sv;
    aio_linger lg;
    aio_time linger_timeout;
    int lrc;
    aio_time lend;
    char buf[8];
    struct lg_cl c;
};

static int lg_client(aio_task *t, void *frame)
{
    struct lg_cl *f = (struct lg_cl *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->cs, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->cs, "127.0.0.1", lst.port);
    if (rc == 0)
        AIO_STREAM_WRITE_ALL(rc, &f->cs, "junk the server never reads", 27);
    if (rc >= 0)
        AIO_SLEEP(rc, f->client_close_after);
    while (rc >= 0) {
        AIO_STREAM_READ_SOME(rc, &f->cs, f->buf + f->n, sizeof f->buf - (size_t)f->n);
        if (rc > 0)
            f->n += rc;
    }
    f->crc = rc;
    f->cend = aio_now(aio_task_loop(t));
    aio_stream_close(aio_task_loop(t), &f->cs);
    AIO_END(0);
}

static int m_lg_fn(aio_task *t, void *frame)
{
    struct m_lg *f = (struct m_lg *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->ct, lg_client, &f->c);
    aio_stream_init(&f->sv, -1, NULL, 0);
    AIO_ACCEPT(rc, &lst, &f->sv, NULL);
    if (rc == 0)
        AIO_STREAM_READ_SOME(rc, &f->sv, f->buf, 4); /* reads a little of the junk */
    if (rc >= 0)
        AIO_STREAM_WRITE_ALL(rc, &f->sv, "bye", 3);
    AIO_STREAM_CLOSE_LINGER(rc, &f->lg, &f->sv, f->linger_timeout);
    f->lrc = rc;
    f->lend = aio_now(aio_task_loop(t));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_lingering_close_lets_the_peer_read_everything_and_end_cleanly)
{
    static struct m_lg m;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 4), 0);
    m.c.client_close_after = AIO_SEC(1);
    m.linger_timeout = AIO_SEC(5);
    CHECK_EQ(net_run(m_lg_fn, &m), 0);
    CHECK_EQ(m.c.crc, AIO_EEND);       /* not -ECONNRESET */
    CHECK_EQ(m.c.n, 3);
    CHECK(memcmp(m.c.buf, "bye", 3) == 0);
    CHECK_EQ(m.lrc, 0);              /* the peer closed at 1 s */
    CHECK_EQ(m.lend, AIO_SEC(1));
    CHECK_EQ(m.sv.fd, -1);
    aio_listener_close(&L, &lst);
    CHECK_EQ(test_fd_waits(&L), 0);
}

TEST(a_lingering_close_gives_up_at_its_timeout_and_closes_anyway)
{
    static struct m_lg m;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 4), 0);
    m.c.client_close_after = AIO_SEC(10);
    m.linger_timeout = AIO_SEC(2);
    CHECK_EQ(net_run(m_lg_fn, &m), 0);
    CHECK_EQ(m.lrc, AIO_ETIMEDOUT);
    CHECK_EQ(m.lend, AIO_SEC(2));
    CHECK_EQ(m.sv.fd, -1);
    CHECK_EQ(m.c.n, 3);                /* the client still read "bye" */
    CHECK(memcmp(m.c.buf, "bye", 3) == 0);
    aio_listener_close(&L, &lst);
}

int main(void)
{
    net_watchdog(60);
    RUN(buffered_writes_reach_the_peer_in_one_send_at_the_flush);
    RUN(writes_keep_their_order_and_a_write_larger_than_the_buffer_goes_direct);
    RUN(a_cancelled_flush_keeps_the_unsent_bytes_for_the_next_one);
    RUN(a_gather_write_sends_every_piece_in_order_through_short_writes);
    RUN(a_gather_write_to_a_pipe_uses_writev);
    RUN(a_gather_write_refuses_bad_arguments_and_sends_nothing);
    RUN(a_cancelled_gather_write_reports_the_bytes_it_wrote);
    RUN(read_would_block_sees_buffered_bytes_kernel_data_and_end_of_stream);
    RUN(a_lingering_close_lets_the_peer_read_everything_and_end_cleanly);
    RUN(a_lingering_close_gives_up_at_its_timeout_and_closes_anyway);
    return harness_report();
}
