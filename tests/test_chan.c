/*
 * tests/test_chan.c - channels: buffering, rendezvous, hand-off and
 * fairness, checkpoints, iteration and generators.
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

static aio_chan ch;
static aio_chan_tx tx, tx2;
static aio_chan_rx rx, rx2, rx3;
static int ring[8];

static void open_chan(uint32_t cap)
{
    memset(ring, 0, sizeof ring);
    CHECK_EQ(aio_chan_init(&ch, cap ? ring : NULL, sizeof(int), cap, &tx, &rx), 0);
}

/* ---- buffered and rendezvous ------------------------------------------ */

TEST(buffered_items_arrive_in_send_order)
{
    int i, v;
    open_chan(4);
    for (i = 1; i <= 4; i++)
        CHECK_EQ(aio_chan_try_send(&tx, &i), 0);
    CHECK_EQ(aio_chan_len(&ch), 4);
    CHECK_EQ(aio_chan_try_send(&tx, &i), AIO_EAGAIN);
    for (i = 1; i <= 4; i++) {
        CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(aio_chan_try_recv(&rx, &v), AIO_EAGAIN);
}

TEST(ring_wraps_around_its_storage)
{
    int i, v, next = 0;
    open_chan(3);
    for (i = 0; i < 20; i++) {
        CHECK_EQ(aio_chan_try_send(&tx, &i), 0);
        if (i % 2) {
            CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
            CHECK_EQ(v, next++);
        }
        if (aio_chan_len(&ch) == 3) {
            CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
            CHECK_EQ(v, next++);
        }
    }
    while (aio_chan_try_recv(&rx, &v) == 0)
        CHECK_EQ(v, next++);
    CHECK_EQ(next, 20);
}

TEST(init_rejects_bad_arguments)
{
    CHECK_EQ(aio_chan_init(&ch, NULL, sizeof(int), 2, &tx, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, ring, 0, 2, &tx, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(NULL, ring, 4, 2, &tx, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_init(&ch, ring, 4, 2, NULL, &rx), AIO_EINVAL);
}

TEST(rendezvous_send_completes_only_when_a_receiver_takes_it)
{
    struct actor a[2];
    open_chan(0);
    a[0] = act(A_SEND, &tx, 7, 0);
    a[1] = act(A_RECV, &rx, 0, AIO_MS(10));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[0].at, AIO_MS(10));
    CHECK_EQ(a[1].rc, 0);
    CHECK_EQ(a[1].v, 7);
    CHECK_EQ(aio_chan_len(&ch), 0);
}

TEST(rendezvous_try_send_needs_a_parked_receiver)
{
    int v = 1;
    open_chan(0);
    CHECK_EQ(aio_chan_try_send(&tx, &v), AIO_EAGAIN);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), AIO_EAGAIN);
}

TEST(buffered_send_blocks_while_full_and_resumes_when_a_slot_frees)
{
    struct actor a[4];
    open_chan(1);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[1] = act(A_SEND, &tx2, 2, AIO_MS(1));
    a[2] = act(A_RECV, &rx, 0, AIO_MS(5));
    a[3] = act(A_RECV, &rx2, 0, AIO_MS(6));
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    CHECK_EQ(run_actors(a, 4), 0);
    CHECK_EQ(a[0].at, 0);
    CHECK_EQ(a[1].at, AIO_MS(5)); /* blocked until the first receive freed the slot */
    CHECK_EQ(a[1].rc, 0);
    CHECK_EQ(a[2].v, 1);
    CHECK_EQ(a[3].v, 2);
}

/* ---- hand-off and fairness (trio's test_channel_fairness) --------------- */

struct fair_sender {
    aio_frame hdr;
    int sent[3], after_rc, v;
};
static int fair_sender(aio_task *t, void *p)
{
    struct fair_sender *f = (struct fair_sender *)p;
    int i;
    AIO_BEGIN(t, f);
    AIO_SLEEP(i, AIO_MS(5));
    for (i = 0; i < 3; i++) {
        int v = 10 + i;
        f->sent[i] = aio_chan_try_send(&tx, &v);
    }
    /* Every item belongs to a waiting receiver: the sender cannot take one back. */
    f->after_rc = aio_chan_try_recv(&rx, &f->v);
    AIO_END(0);
}

