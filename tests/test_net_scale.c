/*
 * tests/test_net_scale.c - 1,000 concurrent echo clients against one server
 * (one handler task per connection from a pool of 1,000 slots), on loopback.
 * Needs about 2,010 descriptors: the soft RLIMIT_NOFILE is raised to the hard
 * limit when it is lower; with a hard limit too low to hold them, the client
 * count is scaled down to fit and the test says so.
 */
#include "net_util.h"
#include <sys/resource.h>

#define NCLIENTS 1000

static aio_listener lst;
static aio_server srv;
static struct echo_conn pool[NCLIENTS];
static struct echo_client cl[NCLIENTS];
static aio_task ct[NCLIENTS];

struct m_many {
    aio_frame hdr;
    aio_group g;
    aio_task st;
    int n, i, ok;
};

static int m_many_fn(aio_task *t, void *frame)
{
    struct m_many *f = (struct m_many *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->st, aio_server_serve, &srv);
    for (f->i = 0; f->i < f->n; f->i++)
        aio_spawn(&f->g, &ct[f->i], echo_client, &cl[f->i]);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_JOIN(rc, &ct[f->i]);
        f->ok += rc == 0;
    }
    aio_server_shutdown(&srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* How many clients the descriptor limit allows (two fds each, plus slack). */
static int client_budget(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 100;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < 2 * NCLIENTS + 64) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= 2 * NCLIENTS + 64)
        return NCLIENTS;
    return (int)(r.rlim_cur - 64) / 2;
}

TEST(thousand_concurrent_clients_against_one_server)
{
    static struct m_many m;
    int i, n = client_budget();
    static char msgs[NCLIENTS][32];
    if (n < NCLIENTS)
        printf("  (descriptor limit: scaled down to %d clients)\n", n);
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    memset(cl, 0, sizeof cl);
    memset(ct, 0, sizeof ct);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 0), 0);
    CHECK_EQ(aio_server_init(&srv, &lst, pool, (uint32_t)n, sizeof pool[0], echo_handler), 0);
    for (i = 0; i < n; i++) {
        snprintf(msgs[i], sizeof msgs[i], "client %d says hi", i);
        cl[i].host = "127.0.0.1";
        cl[i].port = lst.port;
        cl[i].msg = msgs[i];
        cl[i].rounds = 2;
    }
    m.n = n;
    CHECK_EQ(net_run(m_many_fn, &m), 0);
    CHECK_EQ(m.ok, n);
    CHECK_EQ(srv.accepted, n);
    CHECK_EQ(srv.failed, 0);
    CHECK_EQ(srv.active, 0);
    CHECK_EQ(test_fd_waits(&L), 0);
}

int main(void)
{
    net_watchdog(60);
    RUN_ONCE(thousand_concurrent_clients_against_one_server);
    return harness_report();
}
