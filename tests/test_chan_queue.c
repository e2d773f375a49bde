/*
 * tests/test_chan_queue.c - asyncio.Queue, LifoQueue and PriorityQueue:
 * order, blocking put and get, task_done / join, shutdown (3.13).
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

static aio_queue q;
static int store[8];

static int int_cmp(const void *a, const void *b, void *ctx)
{
    int x = *(const int *)a, y = *(const int *)b;
    (void)ctx;
    return (x > y) - (x < y);
}

static void open_queue(int kind, uint32_t cap)
{
    memset(store, 0, sizeof store);
    CHECK_EQ(aio_queue_init(&q, kind, store, sizeof(int), cap, int_cmp, NULL), 0);
}

TEST(fifo_queue_returns_items_in_put_order)
{
    int i, v;
    open_queue(AIO_QUEUE_FIFO, 3);
    for (i = 0; i < 10; i++) {
        CHECK_EQ(aio_queue_try_put(&q, &i), 0);
        CHECK_EQ(aio_queue_try_get(&q, &v), 0);
        CHECK_EQ(v, i);
    }
    for (i = 0; i < 3; i++)
        CHECK_EQ(aio_queue_try_put(&q, &i), 0);
    CHECK_EQ(aio_queue_try_put(&q, &i), AIO_EAGAIN);
    CHECK(aio_queue_full(&q));
    for (i = 0; i < 3; i++) {
        CHECK_EQ(aio_queue_try_get(&q, &v), 0);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(aio_queue_try_get(&q, &v), AIO_EAGAIN);
}

TEST(lifo_queue_returns_the_newest_item_first)
{
    int i, v;
    open_queue(AIO_QUEUE_LIFO, 4);
    for (i = 1; i <= 4; i++)
        CHECK_EQ(aio_queue_try_put(&q, &i), 0);
    for (i = 4; i >= 1; i--) {
        CHECK_EQ(aio_queue_try_get(&q, &v), 0);
        CHECK_EQ(v, i);
    }
}

TEST(priority_queue_returns_the_smallest_item_first)
{
    static const int in[8] = { 5, 1, 7, 3, 8, 2, 6, 4 };
    int i, v;
    open_queue(AIO_QUEUE_PRIORITY, 8);
    for (i = 0; i < 8; i++)
        CHECK_EQ(aio_queue_try_put(&q, &in[i]), 0);
    for (i = 1; i <= 8; i++) {
        CHECK_EQ(aio_queue_try_get(&q, &v), 0);
        CHECK_EQ(v, i);
    }
}

TEST(priority_queue_keeps_its_order_under_random_puts_and_gets)
{
    uint64_t seed = 99;
    int i, v, last;
    open_queue(AIO_QUEUE_PRIORITY, 8);
    for (i = 0; i < 2000; i++) {
        if (!aio_queue_full(&q) && (rnd_next(&seed) & 1)) {
            v = (int)(rnd_next(&seed) % 100);
            CHECK_EQ(aio_queue_try_put(&q, &v), 0);
        } else if (!aio_queue_empty(&q)) {
            uint32_t k, n = aio_queue_len(&q);
            CHECK_EQ(aio_queue_try_get(&q, &v), 0);
            for (k = 0; k < aio_queue_len(&q); k++)
                CHECK(store[k] >= v); /* nothing smaller was left behind */
            (void)n;
        }
    }
    last = -1;
    while (aio_queue_try_get(&q, &v) == 0) {
        CHECK(v >= last);
        last = v;
    }
}

TEST(init_rejects_zero_capacity_and_a_priority_queue_without_cmp)
{
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, store, sizeof(int), 0, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_PRIORITY, store, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
    CHECK_EQ(aio_queue_init(&q, 7, store, sizeof(int), 4, NULL, NULL), AIO_EINVAL);
}

TEST(put_blocks_while_full_and_getters_are_served_in_fifo_order)
{
    struct actor a[6];
    open_queue(AIO_QUEUE_FIFO, 1);
    a[0] = act(A_GET, &q, 0, AIO_MS(2));
    a[1] = act(A_GET, &q, 0, AIO_MS(1));
    a[2] = act(A_PUT, &q, 10, AIO_MS(5)); /* to the getter waiting since 1 ms */
    a[3] = act(A_PUT, &q, 11, AIO_US(5500)); /* to the one since 2 ms */
    a[4] = act(A_PUT, &q, 12, AIO_MS(6)); /* buffered */
    a[5] = act(A_PUT, &q, 13, AIO_MS(7)); /* blocks: full */
    a[5].timeout = AIO_MS(3);
    CHECK_EQ(run_actors(a, 6), 0);
    CHECK_EQ(a[1].v, 10);
    CHECK_EQ(a[0].v, 11);
    CHECK_EQ(a[5].raw, AIO_ECANCELED);
    CHECK_EQ(aio_queue_len(&q), 1);
    CHECK_EQ(aio_queue_unfinished(&q), 3); /* the cancelled put did not count */
}

