/*
 * tests/test_args_cov.c - every argument check of the public API, one bad
 * argument at a time: each call must return its documented error code and
 * change nothing.  Calls that debug builds also assert on run with the
 * loop's panic hook recording instead of aborting (tests/test_misuse.c
 * checks the assertions themselves).
 */
#define AIO_IMPLEMENTATION
#include "../aio_proc.h" /* first, as in test_proc.c: it picks the POSIX feature level */
#include "../aio_thread.h"
#include "../aio_net.h"
#include "../aio_chan.h"
#include "../aio_sync.h"
#include "core_util.h"
#include <signal.h>

static aio_loop L;
static aio_task mt;

static void cb_nothing(aio_loop *l, void *arg)
{
    (void)l;
    (void)arg;
}

static void collect(void *ctx, const char *s)
{
    strncat((char *)ctx, s, 1023 - strlen((char *)ctx));
}

/* ---- aio.h ---------------------------------------------------------------- */

struct core_args {
    aio_frame hdr;
    aio_scope s, s2;
    aio_group g, g2;
    aio_task idle, done, failed, c;
    struct sleeper sl;
    struct failer fl;
    void *val;
    int r[40];
    int n;
    const char *site;
    unsigned line;
    const char *reason;
    aio_post post;
};
static int core_args_main(aio_task *t, void *p)
{
    struct core_args *f = (struct core_args *)p;
    aio_call call;
    int rc;
    AIO_BEGIN(t, f);
    memset(&call, 0, sizeof call);
    f->r[f->n++] = aio_scope_enter(NULL, &f->s, AIO_TIME_INF);
    f->r[f->n++] = aio_scope_enter(t, NULL, AIO_TIME_INF);
    f->r[f->n++] = aio_move_on_after(NULL, &f->s, 1);
    f->r[f->n++] = aio_move_on_after(t, NULL, 1);
    f->r[f->n++] = aio_move_on_after(t, &f->s, -1);
    f->r[f->n++] = aio_scope_exit(NULL, &f->s, 0);
    f->r[f->n++] = aio_scope_exit(t, NULL, 0);
    f->r[f->n++] = aio_task_cancel(NULL);
    f->r[f->n++] = aio_task_cancel(&f->idle); /* never spawned */
    f->r[f->n++] = aio_call_at(NULL, &call, 0, cb_nothing, NULL);
    f->r[f->n++] = aio_call_at(aio_task_loop(t), NULL, 0, cb_nothing, NULL);
    f->r[f->n++] = aio_call_at(aio_task_loop(t), &call, 0, NULL, NULL);
    f->r[f->n++] = aio_group_enter(NULL, &f->g, AIO_GROUP_FAIL_FAST);
    f->r[f->n++] = aio_group_enter(t, NULL, AIO_GROUP_FAIL_FAST);
    f->r[f->n++] = aio_group_enter(t, &f->g, -1);
    f->r[f->n++] = aio_started(NULL, NULL);
    f->r[f->n++] = aio_started(t, NULL); /* not a task being started */
    f->r[f->n++] = aio_loop_post(NULL, &f->post, cb_nothing, NULL);
    f->r[f->n++] = aio_loop_post(aio_task_loop(t), NULL, cb_nothing, NULL);
    f->r[f->n++] = aio_loop_post(aio_task_loop(t), &f->post, NULL, NULL);
    f->r[f->n++] = aio_loop_post(aio_task_loop(t), &f->post, cb_nothing, NULL); /* no aio_loop_wake_enable */
    AIO_JOIN(rc, NULL);
    f->r[f->n++] = rc;
    AIO_JOIN(rc, &f->idle);
    f->r[f->n++] = rc;
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->r[f->n++] = aio_spawn(NULL, &f->c, sleeper, &f->sl);
    f->r[f->n++] = aio_spawn(&f->g, NULL, sleeper, &f->sl);
    f->r[f->n++] = aio_spawn(&f->g, &f->c, NULL, &f->sl);
    f->r[f->n++] = aio_spawn(&f->g, &f->c, sleeper, NULL);
    AIO_START(rc, NULL, &f->c, sleeper, &f->sl, NULL);
    f->r[f->n++] = rc;
    AIO_START(rc, &f->g, NULL, sleeper, &f->sl, NULL);
    f->r[f->n++] = rc;
    AIO_START(rc, &f->g, &f->c, sleeper, NULL, NULL);
    f->r[f->n++] = rc;
    f->sl.dur = 0;
    aio_spawn(&f->g, &f->done, sleeper, &f->sl);
    f->fl.err = AIO_EBROKEN;
    aio_spawn(&f->g, &f->failed, failer, &f->fl);
    f->line = 99;
    f->site = aio_frame_error_site(&f->hdr, &f->line); /* a running frame has no error site */
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->r[f->n++] = aio_task_cancel(&f->done);
    f->r[f->n++] = aio_task_cancel(&f->failed); /* failed: still linked in the group's failed list */
    f->r[f->n++] = aio_group_failed_next(&f->done) == NULL ? AIO_EINVAL : 0;
    /* An inactive scope cancelled twice keeps its first reason. */
    aio_scope_init(&f->s2);
    aio_scope_cancel(&f->s2, "first");
    aio_scope_cancel(&f->s2, "second");
    f->reason = f->s2.reason;
    /* An active scope's deadline can be lifted. */
    aio_move_on_after(t, &f->s, AIO_MS(1));
    aio_scope_set_deadline(&f->s, AIO_TIME_INF);
    AIO_SLEEP(rc, AIO_MS(2));
    f->r[f->n++] = rc == 0 ? AIO_EINVAL : rc; /* not cancelled: AIO_EINVAL marks success here */
    aio_scope_exit(t, &f->s, rc);
    AIO_END(0);
}

