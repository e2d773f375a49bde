/*
 * tests/test_net_server.c - aio_server's protection against clients that
 * hold a slot without using it: the first-byte, idle and request timeouts,
 * the policy when every slot is busy, and a shutdown that wakes handlers
 * waiting for a read at once.  Real loopback sockets, the virtual clock for
 * every time asserted.
 */
#include "net_util.h"

static aio_listener lst;
static aio_server srv;

/* ---- handlers ------------------------------------------------------------ */

struct line_conn {
    aio_conn conn; /* first */
    char buf[64];
    int n, i;
};
static struct line_conn pool[4];
static int use_request_done;       /* the line handler calls aio_conn_request_done */
static int handler_rc[8];          /* per connection, in accept order */
static aio_time handler_end[8];
static int nhandlers;

static void handler_done(int rc)
{
    if (nhandlers < 8) {
        handler_rc[nhandlers] = rc;
        handler_end[nhandlers] = aio_now(&L);
    }
    nhandlers++;
}

/* Echoes lines (up to 16 bytes) until end of stream. */
static int line_handler(aio_task *t, void *frame)
{
    struct line_conn *f = (struct line_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, &f->conn.stream, 16);
        if (rc < 0)
            break;
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, aio_stream_line(&f->conn.stream), (size_t)f->n);
        if (rc < 0)
            break;
        if (use_request_done)
            aio_conn_request_done(&f->conn);
    }
    handler_done(rc);
    AIO_END(rc == AIO_EEND ? 0 : rc);
}

static char flood[65536];

/* Reads one byte, then writes until the write fails. */
static int flood_handler(aio_task *t, void *frame)
{
    struct line_conn *f = (struct line_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_EXACT(rc, &f->conn.stream, f->buf, 1);
    while (rc >= 0)
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, flood, sizeof flood);
    handler_done(rc);
    AIO_END(rc);
}

/* Reads one byte, then works (sleeps) 300 ms, then answers. */
static int busy_handler(aio_task *t, void *frame)
{
    struct line_conn *f = (struct line_conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_EXACT(rc, &f->conn.stream, f->buf, 1);
    if (rc >= 0 && f->buf[0] == 'b') {
        AIO_SLEEP(rc, AIO_MS(300));
        if (rc >= 0)
            AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, 1);
    } else if (rc >= 0) {
        AIO_STREAM_READ_EXACT(rc, &f->conn.stream, f->buf, 1); /* waits for a second byte */
    }
    handler_done(rc);
    AIO_END(rc < 0 ? rc : 0);
}

/* ---- clients ------------------------------------------------------------- */

enum { CL_IDLE, CL_PROBE, CL_SLOW, CL_MUTE, CL_KEEPALIVE, CL_BYTE, CL_FLOOD, CL_LONG };

struct client {
    aio_frame hdr;
    int kind;
    aio_time delay;      /* before connecting */
    int rounds, i;
    char send;           /* CL_BYTE: the byte sent */
    aio_stream s;
    aio_connect op;
    char got[16];
    int rc, served;      /* last result; requests answered */
    aio_time end;        /* when the last result came */
};

static char flood_lines[4096]; /* "ping\n" over and over */

/* Small socket buffers, so a flood fills them after a few thousand bytes
 * rather than megabytes (accepted sockets inherit the listener's). */
static void small_buffers(int fd)
{
    int n = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof n);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
}

static int client_fn(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (f->delay)
        AIO_SLEEP(rc, f->delay);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    if (rc < 0)
        goto out;
    /* (no switch: a coroutine cannot wait inside one) */
    if (f->kind == CL_SLOW) { /* one byte a second, never a whole line */
        for (f->i = 0; f->i < f->rounds; f->i++) {
            AIO_SLEEP(rc, AIO_SEC(1));
            AIO_STREAM_WRITE_ALL(rc, &f->s, "a", 1);
            if (rc < 0)
                break;
        }
    } else if (f->kind == CL_MUTE) { /* asks for the flood, never reads it */
        AIO_STREAM_WRITE_ALL(rc, &f->s, "x", 1);
        AIO_SLEEP(rc, AIO_SEC(100));
        rc = 0;
        goto out;
    } else if (f->kind == CL_BYTE) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, &f->send, 1);
    } else if (f->kind == CL_FLOOD) { /* requests without end, never reading the answers */
        small_buffers(f->s.fd);
        while (rc >= 0)
            AIO_STREAM_WRITE_ALL(rc, &f->s, flood_lines, sizeof flood_lines);
        goto out;
    } else if (f->kind == CL_LONG) { /* a line longer than the handler's limit */
        AIO_STREAM_WRITE_ALL(rc, &f->s, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 40);
    } else if (f->kind == CL_PROBE || f->kind == CL_KEEPALIVE) {
        for (f->i = 0; f->i < (f->rounds ? f->rounds : 1); f->i++) {
            if (f->i)
                AIO_SLEEP(rc, AIO_SEC(3));
            AIO_STREAM_WRITE_ALL(rc, &f->s, "ping\n", 5);
            if (rc < 0)
                goto out;
            AIO_STREAM_READ_EXACT(rc, &f->s, f->got, 5);
            if (rc < 0)
                goto out;
            f->served++;
            f->end = aio_now(aio_task_loop(t));
        }
        goto out;
    }
    AIO_STREAM_READ_SOME(rc, &f->s, f->got, sizeof f->got); /* until the server closes */
    f->end = aio_now(aio_task_loop(t));