TEST(a_blocked_putter_fills_the_place_a_get_frees)
{
    struct actor a[3];
    int v;
    open_queue(AIO_QUEUE_FIFO, 1);
    a[0] = act(A_PUT, &q, 1, 0);
    a[1] = act(A_PUT, &q, 2, AIO_MS(1));
    a[2] = act(A_GET, &q, 0, AIO_MS(4));
    CHECK_EQ(run_actors(a, 3), 0);
    CHECK_EQ(a[2].v, 1);
    CHECK_EQ(a[1].at, AIO_MS(4));
    CHECK_EQ(aio_queue_try_get(&q, &v), 0);
    CHECK_EQ(v, 2);
}

TEST(join_waits_until_every_item_is_marked_done)
{
    struct actor a[5];
    open_queue(AIO_QUEUE_FIFO, 4);
    a[0] = act(A_PUT, &q, 1, 0);
    a[1] = act(A_PUT, &q, 2, 0);
    a[2] = act(A_JOIN, &q, 0, AIO_MS(1));
    a[3] = act(A_TASK_DONE, &q, 0, AIO_MS(3));
    a[4] = act(A_TASK_DONE, &q, 0, AIO_MS(8));
    CHECK_EQ(run_actors(a, 5), 0);
    CHECK_EQ(a[2].rc, 0);
    CHECK_EQ(a[2].at, AIO_MS(8));
    CHECK_EQ(aio_queue_unfinished(&q), 0);
}

TEST(join_with_nothing_unfinished_returns_at_once)
{
    struct actor a[1];
    open_queue(AIO_QUEUE_FIFO, 4);
    a[0] = act(A_JOIN, &q, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[0].at, AIO_MS(1));
}

TEST(task_done_more_times_than_items_is_EINVAL)
{
    int v = 1;
    open_queue(AIO_QUEUE_FIFO, 4);
    CHECK_EQ(aio_queue_task_done(&q), AIO_EINVAL);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    CHECK_EQ(aio_queue_task_done(&q), 0);
    CHECK_EQ(aio_queue_task_done(&q), AIO_EINVAL);
}