TEST(core_functions_reject_null_and_out_of_range_arguments)
{
    static struct core_args f;
    int i;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(NULL, &mt, core_args_main, &f), AIO_EINVAL);
    CHECK_EQ(aio_run(&L, NULL, core_args_main, &f), AIO_EINVAL);
    CHECK_EQ(aio_run(&L, &mt, core_args_main, &f), 0);
    CHECK_EQ(f.n, 34);
    for (i = 0; i < f.n; i++) {
        if (f.r[i] != AIO_EINVAL)
            printf("  argument case %d: %d\n", i, f.r[i]);
        CHECK_EQ(f.r[i], AIO_EINVAL);
    }
    CHECK(f.site == NULL);
    CHECK_EQ(f.line, 0);
    CHECK(f.reason && strcmp(f.reason, "first") == 0);
    CHECK_EQ(aio_now(&L), AIO_MS(2));
}

/* ---- aio_sync.h ------------------------------------------------------------ */

struct lk_waiter { aio_frame hdr; aio_lock *l; int rc; };
static int lk_waiter(aio_task *t, void *p)
{
    struct lk_waiter *f = (struct lk_waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_LOCK_ACQUIRE(rc, f->l);
    f->rc = rc;
    if (rc == 0)
        aio_lock_release(t, f->l);
    AIO_END(0);
}
struct sync_args {
    aio_frame hdr;
    aio_lock l;
    aio_cond c;
    aio_group g;
    aio_task w[2];
    struct lk_waiter fw[2];
    int rel_null, rel_other, notify_null, notify_other;
    char dump[1024];
};
static int sync_args_main(aio_task *t, void *p)
{
    struct sync_args *f = (struct sync_args *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_lock_init(&f->l);
    aio_cond_init(&f->c, &f->l);
    f->rel_null = aio_lock_release(NULL, &f->l);
    f->rel_other = aio_lock_release(t, &f->l); /* not held */
    f->notify_null = aio_cond_notify(NULL, &f->c, 1);
    f->notify_other = aio_cond_notify(t, &f->c, 1);
    aio_lock_try_acquire(t, &f->l);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->fw[0].l = f->fw[1].l = &f->l;
    aio_spawn(&f->g, &f->w[0], lk_waiter, &f->fw[0]);
    aio_spawn(&f->g, &f->w[1], lk_waiter, &f->fw[1]);
    aio_task_set_name(&f->w[0], "first");
    AIO_YIELD();
    AIO_YIELD();
    aio_waiters_dump(&f->l.waiters, collect, f->dump);
    aio_lock_release(t, &f->l);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(sync_ownership_checks_and_a_dump_of_two_waiters)
{
    static struct sync_args f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, sync_args_main, &f), 0);
    CHECK_EQ(f.rel_null, AIO_EPERM);
    CHECK_EQ(f.rel_other, AIO_EPERM);
    CHECK_EQ(f.notify_null, AIO_EPERM);
    CHECK_EQ(f.notify_other, AIO_EPERM);
    CHECK(strstr(f.dump, ", task 0x") != NULL); /* two waiters, comma-separated */
#ifdef AIO_DEBUG
    CHECK(strstr(f.dump, "\"first\"") != NULL);
#endif
    CHECK_EQ(f.fw[0].rc, 0);
    CHECK_EQ(f.fw[1].rc, 0);
}

/* ---- aio_chan.h ------------------------------------------------------------ */

struct chan_args {
    aio_frame hdr;
    aio_chan ch;
    aio_chan_tx tx, never_tx;
    aio_chan_rx rx, never_rx;
    int v;
    int r[8];
    int n;
};
static int chan_args_main(aio_task *t, void *p)
{
    struct chan_args *f = (struct chan_args *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_chan_init(&f->ch, NULL, sizeof(int), 0, &f->tx, &f->rx);
    AIO_CHAN_SEND(rc, NULL, &f->v);
    f->r[f->n++] = rc;
    AIO_CHAN_SEND(rc, &f->never_tx, &f->v);
    f->r[f->n++] = rc;
    AIO_CHAN_SEND(rc, &f->tx, NULL);
    f->r[f->n++] = rc;
    AIO_CHAN_RECV(rc, NULL, &f->v);
    f->r[f->n++] = rc;
    AIO_CHAN_RECV(rc, &f->never_rx, &f->v);
    f->r[f->n++] = rc;
    AIO_CHAN_RECV(rc, &f->rx, NULL);
    f->r[f->n++] = rc;
    aio_chan_tx_close(&f->tx);
    aio_chan_rx_close(&f->rx);
    AIO_END(0);
}

static int gen_nothing(aio_task *t, void *p)
{
    aio_frame *f = (aio_frame *)p;
    AIO_BEGIN(t, f);
    AIO_END(0);
}

TEST(channel_queue_select_and_generator_arguments_are_checked)
{
    static struct chan_args f;
    aio_chan ch;
    aio_chan_tx tx, tx2;
    aio_chan_rx rx, rx2;
    aio_queue q;
    aio_select s;
    aio_select_case cases[1];
    aio_group g;
    aio_gen gen;
    aio_frame fr;
    int buf[4], i, v = 3;
    CHECK_EQ(aio_chan_init(NULL, NULL, sizeof(int), 0, &tx, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, NULL, sizeof(int), 0, NULL, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, NULL, sizeof(int), 0, &tx, NULL), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, NULL, 0, 0, &tx, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, NULL, sizeof(int), 4, &tx, &rx), AIO_EINVAL);
    /* Ends that were never opened: clone refuses them, close ignores them. */
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), AIO_EINVAL);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), AIO_EINVAL);
    aio_chan_tx_close(&tx);
    aio_chan_rx_close(&rx);
    CHECK(tx.e.ch == NULL && rx.e.ch == NULL);
    /* A select over no cases, and a case disabled by a NULL end. */
    aio_select_init(&s, cases, 0);
    CHECK_EQ(s.last, 0);
    aio_select_init(&s, cases, 1);
    CHECK_EQ(aio_select_send(&s, 0, NULL, &v), 0);
    CHECK(cases[0].end == NULL);
    /* Queues. */
    CHECK_EQ(aio_queue_init(NULL, AIO_QUEUE_FIFO, buf, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, NULL, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, buf, 0, 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, buf, sizeof(int), 0, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO - 1, buf, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_PRIORITY + 1, buf, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_PRIORITY, buf, sizeof(int), 4, NULL, NULL), AIO_EINVAL); /* no order */
    /* Shutting down again: immediate twice, then a plain one, change nothing. */
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, buf, sizeof(int), 4, NULL, NULL), 0);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    aio_queue_shutdown(&q, 1);
    aio_queue_shutdown(&q, 1);
    aio_queue_shutdown(&q, 0);
    CHECK_EQ(q.shutdown, 2);
    CHECK_EQ(aio_queue_len(&q), 0);
    /* Generators. */
    memset(&g, 0, sizeof g);
    memset(&fr, 0, sizeof fr);
    CHECK_EQ(aio_gen_start(&g, NULL, sizeof(int), gen_nothing, &fr), AIO_EINVAL);
    CHECK_EQ(aio_gen_start(&g, &gen, sizeof(int), NULL, &fr), AIO_EINVAL);
    /* Blocking operations through NULL or unopened ends. */
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, chan_args_main, &f), 0);
    CHECK_EQ(f.n, 6);
    for (i = 0; i < f.n; i++)
        CHECK_EQ(f.r[i], AIO_EINVAL);
}

