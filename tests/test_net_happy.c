/*
 * tests/test_net_happy.c - aio_net.h Happy Eyeballs connects (RFC 8305) on
 * loopback: an address that hangs yields to the next after the attempt
 * delay, a refused one at once; every attempt failing gives the last error;
 * a cancelled connect leaves no socket open; the families alternate; an
 * injected EINTR is retried; a host name connects through its addresses.  A listener whose one-slot accept
 * queue is full makes a connect hang (the kernel drops the SYN); the
 * virtual clock makes every delay exact.
 */
#include "net_util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

/* A listener that never accepts, with its accept queue filled: a further
 * connect to it stays in progress (the kernel drops its SYN).  Fillers are
 * connected until one does not complete within 50 ms (set-up only: no test
 * asserts a time). */
static int hang_fd = -1, hang_fill[8], hang_nfill;
static int hang_listen_port;
static int hang_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int i;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    hang_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(hang_fd >= 0);
    CHECK_EQ(bind(hang_fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(hang_fd, 0), 0);
    CHECK_EQ(getsockname(hang_fd, (struct sockaddr *)&a, &al), 0);
    hang_listen_port = ntohs(a.sin_port);
    for (hang_nfill = 0, i = 0; i < 8; i++) {
        struct pollfd p;
        int fd = socket(AF_INET, SOCK_STREAM, 0), r;
        CHECK(fd >= 0);
        CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        if (r == 0 || (errno == EINPROGRESS && poll(&p, 1, 50) == 1)) {
            hang_fill[hang_nfill++] = fd; /* queued */
            continue;
        }
        close(fd); /* this one hung: the queue is full */
        return hang_listen_port;
    }
    CHECK(!"the accept queue never filled");
    return hang_listen_port;
}
static void hang_close(void)
{
    int i;
    for (i = 0; i < hang_nfill; i++)
        close(hang_fill[i]);
    hang_nfill = 0;
    close(hang_fd);
    hang_fd = -1;
}

/* Descriptors open once the test's loop is closed (its epoll set and wake
 * descriptors are not the connect's). */
static int fds_after_run(void)
{
    CHECK_EQ(aio_loop_close(&L), 0);
    return harness_open_fds();
}

/* A port nobody listens on (a listener's, closed again): connects are refused. */
static int refused_port(void)
{
    aio_listener l;
    int port;
    memset(&l, 0, sizeof l);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 1), 0);
    port = l.port;
    aio_listener_close(&L, &l);
    return port;
}

struct m_he {
    aio_frame hdr;
    aio_happy op;
    aio_stream s;
    aio_sockaddr addrs[AIO_NET_MAX_ADDRS];
    int n;
    const char *host;
    int port;
    aio_time cancel_after; /* > 0: the connect runs under move_on_after */
    aio_scope sc;
    aio_time took;
    int rc;
};

static int m_he_fn(aio_task *t, void *frame)
{
    struct m_he *f = (struct m_he *)frame;
    int rc;
    aio_time t0;
    AIO_BEGIN(t, f);
    t0 = aio_now(aio_task_loop(t));
    f->took = t0; /* the start, until the end is known */
    if (f->cancel_after)
        aio_move_on_after(t, &f->sc, f->cancel_after);
    if (f->host)
        AIO_TCP_CONNECT_HAPPY(rc, &f->op, &f->s, f->host, f->port);
    else
        AIO_ADDRS_CONNECT_HAPPY(rc, &f->op, &f->s, f->addrs, f->n);
    f->rc = rc;
    if (f->cancel_after)
        aio_scope_exit(t, &f->sc, rc);
    f->took = aio_now(aio_task_loop(t)) - f->took;
    AIO_END(0);
}

static struct m_he m;
static void he_setup(void)
{
    memset(&m, 0, sizeof m);
    aio_stream_init(&m.s, -1, NULL, 0);
}
static void he_addr(int port)
{
    CHECK_EQ(aio_sockaddr_ip(&m.addrs[m.n], "127.0.0.1", port), 0);
    m.n++;
}

TEST(a_hanging_first_address_yields_to_the_second_after_the_delay)
{
    aio_listener good;
    int fds;
    memset(&good, 0, sizeof good);
    CHECK_EQ(aio_tcp_listen(&good, "127.0.0.1", 0, 4), 0);
    he_setup();
    he_addr(hang_port());
    he_addr(good.port);
    fds = harness_open_fds();
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK(m.s.fd >= 0);
    CHECK_EQ(m.took, AIO_HAPPY_DELAY);         /* the second attempt began after the delay */
    CHECK_EQ(aio_sockaddr_port(&m.op.c.addrs[1]), good.port);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(fds_after_run(), fds + 1);        /* the stream's socket; the hanging one was closed */
    aio_stream_close(&L, &m.s);
    CHECK_EQ(harness_open_fds(), fds);
    hang_close();
    aio_listener_close(&L, &good);
}

TEST(the_attempt_delay_can_be_changed)
{
    aio_listener good;
    memset(&good, 0, sizeof good);
    CHECK_EQ(aio_tcp_listen(&good, "127.0.0.1", 0, 4), 0);
    he_setup();
    he_addr(hang_port());
    he_addr(good.port);
    m.op.delay = AIO_MS(40);
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK(m.s.fd >= 0);
    CHECK_EQ(m.took, AIO_MS(40));
    aio_stream_close(&L, &m.s);
    hang_close();
    aio_listener_close(&L, &good);
}

TEST(a_refused_first_address_starts_the_second_at_once)
{
    aio_listener good;
    memset(&good, 0, sizeof good);
    CHECK_EQ(aio_tcp_listen(&good, "127.0.0.1", 0, 4), 0);
    he_setup();
    he_addr(refused_port());
    he_addr(good.port);
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK(m.s.fd >= 0);
    CHECK_EQ(m.took, 0);
    aio_stream_close(&L, &m.s);
    aio_listener_close(&L, &good);
}

