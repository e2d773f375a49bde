/*
 * tests/test_net_resolve.c - host names looked up on a pool thread
 * (aio_connect_resolve_on, aio_thread.h before aio_net.h): the loop goes on
 * while the lookup waits for the pool, a queued lookup is cancelled without
 * running, numeric hosts skip the pool, and without a resolver the blocking
 * fallback still connects.  Loopback only; the virtual clock for times.
 */
#define AIO_IMPLEMENTATION
#include "../aio_thread.h" /* first: aio_net.h then offers the pool resolver */
#include "../aio_net.h"
#include "harness.h"
#include <signal.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;
static aio_pool pool;
static pthread_t threads[1];
static aio_listener lst;
static int gate[2]; /* the blocker job holds the pool's only thread until a byte arrives */

static int blocker_fn(void *arg)
{
    char c;
    (void)arg;
    return read(gate[0], &c, 1) == 1 ? 0 : -1;
}

struct m_res {
    aio_frame hdr;
    aio_group g;
    aio_task bt;
    aio_job bjob;
    aio_scope sc;
    aio_stream s;
    aio_connect op;
    aio_net_resolver r;
    const char *host;
    int use_pool, hold_pool, ticks, ticks_at_connect, rc, scope_rc, hold_rc;
    aio_time release_after, cancel_after, done_at, t0; /* done_at is counted from t0 */
};

struct blocker { aio_frame hdr; struct m_res *m; };
static struct blocker bf;

static int blocker_task(aio_task *t, void *frame)
{
    struct blocker *f = (struct blocker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->m->bjob, blocker_fn, NULL, NULL, 0);
    AIO_TO_THREAD(rc, &pool, &f->m->bjob);
    f->m->hold_rc = rc;
    AIO_END(0);
}

/* Ticks every 10 ms; releases the pool's thread after release_after. */
struct ticker { aio_frame hdr; struct m_res *m; };
static struct ticker tf;
static aio_task tt;

static int ticker_task(aio_task *t, void *frame)
{
    struct ticker *f = (struct ticker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    while (aio_now(aio_task_loop(t)) < f->m->t0 + f->m->release_after) {
        AIO_SLEEP(rc, AIO_MS(10));
        if (rc < 0)
            AIO_RETURN(rc);
        f->m->ticks++;
    }
    CHECK_EQ(write(gate[1], "x", 1), 1);
    AIO_END(0);
}

static int m_res_fn(aio_task *t, void *frame)
{
    struct m_res *f = (struct m_res *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    if (f->hold_pool) {
        bf.m = f;
        aio_spawn(&f->g, &f->bt, blocker_task, &bf);
        AIO_CHECKPOINT(rc);   /* the blocker takes the thread first */
        while (f->bjob.state != AIO__JOB_RUNNING)
            AIO_SLEEP(rc, AIO_US(1));
        f->t0 = aio_now(aio_task_loop(t)); /* the thread is taken: times count from here */
        tf.m = f;
        aio_spawn(&f->g, &tt, ticker_task, &tf);
    }
    aio_stream_init(&f->s, -1, NULL, 0);
    if (f->use_pool)
        aio_connect_resolve_on(&f->op, &f->r, &pool);
    aio_scope_init(&f->sc);
    aio_scope_enter(t, &f->sc, f->cancel_after ? f->t0 + f->cancel_after : AIO_TIME_INF);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, f->host, lst.port);
    f->rc = rc;
    f->scope_rc = aio_scope_exit(t, &f->sc, rc);
    f->done_at = aio_now(aio_task_loop(t)) - f->t0;
    f->ticks_at_connect = f->ticks;
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static struct m_res m;

static void run(const char *host, int use_pool, int hold_pool)
{
    aio_config cfg;
    memset(&m, 0, sizeof m);
    memset(&lst, 0, sizeof lst);
    m.host = host;
    m.use_pool = use_pool;
    m.hold_pool = hold_pool;
    CHECK_EQ(pipe(gate), 0);
    CHECK_EQ(aio_pool_init(&pool, threads, 1), 0);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 8), 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    cfg.seed = harness_seed;
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    memset(&mt, 0, sizeof mt);
}

static void finish(void)
{
    aio_listener_close(&L, &lst);
    CHECK_EQ(aio_loop_close(&L), 0);
    CHECK_EQ(aio_pool_shutdown(&pool), 0);
    close(gate[0]);
    close(gate[1]);
}

TEST(a_name_is_looked_up_on_the_pool_while_the_loop_goes_on)
{
    run("localhost", 1, 1);
    m.release_after = AIO_MS(50);
    CHECK_EQ(aio_run(&L, &mt, m_res_fn, &m), 0);
    CHECK_EQ(m.rc, 0);                  /* connected to 127.0.0.1 */
    CHECK_EQ(m.hold_rc, 0);
    CHECK_EQ(m.ticks_at_connect, 5);    /* the loop ticked while the lookup waited for the thread */
    CHECK_EQ(m.done_at, AIO_MS(50));
    CHECK(!aio_job_busy(&m.r.job));
    finish();
}

TEST(a_queued_lookup_is_cancelled_without_running)
{
    run("localhost", 1, 1);
    m.release_after = AIO_MS(300);
    m.cancel_after = AIO_MS(100);
    CHECK_EQ(aio_run(&L, &mt, m_res_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_ECANCELED);
    CHECK_EQ(m.scope_rc, 0);
    CHECK_EQ(m.done_at, AIO_MS(100));   /* at once, not when the thread freed */
    CHECK_EQ(m.op.naddr, 0);            /* nothing was resolved */
    CHECK(!aio_job_busy(&m.r.job));
    CHECK_EQ(m.s.fd, -1);
    finish();
}

TEST(a_numeric_host_never_waits_for_the_pool)
{
    run("127.0.0.1", 1, 1);
    m.release_after = AIO_MS(50);
    CHECK_EQ(aio_run(&L, &mt, m_res_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK_EQ(m.done_at, 0);             /* the pool's only thread was busy: not needed */
    CHECK(m.r.job.fn == NULL);          /* no job was ever prepared */
    finish();
}

TEST(without_a_resolver_a_name_uses_the_blocking_fallback)
{
    run("localhost", 0, 0);
    CHECK_EQ(aio_run(&L, &mt, m_res_fn, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK_EQ(m.done_at, 0);
    finish();
}

int main(void)
{
    alarm(60);
    RUN_ONCE(a_name_is_looked_up_on_the_pool_while_the_loop_goes_on);
    RUN_ONCE(a_queued_lookup_is_cancelled_without_running);
    RUN_ONCE(a_numeric_host_never_waits_for_the_pool);
    RUN_ONCE(without_a_resolver_a_name_uses_the_blocking_fallback);
    return harness_report();
}