/* ---- aio_net.h ------------------------------------------------------------- */

struct net_args {
    aio_frame hdr;
    aio_stream s;
    aio_listener l;
    aio_udp u;
    unsigned char buf[8];
    int r[12];
    int n;
};
static int net_args_main(aio_task *t, void *p)
{
    struct net_args *f = (struct net_args *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_SOME(rc, &f->s, f->buf, (size_t)0x80000000u);
    f->r[f->n++] = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 1, sizeof f->buf + 1); /* more than the buffer */
    f->r[f->n++] = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, NULL, 1, 4);
    f->r[f->n++] = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\n", 0, 4);
    f->r[f->n++] = rc;
    AIO_STREAM_READ_UNTIL(rc, &f->s, "\r\n\r\n", 4, 2); /* delimiter longer than the limit */
    f->r[f->n++] = rc;
    AIO_STREAM_WRITE_ALL(rc, &f->s, f->buf, (size_t)0x80000000u);
    f->r[f->n++] = rc;
    AIO_ACCEPT(rc, &f->l, NULL, NULL);
    f->r[f->n++] = rc;
    AIO_UDP_RECVFROM(rc, &f->u, NULL, 4, NULL);
    f->r[f->n++] = rc;
    AIO_UDP_RECVFROM(rc, &f->u, f->buf, (size_t)0x80000000u, NULL);
    f->r[f->n++] = rc;
    AIO_END(0);
}

