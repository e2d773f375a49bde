/*
 * tests/test_thread.c - aio_thread.h: the thread pool and AIO_TO_THREAD,
 * limiters, both cancellation policies, posting from several threads, the
 * thread-safe event and files through the pool.
 */
#define AIO_IMPLEMENTATION
#include "../aio_thread.h"
#include "harness.h"
#include <errno.h>
#include <time.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;
static pthread_t threads[8];
static aio_pool pool;

static void nap(void)
{
    struct timespec ts = { 0, 200000 };
    nanosleep(&ts, NULL);
}

static int ld(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static int add(int *p, int v) { return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL); }

/* ---- a blocking function with a gate ------------------------------------ */

struct gated {
    int started;  /* set by the worker when fn begins */
    int gate;     /* fn returns once this is set */
    int finished; /* set by the worker when fn returns */
    int value;
    aio_tevent started_ev;
};

static int gated_fn(void *arg)
{
    struct gated *g = (struct gated *)arg;
    st(&g->started, 1);
    aio_tevent_set(&g->started_ev);
    while (!ld(&g->gate))
        nap();
    st(&g->finished, 1);
    return g->value;
}

static int square_fn(void *arg)
{
    int *v = (int *)arg;
    return *v * *v;
}

/* ---- one call ------------------------------------------------------------ */

struct one { aio_frame hdr; aio_job job; aio_pool *pool; int in; int rc; };
static int one_task(aio_task *t, void *p)
{
    struct one *f = (struct one *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->job, square_fn, &f->in, NULL, 0);
    AIO_TO_THREAD(rc, f->pool ? f->pool : &pool, &f->job);
    f->rc = rc;
    AIO_END(0);
}

TEST(to_thread_returns_the_function_result)
{
    struct one f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    f.in = 12;
    CHECK_EQ(aio_run(&L, &mt, one_task, &f), 0);
    CHECK_EQ(f.rc, 144);
    CHECK(!aio_job_busy(&f.job));
    aio_loop_close(&L);
}

/* ---- 1,000 calls under a limiter of 4 ------------------------------------ */

#define NCALLS 1000
static int concurrent, max_concurrent, calls_made;

