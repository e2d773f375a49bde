/*
 * tests/test_isr.c - the calls an interrupt handler or another thread may
 * make, on a hosted build: posting a node that is still queued (merged,
 * AIO_EBUSY, never a cycle in the post list), from the loop's own thread and
 * from two threads hammering one node; aio_post_pending and
 * aio_loop_wake_pending.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"
#include <pthread.h>

static aio_loop L;
static aio_task mt;

/* ---- a node posted twice ------------------------------------------------ */

struct twice {
    aio_post node;
    int runs, pending_in_cb, repost_rc;
    int repost; /* post the node again from inside its callback */
};

static void twice_cb(aio_loop *loop, void *arg)
{
    struct twice *d = (struct twice *)arg;
    d->runs++;
    d->pending_in_cb = aio_post_pending(&d->node);
    if (d->repost) {
        d->repost = 0;
        d->repost_rc = aio_loop_post(loop, &d->node, twice_cb, d);
    }
}

static void other_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

TEST(posting_a_queued_node_again_is_merged_and_reports_ebusy)
{
    struct twice d;
    memset(&d, 0, sizeof d);
    test_loop_init(&L);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    CHECK_EQ(aio_loop_wake_pending(&L), 0);
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), 0);
    CHECK_EQ(aio_post_pending(&d.node), 1);
    CHECK_EQ(aio_loop_wake_pending(&L), 1);
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), AIO_EBUSY);
    /* A merged post changes nothing: not even the callback. */
    CHECK_EQ(aio_loop_post(&L, &d.node, other_cb, NULL), AIO_EBUSY);
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(d.runs, 1);
    CHECK_EQ(d.pending_in_cb, 0); /* free again before its callback runs */
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_wake_pending(&L), 0);
    /* The loop keeps turning, and the list is empty: nothing runs again. */
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(aio_loop_poll(&L, 0), 0);
    CHECK_EQ(d.runs, 1);
    /* Posted again from inside its own callback (as an interrupt arriving
     * while the callback runs would): it runs once more, on the next pass
     * over the posts (aio_loop_step makes one). */
    d.repost = 1;
    CHECK_EQ(aio_loop_post(&L, &d.node, twice_cb, &d), 0);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 2);
    CHECK_EQ(d.repost_rc, 0);
    CHECK_EQ(aio_post_pending(&d.node), 1);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 3);
    CHECK_EQ(aio_post_pending(&d.node), 0);
    CHECK_EQ(aio_loop_step(&L), 0);
    CHECK_EQ(d.runs, 3);
    CHECK_EQ(aio_loop_close(&L), 0);
}

/* ---- two threads hammering one node -------------------------------------- */

#define HAMMER 20000
struct hammer {
    aio_frame hdr;
    aio_post node;
    int runs;              /* loop thread only */
    int queued[2], busy[2];
    int done;              /* threads finished (atomic) */
    int rc;
};
static struct hammer H;

static void hammer_cb(aio_loop *loop, void *arg)
{
    (void)loop;
    ((struct hammer *)arg)->runs++;
}

static void *hammer_thread(void *p)
{
    int id = (int)(intptr_t)p, i;
    for (i = 0; i < HAMMER; i++) {
        int rc = aio_loop_post(&L, &H.node, hammer_cb, &H);
        if (rc == 0)
            H.queued[id]++;
        else if (rc == AIO_EBUSY)
            H.busy[id]++;
    }
    __atomic_add_fetch(&H.done, 1, __ATOMIC_ACQ_REL);
    aio_loop_wake(&L);
    return NULL;
}

/* Turns the loop until both threads are done and the node has drained. */
static int hammer_main(aio_task *t, void *p)
{
    struct hammer *f = (struct hammer *)p;
    int rc;
    AIO_BEGIN(t, f);
    while (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE) < 2 || aio_post_pending(&f->node)) {
        AIO_CHECKPOINT(rc);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

TEST(two_threads_posting_one_node_never_corrupt_the_list)
{
    pthread_t th[2];
    int i;
    memset(&H, 0, sizeof H);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_loop_wake_enable(&L), 0);
    for (i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, hammer_thread, (void *)(intptr_t)i), 0);
    CHECK_EQ(aio_run(&L, &mt, hammer_main, &H), 0);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    /* Every call was either queued or merged; each queued post ran once. */
    CHECK_EQ(H.queued[0] + H.busy[0], HAMMER);
    CHECK_EQ(H.queued[1] + H.busy[1], HAMMER);
    CHECK_EQ(H.runs, H.queued[0] + H.queued[1]);
    CHECK(H.runs >= 1);
    CHECK_EQ(aio_post_pending(&H.node), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
}

int main(void)
{
    RUN(posting_a_queued_node_again_is_merged_and_reports_ebusy);
    RUN_ONCE(two_threads_posting_one_node_never_corrupt_the_list);
    return harness_report();
}
