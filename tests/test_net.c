/*
 * tests/test_net.c - aio_net.h: streams, connect, listen/accept, the server
 * helper and UDP over real loopback sockets, with the virtual clock for
 * every deadline.
 */
#include "net_util.h"
#include <sys/socket.h>
#include <fcntl.h>
#include <poll.h>

/* ---- echo through the server -------------------------------------------- */

static aio_listener lst;
static aio_server srv;
static struct echo_conn pool[16];

struct m_echo {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct[4];
    struct echo_client cl[4];
    int nclients, i, rc;
};

/* Runs the server and n clients; shuts the server down when they are done. */
static int m_echo_fn(aio_task *t, void *frame)
{
    struct m_echo *f = (struct m_echo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->st, aio_server_serve, &srv);
    for (f->i = 0; f->i < f->nclients; f->i++)
        aio_spawn(&f->g, &f->ct[f->i], echo_client, &f->cl[f->i]);
    for (f->i = 0; f->i < f->nclients; f->i++) {
        AIO_JOIN(rc, &f->ct[f->i]);
        (void)rc;
    }
    aio_server_shutdown(&srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    AIO_END(rc);
}

static void echo_over(const char *host, const char *path)
{
    static struct m_echo m;
    int i;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    if (path) {
        unlink(path);
        CHECK_EQ(aio_unix_listen(&lst, path, 16), 0);
    } else {
        CHECK_EQ(aio_tcp_listen(&lst, host, 0, 16), 0);
        CHECK(lst.port > 0);
    }
    CHECK_EQ(aio_server_init(&srv, &lst, pool, 16, sizeof pool[0], echo_handler), 0);
    m.nclients = 3;
    for (i = 0; i < 3; i++) {
        m.cl[i].host = host;
        m.cl[i].path = path;
        m.cl[i].port = lst.port;
        m.cl[i].msg = i == 0 ? "hello" : i == 1 ? "a somewhat longer message" : "x";
        m.cl[i].rounds = 3;
    }
    CHECK_EQ(net_run(m_echo_fn, &m), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(m.cl[i].rc, 0);
    CHECK_EQ(srv.accepted, 3);
    CHECK_EQ(srv.failed, 0);
    CHECK_EQ(srv.active, 0);
    CHECK_EQ(lst.fd, -1); /* the server closed its listener */
    CHECK_EQ(test_fd_waits(&L), 0);
    if (path)
        CHECK(access(path, F_OK) != 0); /* unlinked */
}

TEST(echo_round_trips_over_tcp_ipv4) { echo_over("127.0.0.1", NULL); }

TEST(echo_round_trips_over_tcp_ipv6)
{
    aio_listener probe;
    memset(&probe, 0, sizeof probe);
    if (aio_tcp_listen(&probe, "::1", 0, 1) != 0) {
        printf("  (no IPv6 loopback here: skipped)\n");
        return;
    }
    aio_listener_close(&L, &probe);
    echo_over("::1", NULL);
}

TEST(echo_round_trips_over_a_unix_socket) { echo_over(NULL, "/tmp/aio_test_net.sock"); }

TEST(echo_with_a_host_name_resolved_by_the_blocking_fallback) { echo_over("localhost", NULL); }

/* ---- one connected pair -------------------------------------------------- */

/* A connected loopback TCP pair (client side, accepted side), both non-blocking. */
static void tcp_pair(int fds[2])
{
    aio_sockaddr a;
    aio_listener l;
    int c;
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", l.port), 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a.ss, a.len), 0);
    fds[0] = c;
    fds[1] = accept(l.fd, NULL, NULL);
    CHECK(fds[1] >= 0);
    close(l.fd);
}

struct pair_frame {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    aio_scope sc;
    aio_stream s;       /* the stream under test (fd 0 of the pair) */
    int peer;           /* the other end, a plain fd */
    unsigned char buf[64];
    unsigned char rbuf[32];
    int rc, rc2, i;
    aio_time at;
};

/* ---- lines across packet boundaries -------------------------------------- */

struct line_reader {
    aio_frame hdr;
    aio_stream *s;
    char lines[4][32];
    int n, rc;
};

static int line_reader_fn(aio_task *t, void *frame)
{
    struct line_reader *f = (struct line_reader *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, f->s, 32);
        if (rc < 0)
            break;
        memcpy(f->lines[f->n], aio_stream_line(f->s), (size_t)rc);
        f->lines[f->n][rc] = 0;
        f->n++;
    }
    f->rc = rc;
    AIO_END(0);
}

struct line_writer {
    aio_frame hdr;
    int fd, i;
};

static int line_writer_fn(aio_task *t, void *frame)
{
    static const char *pieces[] = { "ab", "c\nde", "f\n", "g", "h\nij" };
    struct line_writer *f = (struct line_writer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 5; f->i++) {
        CHECK_EQ(write(f->fd, pieces[f->i], strlen(pieces[f->i])), (long)strlen(pieces[f->i]));
        AIO_SLEEP(rc, AIO_MS(1)); /* each piece is its own segment */
        (void)rc;
    }
    shutdown(f->fd, SHUT_WR);
    AIO_END(0);
}

struct m_lines {
    aio_frame hdr;
    aio_group g;
    aio_task a, b;
    struct line_reader r;
    struct line_writer w;
    int rc;
};

static int m_lines_fn(aio_task *t, void *frame)
{
    struct m_lines *f = (struct m_lines *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->a, line_reader_fn, &f->r);
    aio_spawn(&f->g, &f->b, line_writer_fn, &f->w);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(read_line_joins_and_splits_packets)
{
    static struct m_lines m;
    static aio_stream s;
    static unsigned char buf[32];
    int fds[2];
    memset(&m, 0, sizeof m);
    tcp_pair(fds);
    aio_stream_init(&s, fds[1], buf, sizeof buf);
    m.r.s = &s;
    m.w.fd = fds[0];
    CHECK_EQ(net_run(m_lines_fn, &m), 0);
    CHECK_EQ(m.r.n, 3);
    CHECK(strcmp(m.r.lines[0], "abc\n") == 0);
    CHECK(strcmp(m.r.lines[1], "def\n") == 0);
    CHECK(strcmp(m.r.lines[2], "gh\n") == 0);
    CHECK_EQ(m.r.rc, AIO_EEND);         /* "ij" without a newline: incomplete */
    CHECK_EQ(aio_stream_buffered(&s), 2); /* the partial line stays readable */
    CHECK(memcmp(s.rbuf + s.rpos, "ij", 2) == 0);
    aio_stream_close(&L, &s);
    close(fds[0]);
}

/* ---- single-task operations over a pair ---------------------------------- */

static int m_pair_peer_close_fn(aio_task *t, void *frame)
{
    struct pair_frame *f = (struct pair_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    CHECK_EQ(write(f->peer, "abcd", 4), 4);
    close(f->peer);
    AIO_STREAM_READ_EXACT(rc, &f->s, f->buf, 10);
    f->rc = rc;
    f->i = (int)aio_stream_nread(&f->s);
    AIO_STREAM_READ_SOME(rc, &f->s, f->buf, 10);
    f->rc2 = rc;
    AIO_END(0);
}

TEST(peer_close_mid_read_exact_is_end_with_the_partial_count)
{
    static struct pair_frame m;
    int fds[2];
    memset(&m, 0, sizeof m);
    tcp_pair(fds);
    aio_stream_init(&m.s, fds[0], NULL, 0);
    m.peer = fds[1];
    CHECK_EQ(net_run(m_pair_peer_close_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_EEND);
    CHECK_EQ(m.i, 4);
    CHECK(memcmp(m.buf, "abcd", 4) == 0);
    CHECK_EQ(m.rc2, AIO_EEND);
    aio_stream_close(&L, &m.s);
}

static int m_pair_reset_fn(aio_task *t, void *frame)
{
    struct pair_frame *f = (struct pair_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_SOME(rc, &f->s, f->buf, 10);
    f->rc = rc;
    AIO_END(0);
}

TEST(peer_reset_is_econnreset)
{
    static struct pair_frame m;
    struct linger lg;
    int fds[2];
    memset(&m, 0, sizeof m);
    tcp_pair(fds);
    aio_stream_init(&m.s, fds[0], NULL, 0);
    lg.l_onoff = 1;
    lg.l_linger = 0;
    setsockopt(fds[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fds[1]); /* RST */
    CHECK_EQ(net_run(m_pair_reset_fn, &m), 0);
    CHECK_EQ(m.rc, -ECONNRESET);
    aio_stream_close(&L, &m.s);
}

static int m_pair_epipe_fn(aio_task *t, void *frame)
{
    struct pair_frame *f = (struct pair_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 100; f->i++) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->buf, sizeof f->buf);
        if (rc < 0)
            break;
    }
    f->rc = rc;
    AIO_END(0);
}

TEST(write_after_peer_closed_is_an_error_not_sigpipe)
{
    static struct pair_frame m;
    int fds[2];
    memset(&m, 0, sizeof m);
    tcp_pair(fds);
    aio_stream_init(&m.s, fds[0], NULL, 0);
    close(fds[1]);
    CHECK_EQ(net_run(m_pair_epipe_fn, &m), 0); /* SIGPIPE's default action would end the program */
    CHECK(m.rc == -EPIPE || m.rc == -ECONNRESET);
    aio_stream_close(&L, &m.s);
}

static int m_pair_ready_read_fn(aio_task *t, void *frame)
{
    struct pair_frame *f = (struct pair_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    CHECK_EQ(write(f->peer, "xyz", 3), 3);
#ifdef AIO_DEBUG
    f->i = (int)t->schedule_points;
#endif
    AIO_STREAM_READ_SOME(rc, &f->s, f->buf, sizeof f->buf);
    f->rc = rc;
#ifdef AIO_DEBUG
    f->i = (int)t->schedule_points - f->i;
#else
    f->i = 1;
#endif
    AIO_END(0);
}

TEST(read_of_ready_data_is_one_schedule_point)
{
    static struct pair_frame m;
    int fds[2];
    memset(&m, 0, sizeof m);
    tcp_pair(fds);
    aio_stream_init(&m.s, fds[0], NULL, 0);
    m.peer = fds[1];
    CHECK_EQ(net_run(m_pair_ready_read_fn, &m), 0);
    CHECK_EQ(m.rc, 3);
    CHECK_EQ(m.i, 1);
    aio_stream_close(&L, &m.s);
    close(fds[1]);
}

/* ---- connect ------------------------------------------------------------- */

struct m_connect {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_scope sc;
    const char *host;
    int port, rc;
    aio_time at;
    int deadline;
};

static int m_connect_fn(aio_task *t, void *frame)
{
    struct m_connect *f = (struct m_connect *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    if (f->deadline)
        aio_fail_after(t, &f->sc, AIO_SEC(f->deadline));
    AIO_TCP_CONNECT(rc, &f->op, &f->s, f->host, f->port);
    if (f->deadline)
        rc = aio_scope_exit(t, &f->sc, rc);
    f->rc = rc;
    f->at = aio_now(aio_task_loop(t));
    AIO_END(0);
}

TEST(connect_refused_is_econnrefused)
{
    static struct m_connect m;
    aio_listener l;
    memset(&m, 0, sizeof m);
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 1), 0);
    m.port = l.port;
    aio_listener_close(&L, &l); /* nobody listens there now */
    m.host = "127.0.0.1";
    CHECK_EQ(net_run(m_connect_fn, &m), 0);
    CHECK_EQ(m.rc, -ECONNREFUSED);
    CHECK_EQ(m.s.fd, -1);
}

TEST(connect_to_an_unknown_host_name_fails_with_a_code)
{
    static struct m_connect m;
    memset(&m, 0, sizeof m);
    m.host = "no-such-host.invalid";
    m.port = 80;
    CHECK_EQ(net_run(m_connect_fn, &m), 0);
    CHECK_EQ(m.rc, -EHOSTUNREACH);
    CHECK(m.op.gai_error != 0);
}

TEST(connect_in_progress_is_cancelled_by_its_deadline_and_leaves_nothing)
{
    static struct m_connect m;
    aio_listener l;
    aio_sockaddr a;
    int fill[4], i, pending = 0;
    memset(&m, 0, sizeof m);
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 1), 0); /* never accepts: the queue fills */
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", l.port), 0);
    for (i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fill[i], F_SETFL, O_NONBLOCK);
        if (connect(fill[i], (struct sockaddr *)&a.ss, a.len) < 0 && errno == EINPROGRESS) {
            struct pollfd pfd;
            pfd.fd = fill[i];
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, 50) == 0)
                pending = 1;
        }
    }
    if (!pending) {
        printf("  (the listen queue does not hold connects here: skipped)\n");
    } else {
        m.host = "127.0.0.1";
        m.port = l.port;
        m.deadline = 5;
        CHECK_EQ(net_run(m_connect_fn, &m), 0);
        CHECK_EQ(m.rc, AIO_ETIMEDOUT);
        CHECK_EQ(m.at, AIO_SEC(5));
        CHECK_EQ(m.s.fd, -1);
        CHECK_EQ(m.op.fd, -1); /* the socket was closed */
        CHECK_EQ(test_fd_waits(&L), 0);
    }
    for (i = 0; i < 4; i++)
        close(fill[i]);
    aio_listener_close(&L, &l);
}