TEST(shutdown_rejects_puts_and_lets_gets_drain_then_end)
{
    int v = 1;
    open_queue(AIO_QUEUE_FIFO, 4);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    v = 2;
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    aio_queue_shutdown(&q, 0);
    CHECK_EQ(aio_queue_try_put(&q, &v), AIO_ECLOSED);
    CHECK_EQ(aio_queue_try_get(&q, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(aio_queue_try_get(&q, &v), 0);
    CHECK_EQ(v, 2);
    CHECK_EQ(aio_queue_try_get(&q, &v), AIO_EEND);
    CHECK_EQ(aio_queue_unfinished(&q), 2); /* join still waits for task_done */
}

TEST(shutdown_wakes_blocked_getters_with_EEND_and_blocked_putters_with_ECLOSED)
{
    struct actor a[5];
    static aio_queue q2;
    static int store2[1];
    open_queue(AIO_QUEUE_FIFO, 1);
    CHECK_EQ(aio_queue_init(&q2, AIO_QUEUE_FIFO, store2, sizeof(int), 1, NULL, NULL), 0);
    a[0] = act(A_GET, &q, 0, 0);
    a[1] = act(A_PUT, &q2, 1, 0);
    a[2] = act(A_PUT, &q2, 2, AIO_MS(1));
    a[3] = act(A_SHUTDOWN, &q, 0, AIO_MS(5));
    a[4] = act(A_SHUTDOWN, &q2, 0, AIO_MS(5));
    CHECK_EQ(run_actors(a, 5), 0);
    CHECK_EQ(a[0].rc, AIO_EEND);
    CHECK_EQ(a[0].at, AIO_MS(5));
    CHECK_EQ(a[1].rc, 0);
    CHECK_EQ(a[2].rc, AIO_ECLOSED);
    CHECK_EQ(a[2].at, AIO_MS(5));
    CHECK_EQ(aio_queue_len(&q2), 1);
    CHECK_EQ(aio_queue_unfinished(&q2), 1);
}

TEST(immediate_shutdown_discards_items_releases_join_and_ends_gets_at_once)
{
    struct actor a[3];
    int v = 1;
    open_queue(AIO_QUEUE_FIFO, 4);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    CHECK_EQ(aio_queue_try_get(&q, &v), 0); /* one taken, not yet done */
    a[0] = act(A_JOIN, &q, 0, 0);
    a[1] = act(A_SHUTDOWN, &q, 1, AIO_MS(2));
    a[2] = act(A_TASK_DONE, &q, 0, AIO_MS(4));
    CHECK_EQ(run_actors(a, 3), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[0].at, AIO_MS(4)); /* the item taken still had to be marked done */
    CHECK_EQ(aio_queue_len(&q), 0);
    CHECK_EQ(aio_queue_try_get(&q, &v), AIO_EEND);
    CHECK_EQ(aio_queue_try_put(&q, &v), AIO_ECLOSED);
}

TEST(immediate_shutdown_with_nothing_taken_releases_join_at_once)
{
    struct actor a[2];
    int v = 1;
    open_queue(AIO_QUEUE_FIFO, 4);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    CHECK_EQ(aio_queue_try_put(&q, &v), 0);
    a[0] = act(A_JOIN, &q, 0, 0);
    a[1] = act(A_SHUTDOWN, &q, 1, AIO_MS(2));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[0].at, AIO_MS(2));
    CHECK_EQ(aio_queue_unfinished(&q), 0);
}

TEST(a_blocked_putter_of_a_priority_queue_joins_the_order_when_a_get_frees_room)
{
    struct actor a[3];
    int v;
    open_queue(AIO_QUEUE_PRIORITY, 2);
    a[0] = act(A_PUT, &q, 5, 0);
    a[1] = act(A_PUT, &q, 3, AIO_MS(1));
    a[2] = act(A_PUT, &q, 1, AIO_MS(2)); /* blocks: full */
    a[2].timeout = AIO_MS(10);
    {
        struct actor b[4];
        b[0] = a[0];
        b[1] = a[1];
        b[2] = a[2];
        b[3] = act(A_GET, &q, 0, AIO_MS(4));
        CHECK_EQ(run_actors(b, 4), 0);
        CHECK_EQ(b[3].v, 3);      /* smallest of what was queued when it ran */
        CHECK_EQ(b[2].rc, 0);     /* the blocked put went in */
        CHECK_EQ(b[2].at, AIO_MS(4));
    }
    CHECK_EQ(aio_queue_try_get(&q, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(aio_queue_try_get(&q, &v), 0);
    CHECK_EQ(v, 5);
}

TEST(fast_mode_put_and_get_complete_without_parking_or_yielding)
{
    struct actor a[2];
    open_queue(AIO_QUEUE_FIFO, 2);
    aio_queue_set_fast(&q, 1);
    a[0] = act(A_PUT, &q, 5, 0);
    a[1] = act(A_GET, &q, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[1].rc, 0);
    CHECK_EQ(a[1].v, 5);
    CHECK_EQ(a[1].at, AIO_MS(1));
    a[0] = act(A_PUT, &q, 5, 0);
    a[0].precancel = 1;
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(aio_queue_len(&q), 0);
}

int main(void)
{
    RUN(fifo_queue_returns_items_in_put_order);
    RUN(lifo_queue_returns_the_newest_item_first);
    RUN(priority_queue_returns_the_smallest_item_first);
    RUN(priority_queue_keeps_its_order_under_random_puts_and_gets);
    RUN(init_rejects_zero_capacity_and_a_priority_queue_without_cmp);
    RUN(put_blocks_while_full_and_getters_are_served_in_fifo_order);
    RUN(a_blocked_putter_fills_the_place_a_get_frees);
    RUN(join_waits_until_every_item_is_marked_done);
    RUN(join_with_nothing_unfinished_returns_at_once);
    RUN(task_done_more_times_than_items_is_EINVAL);
    RUN(shutdown_rejects_puts_and_lets_gets_drain_then_end);
    RUN(shutdown_wakes_blocked_getters_with_EEND_and_blocked_putters_with_ECLOSED);
    RUN(immediate_shutdown_discards_items_releases_join_and_ends_gets_at_once);
    RUN(immediate_shutdown_with_nothing_taken_releases_join_at_once);
    RUN(a_blocked_putter_of_a_priority_queue_joins_the_order_when_a_get_frees_room);
    RUN(fast_mode_put_and_get_complete_without_parking_or_yielding);
    return harness_report();
}