struct fairness_main {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[4];
    struct actor r[3];
    struct fair_sender s;
};
static int fairness_main(aio_task *t, void *p)
{
    struct fairness_main *f = (struct fairness_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->tasks[0], actor, &f->r[0]);
    aio_spawn(&f->g, &f->tasks[1], actor, &f->r[1]);
    aio_spawn(&f->g, &f->tasks[2], actor, &f->r[2]);
    aio_spawn(&f->g, &f->tasks[3], fair_sender, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(items_go_to_the_longest_waiting_receiver_and_cannot_be_taken_back)
{
    static struct fairness_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx3, &rx), 0);
    /* Receivers start waiting at 2, 1 and 3 ms. */
    m.r[0] = act(A_RECV, &rx2, 0, AIO_MS(2));
    m.r[1] = act(A_RECV, &rx, 0, AIO_MS(1));
    m.r[2] = act(A_RECV, &rx3, 0, AIO_MS(3));
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, fairness_main, &m), 0);
    CHECK_EQ(m.s.sent[0], 0);
    CHECK_EQ(m.s.sent[1], 0);
    CHECK_EQ(m.s.sent[2], 0);
    CHECK_EQ(m.s.after_rc, AIO_EAGAIN);
    CHECK_EQ(m.r[1].v, 10); /* waited since 1 ms */
    CHECK_EQ(m.r[0].v, 11); /* since 2 ms */
    CHECK_EQ(m.r[2].v, 12); /* since 3 ms */
}

TEST(receive_takes_the_buffer_first_then_blocked_senders_in_fifo_order)
{
    struct actor a[6];
    static aio_chan_tx t3;
    open_chan(1);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_tx_clone(&t3, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx3, &rx), 0);
    a[0] = act(A_SEND, &tx, 1, 0);          /* buffered */
    a[1] = act(A_SEND, &t3, 3, AIO_MS(2));  /* blocked second */
    a[2] = act(A_SEND, &tx2, 2, AIO_MS(1)); /* blocked first */
    a[3] = act(A_RECV, &rx, 0, AIO_MS(5));
    a[4] = act(A_RECV, &rx2, 0, AIO_MS(6));
    a[5] = act(A_RECV, &rx3, 0, AIO_MS(7));
    CHECK_EQ(run_actors(a, 6), 0);
    CHECK_EQ(a[3].v, 1);
    CHECK_EQ(a[4].v, 2);
    CHECK_EQ(a[5].v, 3);
    CHECK_EQ(a[2].at, AIO_MS(5)); /* moved into the slot the first receive freed */
    CHECK_EQ(a[1].at, AIO_MS(6));
}

TEST(a_blocked_sender_moves_into_the_slot_a_receive_frees)
{
    struct actor a[4];
    open_chan(1);
    CHECK_EQ(aio_chan_tx_clone(&tx2, &tx), 0);
    CHECK_EQ(aio_chan_rx_clone(&rx2, &rx), 0);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[1] = act(A_SEND, &tx2, 2, AIO_MS(1));
    a[2] = act(A_RECV, &rx, 0, AIO_MS(5));
    a[3] = act(A_RECV, &rx2, 0, AIO_MS(6));
    CHECK_EQ(run_actors(a, 4), 0);
    CHECK_EQ(a[2].v, 1);
    CHECK_EQ(a[3].v, 2);
    CHECK_EQ(aio_chan_len(&ch), 0);
    CHECK_EQ(aio_chan_waiting_send(&ch), 0);
}

static int panics;
static void count_panic(const char *msg, const char *file, int line)
{
    (void)msg; (void)file; (void)line;
    panics++;
}

TEST(two_tasks_blocking_through_one_end_is_EBUSY_for_the_second)
{
    struct actor a[3];
    panics = 0;
    chan_panic = count_panic;
    open_chan(0);
    a[0] = act(A_RECV, &rx, 0, 0);
    a[1] = act(A_RECV, &rx, 0, AIO_MS(1)); /* same end: misuse */
    a[2] = act(A_SEND, &tx, 4, AIO_MS(2));
    CHECK_EQ(run_actors(a, 3), 0);
    chan_panic = NULL;
    CHECK_EQ(a[1].rc, AIO_EBUSY);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[0].v, 4);
#ifdef AIO_DEBUG
    CHECK_EQ(panics, 1);
#endif
}

/* ---- checkpoints ------------------------------------------------------- */

struct spin { aio_frame hdr; int n; int *counter; };
static int spinner(aio_task *t, void *p)
{
    struct spin *f = (struct spin *)p;
    AIO_BEGIN(t, f);
    for (; f->n > 0; f->n--) {
        (*f->counter)++;
        AIO_YIELD();
    }
    AIO_END(0);
}