out:
    f->rc = rc;
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(0);
}

/* ---- the scenario runner ------------------------------------------------- */

struct m_run {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct[6];
    struct client cl[6];
    int n, i;
    aio_time shutdown_at; /* 0: after the clients */
    aio_time grace;
    int serve_rc;
    aio_time serve_end;
};

static int m_run_fn(aio_task *t, void *frame)
{
    struct m_run *f = (struct m_run *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->st, aio_server_serve, &srv);
    for (f->i = 0; f->i < f->n; f->i++)
        aio_spawn(&f->g, &f->ct[f->i], client_fn, &f->cl[f->i]);
    if (f->shutdown_at) {
        AIO_SLEEP(rc, f->shutdown_at);
        aio_server_shutdown(&srv, f->grace);
    } else {
        for (f->i = 0; f->i < f->n; f->i++)
            AIO_JOIN(rc, &f->ct[f->i]);
        aio_server_shutdown(&srv, 0);
    }
    AIO_JOIN(rc, &f->st);
    f->serve_rc = rc;
    f->serve_end = aio_now(aio_task_loop(t));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static struct m_run m;

static void setup(aio_fn handler, uint32_t nslots)
{
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    memset(handler_rc, 0, sizeof handler_rc);
    memset(handler_end, 0, sizeof handler_end);
    nhandlers = 0;
    use_request_done = 0;
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 16), 0);
    CHECK_EQ(aio_server_init(&srv, &lst, pool, nslots, sizeof pool[0], handler), 0);
}

static void add_client(int kind, aio_time delay, int rounds)
{
    m.cl[m.n].kind = kind;
    m.cl[m.n].delay = delay;
    m.cl[m.n].rounds = rounds;
    m.n++;
}

/* ---- tests ---------------------------------------------------------------- */

TEST(server_defaults_bound_every_wait)
{
    setup(line_handler, 1);
    CHECK_EQ(srv.first_byte_timeout, AIO_SEC(10));
    CHECK_EQ(srv.idle_timeout, AIO_SEC(30));
    CHECK_EQ(srv.request_timeout, AIO_SEC(60));
    CHECK_EQ(srv.evict_after, AIO_SEC(1));
    CHECK_EQ(srv.full_policy, AIO_SERVER_FULL_EVICT);
    aio_listener_close(&L, &lst);
}

TEST(a_client_that_sends_nothing_is_closed_at_the_first_byte_timeout)
{
    setup(line_handler, 1);
    srv.first_byte_timeout = AIO_SEC(2);
    add_client(CL_IDLE, 0, 0);
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[0].rc, AIO_EEND);          /* the server closed it */
    CHECK_EQ(m.cl[0].end, AIO_SEC(2));
    CHECK_EQ(handler_rc[0], AIO_ECANCELED);
    CHECK_EQ(srv.timeouts, 1);
    CHECK_EQ(srv.failed, 0);
    CHECK_EQ(test_fd_waits(&L), 0);
}

TEST(slowloris_is_cut_by_the_request_timeout_not_kept_by_trickling_bytes)
{
    setup(line_handler, 1);
    srv.idle_timeout = AIO_SEC(2);          /* a byte a second keeps the idle timer happy */
    srv.request_timeout = AIO_SEC(5);
    add_client(CL_SLOW, 0, 20);
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(handler_rc[0], AIO_ECANCELED);
    CHECK_EQ(handler_end[0], AIO_SEC(6));    /* first byte at 1 s, + 5 s */
    CHECK_EQ(srv.timeouts, 1);
    CHECK_EQ(srv.failed, 0);
}