/* ---- accept -------------------------------------------------------------- */

struct m_accept {
    aio_frame hdr;
    aio_listener *l;
    aio_stream s;
    aio_sockaddr peer;
    aio_scope sc;
    int rc;
    aio_time at;
};

static int m_accept_fn(aio_task *t, void *frame)
{
    struct m_accept *f = (struct m_accept *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    aio_fail_after(t, &f->sc, AIO_SEC(2));
    AIO_ACCEPT(rc, f->l, &f->s, &f->peer);
    f->rc = aio_scope_exit(t, &f->sc, rc);
    f->at = aio_now(aio_task_loop(t));
    AIO_END(0);
}

TEST(accept_under_a_deadline_times_out_and_leaves_nothing)
{
    static struct m_accept m;
    static aio_listener l;
    memset(&m, 0, sizeof m);
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    m.l = &l;
    CHECK_EQ(net_run(m_accept_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_ETIMEDOUT);
    CHECK_EQ(m.at, AIO_SEC(2));
    CHECK_EQ(m.s.fd, -1);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(l.op.phase, AIO__PH_IDLE); /* a new accept may start */
    aio_listener_close(&L, &l);
}

TEST(accept_backs_off_on_emfile_without_spinning)
{
    static struct m_accept m;
    static aio_listener l;
    static struct faults fl;
    static aio_net_ops ops;
    aio_sockaddr a;
    int c;
    char txt[64];
    memset(&m, 0, sizeof m);
    memset(&l, 0, sizeof l);
    memset(&fl, 0, sizeof fl);
    faults_ops(&ops, &fl);
    fl.emfile_accept = 3;
    fl.eintr_accept = 2;
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    l.ops = &ops;
    l.backoff = AIO_MS(100);
    CHECK_EQ(aio_sockaddr_ip(&a, "127.0.0.1", l.port), 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a.ss, a.len), 0);
    m.l = &l;
    CHECK_EQ(net_run(m_accept_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK_EQ(l.emfile, 3);
    CHECK_EQ(m.at, AIO_MS(300)); /* three back-offs of 100 ms */
    CHECK(m.s.fd >= 0);
    CHECK(m.s.ops == &ops); /* inherited from the listener */
    aio_sockaddr_format(&m.peer, txt, sizeof txt);
    CHECK(strncmp(txt, "127.0.0.1:", 10) == 0);
    aio_stream_close(&L, &m.s);
    aio_listener_close(&L, &l);
    close(c);
}

/* ---- server: graceful shutdown ------------------------------------------- */

/* Handler that replies after a delay given by the first byte ('1' = 100 ms,
 * '9' = forever), and records how it ended. */
struct slow_conn {
    aio_conn conn;
    unsigned char b;
    int rc;
};
static int slow_results[3];
static aio_time slow_ended[3];

static int slow_handler(aio_task *t, void *frame)
{
    struct slow_conn *f = (struct slow_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_EXACT(rc, &f->conn.stream, &f->b, 1);
    if (rc < 0)
        AIO_RETURN(rc);
    if (f->b == '9')
        AIO_SLEEP_FOREVER(rc);
    else
        AIO_SLEEP(rc, AIO_MS(100) * (f->b - '0'));
    f->rc = f->b == '1' ? 0 : f->b == '3' ? 1 : 2; /* which client */
    slow_results[f->rc] = rc;
    slow_ended[f->rc] = aio_now(aio_task_loop(t));
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, &f->b, 1);
    AIO_END(rc < 0 ? rc : 0);
}

struct slow_client {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    char b, got;
    int port, rc;
};

static int slow_client_fn(aio_task *t, void *frame)
{
    struct slow_client *f = (struct slow_client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc == 0)
        AIO_STREAM_WRITE_ALL(rc, &f->s, &f->b, 1);
    if (rc >= 0)
        AIO_STREAM_READ_EXACT(rc, &f->s, &f->got, 1);
    f->rc = rc;
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(0);
}

static struct slow_conn slow_pool[4];

struct m_shutdown {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct[3], late;
    struct slow_client cl[3];
    struct m_connect after;
    int i, serve_rc;
    aio_time serve_end;
};

static int m_shutdown_fn(aio_task *t, void *frame)
{
    struct m_shutdown *f = (struct m_shutdown *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->st, aio_server_serve, &srv);
    for (f->i = 0; f->i < 3; f->i++)
        aio_spawn(&f->g, &f->ct[f->i], slow_client_fn, &f->cl[f->i]);
    AIO_SLEEP(rc, AIO_MS(50));
    CHECK_EQ(srv.active, 3);
    aio_server_shutdown(&srv, AIO_MS(200)); /* handlers may run until 250 ms */
    while (lst.fd >= 0)
        AIO_CHECKPOINT(rc);                 /* until the server has stopped accepting */
    AIO_AWAIT(rc, m_connect_fn, &f->after); /* the listener is closed: refused */
    AIO_JOIN(rc, &f->st);
    f->serve_rc = rc;
    f->serve_end = aio_now(aio_task_loop(t));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(server_shutdown_lets_handlers_finish_then_cancels_the_slow_ones)
{
    static struct m_shutdown m;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    memset(slow_results, 0, sizeof slow_results);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 8), 0);
    CHECK_EQ(aio_server_init(&srv, &lst, slow_pool, 4, sizeof slow_pool[0], slow_handler), 0);
    m.cl[0].b = '1';
    m.cl[1].b = '3';
    m.cl[2].b = '9';
    m.cl[0].port = m.cl[1].port = m.cl[2].port = lst.port;
    m.after.host = "127.0.0.1";
    m.after.port = lst.port;
    CHECK_EQ(net_run(m_shutdown_fn, &m), 0);
    CHECK_EQ(m.after.rc, -ECONNREFUSED);
    CHECK_EQ(slow_results[0], 0);               /* finished within the grace period */
    CHECK_EQ(slow_ended[0], AIO_MS(100));
    CHECK_EQ(m.cl[0].rc, 1);
    CHECK_EQ(m.cl[0].got, '1');
    CHECK_EQ(slow_results[1], AIO_ECANCELED);   /* 300 ms: cut off at 250 */
    CHECK_EQ(slow_ended[1], AIO_MS(250));
    CHECK_EQ(slow_results[2], AIO_ECANCELED);
    CHECK_EQ(slow_ended[2], AIO_MS(250));
    CHECK_EQ(m.cl[1].rc, AIO_EEND);             /* the server closed those connections */
    CHECK_EQ(m.cl[2].rc, AIO_EEND);
    CHECK_EQ(m.serve_rc, 0);
    CHECK_EQ(m.serve_end, AIO_MS(250));
    CHECK_EQ(srv.accepted, 3);
    CHECK_EQ(srv.failed, 0);
    CHECK_EQ(srv.active, 0);
    CHECK_EQ(test_fd_waits(&L), 0);
}

/* ---- server: backpressure ------------------------------------------------ */

static uint32_t max_active;

static int counting_handler(aio_task *t, void *frame)
{
    struct slow_conn *f = (struct slow_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->conn.server->active > max_active)
        max_active = f->conn.server->active;
    AIO_STREAM_READ_EXACT(rc, &f->conn.stream, &f->b, 1);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_SLEEP(rc, AIO_MS(10));
    AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, &f->b, 1);
    AIO_END(rc < 0 ? rc : 0);
}

struct m_bp {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct[6];
    struct slow_client cl[6];
    int i;
    aio_time end;
};

static int m_bp_fn(aio_task *t, void *frame)
{
    struct m_bp *f = (struct m_bp *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->st, aio_server_serve, &srv);
    for (f->i = 0; f->i < 6; f->i++)
        aio_spawn(&f->g, &f->ct[f->i], slow_client_fn, &f->cl[f->i]);
    for (f->i = 0; f->i < 6; f->i++)
        AIO_JOIN(rc, &f->ct[f->i]);
    f->end = aio_now(aio_task_loop(t));
    aio_server_shutdown(&srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(server_with_two_slots_serves_six_clients_two_at_a_time)
{
    static struct m_bp m;
    int i;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    max_active = 0;
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 8), 0);
    CHECK_EQ(aio_server_init(&srv, &lst, slow_pool, 2, sizeof slow_pool[0], counting_handler), 0);
    for (i = 0; i < 6; i++) {
        m.cl[i].b = (char)('a' + i);
        m.cl[i].port = lst.port;
    }
    CHECK_EQ(net_run(m_bp_fn, &m), 0);
    for (i = 0; i < 6; i++)
        CHECK_EQ(m.cl[i].rc, 1);
    CHECK_EQ(max_active, 2);
    CHECK_EQ(m.end, AIO_MS(30)); /* three rounds of two 10 ms handlers */
    CHECK_EQ(srv.accepted, 6);
}

/* ---- UDP ------------------------------------------------------------------ */

struct m_udp {
    aio_frame hdr;
    aio_udp a, b;
    aio_sockaddr to, from, from2;
    char buf[64];
    int rc1, rc2, rc3, rc4;
};

static int m_udp_fn(aio_task *t, void *frame)
{
    struct m_udp *f = (struct m_udp *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_UDP_SENDTO(rc, &f->a, "ping", 4, &f->to);
    f->rc1 = rc;
    AIO_UDP_RECVFROM(rc, &f->b, f->buf, sizeof f->buf, &f->from);
    f->rc2 = rc;
    AIO_UDP_SENDTO(rc, &f->b, "pong!", 5, &f->from); /* reply to the sender's address */
    f->rc3 = rc;
    AIO_UDP_RECVFROM(rc, &f->a, f->buf + 4, sizeof f->buf - 4, &f->from2);
    f->rc4 = rc;
    AIO_END(0);
}

TEST(udp_round_trip_reports_the_peer_address)
{
    static struct m_udp m;
    memset(&m, 0, sizeof m);
    CHECK_EQ(aio_udp_bind(&m.a, "127.0.0.1", 0), 0);
    CHECK_EQ(aio_udp_bind(&m.b, "127.0.0.1", 0), 0);
    CHECK_EQ(aio_sockaddr_ip(&m.to, "127.0.0.1", m.b.port), 0);
    CHECK_EQ(net_run(m_udp_fn, &m), 0);
    CHECK_EQ(m.rc1, 4);
    CHECK_EQ(m.rc2, 4);
    CHECK_EQ(aio_sockaddr_port(&m.from), m.a.port);
    CHECK_EQ(m.rc3, 5);
    CHECK_EQ(m.rc4, 5);
    CHECK(memcmp(m.buf, "pingpong!", 9) == 0);
    CHECK_EQ(aio_sockaddr_port(&m.from2), m.b.port);
    aio_udp_close(&L, &m.a);
    aio_udp_close(&L, &m.b);
}

int main(void)
{
    net_watchdog(60);
    RUN(echo_round_trips_over_tcp_ipv4);
    RUN(echo_round_trips_over_tcp_ipv6);
    RUN(echo_round_trips_over_a_unix_socket);
    RUN_ONCE(echo_with_a_host_name_resolved_by_the_blocking_fallback);
    RUN(read_line_joins_and_splits_packets);
    RUN(peer_close_mid_read_exact_is_end_with_the_partial_count);
    RUN(peer_reset_is_econnreset);
    RUN(write_after_peer_closed_is_an_error_not_sigpipe);
    RUN(read_of_ready_data_is_one_schedule_point);
    RUN(connect_refused_is_econnrefused);
    RUN_ONCE(connect_to_an_unknown_host_name_fails_with_a_code);
    RUN_ONCE(connect_in_progress_is_cancelled_by_its_deadline_and_leaves_nothing);
    RUN(accept_under_a_deadline_times_out_and_leaves_nothing);
    RUN(accept_backs_off_on_emfile_without_spinning);
    RUN(server_shutdown_lets_handlers_finish_then_cancels_the_slow_ones);
    RUN(server_with_two_slots_serves_six_clients_two_at_a_time);
    RUN(udp_round_trip_reports_the_peer_address);
    return harness_report();
}
