/*
 * tests/test_easy.c - the aio_easy.h shorthands and the mistakes they and
 * the core catch at run time: errors propagated by AIO_TRY*, children as
 * one array, frames reset by AIO_SPAWN_NEW, AIO_NOW, aio_run_main's exit
 * status, reasons and counts of failed children, a group left without
 * waiting (AIO_EBUSY in every build), and the queue item-size check.
 */
#define AIO_IMPLEMENTATION
#include "core_util.h"
#include "../aio_thread.h" /* first: the thread shorthands of aio_easy.h */
#include "../aio_easy.h"

#include <fcntl.h>
#include <unistd.h>

static aio_loop L;
static aio_task mt;

/* ---- AIO_TRY, AIO_TRY_AWAIT, AIO_TRY_OP --------------------------------- */

static int fails_with(int rc) { return rc; }

struct leaf { aio_frame hdr; int err, after; };
AIO_CORO(leaf, struct leaf, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(1));
    AIO_TRY(fails_with(f->err));
    f->after = 1;
    AIO_END(5);
}

struct trier { aio_frame hdr; struct leaf leaf; int got, reached; aio_time at; };
AIO_CORO(trier, struct trier, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_AWAIT(rc, leaf, &f->leaf);
    f->got = rc;
    f->reached = 1;
    f->at = AIO_NOW();
    AIO_END(0);
}

TEST(try_forms_pass_results_on_and_return_errors)
{
    static struct trier f;
    unsigned line = 0;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, trier, &f), 0);
    CHECK_EQ(f.got, 5);
    CHECK_EQ(f.leaf.after, 1);
    CHECK_EQ(f.at, AIO_MS(1));
    aio_loop_close(&L);

    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.leaf.err = -77;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, trier, &f), -77);
    CHECK_EQ(f.leaf.after, 0);
    CHECK_EQ(f.reached, 0);
    CHECK(aio_frame_error_site(&f.leaf.hdr, &line) != NULL);
    CHECK(line > 0);
    aio_loop_close(&L);
}

/* A cancellation passes through AIO_TRY_OP like any error. */
struct cancelled_main { aio_frame hdr; aio_scope s; struct leaf leaf; int rc, leaf_rc; };
AIO_CORO(cancelled_main, struct cancelled_main, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_enter(t, &f->s, AIO_TIME_INF);
    aio_scope_cancel(&f->s, "test");
    AIO_AWAIT(rc, leaf, &f->leaf);
    f->leaf_rc = rc;
    f->rc = aio_scope_exit(t, &f->s, rc);
    AIO_END(0);
}

TEST(try_op_propagates_a_cancellation)
{
    static struct cancelled_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, cancelled_main, &f), 0);
    CHECK_EQ(f.leaf_rc, AIO_ECANCELED);
    CHECK_EQ(f.leaf.after, 0);
    CHECK_EQ(f.rc, 0);
    aio_loop_close(&L);
}

/* ---- children as one array; AIO_SPAWN_NEW resets the frame --------------- */

struct kid { aio_frame hdr; int id, scratch; int *sum; };
AIO_CORO(kid, struct kid, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    CHECK_EQ(f->scratch, 0); /* reset by AIO_SPAWN_NEW */
    f->scratch = 99;
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(f->id));
    *f->sum += f->id;
    AIO_END(0);
}

struct parent { aio_frame hdr; aio_group g; AIO_CHILD_OF(kid) kids[4]; int i, round, sum, rc; };
AIO_CORO(parent, struct parent, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    for (f->round = 0; f->round < 2; f->round++) { /* the second round reuses the frames */
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
        for (f->i = 0; f->i < 4; f->i++)
            CHECK_EQ(AIO_SPAWN_NEW(&f->g, &f->kids[f->i], kid, .id = f->i + 1, .sum = &f->sum), 0);
        AIO_GROUP_WAIT(rc, &f->g, 0);
        f->rc |= rc;
    }
    AIO_END(0);
}

TEST(children_in_one_array_run_and_their_frames_are_reset_per_spawn)
{
    static struct parent f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, parent, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(f.sum, 2 * (1 + 2 + 3 + 4));
    CHECK_EQ(f.kids[3].frame.scratch, 99);
    CHECK(aio_task_done(&f.kids[0].task));
    CHECK_EQ(aio_now(&L), AIO_MS(8));
    aio_loop_close(&L);
}

/* ---- reasons and counts of failed children ------------------------------ */

struct failing { aio_frame hdr; int i; };
AIO_CORO(failing, struct failing, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_MS(f->i % 2 ? 1 : 5));
    if (f->i == 1)
        AIO_FAIL(-101, "first reason");
    if (f->i == 3)
        AIO_RETURN(-103); /* no reason */
    AIO_END(0);
}

