/*
 * tests/test_net_cov.c - aio_net.h's argument errors and less travelled
 * paths: address formatting for every family, bad hosts, ports and paths,
 * streams over pipes, buffer compaction, busy and cancelled operations,
 * listen and accept errors, UDP errors.  Loopback only, virtual clock.
 */
#include "net_util.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ---- addresses ---------------------------------------------------------- */

TEST(sockaddr_format_every_family_and_reject_bad_input)
{
    aio_sockaddr a;
    char out[128], longpath[200];
    CHECK_EQ(aio_sockaddr_ip(&a, "::1", 8080), 0);
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "[::1]:8080") == 0);
    CHECK_EQ(aio_sockaddr_port(&a), 8080);
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", 9), 0);
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "127.0.0.1:9") == 0);
    CHECK_EQ(aio_sockaddr_unix(&a, "/tmp/aio-x.sock"), 0);
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "unix:/tmp/aio-x.sock") == 0);
    CHECK_EQ(aio_sockaddr_port(&a), -1);
    /* A length past the path field (a whole sockaddr_storage): the path is bounded by the field. */
    a.len = (socklen_t)sizeof a.ss;
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "unix:/tmp/aio-x.sock") == 0);
    /* A Unix address whose length stops before the path: an empty path. */
    a.len = 0;
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "unix:") == 0);
    memset(&a, 0, sizeof a);
    a.ss.ss_family = AF_UNSPEC;
    CHECK(strcmp(aio_sockaddr_format(&a, out, sizeof out), "?") == 0);
    /* No room: the buffer comes back untouched. */
    out[0] = 'z';
    CHECK(aio_sockaddr_format(&a, out, 0) == out);
    CHECK_EQ(out[0], 'z');
    CHECK(aio_sockaddr_format(&a, NULL, 10) == NULL);
    /* Bad input. */
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", 70000), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", -1), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_ip(&a, NULL, 80), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_ip(NULL, "127.0.0.1", 80), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_ip(&a, "not an address", 80), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_unix(&a, NULL), AIO_EINVAL);
    CHECK_EQ(aio_sockaddr_unix(&a, ""), AIO_EINVAL);
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    CHECK_EQ(aio_sockaddr_unix(&a, longpath), AIO_EINVAL);
}

TEST(listen_and_bind_reject_bad_arguments_and_report_os_errors)
{
    aio_listener l, l2;
    aio_udp u, u2;
    memset(&l, 0, sizeof l);
    memset(&l2, 0, sizeof l2);
    CHECK_EQ(aio_tcp_listen(NULL, "127.0.0.1", 0, 0), AIO_EINVAL);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 70000, 0), AIO_EINVAL);
    CHECK_EQ(aio_unix_listen(NULL, "/tmp/x", 0), AIO_EINVAL);
    CHECK_EQ(aio_unix_listen(&l, "", 0), AIO_EINVAL);
    CHECK_EQ(aio_unix_listen(&l, "/nonexistent-dir-aio/sock", 0), -ENOENT);
    CHECK_EQ(l.fd, -1);
    CHECK_EQ(aio_udp_bind(NULL, "127.0.0.1", 0), AIO_EINVAL);
    CHECK_EQ(aio_udp_bind(&u, "no such host", 0), AIO_EINVAL);
    CHECK_EQ(u.fd, -1);
    /* A port that is taken; a back-off set before listening is kept. */
    l.backoff = AIO_MS(5);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 0), 0);
    CHECK(l.port > 0);
    CHECK_EQ(l.backoff, AIO_MS(5));
    CHECK_EQ(aio_tcp_listen(&l2, "127.0.0.1", l.port, 0), -EADDRINUSE);
    CHECK_EQ(l2.fd, -1);
    CHECK_EQ(aio_udp_bind(&u, "127.0.0.1", 0), 0);
    CHECK_EQ(aio_udp_bind(&u2, "127.0.0.1", u.port), -EADDRINUSE);
    CHECK_EQ(u2.fd, -1);
    test_loop_init(&L);
    CHECK_EQ(aio_udp_close(&L, &u), 0);
    CHECK_EQ(aio_listener_close(&L, &l), 0);
    aio_loop_close(&L);
}

