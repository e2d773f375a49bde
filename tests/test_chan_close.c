/*
 * tests/test_chan_close.c - trio's close rules for channels, as a truth
 * table: which end is closed, what each operation then reports, and what
 * happens to tasks blocked at the moment of the close.
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

static aio_chan ch;
static aio_chan_tx tx, tx2;
static aio_chan_rx rx, rx2;
static int ring[4];

static void open_chan(uint32_t cap)
{
    CHECK_EQ(aio_chan_init(&ch, cap ? ring : NULL, sizeof(int), cap, &tx, &rx), 0);
}

/* ---- the table for the non-blocking operations -------------------------- */

/*
 * state                              try_send      try_recv (empty)  try_recv (1 item)
 * open                               0             EAGAIN            0
 * this send end closed, clone open   ECLOSED       EAGAIN            0
 * every send end closed              ECLOSED       EEND              0 then EEND
 * this receive end closed            0 / buffer    ECLOSED           ECLOSED
 * every receive end closed           EBROKEN       ECLOSED           ECLOSED
 */
struct row {
    int close_tx, close_tx2, close_rx, close_rx2, items;
    int send_rc, recv_rc; /* through tx / rx */
};

TEST(close_truth_table_for_try_send_and_try_recv)
{
    static const struct row rows[] = {
        /* ctx ctx2 crx crx2 items  send         recv */
        { 0, 0, 0, 0, 0, 0, AIO_EAGAIN },
        { 0, 0, 0, 0, 1, 0, 0 },
        { 1, 0, 0, 0, 0, AIO_ECLOSED, AIO_EAGAIN },
        { 1, 0, 0, 0, 1, AIO_ECLOSED, 0 },
        { 1, 1, 0, 0, 0, AIO_ECLOSED, AIO_EEND },
        { 1, 1, 0, 0, 1, AIO_ECLOSED, 0 },
        { 0, 0, 1, 0, 0, 0, AIO_ECLOSED },
        { 0, 0, 1, 0, 1, 0, AIO_ECLOSED },
        { 0, 0, 1, 1, 0, AIO_EBROKEN, AIO_ECLOSED },
        { 0, 0, 1, 1, 1, AIO_EBROKEN, AIO_ECLOSED },
        { 1, 1, 1, 1, 1, AIO_ECLOSED, AIO_ECLOSED },
    };
    unsigned i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        int v = 42, got = 0, k;
        open_chan(4);
        CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
        CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
        for (k = 0; k < r->items; k++)
            CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
        if (r->close_tx) aio_chan_tx_close(&tx);
        if (r->close_tx2) aio_chan_tx_close(&tx2);
        if (r->close_rx) aio_chan_rx_close(&rx);
        if (r->close_rx2) aio_chan_rx_close(&rx2);
        /* Receive first, so the send below does not change what it sees. */
        k = aio_chan_try_recv(&rx, &got);
        if (k != r->recv_rc)
            printf("  row %u: recv\n", i);
        CHECK_EQ(k, r->recv_rc);
        if (r->recv_rc == 0)
            CHECK_EQ(got, 42);
        k = aio_chan_try_send(&tx, &v);
        if (k != r->send_rc)
            printf("  row %u: send\n", i);
        CHECK_EQ(k, r->send_rc);
    }
}

TEST(buffered_items_drain_before_EEND)
{
    int v;
    open_chan(4);
    v = 1; CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    v = 3; CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    aio_chan_tx_close(&tx);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
    CHECK_EQ(v, 3);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), AIO_EEND);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), AIO_EEND);
}

TEST(closing_the_last_receive_end_discards_the_buffer)
{
    int v = 1;
    open_chan(4);
    CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    aio_chan_rx_close(&rx);
    CHECK_EQ(aio_chan_len(&ch), 0);
    CHECK_EQ(aio_chan_try_send(&tx, &v), AIO_EBROKEN);
}

TEST(close_is_idempotent)
{
    open_chan(1);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    aio_chan_tx_close(&tx);
    aio_chan_tx_close(&tx);
    CHECK_EQ(aio_chan_open_tx(&ch), 1);
    CHECK(aio_chan_tx_closed(&tx));
    CHECK(!aio_chan_tx_closed(&tx2));
    aio_chan_rx_close(&rx);
    aio_chan_rx_close(&rx);
    CHECK_EQ(aio_chan_open_rx(&ch), 0);
}

TEST(clone_of_a_closed_end_fails_with_ECLOSED)
{
    open_chan(1);
    aio_chan_tx_close(&tx);
    aio_chan_rx_close(&rx);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), AIO_ECLOSED);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), AIO_ECLOSED);
}

TEST(clones_share_the_channel_and_items_are_distributed_not_broadcast)
{
    int v = 9, a = 0, b = 0;
    open_chan(2);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    CHECK_EQ(aio_chan_try_send(&tx2, &v), 0);
    CHECK_EQ(aio_chan_try_recv(&rx, &a), 0);
    CHECK_EQ(aio_chan_try_recv(&rx2, &b), AIO_EAGAIN);
    CHECK_EQ(a, 9);
    CHECK_EQ(b, 0);
}