struct cp_main {
    aio_frame hdr;
    aio_group g;
    aio_task st;
    struct spin s;
    int counter;
    int before_send, seen_after_send, seen_after_recv, seen_after_try;
    int v;
};
static int cp_main(aio_task *t, void *p)
{
    struct cp_main *f = (struct cp_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.n = 100;
    f->s.counter = &f->counter;
    aio_spawn(&f->g, &f->st, spinner, &f->s);
    AIO_YIELD(); /* the spinner runs once */
    f->v = 5;
    f->before_send = f->counter;
    AIO_CHAN_SEND(rc, &tx, &f->v); /* room in the buffer: completes, but yields */
    f->seen_after_send = f->counter;
    AIO_CHAN_RECV(rc, &rx, &f->v);
    f->seen_after_recv = f->counter;
    rc = aio_chan_try_send(&tx, &f->v);
    rc = aio_chan_try_recv(&rx, &f->v);
    f->seen_after_try = f->counter;
    aio_group_cancel(&f->g, NULL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

TEST(send_and_receive_that_complete_at_once_still_yield_to_other_tasks)
{
    static struct cp_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(2);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, cp_main, &m), 0);
    CHECK(m.seen_after_send > m.before_send);
    CHECK(m.seen_after_recv > m.seen_after_send);
    CHECK_EQ(m.seen_after_try, m.seen_after_recv); /* try_* never yields */
    CHECK_EQ(m.v, 5);
}

/* A send that hands its item to a parked receiver, and a receive that
 * completes a parked sender, have completed another task's operation: the
 * peer runs next, so the caller goes on without a schedule point (it was
 * still a cancel point).  An operation that completes against the buffer
 * alone keeps the schedule point (the test above). */
struct handoff_main {
    aio_frame hdr;
    aio_group g;
    aio_task st, peer;
    struct spin s;
    struct { aio_frame hdr; int v, rc; } p;
    int counter, before_send, after_send, before_recv, after_recv, v, rc_send, rc_recv;
    uint32_t sp_send, sp_recv;
};
/* Suspensions of t so far (counted in debug builds only). */
static uint32_t handoff_points(const aio_task *t)
{
#ifdef AIO_DEBUG
    return t->schedule_points;
#else
    (void)t;
    return 0;
#endif
}
static int handoff_receiver(aio_task *t, void *frame)
{
    struct handoff_main *m = (struct handoff_main *)(void *)((char *)frame - offsetof(struct handoff_main, p));
    AIO_BEGIN(t, frame);
    AIO_CHAN_RECV(m->p.rc, &rx, &m->p.v);
    AIO_END(0);
}
static int handoff_sender(aio_task *t, void *frame)
{
    struct handoff_main *m = (struct handoff_main *)(void *)((char *)frame - offsetof(struct handoff_main, p));
    AIO_BEGIN(t, frame);
    m->p.v = 11;
    AIO_CHAN_SEND(m->p.rc, &tx, &m->p.v);
    AIO_END(0);
}
static int handoff_main(aio_task *t, void *p)
{
    struct handoff_main *f = (struct handoff_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.n = 100;
    f->s.counter = &f->counter;
    aio_spawn(&f->g, &f->st, spinner, &f->s);
    aio_spawn(&f->g, &f->peer, handoff_receiver, &f->p);
    AIO_YIELD(); /* the receiver parks */
    AIO_YIELD();
    f->v = 9;
    f->before_send = f->counter;
    f->sp_send = handoff_points(t);
    AIO_CHAN_SEND(f->rc_send, &tx, &f->v);
    f->sp_send = handoff_points(t) - f->sp_send;
    f->after_send = f->counter;
    AIO_JOIN(rc, &f->peer);
    aio_spawn(&f->g, &f->peer, handoff_sender, &f->p);
    AIO_YIELD(); /* the sender parks */
    AIO_YIELD();
    f->before_recv = f->counter;
    f->sp_recv = handoff_points(t);
    AIO_CHAN_RECV(f->rc_recv, &rx, &f->v);
    f->sp_recv = handoff_points(t) - f->sp_recv;
    f->after_recv = f->counter;
    AIO_JOIN(rc, &f->peer);
    aio_group_cancel(&f->g, NULL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

TEST(a_hand_off_to_a_parked_peer_completes_without_a_schedule_point)
{
    static struct handoff_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(0);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, handoff_main, &m), 0);
    CHECK_EQ(m.rc_send, 0);
    CHECK_EQ(m.sp_send, 0);                  /* did not suspend */
    CHECK_EQ(m.after_send, m.before_send);   /* no other task ran in between */
    CHECK_EQ(m.rc_recv, 0);
    CHECK_EQ(m.v, 11);                       /* the parked sender's item */
    CHECK_EQ(m.sp_recv, 0);
    CHECK_EQ(m.after_recv, m.before_recv);
    CHECK(m.before_send > 0 && m.before_send < 100); /* the spinner was still running */
    CHECK_EQ(m.p.rc, 0);
}

struct fast_main {
    aio_frame hdr;
    aio_group g;
    aio_task st;
    struct spin s;
    int counter, before, after, v, rc_send, rc_recv, rc_cancelled;
    aio_scope sc;
};
static int fast_main(aio_task *t, void *p)
{
    struct fast_main *f = (struct fast_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.n = 100;
    f->s.counter = &f->counter;
    aio_spawn(&f->g, &f->st, spinner, &f->s);
    AIO_YIELD();
    f->before = f->counter;
    f->v = 3;
    AIO_CHAN_SEND(f->rc_send, &tx, &f->v);
    AIO_CHAN_SEND(rc, &tx, &f->v);
    AIO_CHAN_RECV(f->rc_recv, &rx, &f->v);
    AIO_CHAN_RECV(rc, &rx, &f->v);
    f->after = f->counter;
    aio_scope_init(&f->sc);
    aio_scope_cancel(&f->sc, NULL);
    aio_scope_enter(t, &f->sc, AIO_TIME_INF);
    AIO_CHAN_SEND(f->rc_cancelled, &tx, &f->v); /* still a cancel point */
    aio_scope_exit(t, &f->sc, f->rc_cancelled);
    aio_group_cancel(&f->g, NULL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

TEST(fast_mode_completes_at_once_without_yielding_but_still_checks_cancellation)
{
    static struct fast_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(2);
    aio_chan_set_fast(&ch, 1);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, fast_main, &m), 0);
    CHECK_EQ(m.rc_send, 0);
    CHECK_EQ(m.rc_recv, 0);
    CHECK_EQ(m.after, m.before); /* no other task ran in between */
    CHECK_EQ(m.rc_cancelled, AIO_ECANCELED);
    CHECK_EQ(aio_chan_len(&ch), 0);
}

/* ---- iteration and generators ------------------------------------------ */

struct sum_consumer {
    aio_frame hdr;
    aio_chan_rx *rx;
    int item, sum, n, rc, stop_at, skip;
};
static int sum_consumer(aio_task *t, void *p)
{
    struct sum_consumer *f = (struct sum_consumer *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_CHAN_FOR(rc, f->rx, &f->item) {
        if (f->item == f->skip)
            continue;
        if (f->stop_at && f->item == f->stop_at)
            break;
        f->sum += f->item;
        f->n++;
    }
    f->rc = rc;
    aio_chan_rx_close(f->rx);
    AIO_END(0);
}

struct counting_producer {
    aio_frame hdr;
    aio_chan_tx *tx;
    int i, n, rc;
};
static int counting_producer(aio_task *t, void *p)
{
    struct counting_producer *f = (struct counting_producer *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 1; f->i <= f->n; f->i++) {
        AIO_CHAN_SEND(rc, f->tx, &f->i);
        if (rc)
            break;
    }
    f->rc = rc;
    aio_chan_tx_close(f->tx);
    AIO_END(0);
}

struct iter_main {
    aio_frame hdr;
    aio_group g;
    aio_task pt, ct;
    struct counting_producer prod;
    struct sum_consumer cons;
};
static int iter_main(aio_task *t, void *p)
{
    struct iter_main *f = (struct iter_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->pt, counting_producer, &f->prod);
    aio_spawn(&f->g, &f->ct, sum_consumer, &f->cons);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(for_loop_receives_every_item_and_ends_with_EEND_after_close)
{
    static struct iter_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(2);
    m.prod.tx = &tx;
    m.prod.n = 10;
    m.cons.rx = &rx;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, iter_main, &m), 0);
    CHECK_EQ(m.cons.rc, AIO_EEND);
    CHECK_EQ(m.cons.n, 10);
    CHECK_EQ(m.cons.sum, 55);
    CHECK_EQ(m.prod.rc, 0);
}

TEST(for_loop_break_leaves_with_rc_zero_and_continue_takes_the_next_item)
{
    static struct iter_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chan(0);
    m.prod.tx = &tx;
    m.prod.n = 10;
    m.cons.rx = &rx;
    m.cons.stop_at = 5;
    m.cons.skip = 2;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, iter_main, &m), 0);
    CHECK_EQ(m.cons.rc, 0);
    CHECK_EQ(m.cons.n, 3);          /* 1, 3, 4: 2 skipped by continue */
    CHECK_EQ(m.cons.sum, 8);
    CHECK_EQ(m.prod.rc, AIO_EBROKEN); /* the consumer closed its end after the loop */
}

/* A generator: yields lo, lo+1, ..., hi-1, sleeping 1 ms before each. */
struct range_gen {
    aio_frame hdr;
    aio_gen *gen;
    int i, lo, hi;
    int last_rc;
    int finished;
};
static int range_gen(aio_task *t, void *p)
{
    struct range_gen *f = (struct range_gen *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = f->lo; f->i < f->hi; f->i++) {
        AIO_SLEEP(rc, AIO_MS(1));
        if (rc)
            AIO_RETURN(rc);
        AIO_GEN_YIELD(rc, f->gen, &f->i);
        f->last_rc = rc;
        if (rc)
            AIO_RETURN(rc);
    }
    f->finished = 1;
    AIO_END(0);
}

struct gen_main {
    aio_frame hdr;
    aio_group g;
    aio_gen gen;
    struct range_gen r;
    int v, n, sum, rc, stop_after;
    aio_time end_at;
};
static int gen_main(aio_task *t, void *p)
{
    struct gen_main *f = (struct gen_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->r.gen = &f->gen;
    CHECK_EQ(aio_gen_start(&f->g, &f->gen, sizeof(int), range_gen, &f->r), 0);
    AIO_GEN_FOR(rc, &f->gen, &f->v) {
        f->sum += f->v;
        if (++f->n == f->stop_after)
            break;
    }
    f->rc = rc;
    f->end_at = aio_now(aio_task_loop(t));
    aio_gen_close(&f->gen);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(generator_values_arrive_in_order_and_the_loop_ends_when_it_returns)
{
    static struct gen_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    m.r.lo = 3;
    m.r.hi = 8;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, gen_main, &m), 0);
    CHECK_EQ(m.rc, AIO_EEND);
    CHECK_EQ(m.n, 5);
    CHECK_EQ(m.sum, 3 + 4 + 5 + 6 + 7);
    CHECK_EQ(m.end_at, AIO_MS(5));
    CHECK_EQ(m.r.finished, 1);
}

TEST(a_generator_whose_consumer_stops_early_ends_quietly)
{
    static struct gen_main m;
    aio_loop L;
    aio_task mt;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    m.r.lo = 0;
    m.r.hi = 100;
    m.stop_after = 2;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, gen_main, &m), 0);
    CHECK_EQ(m.rc, 0);
    CHECK_EQ(m.n, 2);
    CHECK_EQ(m.r.finished, 0);
    CHECK_EQ(m.r.last_rc, AIO_EBROKEN);
    CHECK_EQ(aio_task_rc(&m.gen.task), 0);
}