/* ---- streams over a pipe ------------------------------------------------- */

struct pipeio {
    aio_frame hdr;
    aio_stream r, w;
    unsigned char buf[8];
    char got[16];
    int line1, line2, wrote, rc_zero, rc_nodst, rc_nobuf, rc_nosrc, rc_empty, rc_busy, shut;
    aio_group g;
    aio_task c;
    struct pipeio *self;
};
static int pipe_writer(aio_task *t, void *p)
{
    struct pipeio *f = (struct pipeio *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_WRITE_ALL(rc, &f->w, "ab\ncdefg", 8);
    f->wrote = rc;
    AIO_SLEEP(rc, AIO_MS(1));
    AIO_STREAM_WRITE_ALL(rc, &f->w, "h\n", 2);
    AIO_END(0);
}
struct pipe_child { aio_frame hdr; struct pipeio *io; char tmp[4]; int rc; };
static int pipe_second_reader(aio_task *t, void *p)
{
    struct pipe_child *f = (struct pipe_child *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_SOME(rc, &f->io->r, f->tmp, sizeof f->tmp);
    f->rc = rc;
    AIO_END(0);
}
struct pipe_main_f { aio_frame hdr; struct pipeio io; aio_group g; aio_task w, c; struct pipe_child pc; };
static int pipe_main(aio_task *t, void *p)
{
    struct pipe_main_f *m = (struct pipe_main_f *)p;
    struct pipeio *f = &m->io;
    int rc;
    AIO_BEGIN(t, m);
    AIO_STREAM_READ_SOME(rc, &f->r, f->got, 0);
    f->rc_zero = rc;
    AIO_STREAM_READ_SOME(rc, &f->r, NULL, 4);
    f->rc_nodst = rc;
    AIO_STREAM_WRITE_ALL(rc, &f->w, NULL, 4);
    f->rc_nosrc = rc;
    AIO_STREAM_WRITE_ALL(rc, &f->w, NULL, 0); /* nothing to write: done at once */
    f->rc_empty = rc;
    aio_group_enter(t, &m->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&m->g, &m->w, pipe_writer, f);
    /* The first line; the rest of the 8-byte buffer holds "cdefg". */
    AIO_STREAM_READ_LINE(rc, &f->r, 8);
    f->line1 = rc;
    /* The second line needs more room: the buffer is compacted, then filled. */
    m->pc.io = f;
    aio_spawn(&m->g, &m->c, pipe_second_reader, &m->pc);
    AIO_STREAM_READ_LINE(rc, &f->r, 8);
    f->line2 = rc;
    if (rc > 0)
        memcpy(f->got, aio_stream_line(&f->r), (size_t)rc);
    AIO_GROUP_WAIT(rc, &m->g, 0);
    AIO_END(rc);
}

TEST(pipe_streams_check_arguments_compact_the_buffer_and_refuse_a_second_reader)
{
    static struct pipe_main_f m;
    int p[2];
    memset(&m, 0, sizeof m);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(aio_stream_init(&m.io.r, p[0], m.io.buf, sizeof m.io.buf), 0);
    CHECK_EQ(aio_stream_init(&m.io.w, p[1], NULL, 0), 0);
    CHECK_EQ(net_run(pipe_main, &m), 0);
    CHECK_EQ(m.io.rc_zero, AIO_EINVAL);
    CHECK_EQ(m.io.rc_nodst, AIO_EINVAL);
    CHECK_EQ(m.io.rc_nosrc, AIO_EINVAL);
    CHECK_EQ(m.io.rc_empty, 0);
    CHECK_EQ(m.io.wrote, 8);
    CHECK_EQ(m.io.line1, 3);
    CHECK_EQ(m.io.line2, 7);
    CHECK(memcmp(m.io.got, "cdefgh\n", 7) == 0);
    CHECK_EQ(m.pc.rc, AIO_EBUSY); /* one reader at a time */
    /* Unread bytes pin the buffer. */
    m.io.r.rlen = 2;
    m.io.r.rpos = 0;
    CHECK_EQ(aio_stream_set_buffer(&m.io.r, NULL, 0), AIO_EBUSY);
    m.io.r.rlen = 0;
    CHECK_EQ(aio_stream_set_buffer(&m.io.r, NULL, 0), 0);
    /* A pipe cannot be shut down for writing; a closed stream is rejected. */
    CHECK_EQ(aio_stream_shutdown_write(&m.io.w), -ENOTSOCK);
    CHECK_EQ(aio_stream_close(&L, &m.io.w), 0);
    CHECK_EQ(aio_stream_shutdown_write(&m.io.w), AIO_EINVAL);
    CHECK_EQ(aio_stream_close(&L, &m.io.r), 0);
    aio_loop_close(&L);
}

/* Reads without a buffer, on a closed stream, and from a cancelled task. */
struct rdargs {
    aio_frame hdr;
    aio_stream s, closed;
    aio_scope sc;
    char tmp[4];
    int until_nobuf, closed_rc, cancelled_rc, wcancelled_rc;
};
static int rdargs_main(aio_task *t, void *p)
{
    struct rdargs *f = (struct rdargs *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_LINE(rc, &f->s, 4);
    f->until_nobuf = rc;
    AIO_STREAM_READ_SOME(rc, &f->closed, f->tmp, sizeof f->tmp);
    f->closed_rc = rc;
    aio_move_on_after(t, &f->sc, 0);
    AIO_STREAM_READ_SOME(rc, &f->s, f->tmp, sizeof f->tmp);
    f->cancelled_rc = rc;
    AIO_STREAM_WRITE_ALL(rc, &f->s, "x", 1);
    f->wcancelled_rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(stream_reads_without_a_buffer_on_a_closed_stream_or_cancelled_fail_with_codes)
{
    static struct rdargs f;
    int sv[2];
    memset(&f, 0, sizeof f);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(aio_stream_init(&f.s, sv[0], NULL, 0), 0);
    CHECK_EQ(aio_stream_init(&f.closed, -1, NULL, 0), 0);
    CHECK_EQ(net_run(rdargs_main, &f), 0);
    CHECK_EQ(f.until_nobuf, AIO_EINVAL);
    CHECK_EQ(f.closed_rc, AIO_EINVAL);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(f.wcancelled_rc, AIO_ECANCELED);
    aio_stream_close(&L, &f.s);
    close(sv[1]);
    aio_loop_close(&L);
}

/* ---- connect ------------------------------------------------------------- */

struct conns {
    aio_frame hdr;
    aio_connect op;
    aio_stream s, s2;
    aio_sockaddr a;
    aio_scope sc;
    int addr_rc, busy_rc, nopath_rc, cancelled_rc, nostream_rc;
};
static int conns_main(aio_task *t, void *p)
{
    struct conns *f = (struct conns *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_ADDR_CONNECT(rc, &f->op, &f->s, &f->a);
    f->addr_rc = rc;
    AIO_ADDR_CONNECT(rc, &f->op, &f->s, &f->a); /* the stream is already open */
    f->busy_rc = rc;
    AIO_UNIX_CONNECT(rc, &f->op, &f->s2, ""); /* no path, no host */
    f->nopath_rc = rc;
    AIO_ADDR_CONNECT(rc, &f->op, NULL, &f->a);
    f->nostream_rc = rc;
    aio_move_on_after(t, &f->sc, 0);
    AIO_ADDR_CONNECT(rc, &f->op, &f->s2, &f->a);
    f->cancelled_rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

TEST(connect_to_an_address_and_its_argument_and_cancel_errors)
{
    static struct conns f;
    aio_listener l;
    memset(&f, 0, sizeof f);
    memset(&l, 0, sizeof l);
    f.s.fd = f.s2.fd = -1;
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 0), 0);
    CHECK_EQ(aio_sockaddr_ip(&f.a, "127.0.0.1", l.port), 0);
    CHECK_EQ(net_run(conns_main, &f), 0);
    CHECK_EQ(f.addr_rc, 0);
    CHECK(f.s.fd >= 0);
    CHECK_EQ(f.busy_rc, AIO_EINVAL);
    CHECK_EQ(f.nopath_rc, AIO_EINVAL);
    CHECK_EQ(f.nostream_rc, AIO_EINVAL);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(f.s2.fd, -1);
    aio_stream_close(&L, &f.s);
    aio_listener_close(&L, &l);
    aio_loop_close(&L);
}

/* ---- accept -------------------------------------------------------------- */

struct accs { aio_frame hdr; aio_listener l, notl; aio_stream s, open; int open_rc, notl_rc; };
static int accs_main(aio_task *t, void *p)
{
    struct accs *f = (struct accs *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_ACCEPT(rc, &f->l, &f->open, NULL); /* the target stream is open */
    f->open_rc = rc;
    AIO_ACCEPT(rc, &f->notl, &f->s, NULL); /* a socket that does not listen */
    f->notl_rc = rc;
    AIO_END(0);
}

TEST(accept_into_an_open_stream_or_from_a_non_listening_socket_fails)
{
    static struct accs f;
    memset(&f, 0, sizeof f);
    f.s.fd = -1;
    f.open.fd = 0;
    CHECK_EQ(aio_tcp_listen(&f.l, "127.0.0.1", 0, 0), 0);
    f.notl.fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(f.notl.fd >= 0);
    fcntl(f.notl.fd, F_SETFL, fcntl(f.notl.fd, F_GETFL) | O_NONBLOCK);
    CHECK_EQ(net_run(accs_main, &f), 0);
    CHECK_EQ(f.open_rc, AIO_EINVAL);
    CHECK_EQ(f.notl_rc, -EINVAL);
    CHECK_EQ(f.s.fd, -1);
    aio_listener_close(&L, &f.l);
    close(f.notl.fd);
    aio_loop_close(&L);
}

/* ---- UDP ----------------------------------------------------------------- */

struct udps;
struct udp_sender { aio_frame hdr; struct udps *u; };
struct udps {
    aio_frame hdr;
    aio_udp a, b;
    aio_sockaddr to, from, v6;
    aio_group g;
    aio_task c;
    aio_scope sc;
    struct udp_sender snd;
    char buf[16], buf2[16];
    int recv_rc, recv2_rc, noaddr_rc, family_rc, cancelled_rc, nobuf_rc;
};
static int udp_late_sender(aio_task *t, void *p)
{
    struct udp_sender *f = (struct udp_sender *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(2));
    AIO_UDP_SENDTO(rc, &f->u->b, "ping", 4, &f->u->to);
    AIO_UDP_SENDTO(rc, &f->u->b, "pong", 4, &f->u->to);
    AIO_END(rc < 0 ? rc : 0);
}
static int udps_main(aio_task *t, void *p)
{
    struct udps *f = (struct udps *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_UDP_SENDTO(rc, &f->b, "x", 1, NULL);
    f->noaddr_rc = rc;
    AIO_UDP_SENDTO(rc, &f->b, NULL, 3, &f->to);
    f->nobuf_rc = rc;
    AIO_UDP_SENDTO(rc, &f->b, "x", 1, &f->v6); /* an IPv6 address on an IPv4 socket */
    f->family_rc = rc;
    aio_move_on_after(t, &f->sc, 0);
    AIO_UDP_RECVFROM(rc, &f->a, f->buf, sizeof f->buf, &f->from);
    f->cancelled_rc = rc;
    aio_scope_exit(t, &f->sc, rc);
    /* A receive that has to wait for the datagram. */
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->snd.u = f;
    aio_spawn(&f->g, &f->c, udp_late_sender, &f->snd);
    AIO_UDP_RECVFROM(rc, &f->a, f->buf, sizeof f->buf, &f->from);
    f->recv_rc = rc;
    AIO_UDP_RECVFROM(rc, &f->a, f->buf2, sizeof f->buf2, NULL); /* the source is not wanted */
    f->recv2_rc = rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(udp_waits_for_a_datagram_and_reports_send_errors)
{
    static struct udps f;
    char who[64];
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_udp_bind(&f.a, "127.0.0.1", 0), 0);
    CHECK_EQ(aio_udp_bind(&f.b, "127.0.0.1", 0), 0);
    CHECK_EQ(aio_sockaddr_ip(&f.to, "127.0.0.1", f.a.port), 0);
    CHECK_EQ(aio_sockaddr_ip(&f.v6, "::1", f.a.port), 0);
    f.a.ops = aio_net_sys_ops(); /* an explicit table: the same calls */
    CHECK_EQ(net_run(udps_main, &f), 0);
    CHECK_EQ(f.noaddr_rc, AIO_EINVAL);
    CHECK_EQ(f.nobuf_rc, AIO_EINVAL);
    CHECK(f.family_rc < 0 && f.family_rc != AIO_EAGAIN);
    CHECK_EQ(f.cancelled_rc, AIO_ECANCELED);
    CHECK_EQ(f.recv_rc, 4);
    CHECK(memcmp(f.buf, "ping", 4) == 0);
    CHECK_EQ(f.recv2_rc, 4);
    CHECK(memcmp(f.buf2, "pong", 4) == 0);
    CHECK_EQ(aio_sockaddr_port(&f.from), f.b.port);
    sprintf(who, "127.0.0.1:%d", f.b.port);
    CHECK(strcmp(aio_sockaddr_format(&f.from, who + 32, 32), who) == 0);
    CHECK_EQ(aio_now(&L), AIO_MS(2));
    CHECK_EQ(aio_udp_close(&L, &f.a), 0);
    CHECK_EQ(aio_udp_close(&L, &f.b), 0);
    CHECK_EQ(f.a.fd, -1);
    aio_loop_close(&L);
}

/* ---- a read served from the buffer, smaller than what is buffered ------- */

struct bufrd { aio_frame hdr; aio_stream s; unsigned char buf[32]; char two[2], three[3], more[4]; int line, exact, rest, exact3, end; };
static int bufrd_main(aio_task *t, void *p)
{
    struct bufrd *f = (struct bufrd *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf); /* reads all 11 bytes, returns the first line */
    f->line = rc;
    AIO_STREAM_READ_EXACT(rc, &f->s, f->two, sizeof f->two);
    f->exact = rc;
    f->rest = (int)aio_stream_buffered(&f->s);
    AIO_STREAM_READ_EXACT(rc, &f->s, f->three, sizeof f->three); /* the rest of the buffer */
    f->exact3 = rc;
    AIO_STREAM_READ_SOME(rc, &f->s, f->more, sizeof f->more); /* nothing buffered, peer done */
    f->end = rc;
    AIO_END(0);
}

TEST(a_read_smaller_than_the_buffered_bytes_takes_just_what_it_asked)
{
    static struct bufrd f;
    int sv[2];
    memset(&f, 0, sizeof f);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(write(sv[1], "hello\nworld", 11), 11);
    CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
    CHECK_EQ(aio_stream_init(&f.s, sv[0], f.buf, sizeof f.buf), 0);
    CHECK_EQ(net_run(bufrd_main, &f), 0);
    CHECK_EQ(f.line, 6);
    CHECK_EQ(f.exact, 2);
    CHECK(memcmp(f.two, "wo", 2) == 0);
    CHECK_EQ(f.rest, 3);
    CHECK_EQ(f.exact3, 3);
    CHECK(memcmp(f.three, "rld", 3) == 0);
    CHECK_EQ(f.end, AIO_EEND);
    aio_stream_close(&L, &f.s);
    close(sv[1]);
    aio_loop_close(&L);
}

/* ---- a listener closed while its accept is about to resume -------------- */

struct acl_acc { aio_frame hdr; aio_listener *l; aio_stream s; int rc; };
static int acl_acceptor(aio_task *t, void *p)
{
    struct acl_acc *f = (struct acl_acc *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_ACCEPT(rc, f->l, &f->s, NULL);
    f->rc = rc;
    AIO_END(0);
}
struct acl { aio_frame hdr; aio_listener l; aio_group g; aio_task ta; struct acl_acc a; int cfd; int connect_rc; };
static int acl_main(aio_task *t, void *p)
{
    struct acl *f = (struct acl *)p;
    aio_sockaddr a;
    int rc;
    AIO_BEGIN(t, f);
    f->a.l = &f->l;
    f->a.s.fd = -1;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->ta, acl_acceptor, &f->a);
    AIO_YIELD(); /* the acceptor waits for a connection */
    aio_sockaddr_ip(&a, "127.0.0.1", f->l.port);
    f->cfd = socket(AF_INET, SOCK_STREAM, 0);
    f->connect_rc = connect(f->cfd, (const struct sockaddr *)(const void *)&a.ss, a.len);
    AIO_YIELD(); /* the listener is readable: the acceptor is woken */
    aio_listener_close(aio_task_loop(t), &f->l);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(an_accept_whose_listener_closes_before_it_resumes_is_closed)
{
    static struct acl f;
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_tcp_listen(&f.l, "127.0.0.1", 0, 0), 0);
    CHECK_EQ(net_run(acl_main, &f), 0);
    CHECK_EQ(f.connect_rc, 0);
    CHECK_EQ(f.a.rc, AIO_ECLOSED);
    CHECK_EQ(f.a.s.fd, -1);
    CHECK_EQ(f.l.fd, -1);
    close(f.cfd);
    aio_loop_close(&L);
}

/* ---- a server shut down before it serves --------------------------------- */

static struct echo_conn srv_pool[2];

TEST(a_server_shut_down_before_serving_accepts_nothing)
{
    static aio_server srv;
    static aio_listener lst;
    memset(&lst, 0, sizeof lst);
    CHECK_EQ(aio_server_init(NULL, &lst, srv_pool, 2, sizeof srv_pool[0], echo_handler), AIO_EINVAL);
    CHECK_EQ(aio_server_init(&srv, &lst, srv_pool, 0, sizeof srv_pool[0], echo_handler), AIO_EINVAL);
    CHECK_EQ(aio_server_init(&srv, &lst, srv_pool, 2, 1, echo_handler), AIO_EINVAL);
    CHECK_EQ(aio_server_init(&srv, &lst, srv_pool, 2, sizeof srv_pool[0], NULL), AIO_EINVAL);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 0), 0);
    CHECK_EQ(aio_server_init(&srv, &lst, srv_pool, 2, sizeof srv_pool[0], echo_handler), 0);
    aio_server_shutdown(&srv, 0);
    aio_server_shutdown(&srv, 0); /* twice: nothing more */
    CHECK_EQ(net_run(aio_server_serve, &srv), 0);
    CHECK_EQ(srv.accepted, 0);
    CHECK_EQ(lst.fd, -1); /* the server closed its listener */
    aio_loop_close(&L);
}

/* ---- an accept into a stream with its own syscall table, no peer wanted -- */

struct accok { aio_frame hdr; aio_listener l; aio_stream s; int cfd; int rc; const aio_net_ops *ops_after; };
static int accok_main(aio_task *t, void *p)
{
    struct accok *f = (struct accok *)p;
    aio_sockaddr a;
    int rc;
    AIO_BEGIN(t, f);
    aio_sockaddr_ip(&a, "127.0.0.1", f->l.port);
    f->cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(f->cfd, (const struct sockaddr *)(const void *)&a.ss, a.len) != 0)
        AIO_RETURN(AIO_EINVAL);
    AIO_ACCEPT(rc, &f->l, &f->s, NULL);
    f->rc = rc;
    f->ops_after = f->s.ops;
    AIO_END(0);
}

TEST(an_accepted_stream_keeps_its_own_syscall_table)
{
    static struct accok f;
    memset(&f, 0, sizeof f);
    f.s.fd = -1;
    f.s.ops = aio_net_sys_ops();
    CHECK_EQ(aio_tcp_listen(&f.l, "127.0.0.1", 0, 0), 0);
    CHECK_EQ(net_run(accok_main, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK(f.s.fd >= 0);
    CHECK(f.ops_after == aio_net_sys_ops());
    aio_stream_close(&L, &f.s);
    aio_listener_close(&L, &f.l);
    close(f.cfd);
    aio_loop_close(&L);
}

/* ---- read_until: partial delimiters, a line past the limit, a cut line ---- */

struct until {
    aio_frame hdr;
    aio_stream s;
    unsigned char buf[16];
    int crlf, over, buffered, rest, cut, over2, exact;
    size_t exact_n;
    char line[16], four[4];
};
static int until_main(aio_task *t, void *p)
{
    struct until *f = (struct until *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\r\n", 2, sizeof f->buf); /* "a\rb\r\n": a lone \r first */
    f->crlf = rc;
    if (rc > 0)
        memcpy(f->line, aio_stream_line(&f->s), (size_t)rc);
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 1, 4); /* "long\n" needs 5 */
    f->over = rc;
    f->buffered = (int)aio_stream_buffered(&f->s);
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 1, 8);
    f->rest = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 1, 8); /* "cut" and the end of the stream */
    f->cut = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 1, 2); /* more buffered than the limit, no delimiter */
    f->over2 = rc;
    AIO_STREAM_READ_EXACT(rc, &f->s, f->four, sizeof f->four); /* 3 of 4, then the end */
    f->exact = rc;
    f->exact_n = aio_stream_nread(&f->s);
    AIO_END(0);
}

TEST(read_until_skips_partial_delimiters_and_reports_overflow_and_cut_lines)
{
    static struct until f;
    int sv[2];
    memset(&f, 0, sizeof f);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(write(sv[1], "a\rb\r\nlong\ncut", 13), 13);
    CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
    CHECK_EQ(aio_stream_init(&f.s, sv[0], f.buf, sizeof f.buf), 0);
    CHECK_EQ(net_run(until_main, &f), 0);
    CHECK_EQ(f.crlf, 5);
    CHECK(memcmp(f.line, "a\rb\r\n", 5) == 0);
    CHECK_EQ(f.over, AIO_ETOOLONG);
    CHECK_EQ(f.buffered, 8);  /* "long\ncut" stays buffered */
    CHECK_EQ(f.rest, 5);
    CHECK_EQ(f.cut, AIO_EEND);
    CHECK_EQ(f.over2, AIO_ETOOLONG);
    CHECK_EQ(f.exact, AIO_EEND);
    CHECK_EQ(f.exact_n, 3); /* the cut line's bytes were stored */
    CHECK(memcmp(f.four, "cut", 3) == 0);
    CHECK_EQ(aio_stream_buffered(&f.s), 0);
    aio_stream_close(&L, &f.s);
    close(sv[1]);
    aio_loop_close(&L);
}

int main(void)
{
    net_watchdog(30);
    RUN(sockaddr_format_every_family_and_reject_bad_input);
    RUN(listen_and_bind_reject_bad_arguments_and_report_os_errors);
    RUN(pipe_streams_check_arguments_compact_the_buffer_and_refuse_a_second_reader);
    RUN(stream_reads_without_a_buffer_on_a_closed_stream_or_cancelled_fail_with_codes);
    RUN(connect_to_an_address_and_its_argument_and_cancel_errors);
    RUN(accept_into_an_open_stream_or_from_a_non_listening_socket_fails);
    RUN(udp_waits_for_a_datagram_and_reports_send_errors);
    RUN(a_read_smaller_than_the_buffered_bytes_takes_just_what_it_asked);
    RUN_ONCE(an_accept_whose_listener_closes_before_it_resumes_is_closed);
    RUN(a_server_shut_down_before_serving_accepts_nothing);
    RUN(an_accepted_stream_keeps_its_own_syscall_table);
    RUN(read_until_skips_partial_delimiters_and_reports_overflow_and_cut_lines);
    return harness_report();
}