typedef AIO_CHILD_OF(failing) failing_child;
struct collector { aio_frame hdr; aio_group g; failing_child kids[4]; int i, rc, n, ids[4]; const char *why[4]; int codes[4]; uint32_t count; };
AIO_CORO(collector, struct collector, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < 4; f->i++)
        AIO_SPAWN_NEW(&f->g, &f->kids[f->i], failing, .i = f->i);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    f->count = aio_group_failed_count(&f->g);
    for (AIO_GROUP_EACH_FAILED(&f->g, c)) {
        f->ids[f->n] = ((failing_child *)(void *)c)->frame.i;
        f->why[f->n] = aio_task_error_reason(c);
        f->codes[f->n++] = aio_task_rc(c);
    }
    AIO_END(0);
}

/* A reason is forgotten once the task parks again: a nested coroutine fails
 * with one, its caller handles the error, sleeps, and then fails plainly. */
static int fails_with_reason(aio_task *t, void *p)
{
    AIO_BEGIN(t, p);
    AIO_FAIL(-201, "inner reason");
    AIO_END(0);
}
struct reason_outer { aio_frame hdr; aio_frame inner; int inner_rc; const char *seen; };
static int reason_outer(aio_task *t, void *p)
{
    struct reason_outer *f = (struct reason_outer *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_AWAIT(f->inner_rc, fails_with_reason, &f->inner);
    AIO_SLEEP(rc, AIO_MS(1)); /* handled: the task goes on and parks */
    AIO_RETURN(-202);         /* fails later with no reason of its own */
    AIO_END(rc);
}
struct reason_main { aio_frame hdr; aio_group g; aio_task a, b; struct reason_outer o; aio_frame direct; };
static int reason_main(aio_task *t, void *p)
{
    struct reason_main *f = (struct reason_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->a, reason_outer, &f->o);
    aio_spawn(&f->g, &f->b, fails_with_reason, &f->direct);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

TEST(a_reason_is_the_failing_tasks_and_is_forgotten_once_it_parks_again)
{
    static struct reason_main f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    aio_run(&L, &mt, reason_main, &f);
    CHECK_EQ(f.o.inner_rc, -201);
    CHECK(aio_task_error_reason(&f.a) == NULL); /* -202 has none */
    CHECK(aio_task_error_reason(&f.b) != NULL && strcmp(aio_task_error_reason(&f.b), "inner reason") == 0);
    aio_loop_close(&L);
}

TEST(failed_children_are_counted_and_iterated_with_their_reasons)
{
    static struct collector f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, collector, &f), 0);
    CHECK(f.rc == -101 || f.rc == -103); /* both fail in one turn: either is first */
    CHECK_EQ(f.rc, f.codes[0]);
    CHECK_EQ(f.count, 2);
    CHECK_EQ(f.n, 2);
    CHECK_EQ(f.ids[0] + f.ids[1], 4); /* workers 1 and 3, in the order they failed */
    CHECK(f.why[f.ids[0] == 1 ? 0 : 1] != NULL && strcmp(f.why[f.ids[0] == 1 ? 0 : 1], "first reason") == 0);
    CHECK(f.why[f.ids[0] == 3 ? 0 : 1] == NULL);
    CHECK_EQ(f.codes[f.ids[0] == 1 ? 0 : 1], -101);
    CHECK_EQ(aio_task_rc(&f.kids[0].task), AIO_ECANCELED); /* the even ones were cancelled */
    CHECK(aio_task_error_reason(&f.kids[0].task) == NULL);
    aio_loop_close(&L);
}

/* ---- a group left without AIO_GROUP_WAIT fails its task ------------------ */

struct forgetful { aio_frame hdr; aio_group g; };
AIO_CORO(forgetful, struct forgetful, t, f)
{
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    AIO_END(0); /* misuse: the group is never waited */
}

TEST(a_group_left_without_waiting_is_an_error_in_every_build)
{
    static struct forgetful f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, forgetful, &f), AIO_EBUSY);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 1);
#endif
    aio_loop_close(&L);
}

/* ---- typed queue calls ------------------------------------------------- */

struct typed_q { aio_frame hdr; aio_queue q; long long items[3], in, out; char c; int bad_put, bad_get; };
AIO_CORO(typed_q, struct typed_q, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    CHECK_EQ(AIO_QUEUE_INIT_ARRAY(&f->q, AIO_QUEUE_FIFO, f->items), 0);
    CHECK_EQ(f->q.cap, 3);
    CHECK_EQ(f->q.item_size, sizeof(long long));
    f->in = 1234567890123LL;
    AIO_TRY_OP(rc, AIO_QUEUE_PUT_ITEM, &f->q, &f->in);
    AIO_QUEUE_PUT_ITEM(rc, &f->q, &f->c); /* a char into a queue of long long */
    f->bad_put = rc;
    AIO_QUEUE_GET_ITEM(rc, &f->q, &f->c);
    f->bad_get = rc;
    AIO_TRY_OP(rc, AIO_QUEUE_GET_ITEM, &f->q, &f->out);
    AIO_END((int)aio_queue_len(&f->q));
}