/* ---- blocked tasks at the moment of a close ------------------------------ */

TEST(a_task_blocked_sending_through_an_end_that_gets_closed_gets_ECLOSED)
{
    struct actor a[2];
    open_chan(0);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[1] = act(A_CLOSE_TX, &tx, 0, AIO_MS(3));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, AIO_ECLOSED);
    CHECK_EQ(a[0].at, AIO_MS(3));
    CHECK_EQ(aio_chan_waiting_send(&ch), 0);
    CHECK_EQ(aio_chan_open_tx(&ch), 1); /* the clone keeps the channel open */
}

TEST(a_task_blocked_receiving_through_an_end_that_gets_closed_gets_ECLOSED)
{
    struct actor a[2];
    open_chan(1);
    a[0] = act(A_RECV, &rx, 0, 0);
    a[1] = act(A_CLOSE_RX, &rx, 0, AIO_MS(3));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, AIO_ECLOSED);
    CHECK_EQ(a[0].at, AIO_MS(3));
}

TEST(closing_the_last_send_end_wakes_every_blocked_receiver_with_EEND)
{
    struct actor a[4];
    open_chan(2);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    a[0] = act(A_RECV, &rx, 0, 0);
    a[1] = act(A_RECV, &rx2, 0, 0);
    a[2] = act(A_CLOSE_TX, &tx, 0, AIO_MS(1));
    a[3] = act(A_CLOSE_TX, &tx2, 0, AIO_MS(2));
    CHECK_EQ(run_actors(a, 4), 0);
    CHECK_EQ(a[0].rc, AIO_EEND);
    CHECK_EQ(a[1].rc, AIO_EEND);
    CHECK_EQ(a[0].at, AIO_MS(2)); /* not at 1 ms: a clone was still open */
    CHECK_EQ(a[1].at, AIO_MS(2));
}

TEST(closing_the_last_receive_end_wakes_every_blocked_sender_with_EBROKEN)
{
    struct actor a[4];
    open_chan(0);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[1] = act(A_SEND, &tx2, 2, 0);
    a[2] = act(A_CLOSE_RX, &rx, 0, AIO_MS(1));
    a[3] = act(A_CLOSE_RX, &rx2, 0, AIO_MS(2));
    CHECK_EQ(run_actors(a, 4), 0);
    CHECK_EQ(a[0].rc, AIO_EBROKEN);
    CHECK_EQ(a[1].rc, AIO_EBROKEN);
    CHECK_EQ(a[0].at, AIO_MS(2));
}

TEST(blocking_operations_on_closed_ends_fail_at_once)
{
    struct actor a[4];
    static aio_chan ch2;
    static aio_chan_tx t2;
    static aio_chan_rx r2;
    open_chan(1);
    CHECK_EQ(aio_chan_init(&ch2, NULL, sizeof(int), 0, &t2, &r2), 0);
    aio_chan_tx_close(&tx);  /* ch: send end closed, receive end open */
    aio_chan_rx_close(&r2);  /* ch2: receive end closed */
    a[0] = act(A_SEND, &tx, 1, AIO_MS(1));
    a[1] = act(A_RECV, &rx, 0, AIO_MS(1));
    a[2] = act(A_SEND, &t2, 1, AIO_MS(1));
    a[3] = act(A_RECV, &r2, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 4), 0);
    CHECK_EQ(a[0].rc, AIO_ECLOSED);
    CHECK_EQ(a[1].rc, AIO_EEND);
    CHECK_EQ(a[2].rc, AIO_EBROKEN);
    CHECK_EQ(a[3].rc, AIO_ECLOSED);
    CHECK_EQ(a[0].at, AIO_MS(1));
}

TEST(close_works_in_a_cancelled_task)
{
    struct actor a[2];
    open_chan(1);
    a[0] = act(A_CLOSE_TX, &tx, 0, 0);
    a[0].precancel = 1; /* close runs inside a cancelled scope: it is not a checkpoint */
    a[1] = act(A_RECV, &rx, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(aio_chan_open_tx(&ch), 0);
    CHECK_EQ(a[1].rc, AIO_EEND);
}

int main(void)
{
    RUN(close_truth_table_for_try_send_and_try_recv);
    RUN(buffered_items_drain_before_EEND);
    RUN(closing_the_last_receive_end_discards_the_buffer);
    RUN(close_is_idempotent);
    RUN(clone_of_a_closed_end_fails_with_ECLOSED);
    RUN(clones_share_the_channel_and_items_are_distributed_not_broadcast);
    RUN(a_task_blocked_sending_through_an_end_that_gets_closed_gets_ECLOSED);
    RUN(a_task_blocked_receiving_through_an_end_that_gets_closed_gets_ECLOSED);
    RUN(closing_the_last_send_end_wakes_every_blocked_receiver_with_EEND);
    RUN(closing_the_last_receive_end_wakes_every_blocked_sender_with_EBROKEN);
    RUN(blocking_operations_on_closed_ends_fail_at_once);
    RUN(close_works_in_a_cancelled_task);
    return harness_report();
}