TEST(when_every_attempt_fails_the_last_error_is_returned_and_nothing_stays_open)
{
    int fds;
    he_setup();
    he_addr(refused_port());
    he_addr(refused_port());
    he_addr(refused_port());
    fds = harness_open_fds();
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, -ECONNREFUSED);
    CHECK_EQ(m.s.fd, -1);
    CHECK_EQ(m.took, 0);
    CHECK_EQ(fds_after_run(), fds);
}

TEST(a_cancelled_happy_connect_leaves_no_socket_open)
{
    int fds;
    he_setup();
    he_addr(hang_port());
    he_addr(hang_listen_port);
    he_addr(hang_listen_port);
    m.cancel_after = AIO_MS(600); /* after the third attempt began (500 ms) */
    fds = harness_open_fds();
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_ECANCELED);
    CHECK_EQ(m.s.fd, -1);
    CHECK_EQ(m.took, AIO_MS(600));
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(fds_after_run(), fds);
    hang_close();
}

TEST(bad_arguments_are_invalid)
{
    aio_stream busy;
    he_setup();
    he_addr(refused_port());
    m.n = AIO_NET_MAX_ADDRS + 1; /* too many */
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_EINVAL);
    he_setup();
    m.n = 0; /* none */
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_EINVAL);
    he_setup();
    he_addr(refused_port());
    aio_stream_init(&busy, -1, NULL, 0);
    m.s.fd = 0; /* the stream already has a descriptor */
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_EINVAL);
    m.s.fd = -1;
}

/* The connect hook records the order of the attempts and refuses them all. */
static int order_family[AIO_NET_MAX_ADDRS], order_port[AIO_NET_MAX_ADDRS], norder;
static int refuse_all(void *ctx, int fd, const struct sockaddr *sa, socklen_t salen)
{
    aio_sockaddr a;
    (void)ctx;
    (void)fd;
    memset(&a, 0, sizeof a);
    memcpy(&a.ss, sa, salen);
    a.len = salen;
    if (norder < AIO_NET_MAX_ADDRS) {
        order_family[norder] = sa->sa_family;
        order_port[norder] = aio_sockaddr_port(&a);
        norder++;
    }
    return -ECONNREFUSED;
}

TEST(the_families_alternate_starting_with_the_first)
{
    static aio_net_ops ops;
    he_setup();
    ops = *aio_net_sys_ops();
    ops.connect = refuse_all;
    aio_stream_set_ops(&m.s, &ops);
    CHECK_EQ(aio_sockaddr_ip(&m.addrs[0], "127.0.0.1", 1001), 0);
    CHECK_EQ(aio_sockaddr_ip(&m.addrs[1], "127.0.0.1", 1002), 0);
    CHECK_EQ(aio_sockaddr_ip(&m.addrs[2], "::1", 1003), 0);
    CHECK_EQ(aio_sockaddr_ip(&m.addrs[3], "::1", 1004), 0);
    m.n = 4;
    norder = 0;
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, -ECONNREFUSED);
    CHECK_EQ(norder, 4);
    CHECK_EQ(order_port[0], 1001);
    CHECK_EQ(order_port[1], 1003);
    CHECK_EQ(order_port[2], 1002);
    CHECK_EQ(order_port[3], 1004);
    CHECK_EQ(order_family[0], AF_INET);
    CHECK_EQ(order_family[1], AF_INET6);
}

TEST(an_injected_eintr_on_connect_is_retried)
{
    static aio_net_ops ops;
    static struct faults fl;
    aio_listener good;
    memset(&good, 0, sizeof good);
    CHECK_EQ(aio_tcp_listen(&good, "127.0.0.1", 0, 4), 0);
    he_setup();
    memset(&fl, 0, sizeof fl);
    fl.eintr_connect = 2;
    faults_ops(&ops, &fl);
    aio_stream_set_ops(&m.s, &ops);
    he_addr(good.port);
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK(m.s.fd >= 0);
    CHECK_EQ(fl.eintr_connect, 0); /* both injected, then retried */
    aio_stream_close(&L, &m.s);
    aio_listener_close(&L, &good);
}

TEST(a_host_name_connects_through_its_addresses)
{
    aio_listener good;
    memset(&good, 0, sizeof good);
    CHECK_EQ(aio_tcp_listen(&good, "127.0.0.1", 0, 4), 0);
    he_setup();
    m.host = "localhost"; /* ::1 (refused: nothing listens there) and 127.0.0.1, in either order */
    m.port = good.port;
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK(m.s.fd >= 0);
    aio_stream_close(&L, &m.s);
    he_setup();
    m.host = "host.invalid"; /* does not resolve */
    m.port = good.port;
    CHECK_EQ(net_run(m_he_fn, &m), 0);
    CHECK_EQ(m.rc, -EHOSTUNREACH);
    CHECK(m.op.c.gai_error != 0);
    aio_listener_close(&L, &good);
}

int main(void)
{
    net_watchdog(60);
    RUN(a_hanging_first_address_yields_to_the_second_after_the_delay);
    RUN(the_attempt_delay_can_be_changed);
    RUN(a_refused_first_address_starts_the_second_at_once);
    RUN(when_every_attempt_fails_the_last_error_is_returned_and_nothing_stays_open);
    RUN(a_cancelled_happy_connect_leaves_no_socket_open);
    RUN(bad_arguments_are_invalid);
    RUN(the_families_alternate_starting_with_the_first);
    RUN(an_injected_eintr_on_connect_is_retried);
    RUN(a_host_name_connects_through_its_addresses);
    return harness_report();
}