TEST(a_stalled_reader_is_cut_by_the_idle_timeout)
{
    setup(line_handler, 1);
    srv.idle_timeout = AIO_SEC(2);
    srv.request_timeout = AIO_TIME_INF;
    add_client(CL_SLOW, 0, 1);               /* one byte at 1 s, then silence */
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[0].rc, AIO_EEND);
    CHECK_EQ(m.cl[0].end, AIO_SEC(3));
    CHECK_EQ(handler_end[0], AIO_SEC(3));
    CHECK_EQ(srv.timeouts, 1);
}

TEST(a_client_that_never_reads_is_cut_by_the_idle_timeout)
{
    setup(flood_handler, 1);
    srv.idle_timeout = AIO_SEC(2);
    add_client(CL_MUTE, 0, 0);
    m.shutdown_at = AIO_SEC(50);
    m.grace = 0;
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(handler_rc[0], AIO_ECANCELED);
    CHECK_EQ(handler_end[0], AIO_SEC(2));    /* the socket buffers filled at once */
    CHECK_EQ(srv.timeouts, 1);
    CHECK_EQ(srv.failed, 0);
}

TEST(keep_alive_requests_each_get_the_request_timeout_with_request_done)
{
    setup(line_handler, 1);
    use_request_done = 1;
    srv.request_timeout = AIO_SEC(5);
    srv.first_byte_timeout = AIO_SEC(4);     /* the 3 s pauses between requests fit */
    add_client(CL_KEEPALIVE, 0, 4);          /* 4 requests over 9 s */
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[0].rc, 5);
    CHECK_EQ(m.cl[0].served, 4);
    CHECK_EQ(m.cl[0].end, AIO_SEC(9));
    CHECK_EQ(srv.timeouts, 0);
}

TEST(without_request_done_the_connection_is_one_request)
{
    setup(line_handler, 1);
    srv.request_timeout = AIO_SEC(5);
    add_client(CL_KEEPALIVE, 0, 4);
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[0].served, 2);             /* at 0 s and 3 s; cut at 5 s */
    CHECK(m.cl[0].rc < 0);                   /* end of stream, or a reset after writing to it */
    CHECK_EQ(handler_end[0], AIO_SEC(5));
    CHECK_EQ(srv.timeouts, 1);
}

TEST(a_full_server_evicts_the_longest_idle_connection_for_a_new_client)
{
    setup(line_handler, 2);
    add_client(CL_IDLE, 0, 0);
    add_client(CL_IDLE, AIO_MS(300), 0);
    add_client(CL_PROBE, AIO_MS(500), 0);   /* both slots are held by idle clients */
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[2].rc, 5);
    CHECK_EQ(m.cl[2].served, 1);
    CHECK_EQ(m.cl[2].end, AIO_SEC(1));       /* the first idle one had waited 1 s */
    CHECK_EQ(m.cl[0].rc, AIO_EEND);
    CHECK_EQ(m.cl[0].end, AIO_SEC(1));
    CHECK_EQ(srv.evicted, 1);
    CHECK_EQ(srv.timeouts, 1);               /* the second one: first byte timeout at 10.3 s */
    CHECK_EQ(m.cl[1].end, AIO_MS(10300));
    CHECK_EQ(srv.failed, 0);
}

TEST(the_wait_policy_keeps_the_new_client_in_the_backlog_until_a_slot_frees)
{
    setup(line_handler, 2);
    srv.full_policy = AIO_SERVER_FULL_WAIT;
    add_client(CL_IDLE, 0, 0);
    add_client(CL_IDLE, AIO_MS(300), 0);
    add_client(CL_PROBE, AIO_MS(500), 0);
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[2].rc, 5);
    CHECK_EQ(m.cl[2].end, AIO_SEC(10));      /* the first idle client timed out */
    CHECK_EQ(srv.evicted, 0);
    CHECK_EQ(srv.timeouts, 2);
}

TEST(a_full_server_with_only_busy_handlers_waits_for_a_slot)
{
    setup(busy_handler, 1);
    m.cl[0].send = 'b';
    add_client(CL_BYTE, 0, 0);               /* busy for 300 ms: not evicted */
    add_client(CL_PROBE, AIO_MS(100), 0);    /* the busy handler reads its 'p' */
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[0].rc, 1);                 /* answered */
    CHECK_EQ(m.cl[0].end, AIO_MS(300));
    CHECK_EQ(srv.evicted, 0);
}