TEST(stream_accept_udp_and_server_arguments_are_checked)
{
    static struct net_args f;
    static struct echo_conn { aio_conn conn; int x; } pool[1];
    aio_server srv;
    aio_listener l;
    aio_udp u;
    int sv[2];
    memset(&f, 0, sizeof f);
    memset(&l, 0, sizeof l);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(aio_stream_init(&f.s, sv[0], f.buf, sizeof f.buf), 0);
    CHECK_EQ(aio_tcp_listen(&f.l, NULL, 0, 0), 0); /* no host: every address */
    CHECK(f.l.port > 0);
    CHECK_EQ(aio_udp_bind(&f.u, NULL, 0), 0);
    CHECK(f.u.port > 0);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", -1, 0), AIO_EINVAL);
    CHECK_EQ(aio_server_init(&srv, NULL, pool, 1, sizeof pool[0], gen_nothing), AIO_EINVAL);
    CHECK_EQ(aio_server_init(&srv, &l, NULL, 1, sizeof pool[0], gen_nothing), AIO_EINVAL);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, net_args_main, &f), 0);
    CHECK_EQ(f.n, 9);
    {
        int i;
        for (i = 0; i < f.n; i++)
            CHECK_EQ(f.r[i], AIO_EINVAL);
    }
    CHECK_EQ(aio_udp_close(&L, &f.u), 0);
    memset(&u, 0, sizeof u);
    u.fd = -1;
    CHECK_EQ(aio_udp_close(&L, &u), 0); /* closed: nothing to do */
    CHECK_EQ(aio_listener_close(&L, &f.l), 0);
    CHECK_EQ(aio_stream_close(&L, &f.s), 0);
    close(sv[1]);
    aio_loop_close(&L);
}