int main(void)
{
    RUN(buffered_items_arrive_in_send_order);
    RUN(ring_wraps_around_its_storage);
    RUN(init_rejects_bad_arguments);
    RUN(rendezvous_send_completes_only_when_a_receiver_takes_it);
    RUN(rendezvous_try_send_needs_a_parked_receiver);
    RUN(buffered_send_blocks_while_full_and_resumes_when_a_slot_frees);
    RUN(items_go_to_the_longest_waiting_receiver_and_cannot_be_taken_back);
    RUN(receive_takes_the_buffer_first_then_blocked_senders_in_fifo_order);
    RUN(a_blocked_sender_moves_into_the_slot_a_receive_frees);
    RUN(two_tasks_blocking_through_one_end_is_EBUSY_for_the_second);
    RUN_ONCE(send_and_receive_that_complete_at_once_still_yield_to_other_tasks); /* counts run order */
    RUN(fast_mode_completes_at_once_without_yielding_but_still_checks_cancellation);
    RUN(a_hand_off_to_a_parked_peer_completes_without_a_schedule_point);
    RUN(for_loop_receives_every_item_and_ends_with_EEND_after_close);
    RUN(for_loop_break_leaves_with_rc_zero_and_continue_takes_the_next_item);
    RUN(generator_values_arrive_in_order_and_the_loop_ends_when_it_returns);
    RUN(a_generator_whose_consumer_stops_early_ends_quietly);
    return harness_report();
}