TEST(typed_queue_calls_check_the_item_size)
{
    static struct typed_q f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init_panics(&L);
    CHECK_EQ(aio_run(&L, &mt, typed_q, &f), 0);
    CHECK_EQ(f.out, 1234567890123LL);
    CHECK_EQ(f.bad_put, AIO_EINVAL);
    CHECK_EQ(f.bad_get, AIO_EINVAL);
#ifdef AIO_DEBUG
    CHECK_EQ(panic_count, 2);
#endif
    aio_loop_close(&L);
}

/* ---- aio_run_main ------------------------------------------------------ */

struct exit_main { aio_frame hdr; int rc; };
AIO_CORO(exit_main, struct exit_main, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    AIO_TRY_OP(rc, AIO_SLEEP, AIO_SEC(3600)); /* virtual: instant */
    AIO_END(f->rc);
}

TEST(run_main_gives_an_exit_status)
{
    static struct exit_main f;
    aio_config cfg = AIO_LOOP_CONFIG_INIT;
    int saved, devnull;
    cfg.virtual_clock = 1;
    memset(&f, 0, sizeof f);
    CHECK_EQ(aio_run_main_cfg(&cfg, exit_main, &f), 0);
    memset(&f, 0, sizeof f);
    f.rc = 3;
    CHECK_EQ(aio_run_main_cfg(&cfg, exit_main, &f), 0);
    memset(&f, 0, sizeof f);
    f.rc = AIO_ETIMEDOUT;
    fflush(stderr);
    saved = dup(2);
    devnull = open("/dev/null", O_WRONLY); /* the failure report goes there */
    CHECK(saved >= 0 && devnull >= 0);
    if (saved >= 0 && devnull >= 0 && dup2(devnull, 2) == 2) {
        CHECK_EQ(aio_run_main_cfg(&cfg, exit_main, &f), 1);
        fflush(stderr);
        dup2(saved, 2);
    }
    if (devnull >= 0)
        close(devnull);
    if (saved >= 0)
        close(saved);
}

/* ---- thread shorthands ------------------------------------------------- */

static aio_pool pool;
static int add_one(void *arg) { return *(int *)arg + 1; }

struct threaded { aio_frame hdr; aio_job job; int in, out; };
AIO_CORO(threaded, struct threaded, t, f)
{
    int rc;
    AIO_BEGIN(t, f);
    f->in = 41;
    AIO_TRY_OP(rc, AIO_RUN_IN_THREAD, &pool, &f->job, add_one, &f->in);
    f->out = rc;
    AIO_END(0);
}

/* Runs the failing call with stderr sent to /dev/null; returns its result. */
static int quietly(int (*call)(void))
{
    int saved, devnull, rc = -1;
    fflush(stderr);
    saved = dup(2);
    devnull = open("/dev/null", O_WRONLY);
    if (saved >= 0 && devnull >= 0 && dup2(devnull, 2) == 2) {
        rc = call();
        fflush(stderr);
        dup2(saved, 2);
    }
    if (devnull >= 0)
        close(devnull);
    if (saved >= 0)
        close(saved);
    return rc;
}

static struct threaded tf;
static pthread_t threads[2];
static int run_without_threads(void) { return aio_run_main_pool(NULL, &pool, threads, 0, threaded, &tf); }

TEST(run_main_pool_runs_a_function_on_a_thread_and_stops_the_pool)
{
    memset(&tf, 0, sizeof tf);
    CHECK_EQ(aio_run_main_pool(NULL, &pool, threads, 2, threaded, &tf), 0);
    CHECK_EQ(tf.out, 42);
    CHECK_EQ(pool.nthreads, 0); /* shut down */
    memset(&tf, 0, sizeof tf);
    CHECK_EQ(quietly(run_without_threads), 1); /* the pool cannot start: nothing runs */
    CHECK_EQ(tf.in, 0);
}

int main(void)
{
    RUN(try_forms_pass_results_on_and_return_errors);
    RUN(try_op_propagates_a_cancellation);
    RUN(children_in_one_array_run_and_their_frames_are_reset_per_spawn);
    RUN(failed_children_are_counted_and_iterated_with_their_reasons);
    RUN(a_reason_is_the_failing_tasks_and_is_forgotten_once_it_parks_again);
    RUN(a_group_left_without_waiting_is_an_error_in_every_build);
    RUN(typed_queue_calls_check_the_item_size);
    RUN(run_main_gives_an_exit_status);
#if AIO__HAVE_ATOMICS /* the pool hands its results back through aio_loop_post */
    RUN_ONCE(run_main_pool_runs_a_function_on_a_thread_and_stops_the_pool);
#endif
    return harness_report();
}