/* ---- aio_proc.h and aio_thread.h -------------------------------------------- */

TEST(process_signal_pool_portal_and_file_arguments_are_checked)
{
    static const char *const argv_ok[] = { "true", NULL };
    static const char *const argv_empty[] = { NULL };
    aio_proc p;
    aio_proc_opts o;
    aio_proc_comm c;
    aio_sigwatch w;
    aio_pool pool;
    aio_portal portal;
    aio_portal_req req;
    aio_file_op op;
    aio_frame fr;
    int sig_ok[1] = { SIGUSR2 }, sig_zero[1] = { 0 }, sig_big[1] = { 65 };
    char b[4];
    test_loop_init(&L);
    memset(&o, 0, sizeof o);
    memset(&p, 0, sizeof p);
    o.argv = argv_ok;
    CHECK_EQ(aio_proc_spawn(NULL, &p, &o), AIO_EINVAL);
    CHECK_EQ(aio_proc_spawn(&L, NULL, &o), AIO_EINVAL);
    CHECK_EQ(aio_proc_spawn(&L, &p, NULL), AIO_EINVAL);
    o.argv = argv_empty;
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL);
    o.argv = argv_ok;
    o.io[0] = -1;
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL);
    o.io[0] = AIO_PROC_STDOUT + 1;
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL);
    o.io[0] = AIO_PROC_STDOUT; /* stdin cannot go to stdout */
    CHECK_EQ(aio_proc_spawn(&L, &p, &o), AIO_EINVAL);
    /* A process that was never spawned: nothing to signal or close. */
    memset(&p, 0, sizeof p);
    p.fds[0] = p.fds[1] = p.fds[2] = p.pidfd = -1;
    CHECK_EQ(aio_proc_send_signal(&p, SIGTERM), 0);
    CHECK_EQ(aio_proc_close(&p), 0);
    CHECK_EQ(aio_proc_comm_init(NULL, &p, NULL, 0, NULL, 0, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_proc_comm_init(&c, NULL, NULL, 0, NULL, 0, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(NULL, &w, sig_ok, 1), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, NULL, sig_ok, 1), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, &w, NULL, 1), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, &w, sig_ok, 0), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, &w, sig_zero, 1), AIO_EINVAL);
    CHECK_EQ(aio_signal_open(&L, &w, sig_big, 1), AIO_EINVAL);
    /* Pools, portals and file operations. */
    CHECK_EQ(aio_pool_shutdown(NULL), AIO_EINVAL);
    memset(&pool, 0, sizeof pool);
    CHECK_EQ(aio_pool_shutdown(&pool), AIO_EINVAL); /* never started */
    memset(&portal, 0, sizeof portal);
    memset(&fr, 0, sizeof fr);
    CHECK_EQ(aio_portal_call(&portal, NULL, gen_nothing, &fr), AIO_EINVAL);
    CHECK_EQ(aio_portal_call(&portal, &req, NULL, &fr), AIO_EINVAL);
    CHECK_EQ(aio_portal_call(&portal, &req, gen_nothing, NULL), AIO_EINVAL);
    CHECK_EQ(aio_file_op_init(&op, AIO_FILE_WRITE_ALL + 1, "/tmp/x", b, 1, 0, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_file_op_init(&op, AIO_FILE_READ, NULL, b, 1, 0, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_file_op_init(&op, AIO_FILE_READ, "/tmp/x", NULL, 1, 0, NULL, 0), AIO_EINVAL);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(core_functions_reject_null_and_out_of_range_arguments);
    RUN(sync_ownership_checks_and_a_dump_of_two_waiters);
    RUN(channel_queue_select_and_generator_arguments_are_checked);
    RUN(stream_accept_udp_and_server_arguments_are_checked);
    RUN(process_signal_pool_portal_and_file_arguments_are_checked);
    return harness_report();
}
