/*
 * tests/test_thread_cov.c - aio_thread.h's argument errors and less
 * travelled paths: busy and uninitialised jobs, a cancel of a job in the
 * middle of the pool's queue, joins, a limiter token returned when the pool
 * refuses a job, portal arguments, and a file write at an offset.
 */
#define AIO_IMPLEMENTATION
#include "../aio_thread.h"
#include "harness.h"
#include <errno.h>
#include <time.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;
static pthread_t one_thread[1];
static aio_pool pool1;

static int ld(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

struct gate { int open; int value; aio_tevent started; };
static int gated_fn(void *arg)
{
    struct gate *g = (struct gate *)arg;
    struct timespec ts = { 0, 200000 };
    aio_tevent_set(&g->started);
    while (!ld(&g->open))
        nanosleep(&ts, NULL);
    return g->value;
}

static int ran_b, ran_c, ran_d;
static int mark_fn(void *arg)
{
    st((int *)arg, 1);
    return 7;
}

TEST(pool_job_and_portal_arguments_are_checked)
{
    aio_pool p;
    aio_job j;
    aio_portal portal;
    aio_portal_req req;
    int x = 0;
    CHECK_EQ(aio_pool_init(NULL, one_thread, 1), AIO_EINVAL);
    CHECK_EQ(aio_pool_init(&p, NULL, 1), AIO_EINVAL);
    CHECK_EQ(aio_pool_init(&p, one_thread, 0), AIO_EINVAL);
    memset(&j, 0, sizeof j);
    CHECK_EQ(aio_job_init(NULL, mark_fn, &x, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_job_init(&j, NULL, &x, NULL, 0), AIO_EINVAL);
    CHECK_EQ(aio_portal_init(NULL, &L), AIO_EINVAL);
    CHECK_EQ(aio_portal_init(&portal, NULL), AIO_EINVAL);
    CHECK_EQ(aio_portal_call(NULL, &req, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_file_op_init(NULL, 0, "x", NULL, 0, 0, NULL, 0), AIO_EINVAL);
}

/* ---- jobs queued behind jobs ---------------------------------------------- */

struct job_task { aio_frame hdr; aio_job job; aio_job_fn fn; void *arg; int rc; };
static int job_task(aio_task *t, void *p)
{
    struct job_task *f = (struct job_task *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->job, f->fn, f->arg, NULL, 0);
    AIO_TO_THREAD(rc, &pool1, &f->job);
    f->rc = rc;
    AIO_END(0);
}
struct queue_main {
    aio_frame hdr;
    aio_group g;
    aio_task ta, tb, tc, td;
    struct job_task a, b, c, d;
    struct gate gate;
    aio_job never;
    aio_scope sc;
    int k, c_done_early, reinit_rc, again_rc, uninit_rc, join_idle, join_cancelled, join_rc;
};
static int queue_main(aio_task *t, void *p)
{
    struct queue_main *f = (struct queue_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_TO_THREAD(rc, &pool1, &f->never); /* never initialised */
    f->uninit_rc = rc;
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->a.fn = gated_fn;
    f->a.arg = &f->gate;
    aio_spawn(&f->g, &f->ta, job_task, &f->a);
    AIO_TEVENT_WAIT(rc, &f->gate.started); /* a occupies the only thread */
    f->b.fn = f->c.fn = mark_fn;
    f->b.arg = &ran_b;
    f->c.arg = &ran_c;
    aio_spawn(&f->g, &f->tb, job_task, &f->b);
    while (!aio_job_busy(&f->b.job))
        AIO_YIELD();
    aio_spawn(&f->g, &f->tc, job_task, &f->c);
    while (!aio_job_busy(&f->c.job))
        AIO_YIELD();
    f->d.fn = mark_fn;
    f->d.arg = &ran_d;
    aio_spawn(&f->g, &f->td, job_task, &f->d);
    while (!aio_job_busy(&f->d.job))
        AIO_YIELD();
    /* Jobs in flight cannot be initialised or submitted again. */
    f->reinit_rc = aio_job_init(&f->c.job, mark_fn, &ran_c, NULL, 0);
    AIO_TO_THREAD(rc, &pool1, &f->c.job);
    f->again_rc = rc;
    /* A join from a cancelled scope does not wait. */
    aio_move_on_after(t, &f->sc, 0);
    AIO_JOB_JOIN(rc, &f->c.job);
    f->join_cancelled = rc;
    aio_scope_exit(t, &f->sc, rc);
    /* c is queued between b and d: cancelling it takes it out of the middle of the queue. */
    aio_task_cancel(&f->tc);
    for (f->k = 0; f->k < 50 && !aio_task_done(&f->tc); f->k++)
        AIO_YIELD();
    f->c_done_early = aio_task_done(&f->tc);
    st(&f->gate.open, 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_JOB_JOIN(rc, &f->c.job); /* idle: returns at once */
    f->join_idle = rc;
    AIO_END(rc);
}

TEST(a_job_cancelled_in_the_middle_of_the_queue_never_runs)
{
    static struct queue_main f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    st(&ran_b, 0);
    st(&ran_c, 0);
    st(&ran_d, 0);
    f.gate.value = 5;
    aio_tevent_init(&f.gate.started, &L);
    CHECK_EQ(aio_pool_init(&pool1, one_thread, 1), 0);
    CHECK_EQ(aio_run(&L, &mt, queue_main, &f), 0);
    CHECK_EQ(aio_pool_shutdown(&pool1), 0);
    CHECK_EQ(f.uninit_rc, AIO_EINVAL);
    CHECK_EQ(f.reinit_rc, AIO_EBUSY);
    CHECK_EQ(f.again_rc, AIO_EBUSY);
    CHECK_EQ(f.join_cancelled, AIO_ECANCELED);
    CHECK_EQ(f.c_done_early, 1);
    CHECK_EQ(f.c.rc, AIO_ECANCELED);
    CHECK_EQ(ld(&ran_c), 0);
    CHECK_EQ(f.a.rc, 5);
    CHECK_EQ(f.b.rc, 7);
    CHECK_EQ(ld(&ran_b), 1); /* b and d ran after a */
    CHECK_EQ(ld(&ran_d), 1);
    CHECK_EQ(f.d.rc, 7);
    CHECK_EQ(f.join_idle, 0);
    aio_loop_close(&L);
}

/* ---- a refused job gives its limiter token back ------------------------- */

struct refused { aio_frame hdr; aio_job job; aio_limiter lim; int x, rc; uint32_t borrowed; };
static int refused_main(aio_task *t, void *p)
{
    struct refused *f = (struct refused *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_limiter_init(&f->lim, 1);
    aio_job_init(&f->job, mark_fn, &f->x, &f->lim, 0);
    AIO_TO_THREAD(rc, &pool1, &f->job);
    f->rc = rc;
    f->borrowed = f->lim.borrowed;
    AIO_END(0);
}

TEST(a_job_refused_by_a_shut_down_pool_returns_its_limiter_token)
{
    static struct refused f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_pool_init(&pool1, one_thread, 1), 0);
    CHECK_EQ(aio_pool_shutdown(&pool1), 0);
    CHECK_EQ(aio_run(&L, &mt, refused_main, &f), 0);
    CHECK_EQ(f.rc, AIO_ECLOSED);
    CHECK_EQ(f.borrowed, 0);
    CHECK_EQ(f.x, 0);
    aio_loop_close(&L);
}

/* ---- files ---------------------------------------------------------------- */

struct wfile {
    aio_frame hdr;
    aio_file_op op;
    char path[64], path2[64];
    char in[32];
    int all_rc, at_rc, read_rc, past_rc, exact_rc, over_rc, empty_rc, bad_kind, bad_off, busy_rc;
};
static int wfile_main(aio_task *t, void *p)
{
    struct wfile *f = (struct wfile *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_FILE_WRITE_ALL(rc, &pool1, &f->op, f->path, "hello world", 11, NULL);
    f->all_rc = rc;
    AIO_FILE_WRITE(rc, &pool1, &f->op, f->path, "J", 1, 6, NULL); /* no truncation */
    f->at_rc = rc;
    AIO_FILE_READ_ALL(rc, &pool1, &f->op, f->path, f->in, sizeof f->in, NULL);
    f->read_rc = rc;
    AIO_FILE_READ(rc, &pool1, &f->op, f->path, f->in + 16, 4, 100, NULL); /* past the end */
    f->past_rc = rc;
    AIO_FILE_READ_ALL(rc, &pool1, &f->op, f->path, f->in + 16, 11, NULL); /* exactly the file */
    f->exact_rc = rc;
    AIO_FILE_READ_ALL(rc, &pool1, &f->op, f->path, f->in + 16, 10, NULL); /* one byte short */
    f->over_rc = rc;
    AIO_FILE_WRITE_ALL(rc, &pool1, &f->op, f->path2, NULL, 0, NULL); /* an empty file */
    f->empty_rc = rc;
    f->bad_kind = aio_file_op_init(&f->op, 99, f->path, f->in, 1, 0, NULL, 0);
    f->bad_off = aio_file_op_init(&f->op, AIO_FILE_READ, f->path, f->in, 1, -1, NULL, 0);
    f->op.job.busy = 1; /* as while a job is in flight */
    f->busy_rc = aio_file_op_init(&f->op, AIO_FILE_READ, f->path, f->in, 1, 0, NULL, 0);
    f->op.job.busy = 0;
    AIO_END(0);
}

TEST(file_write_at_an_offset_keeps_the_rest_and_init_checks_arguments)
{
    static struct wfile f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    sprintf(f.path, "/tmp/aio-cov-thread-%ld", (long)getpid());
    sprintf(f.path2, "/tmp/aio-cov-thread-empty-%ld", (long)getpid());
    CHECK_EQ(aio_pool_init(&pool1, one_thread, 1), 0);
    CHECK_EQ(aio_run(&L, &mt, wfile_main, &f), 0);
    CHECK_EQ(aio_pool_shutdown(&pool1), 0);
    CHECK_EQ(f.all_rc, 11);
    CHECK_EQ(f.at_rc, 1);
    CHECK_EQ(f.read_rc, 11);
    CHECK(memcmp(f.in, "hello Jorld", 11) == 0);
    CHECK_EQ(f.past_rc, 0);
    CHECK_EQ(f.exact_rc, 11);
    CHECK_EQ(f.over_rc, AIO_EOVERFLOW);
    CHECK_EQ(f.empty_rc, 0);
    CHECK_EQ(access(f.path2, F_OK), 0);
    unlink(f.path2);
    CHECK_EQ(f.bad_kind, AIO_EINVAL);
    CHECK_EQ(f.bad_off, AIO_EINVAL);
    CHECK_EQ(f.busy_rc, AIO_EBUSY);
    unlink(f.path);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(pool_job_and_portal_arguments_are_checked);
    RUN(a_job_cancelled_in_the_middle_of_the_queue_never_runs);
    RUN(a_job_refused_by_a_shut_down_pool_returns_its_limiter_token);
    RUN(file_write_at_an_offset_keeps_the_rest_and_init_checks_arguments);
    return harness_report();
}