static int counted_fn(void *arg)
{
    int *v = (int *)arg;
    int now = add(&concurrent, 1), m;
    while ((m = ld(&max_concurrent)) < now && !__atomic_compare_exchange_n(&max_concurrent, &m, now, 0,
                                                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
    if (*v % 50 == 0)
        nap();
    add(&calls_made, 1);
    add(&concurrent, -1);
    return *v + 1;
}

struct caller { aio_frame hdr; aio_job job; aio_limiter *lim; int in; int rc; };
static int caller_task(aio_task *t, void *p)
{
    struct caller *f = (struct caller *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->job, counted_fn, &f->in, f->lim, 0);
    AIO_TO_THREAD(rc, &pool, &f->job);
    f->rc = rc;
    AIO_END(0);
}

static struct many {
    aio_frame hdr;
    aio_group g;
    aio_limiter lim;
    aio_task tasks[NCALLS];
    struct caller frames[NCALLS];
    int i;
} many;
static int many_main(aio_task *t, void *p)
{
    struct many *f = (struct many *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < NCALLS; f->i++) {
        f->frames[f->i].lim = &f->lim;
        f->frames[f->i].in = f->i;
        aio_spawn(&f->g, &f->tasks[f->i], caller_task, &f->frames[f->i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_thousand_calls_under_a_limiter_of_four_run_at_most_four_at_once)
{
    int i, bad = 0;
    test_loop_init(&L);
    memset(&many, 0, sizeof many);
    aio_limiter_init(&many.lim, 4);
    st(&concurrent, 0);
    st(&max_concurrent, 0);
    st(&calls_made, 0);
    CHECK_EQ(aio_run(&L, &mt, many_main, &many), 0);
    for (i = 0; i < NCALLS; i++)
        bad += many.frames[i].rc != i + 1;
    CHECK_EQ(bad, 0);
    CHECK_EQ(ld(&calls_made), NCALLS);
    CHECK(ld(&max_concurrent) >= 1);
    CHECK(ld(&max_concurrent) <= 4);
    CHECK_EQ(aio_limiter_borrowed(&many.lim), 0);
    aio_loop_close(&L);
}

/* ---- posting from four threads at once ----------------------------------- */

#define POSTERS 4
#define POSTS 2000
struct postbox {
    aio_frame hdr;
    aio_post nodes[POSTERS][POSTS];
    int seen[POSTERS];  /* loop thread only */
    int order_ok;
    int total;
    aio_event all;
};
static struct postbox box;

struct poster_arg { int id; };
static void on_post(aio_loop *loop, void *arg)
{
    intptr_t v = (intptr_t)arg;
    int id = (int)(v / POSTS), seq = (int)(v % POSTS);
    (void)loop;
    if (box.seen[id] != seq)
        box.order_ok = 0; /* each thread's posts run in the order it made them */
    box.seen[id] = seq + 1;
    if (++box.total == POSTERS * POSTS)
        aio_event_set(&box.all);
}
static void *poster_thread(void *p)
{
    int id = ((struct poster_arg *)p)->id, i;
    for (i = 0; i < POSTS; i++)
        aio_from_thread_post(&L, &box.nodes[id][i], on_post, (void *)(intptr_t)(id * POSTS + i));
    return NULL;
}
static int box_main(aio_task *t, void *p)
{
    struct postbox *f = (struct postbox *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_EVENT_WAIT(rc, &f->all);
    AIO_END(rc);
}

TEST(posts_from_four_threads_at_once_all_run_in_per_thread_order)
{
    pthread_t th[POSTERS];
    struct poster_arg args[POSTERS];
    int i;
    test_loop_init(&L);
    memset(&box, 0, sizeof box);
    box.order_ok = 1;
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    for (i = 0; i < POSTERS; i++) {
        args[i].id = i;
        CHECK_EQ(pthread_create(&th[i], NULL, poster_thread, &args[i]), 0);
    }
    CHECK_EQ(aio_run(&L, &mt, box_main, &box), 0);
    for (i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(box.total, POSTERS * POSTS);
    CHECK(box.order_ok);
    aio_loop_close(&L);
}

/* ---- cancellation --------------------------------------------------------- */

struct offload { aio_frame hdr; aio_job job; struct gated *g; aio_limiter *lim; unsigned flags; int rc; int after; };
static int offload_task(aio_task *t, void *p)
{
    struct offload *f = (struct offload *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->job, gated_fn, f->g, f->lim, f->flags);
    AIO_TO_THREAD(rc, &pool, &f->job);
    f->rc = rc;
    AIO_CHECKPOINT(rc); /* the cancellation shows here if the wait swallowed it */
    f->after = rc;
    AIO_END(0);
}

struct cancel_main {
    aio_frame hdr;
    aio_group g;
    aio_task child;
    struct offload off;
    struct gated gate;
    aio_limiter lim;
    int done_before_gate;
    int borrowed_after_abandon;
    int join_rc;
    int k;
};
static int cancel_main(aio_task *t, void *p)
{
    struct cancel_main *f = (struct cancel_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->child, offload_task, &f->off);
    AIO_TEVENT_WAIT(rc, &f->gate.started_ev); /* fn is running */
    aio_task_cancel(&f->child);
    for (f->k = 0; f->k < 20; f->k++)
        AIO_YIELD();
    f->done_before_gate = aio_task_done(&f->child);
    f->borrowed_after_abandon = (int)aio_limiter_borrowed(&f->lim);
    st(&f->gate.gate, 1);
    AIO_JOB_JOIN(rc, &f->off.job);
    f->join_rc = rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static void cancel_setup(struct cancel_main *f, unsigned flags)
{
    test_loop_init(&L);
    memset(f, 0, sizeof *f);
    aio_tevent_init(&f->gate.started_ev, &L);
    aio_limiter_init(&f->lim, 1);
    f->gate.value = 7;
    f->off.g = &f->gate;
    f->off.lim = &f->lim;
    f->off.flags = flags;
}

TEST(cancel_while_running_waits_for_the_function_by_default)
{
    static struct cancel_main f;
    cancel_setup(&f, 0);
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.done_before_gate, 0);      /* still waiting for fn */
    CHECK_EQ(f.off.rc, 7);                /* got fn's result */
    CHECK_EQ(f.off.after, AIO_ECANCELED); /* and the cancellation at the next checkpoint */
    CHECK_EQ(ld(&f.gate.finished), 1);
    CHECK_EQ(aio_limiter_borrowed(&f.lim), 0);
    aio_loop_close(&L);
}

TEST(abandon_on_cancel_resumes_at_once_and_drops_the_result_later)
{
    static struct cancel_main f;
    cancel_setup(&f, AIO_JOB_ABANDON_ON_CANCEL);
    CHECK_EQ(aio_run(&L, &mt, cancel_main, &f), 0);
    CHECK_EQ(f.done_before_gate, 1);          /* resumed while fn still ran */
    CHECK_EQ(f.off.rc, AIO_ECANCELED);
    CHECK_EQ(f.borrowed_after_abandon, 1);    /* the token stays out until fn returns */
    CHECK_EQ(f.join_rc, 0);
    CHECK_EQ(ld(&f.gate.finished), 1);
    CHECK(!aio_job_busy(&f.off.job));
    CHECK_EQ(aio_job_result(&f.off.job), 7);
    CHECK_EQ(aio_limiter_borrowed(&f.lim), 0);
    aio_loop_close(&L);
}

/* A single-thread pool: the second job waits in the queue behind the first. */
static pthread_t one_thread[1];
static aio_pool pool1;

static int ran_b;
static int mark_fn(void *arg)
{
    (void)arg;
    st(&ran_b, 1);
    return 1;
}

struct queued_main {
    aio_frame hdr;
    aio_group g;
    aio_task ta, tb;
    struct offload a;
    struct { aio_frame hdr; aio_job job; int rc; } b;
    struct gated gate;
    int b_done_before_gate;
    int k;
};
static int b_task(aio_task *t, void *p)
{
    struct queued_main *m = (struct queued_main *)((char *)p - offsetof(struct queued_main, b));
    int rc;
    AIO_BEGIN(t, &m->b);
    aio_job_init(&m->b.job, mark_fn, NULL, NULL, 0);
    AIO_TO_THREAD(rc, &pool1, &m->b.job);
    m->b.rc = rc;
    AIO_END(0);
}
static int a_task(aio_task *t, void *p)
{
    struct offload *f = (struct offload *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_job_init(&f->job, gated_fn, f->g, NULL, 0);
    AIO_TO_THREAD(rc, &pool1, &f->job);
    f->rc = rc;
    AIO_END(0);
}
static int queued_main(aio_task *t, void *p)
{
    struct queued_main *f = (struct queued_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->ta, a_task, &f->a);
    AIO_TEVENT_WAIT(rc, &f->gate.started_ev);
    aio_spawn(&f->g, &f->tb, b_task, &f->b);
    while (!aio_job_busy(&f->b.job))
        AIO_YIELD(); /* b's job is queued behind a's */
    aio_task_cancel(&f->tb);
    for (f->k = 0; f->k < 50 && !aio_task_done(&f->tb); f->k++)
        AIO_YIELD();
    f->b_done_before_gate = aio_task_done(&f->tb);
    st(&f->gate.gate, 1);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(cancel_while_queued_takes_the_job_off_the_queue_unrun)
{
    static struct queued_main f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    st(&ran_b, 0);
    aio_tevent_init(&f.gate.started_ev, &L);
    f.a.g = &f.gate;
    f.gate.value = 3;
    CHECK_EQ(aio_pool_init(&pool1, one_thread, 1), 0);
    CHECK_EQ(aio_run(&L, &mt, queued_main, &f), 0);
    CHECK_EQ(aio_pool_shutdown(&pool1), 0);
    CHECK_EQ(f.b_done_before_gate, 1);
    CHECK_EQ(f.b.rc, AIO_ECANCELED);
    CHECK_EQ(f.a.rc, 3);
    CHECK_EQ(ld(&ran_b), 0);
    CHECK(!aio_job_busy(&f.b.job));
    aio_loop_close(&L);
}

struct precancel { aio_frame hdr; aio_job job; int in; int rc; };
static int precancel_task(aio_task *t, void *p)
{
    struct precancel *f = (struct precancel *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_task_cancel(t);
    aio_job_init(&f->job, mark_fn, NULL, NULL, 0);
    AIO_TO_THREAD(rc, &pool, &f->job);
    f->rc = rc;
    AIO_END(0);
}

TEST(a_pre_cancelled_to_thread_runs_nothing)
{
    struct precancel f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    st(&ran_b, 0);
    aio_run(&L, &mt, precancel_task, &f);
    CHECK_EQ(f.rc, AIO_ECANCELED);
    CHECK_EQ(ld(&ran_b), 0);
    CHECK(!aio_job_busy(&f.job));
    aio_loop_close(&L);
}

TEST(a_shut_down_pool_refuses_jobs)
{
    struct one f;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_pool_init(&pool1, one_thread, 1), 0);
    CHECK_EQ(aio_pool_shutdown(&pool1), 0);
    f.pool = &pool1;
    f.in = 3;
    CHECK_EQ(aio_run(&L, &mt, one_task, &f), 0);
    CHECK_EQ(f.rc, AIO_ECLOSED);
    CHECK(!aio_job_busy(&f.job));
    CHECK_EQ(aio_pool_shutdown(&pool1), AIO_EINVAL); /* already shut down */
    aio_loop_close(&L);
}

/* ---- thread-safe event ----------------------------------------------------- */

static void *setter_thread(void *p)
{
    nap();
    aio_tevent_set((aio_tevent *)p);
    aio_tevent_set((aio_tevent *)p); /* coalesces */
    return NULL;
}
struct tev { aio_frame hdr; aio_tevent e; int rc; };
static int tev_main(aio_task *t, void *p)
{
    struct tev *f = (struct tev *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_TEVENT_WAIT(rc, &f->e);
    f->rc = rc;
    AIO_END(0);
}

TEST(a_thread_sets_an_event_a_task_waits_on)
{
    struct tev f;
    pthread_t th;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_tevent_init(&f.e, &L), 0);
    CHECK_EQ(pthread_create(&th, NULL, setter_thread, &f.e), 0);
    CHECK_EQ(aio_run(&L, &mt, tev_main, &f), 0);
    pthread_join(th, NULL);
    CHECK_EQ(f.rc, 0);
    CHECK(aio_event_is_set(&f.e.ev));
    aio_loop_close(&L);
}

/* ---- files ------------------------------------------------------------------ */

static char path_a[64];

struct files {
    aio_frame hdr;
    aio_file_op op;
    char out[100];
    char in[128];
    char small[10];
    int wrote, read, small_rc, part, missing;
    char part_buf[8];
};
static int files_main(aio_task *t, void *p)
{
    struct files *f = (struct files *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_FILE_WRITE_ALL(rc, &pool, &f->op, path_a, f->out, sizeof f->out, NULL);
    f->wrote = rc;
    AIO_FILE_READ_ALL(rc, &pool, &f->op, path_a, f->in, sizeof f->in, NULL);
    f->read = rc;
    AIO_FILE_READ_ALL(rc, &pool, &f->op, path_a, f->small, sizeof f->small, NULL);
    f->small_rc = rc;
    AIO_FILE_READ(rc, &pool, &f->op, path_a, f->part_buf, 4, 10, NULL);
    f->part = rc;
    AIO_FILE_READ_ALL(rc, &pool, &f->op, "/nonexistent/aio-test", f->in, sizeof f->in, NULL);
    f->missing = rc;
    AIO_END(0);
}

TEST(files_are_written_and_read_back_through_the_pool)
{
    static struct files f;
    int i;
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    snprintf(path_a, sizeof path_a, "/tmp/aio-thread-test-%d", (int)getpid());
    for (i = 0; i < 100; i++)
        f.out[i] = (char)('a' + i % 26);
    CHECK_EQ(aio_run(&L, &mt, files_main, &f), 0);
    CHECK_EQ(f.wrote, 100);
    CHECK_EQ(f.read, 100);
    CHECK(memcmp(f.in, f.out, 100) == 0);
    CHECK_EQ(f.small_rc, AIO_EOVERFLOW);
    CHECK(memcmp(f.small, f.out, 10) == 0);
    CHECK_EQ(f.part, 4);
    CHECK(memcmp(f.part_buf, f.out + 10, 4) == 0);
    CHECK_EQ(f.missing, -ENOENT);
    unlink(path_a);
    aio_loop_close(&L);
}

int main(void)
{
    if (aio_pool_init(&pool, threads, 8) != 0) {
        printf("pool init failed\n");
        return 1;
    }
    RUN(to_thread_returns_the_function_result);
    RUN(a_thousand_calls_under_a_limiter_of_four_run_at_most_four_at_once);
    RUN_ONCE(posts_from_four_threads_at_once_all_run_in_per_thread_order);
    RUN(cancel_while_running_waits_for_the_function_by_default);
    RUN(abandon_on_cancel_resumes_at_once_and_drops_the_result_later);
    RUN(cancel_while_queued_takes_the_job_off_the_queue_unrun);
    RUN(a_pre_cancelled_to_thread_runs_nothing);
    RUN_ONCE(a_shut_down_pool_refuses_jobs);
    RUN(a_thread_sets_an_event_a_task_waits_on);
    RUN(files_are_written_and_read_back_through_the_pool);
    aio_pool_shutdown(&pool);
    return harness_report();
}
