/*
 * tests/test_net_faults.c - aio_net.h under injected faults (EINTR, EAGAIN,
 * short reads and writes, ECONNRESET) through the syscall hook, a 1 MiB
 * transfer, the cancellation contract of every blocking operation, and
 * misuse (two readers, close while waiting).
 */
#include "net_util.h"
#include <fcntl.h>
#include <sys/socket.h>

static void pair(int sv[2])
{
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* ---- 1 MiB with short reads and writes ----------------------------------- */

#define MIB (1024 * 1024)
static unsigned char big_src[MIB], big_dst[MIB];

struct mover {
    aio_frame hdr;
    aio_stream *s;
    int rc;
    size_t at;
    int gather;        /* the writer: AIO_STREAM_WRITEV of five pieces */
    struct iovec v[5];
};

static int big_writer(aio_task *t, void *frame)
{
    struct mover *f = (struct mover *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->gather) {
        size_t cut[6] = { 0, 1, MIB / 3, MIB / 3, MIB / 2 + 7, MIB }; /* one piece empty */
        int i;
        for (i = 0; i < 5; i++) {
            f->v[i].iov_base = big_src + cut[i];
            f->v[i].iov_len = cut[i + 1] - cut[i];
        }
        AIO_STREAM_WRITEV(rc, f->s, f->v, 5);
    } else {
        AIO_STREAM_WRITE_ALL(rc, f->s, big_src, MIB);
    }
    f->rc = rc;
    aio_stream_shutdown_write(f->s);
    AIO_END(0);
}

static int big_reader(aio_task *t, void *frame)
{
    struct mover *f = (struct mover *)frame;
    int rc;
    AIO_BEGIN(t, f);
    while (f->at < MIB) { /* read_some in odd sizes, then read_exact for the rest */
        if (f->at < MIB / 2)
            AIO_STREAM_READ_SOME(rc, f->s, big_dst + f->at, 1000);
        else
            AIO_STREAM_READ_EXACT(rc, f->s, big_dst + f->at, MIB - f->at);
        if (rc < 0)
            break;
        f->at += (size_t)rc;
    }
    AIO_STREAM_READ_SOME(rc, f->s, big_dst, 1); /* then the end */
    f->rc = rc;
    AIO_END(0);
}

struct m_two {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    struct mover w, r;
};

static int m_two_fn(aio_task *t, void *frame)
{
    struct m_two *f = (struct m_two *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, big_writer, &f->w);
    aio_spawn(&f->g, &f->b, big_reader, &f->r);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static void one_mib(int gather)
{
    static struct m_two m;
    static aio_stream a, b;
    static struct faults fw, fr;
    static aio_net_ops ow, orr;
    static unsigned char rbuf[777];
    int sv[2], i;
    for (i = 0; i < MIB; i++)
        big_src[i] = (unsigned char)(i * 131u + (i >> 9));
    memset(big_dst, 0, sizeof big_dst);
    memset(&m, 0, sizeof m);
    memset(&fw, 0, sizeof fw);
    memset(&fr, 0, sizeof fr);
    m.w.gather = gather;
    fw.short_send = 3000;
    fw.eintr_send = 5;
    fw.eagain_send = 3;
    fw.rng = 7;
    fr.short_recv = 1500;
    fr.eintr_recv = 4;
    fr.eagain_recv = 2;
    fr.rng = 11;
    faults_ops(&ow, &fw);
    faults_ops(&orr, &fr);
    pair(sv);
    aio_stream_init(&a, sv[0], NULL, 0);
    aio_stream_init(&b, sv[1], rbuf, sizeof rbuf);
    aio_stream_set_ops(&a, &ow);
    aio_stream_set_ops(&b, &orr);
    m.w.s = &a;
    m.r.s = &b;
    CHECK_EQ(net_run(m_two_fn, &m), 0);
    CHECK_EQ(m.w.rc, MIB);
    CHECK_EQ(aio_stream_written(&a), MIB);
    CHECK_EQ(m.r.at, MIB);
    CHECK_EQ(m.r.rc, AIO_EEND);
    CHECK(memcmp(big_src, big_dst, MIB) == 0);
    CHECK(fw.send_calls > MIB / 3000); /* the writes really were short */
    CHECK(fr.recv_calls > MIB / 1500);
    CHECK_EQ(fw.eintr_send + fw.eagain_send + fr.eintr_recv + fr.eagain_recv, 0); /* all injected */
    aio_stream_close(&L, &a);
    aio_stream_close(&L, &b);
}

TEST(one_mib_arrives_intact_through_short_reads_writes_eintr_and_eagain)
{
    one_mib(0);
}

TEST(one_mib_gathered_arrives_intact_through_short_writes_eintr_and_eagain)
{
    one_mib(1);
}

/* ---- one operation at a time, in one task -------------------------------- */

enum { OP_READ_SOME, OP_READ_EXACT, OP_READ_LINE, OP_WRITEV, OP_WRITE_ALL, OP_ACCEPT, OP_UDP_RECV };

struct m_op {
    aio_frame hdr;
    int op;
    aio_stream *s;
    aio_listener *l;
    aio_udp *u;
    aio_stream acc;
    aio_scope sc;
    aio_time deadline;       /* 0: none */
    unsigned char *buf;
    size_t n;
    int rc;
    aio_time at;
    struct iovec v[3]; /* OP_WRITEV: buf[0..n) in three pieces */
};

static int m_op_fn(aio_task *t, void *frame)
{
    struct m_op *f = (struct m_op *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    if (f->deadline)
        aio_move_on_after(t, &f->sc, f->deadline);
    if (f->op == OP_READ_SOME)
        AIO_STREAM_READ_SOME(rc, f->s, f->buf, f->n);
    else if (f->op == OP_READ_EXACT)
        AIO_STREAM_READ_EXACT(rc, f->s, f->buf, f->n);
    else if (f->op == OP_READ_LINE)
        AIO_STREAM_READ_LINE(rc, f->s, f->n);
    else if (f->op == OP_WRITE_ALL)
        AIO_STREAM_WRITE_ALL(rc, f->s, f->buf, f->n);
    else if (f->op == OP_WRITEV)
        AIO_STREAM_WRITEV(rc, f->s, f->v, 3);
    else if (f->op == OP_ACCEPT)
        AIO_ACCEPT(rc, f->l, &f->acc, NULL);
    else if (f->op == OP_UDP_RECV)
        AIO_UDP_RECVFROM(rc, f->u, f->buf, f->n, NULL);
    f->rc = rc;
    if (f->deadline)
        aio_scope_exit(t, &f->sc, rc);
    f->at = aio_now(aio_task_loop(t));
    AIO_END(0);
}

static struct m_op mo;
static unsigned char opbuf[256 * 1024];

static void op_setup(int op, aio_stream *s, size_t n, aio_time deadline)
{
    memset(&mo, 0, sizeof mo);
    mo.op = op;
    mo.s = s;
    mo.buf = opbuf;
    mo.n = n;
    mo.deadline = deadline;
    mo.v[0].iov_base = opbuf;
    mo.v[0].iov_len = n / 3;
    mo.v[1].iov_base = opbuf + n / 3;
    mo.v[1].iov_len = n / 3;
    mo.v[2].iov_base = opbuf + 2 * (n / 3);
    mo.v[2].iov_len = n - 2 * (n / 3);
    aio_stream_init(&mo.acc, -1, NULL, 0);
}

TEST(injected_econnreset_is_reported_by_read)
{
    static aio_stream s;
    static struct faults fl;
    static aio_net_ops o;
    int sv[2];
    pair(sv);
    memset(&fl, 0, sizeof fl);
    fl.reset_recv = 1;
    faults_ops(&o, &fl);
    aio_stream_init(&s, sv[0], NULL, 0);
    aio_stream_set_ops(&s, &o);
    op_setup(OP_READ_SOME, &s, 10, 0);
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, -ECONNRESET);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(injected_eintr_on_connect_is_retried)
{
    static aio_stream s;
    static aio_connect op;
    static struct faults fl;
    static aio_net_ops o;
    aio_listener l;
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    memset(&fl, 0, sizeof fl);
    fl.eintr_connect = 2;
    faults_ops(&o, &fl);
    aio_stream_init(&s, -1, NULL, 0);
    aio_stream_set_ops(&s, &o);
    memset(&op, 0, sizeof op);
    aio__connect_setup(&op, &s, "127.0.0.1", l.port, NULL, NULL); /* what AIO_TCP_CONNECT does */
    CHECK_EQ(net_run(aio_connect_run, &op), 0);
    CHECK(s.fd >= 0);
    CHECK_EQ(fl.eintr_connect, 0);
    aio_stream_close(&L, &s);
    aio_listener_close(&L, &l);
}

/* Pre-cancelled: no system call is made. */
static int m_precancelled_fn(aio_task *t, void *frame)
{
    struct m_op *f = (struct m_op *)frame;
    aio_task_cancel(t);
    return m_op_fn(t, f);
}

TEST(pre_cancelled_read_and_write_make_no_system_call)
{
    static aio_stream s;
    static struct faults fl;
    static aio_net_ops o;
    int sv[2], op;
    pair(sv);
    memset(&fl, 0, sizeof fl);
    faults_ops(&o, &fl);
    aio_stream_init(&s, sv[0], NULL, 0);
    aio_stream_set_ops(&s, &o);
    CHECK_EQ(write(sv[1], "data", 4), 4);
    for (op = OP_READ_SOME; op <= OP_WRITE_ALL; op++) {
        static unsigned char lb[64];
        aio_stream_set_buffer(&s, lb, sizeof lb);
        op_setup(op, &s, op == OP_READ_LINE ? 64 : 4, 0);
        net_run(m_precancelled_fn, &mo);
        CHECK_EQ(mo.rc, AIO_ECANCELED);
    }
    CHECK_EQ(fl.recv_calls + fl.send_calls, 0);
    CHECK_EQ(recv(sv[0], opbuf, sizeof opbuf, MSG_DONTWAIT), 4); /* the data is still there */
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(cancelled_read_some_consumes_nothing_and_leaves_nothing_registered)
{
    static aio_stream s;
    int sv[2];
    pair(sv);
    aio_stream_init(&s, sv[0], NULL, 0);
    op_setup(OP_READ_SOME, &s, 10, AIO_SEC(1));
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK_EQ(mo.at, AIO_SEC(1));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(s.rd.phase, AIO__PH_IDLE);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(cancelled_read_exact_reports_the_bytes_it_stored)
{
    static aio_stream s;
    int sv[2];
    pair(sv);
    aio_stream_init(&s, sv[0], NULL, 0);
    CHECK_EQ(write(sv[1], "abc", 3), 3);
    op_setup(OP_READ_EXACT, &s, 10, AIO_SEC(1));
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK_EQ(aio_stream_nread(&s), 3);
    CHECK(memcmp(opbuf, "abc", 3) == 0);
    CHECK_EQ(test_fd_waits(&L), 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(cancelled_read_line_keeps_the_partial_line_buffered)
{
    static aio_stream s;
    static unsigned char lb[64];
    int sv[2];
    pair(sv);
    aio_stream_init(&s, sv[0], lb, sizeof lb);
    CHECK_EQ(write(sv[1], "par", 3), 3);
    op_setup(OP_READ_LINE, &s, 64, AIO_SEC(1));
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK_EQ(aio_stream_buffered(&s), 3);
    CHECK_EQ(test_fd_waits(&L), 0);
    /* the rest arrives: the next read_line returns the whole line */
    CHECK_EQ(write(sv[1], "tial\n", 5), 5);
    op_setup(OP_READ_LINE, &s, 64, 0);
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, 8);
    CHECK(memcmp(aio_stream_line(&s), "partial\n", 8) == 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(read_line_longer_than_the_limit_is_eoverflow_and_stays_buffered)
{
    static aio_stream s;
    static unsigned char lb[16];
    int sv[2];
    pair(sv);
    aio_stream_init(&s, sv[0], lb, sizeof lb);
    CHECK_EQ(write(sv[1], "0123456789\n", 11), 11);
    op_setup(OP_READ_LINE, &s, 8, 0);
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ETOOLONG);
    CHECK_EQ(aio_stream_buffered(&s), 11);
    op_setup(OP_READ_SOME, &s, 100, 0);    /* the bytes are still readable */
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, 11);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

static void cancelled_write_reports_how_much_it_wrote(int op)
{
    static aio_stream s;
    int sv[2], sz = 4096;
    pair(sv);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    aio_stream_init(&s, sv[0], NULL, 0);
    op_setup(op, &s, sizeof opbuf, AIO_SEC(1)); /* more than the socket holds */
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK(aio_stream_written(&s) > 0);
    CHECK(aio_stream_written(&s) < sizeof opbuf);
    {
        /* exactly that many bytes arrive at the peer */
        size_t got = 0;
        long n;
        while ((n = recv(sv[1], opbuf, sizeof opbuf, MSG_DONTWAIT)) > 0)
            got += (size_t)n;
        CHECK_EQ(got, aio_stream_written(&s));
    }
    CHECK_EQ(test_fd_waits(&L), 0);
    aio_stream_close(&L, &s);
    close(sv[1]);
}

TEST(cancelled_write_all_reports_how_much_it_wrote)
{
    cancelled_write_reports_how_much_it_wrote(OP_WRITE_ALL);
}

TEST(cancelled_gather_write_reports_how_much_it_wrote)
{
    cancelled_write_reports_how_much_it_wrote(OP_WRITEV);
}

TEST(cancelled_accept_accepts_nothing)
{
    static aio_listener l;
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    op_setup(OP_ACCEPT, NULL, 0, AIO_MS(500));
    mo.l = &l;
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK_EQ(mo.acc.fd, -1);
    CHECK_EQ(test_fd_waits(&L), 0);
    aio_listener_close(&L, &l);
}

TEST(cancelled_udp_recvfrom_receives_nothing)
{
    static aio_udp u;
    memset(&u, 0, sizeof u);
    CHECK_EQ(aio_udp_bind(&u, "127.0.0.1", 0), 0);
    op_setup(OP_UDP_RECV, NULL, 64, AIO_MS(500));
    mo.u = &u;
    CHECK_EQ(net_run(m_op_fn, &mo), 0);
    CHECK_EQ(mo.rc, AIO_ECANCELED);
    CHECK_EQ(test_fd_waits(&L), 0);
    aio_udp_close(&L, &u);
}

/* ---- two readers; close while waiting ------------------------------------ */

struct m_rr {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    struct m_op r1, r2;
    aio_stream *s;
    int closer;
};

static int m_rr_fn(aio_task *t, void *frame)
{
    struct m_rr *f = (struct m_rr *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->a, m_op_fn, &f->r1);
    if (!f->closer)
        aio_spawn(&f->g, &f->b, m_op_fn, &f->r2);
    AIO_SLEEP(rc, AIO_MS(10));
    aio_stream_close(aio_task_loop(t), f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(second_reader_is_ebusy_and_close_wakes_the_first_with_eclosed)
{
    static struct m_rr m;
    static aio_stream s;
    static unsigned char b1[8], b2[8];
    int sv[2];
    pair(sv);
    aio_stream_init(&s, sv[0], NULL, 0);
    memset(&m, 0, sizeof m);
    m.s = &s;
    m.r1.op = m.r2.op = OP_READ_SOME;
    m.r1.s = m.r2.s = &s;
    m.r1.buf = b1;
    m.r2.buf = b2;
    m.r1.n = m.r2.n = 8;
    CHECK_EQ(net_run(m_rr_fn, &m), 0);
    CHECK(m.r1.rc == AIO_ECLOSED || m.r2.rc == AIO_ECLOSED);
    CHECK(m.r1.rc == AIO_EBUSY || m.r2.rc == AIO_EBUSY);
    CHECK_EQ(test_fd_waits(&L), 0);
    close(sv[1]);
}

int main(void)
{
    net_watchdog(60);
    RUN(one_mib_arrives_intact_through_short_reads_writes_eintr_and_eagain);
    RUN(one_mib_gathered_arrives_intact_through_short_writes_eintr_and_eagain);
    RUN(injected_econnreset_is_reported_by_read);
    RUN(injected_eintr_on_connect_is_retried);
    RUN(pre_cancelled_read_and_write_make_no_system_call);
    RUN(cancelled_read_some_consumes_nothing_and_leaves_nothing_registered);
    RUN(cancelled_read_exact_reports_the_bytes_it_stored);
    RUN(cancelled_read_line_keeps_the_partial_line_buffered);
    RUN(read_line_longer_than_the_limit_is_eoverflow_and_stays_buffered);
    RUN(cancelled_write_all_reports_how_much_it_wrote);
    RUN(cancelled_gather_write_reports_how_much_it_wrote);
    RUN(cancelled_accept_accepts_nothing);
    RUN(cancelled_udp_recvfrom_receives_nothing);
    RUN(second_reader_is_ebusy_and_close_wakes_the_first_with_eclosed);
    return harness_report();
}
