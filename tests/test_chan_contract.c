/*
 * tests/test_chan_contract.c - the four contract cases of every blocking
 * operation in aio_chan.h (DESIGN section 7), as one table:
 *   ready:        completes without parking when it can;
 *   precancelled: has no side effect;
 *   parked:       cancelled while parked, leaves nothing behind;
 *   try:          the non-blocking variant never suspends.
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

static aio_chan ch;
static aio_chan_tx tx;
static aio_chan_rx rx;
static int ring[2];
static aio_queue q;
static int qstore[2];
static aio_select sel;
static aio_select_case cases[2];
static int sel_dst[2];
static int one = 1;

enum { OP_SEND, OP_RECV, OP_SELECT_RECV, OP_SELECT_SEND, OP_PUT, OP_GET, OP_JOIN, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "send", "recv", "select-recv", "select-send", "put", "get", "join" };

/* Sets up the objects so that `op` can complete at once (ready) or must wait. */
static void setup(int op, int ready)
{
    int v = 7;
    CHECK_EQ(aio_chan_init(&ch, ring, sizeof(int), 1, &tx, &rx), 0);
    CHECK_EQ(aio_queue_init(&q, AIO_QUEUE_FIFO, qstore, sizeof(int), 1, NULL, NULL), 0);
    aio_select_init(&sel, cases, 2);
    memset(sel_dst, 0, sizeof sel_dst);
    switch (op) {
    case OP_SEND:
    case OP_SELECT_SEND:
        if (!ready)
            CHECK_EQ(aio_chan_try_send(&tx, &v), 0); /* full */
        if (op == OP_SELECT_SEND)
            aio_select_send(&sel, 1, &tx, &one);
        break;
    case OP_RECV:
    case OP_SELECT_RECV:
        if (ready)
            CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
        if (op == OP_SELECT_RECV)
            aio_select_recv(&sel, 0, &rx, &sel_dst[0]);
        break;
    case OP_PUT:
        if (!ready)
            CHECK_EQ(aio_queue_try_put(&q, &v), 0);
        break;
    case OP_GET:
        if (ready)
            CHECK_EQ(aio_queue_try_put(&q, &v), 0);
        break;
    case OP_JOIN:
        if (!ready)
            CHECK_EQ(aio_queue_try_put(&q, &v), 0); /* one unfinished item */
        break;
    default:
        break;
    }
}

static struct actor make(int op)
{
    switch (op) {
    case OP_SEND: return act(A_SEND, &tx, 1, AIO_MS(1));
    case OP_RECV: return act(A_RECV, &rx, -1, AIO_MS(1));
    case OP_SELECT_RECV: return act(A_SELECT, &sel, 0, AIO_MS(1));
    case OP_SELECT_SEND: return act(A_SELECT, &sel, 0, AIO_MS(1));
    case OP_PUT: return act(A_PUT, &q, 1, AIO_MS(1));
    case OP_GET: return act(A_GET, &q, -1, AIO_MS(1));
    default: return act(A_JOIN, &q, 0, AIO_MS(1));
    }
}

/* A snapshot of everything an operation could change. */
struct state {
    uint32_t chan_len, wsend, wrecv, q_len, q_unfinished, getters, putters, joiners;
    int ring0, q0, dst0;
};
static struct state snap(void)
{
    struct state s;
    memset(&s, 0, sizeof s);
    s.chan_len = aio_chan_len(&ch);
    s.wsend = aio_chan_waiting_send(&ch);
    s.wrecv = aio_chan_waiting_recv(&ch);
    s.q_len = aio_queue_len(&q);
    s.q_unfinished = aio_queue_unfinished(&q);
    s.getters = aio_lot_len(&q.getters);
    s.putters = aio_lot_len(&q.putters);
    s.joiners = aio_lot_len(&q.joiners);
    s.ring0 = ring[0];
    s.q0 = qstore[0];
    s.dst0 = sel_dst[0];
    return s;
}
static int same(const struct state *a, const struct state *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

TEST(ready_operations_complete_without_parking)
{
    int op;
    for (op = 0; op < OP_COUNT; op++) {
        struct actor a[1];
        setup(op, 1);
        a[0] = make(op);
        CHECK_EQ(run_actors(a, 1), 0);
        if (a[0].rc < 0)
            printf("  op %s\n", op_names[op]);
        CHECK(a[0].rc >= 0);
        CHECK_EQ(a[0].at, AIO_MS(1));
#ifdef AIO_DEBUG
        CHECK_EQ(a[0].parked, 0);
#endif
    }
}

TEST(precancelled_operations_have_no_side_effect)
{
    int op, ready;
    for (op = 0; op < OP_COUNT; op++) {
        for (ready = 0; ready <= 1; ready++) {
            struct actor a[1];
            struct state before, after;
            setup(op, ready);
            before = snap();
            a[0] = make(op);
            a[0].precancel = 1;
            CHECK_EQ(run_actors(a, 1), 0);
            after = snap();
            if (a[0].raw != AIO_ECANCELED || !same(&before, &after))
                printf("  op %s ready %d\n", op_names[op], ready);
            CHECK_EQ(a[0].raw, AIO_ECANCELED);
            CHECK(same(&before, &after));
        }
    }
}

TEST(operations_cancelled_while_parked_leave_nothing_behind)
{
    int op;
    for (op = 0; op < OP_COUNT; op++) {
        struct actor a[1];
        struct state before, after;
        setup(op, 0);
        before = snap();
        a[0] = make(op);
        a[0].timeout = AIO_MS(3);
        CHECK_EQ(run_actors(a, 1), 0);
        after = snap();
        if (a[0].raw != AIO_ECANCELED || !same(&before, &after))
            printf("  op %s\n", op_names[op]);
        CHECK_EQ(a[0].raw, AIO_ECANCELED);
        CHECK_EQ(a[0].at, AIO_MS(4));
#ifdef AIO_DEBUG
        CHECK_EQ(a[0].parked, 1);
#endif
        CHECK(same(&before, &after));
        CHECK_EQ(aio_loop_next_deadline(&chan_loop), AIO_TIME_INF);
    }
}

TEST(non_blocking_variants_never_suspend_and_leave_nothing_behind)
{
    int v = -1, op;
    for (op = 0; op < OP_COUNT; op++) {
        struct state before, after;
        int rc;
        setup(op, 0);
        before = snap();
        switch (op) {
        case OP_SEND: rc = aio_chan_try_send(&tx, &v); break;
        case OP_RECV: rc = aio_chan_try_recv(&rx, &v); break;
        case OP_SELECT_RECV:
        case OP_SELECT_SEND: rc = aio_select_try(&sel); break;
        case OP_PUT: rc = aio_queue_try_put(&q, &v); break;
        case OP_GET: rc = aio_queue_try_get(&q, &v); break;
        default: rc = aio_queue_unfinished(&q) ? AIO_EAGAIN : 0; break; /* join has no try form */
        }
        after = snap();
        CHECK_EQ(rc, AIO_EAGAIN);
        CHECK(same(&before, &after));
        CHECK_EQ(v, -1);
    }
}

int main(void)
{
    RUN(ready_operations_complete_without_parking);
    RUN(precancelled_operations_have_no_side_effect);
    RUN(operations_cancelled_while_parked_leave_nothing_behind);
    RUN(non_blocking_variants_never_suspend_and_leave_nothing_behind);
    return harness_report();
}
