/*
 * tests/test_thread_portal.c - the blocking portal: threads that are not the
 * loop's run coroutines inside it and get their results.
 */
#define AIO_IMPLEMENTATION
#include "../aio.h"
#include "../aio_sync.h"
#include "../aio_thread.h"
#include "harness.h"
#include <pthread.h>

/* The coroutine the threads call: yields a few times, returns 2*x or fails. */
struct doubler { aio_frame hdr; int x, i; };
static int doubler(aio_task *t, void *frame)
{
    struct doubler *f = (struct doubler *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 3; f->i++) {
        AIO_CHECKPOINT(rc);
        if (rc)
            AIO_RETURN(rc);
    }
    if (f->x < 0)
        AIO_RETURN(-100 + f->x);
    AIO_END(2 * f->x);
}

static aio_portal portal;
#define NCALLS 200
static int results[2][NCALLS];
static int after_stop;

static void *caller(void *arg)
{
    int id = (int)(intptr_t)arg, i;
    for (i = 0; i < NCALLS; i++) {
        aio_portal_req c;
        struct doubler d;
        memset(&d, 0, sizeof d);
        d.x = (i % 50 == 7) ? -i : i + id * 1000;
        results[id][i] = aio_portal_call(&portal, &c, doubler, &d);
    }
    return NULL;
}

static int portal_open(void)
{
    int open;
    pthread_mutex_lock(&portal.mu);
    open = portal.open;
    pthread_mutex_unlock(&portal.mu);
    return open;
}

static void *stopper(void *arg)
{
    pthread_t th[2];
    aio_portal_req c;
    struct doubler d;
    (void)arg;
    while (!portal_open()) /* the serving task has not run yet */
        sched_yield();
    pthread_create(&th[0], NULL, caller, (void *)(intptr_t)0);
    pthread_create(&th[1], NULL, caller, (void *)(intptr_t)1);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    aio_portal_stop(&portal);
    /* Wait until the portal has closed, then a call is refused. */
    while (portal_open())
        sched_yield();
    memset(&d, 0, sizeof d);
    after_stop = aio_portal_call(&portal, &c, doubler, &d);
    return NULL;
}

struct portal_main { aio_frame hdr; aio_group g; aio_task server; int rc; };
static pthread_t stop_thread;
static int portal_main(aio_task *t, void *frame)
{
    struct portal_main *f = (struct portal_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_portal_init(&portal, aio_task_loop(t));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server, aio_portal_serve, &portal);
    pthread_create(&stop_thread, NULL, stopper, NULL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->rc = rc;
    AIO_END(rc);
}

TEST(threads_run_coroutines_in_the_loop_through_a_portal)
{
    static aio_loop L;
    static aio_task mt;
    static struct portal_main f;
    int i, id;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    memset(results, 0, sizeof results);
    after_stop = 0;
    CHECK_EQ(aio_loop_init(&L, NULL), 0); /* real clock: threads are involved */
    test_reactor_attach(&L);
    CHECK_EQ(aio_run(&L, &mt, portal_main, &f), 0);
    pthread_join(stop_thread, NULL);
    for (id = 0; id < 2; id++)
        for (i = 0; i < NCALLS; i++) {
            if (i % 50 == 7)
                CHECK_EQ(results[id][i], -100 - i);   /* a failing call fails alone */
            else
                CHECK_EQ(results[id][i], 2 * (i + id * 1000));
        }
    CHECK_EQ(after_stop, AIO_ECLOSED);
    CHECK_EQ(aio_task_rc(&f.server), 0);
    aio_loop_close(&L);
}

int main(void)
{
    RUN_ONCE(threads_run_coroutines_in_the_loop_through_a_portal);
    return harness_report();
}