TEST(shutdown_wakes_handlers_waiting_for_a_read_and_lets_busy_ones_finish)
{
    setup(busy_handler, 2);
    m.cl[0].send = 'b';
    m.cl[1].send = 'i';
    add_client(CL_BYTE, 0, 0);               /* busy until 300 ms */
    add_client(CL_BYTE, 0, 0);               /* waits for a second byte */
    m.shutdown_at = AIO_MS(50);
    m.grace = AIO_SEC(1);
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[1].rc, AIO_EEND);          /* closed at once */
    CHECK_EQ(m.cl[1].end, AIO_MS(50));
    CHECK_EQ(m.cl[0].rc, 1);                 /* the busy one answered */
    CHECK_EQ(m.cl[0].end, AIO_MS(300));
    CHECK_EQ(m.serve_end, AIO_MS(300));
    CHECK_EQ(m.serve_rc, 0);
    CHECK_EQ(srv.failed, 0);
    CHECK_EQ(srv.timeouts, 0);
}

TEST(listeners_with_reuse_port_share_a_port_and_others_do_not)
{
    aio_listener a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    a.reuse_port = b.reuse_port = 1;
    CHECK_EQ(aio_tcp_listen(&a, "127.0.0.1", 0, 4), 0);
    CHECK_EQ(aio_tcp_listen(&b, "127.0.0.1", a.port, 4), 0);
    CHECK_EQ(b.port, a.port);
    CHECK_EQ(aio_tcp_listen(&c, "127.0.0.1", a.port, 4), -EADDRINUSE); /* without the option */
    CHECK_EQ(c.fd, -1);
    test_loop_init(&L);
    CHECK_EQ(aio_listener_close(&L, &a), 0);
    CHECK_EQ(aio_listener_close(&L, &b), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

TEST(a_probe_is_served_while_hostile_clients_hold_every_slot)
{
    size_t i;
    for (i = 0; i < sizeof flood_lines; i++)
        flood_lines[i] = "ping\n"[i % 5];
    setup(line_handler, 4);
    small_buffers(lst.fd);
    srv.idle_timeout = AIO_SEC(5);
    srv.request_timeout = AIO_SEC(8);
    add_client(CL_IDLE, 0, 0);               /* idle: holds a slot doing nothing */
    add_client(CL_IDLE, AIO_MS(100), 0);
    add_client(CL_SLOW, AIO_MS(50), 30);     /* slowloris: a byte a second */
    add_client(CL_FLOOD, 0, 0);              /* sends without end, never reads */
    add_client(CL_LONG, AIO_MS(200), 0);     /* a 40-byte line; the limit is 16 */
    add_client(CL_PROBE, AIO_MS(500), 0);    /* an honest client, the slots all taken */
    CHECK_EQ(net_run(m_run_fn, &m), 0);
    CHECK_EQ(m.cl[5].rc, 5);
    CHECK_EQ(m.cl[5].served, 1);
    CHECK_EQ(m.cl[5].end, AIO_SEC(1));       /* the first idle client was evicted at 1 s */
    CHECK_EQ(m.cl[0].end, AIO_SEC(1));
    CHECK(m.cl[4].rc < 0);                   /* the long line: closed */
    CHECK_EQ(srv.last_error, AIO_ETOOLONG);
    CHECK_EQ(srv.failed, 1);
    CHECK(srv.evicted >= 1);
    CHECK(m.cl[3].rc < 0);                   /* the flood ended by the server */
    CHECK(m.cl[2].rc < 0);                   /* the slowloris cut by the request timeout */
    CHECK_EQ(srv.accepted, 6);
    CHECK_EQ(srv.active, 0);
    CHECK_EQ(test_fd_waits(&L), 0);
}

int main(void)
{
    net_watchdog(60);
    RUN(server_defaults_bound_every_wait);
    RUN(a_client_that_sends_nothing_is_closed_at_the_first_byte_timeout);
    RUN(slowloris_is_cut_by_the_request_timeout_not_kept_by_trickling_bytes);
    RUN(a_stalled_reader_is_cut_by_the_idle_timeout);
    RUN(a_client_that_never_reads_is_cut_by_the_idle_timeout);
    RUN(keep_alive_requests_each_get_the_request_timeout_with_request_done);
    RUN(without_request_done_the_connection_is_one_request);
    RUN(a_full_server_evicts_the_longest_idle_connection_for_a_new_client);
    RUN(the_wait_policy_keeps_the_new_client_in_the_backlog_until_a_slot_frees);
    RUN(a_full_server_with_only_busy_handlers_waits_for_a_slot);
    RUN(shutdown_wakes_handlers_waiting_for_a_read_and_lets_busy_ones_finish);
    RUN_ONCE(listeners_with_reuse_port_share_a_port_and_others_do_not);
    RUN(a_probe_is_served_while_hostile_clients_hold_every_slot);
    return harness_report();
}
