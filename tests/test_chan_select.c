/*
 * tests/test_chan_select.c - select over several channel operations and a
 * deadline: exactly one case completes, the others leave no trace, and the
 * choice among ready cases is round-robin.
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

#define NCH 16
static aio_chan ch[NCH];
static aio_chan_tx tx[NCH], txs[NCH];
static aio_chan_rx rx[NCH], rxs[NCH];
static int ring[NCH][4];
static aio_select sel;
static aio_select_case cases[NCH];
static int dst[NCH];

/* Opens n channels of capacity `cap`; the select owns clones txs/rxs. */
static void open_chans(int n, uint32_t cap)
{
    int i;
    memset(dst, 0, sizeof dst);
    for (i = 0; i < n; i++) {
        CHECK_EQ(aio_chan_init(&ch[i], cap ? ring[i] : NULL, sizeof(int), cap, &tx[i], &rx[i]), 0);
        CHECK_EQ(aio_chan_tx_clone(&txs[i], &tx[i]), 0);
        CHECK_EQ(aio_chan_rx_clone(&rxs[i], &rx[i]), 0);
    }
    aio_select_init(&sel, cases, (uint32_t)n);
}

static int no_trace(int n)
{
    int i, ok = 1;
    for (i = 0; i < n; i++)
        if (aio_chan_waiting_send(&ch[i]) || aio_chan_waiting_recv(&ch[i]))
            ok = 0;
    return ok;
}

TEST(a_ready_case_completes_without_parking)
{
    struct actor a[1];
    int v = 5;
    open_chans(3, 1);
    CHECK_EQ(aio_chan_try_send(&tx[1], &v), 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    aio_select_recv(&sel, 2, &rxs[2], &dst[2]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, 1);
    CHECK_EQ(aio_select_status(&sel), 0);
    CHECK_EQ(dst[1], 5);
    CHECK_EQ(dst[0], 0);
#ifdef AIO_DEBUG
    CHECK_EQ(a[0].parked, 0);
#endif
}

TEST(ready_cases_are_chosen_round_robin)
{
    int i, v = 1, got[9];
    open_chans(3, 4);
    for (i = 0; i < 3; i++) {
        aio_select_recv(&sel, (uint32_t)i, &rxs[i], &dst[i]);
        CHECK_EQ(aio_chan_try_send(&tx[i], &v), 0);
        CHECK_EQ(aio_chan_try_send(&tx[i], &v), 0);
        CHECK_EQ(aio_chan_try_send(&tx[i], &v), 0);
    }
    for (i = 0; i < 9; i++)
        got[i] = aio_select_try(&sel);
    for (i = 0; i < 9; i++)
        CHECK_EQ(got[i], i % 3);
}

TEST(a_case_that_stays_ready_is_chosen_at_least_once_every_n_selects)
{
    int i, v = 1, hits = 0, since = 0, worst = 0;
    open_chans(4, 4);
    for (i = 0; i < 4; i++)
        aio_select_recv(&sel, (uint32_t)i, &rxs[i], &dst[i]);
    for (i = 0; i < 200; i++) {
        int k, r;
        for (k = 0; k < 4; k++) /* keep every channel ready */
            while (aio_chan_len(&ch[k]) < 2)
                aio_chan_try_send(&tx[k], &v);
        r = aio_select_try(&sel);
        CHECK(r >= 0 && r < 4);
        if (r == 2) {
            hits++;
            since = 0;
        } else if (++since > worst) {
            worst = since;
        }
    }
    CHECK_EQ(hits, 50);
    CHECK(worst <= 3);
}

TEST(try_select_reports_EAGAIN_when_nothing_is_ready_and_EINVAL_with_no_case)
{
    open_chans(2, 1);
    CHECK_EQ(aio_select_try(&sel), AIO_EINVAL);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    CHECK_EQ(aio_select_try(&sel), AIO_EAGAIN);
    CHECK(no_trace(2));
    CHECK_EQ(aio_select_recv(&sel, 2, &rxs[1], &dst[1]), AIO_EINVAL);
}

TEST(the_first_operation_to_complete_wins_and_the_others_leave_no_trace)
{
    struct actor a[3];
    int i;
    open_chans(NCH, 0);
    for (i = 0; i < NCH; i++) {
        if (i % 2)
            aio_select_recv(&sel, (uint32_t)i, &rxs[i], &dst[i]);
        else
            aio_select_send(&sel, (uint32_t)i, &txs[i], &dst[i]);
        dst[i] = 100 + i;
    }
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[1] = act(A_SEND, &tx[7], 77, AIO_MS(3));  /* completes case 7 at 3 ms */
    a[2] = act(A_RECV, &rx[4], 0, AIO_MS(5));   /* case 4 is gone by then */
    a[2].timeout = AIO_MS(1);
    CHECK_EQ(run_actors(a, 3), 0);
    CHECK_EQ(a[0].rc, 7);
    CHECK_EQ(a[0].at, AIO_MS(3));
    CHECK_EQ(aio_select_status(&sel), 0);
    CHECK_EQ(dst[7], 77);
    for (i = 0; i < NCH; i++)
        if (i != 7)
            CHECK_EQ(dst[i], 100 + i);
    CHECK_EQ(a[2].raw, AIO_ECANCELED); /* nobody was sending on channel 4 any more */
    CHECK(no_trace(NCH));
}

TEST(a_send_case_is_taken_by_a_receiver)
{
    struct actor a[2];
    int v = 31;
    open_chans(2, 0);
    aio_select_send(&sel, 0, &txs[0], &v);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[1] = act(A_RECV, &rx[0], 0, AIO_MS(2));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 0);
    CHECK_EQ(a[1].v, 31);
    CHECK(no_trace(2));
}

TEST(deadline_ends_the_select_with_ETIMEDOUT_and_no_trace)
{
    struct actor a[1];
    open_chans(4, 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_send(&sel, 1, &txs[1], &dst[1]);
    aio_select_recv(&sel, 3, &rxs[3], &dst[3]);
    aio_select_deadline(&sel, AIO_MS(25));
    a[0] = act(A_SELECT, &sel, 0, 0);
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, AIO_ETIMEDOUT);
    CHECK_EQ(a[0].at, AIO_MS(25));
    CHECK(no_trace(4));
}

TEST(a_deadline_already_passed_times_out_only_when_no_case_is_ready)
{
    struct actor a[2];
    int v = 3;
    open_chans(2, 1);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    aio_select_deadline(&sel, 0);
    a[0] = act(A_SELECT, &sel, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, AIO_ETIMEDOUT);
    CHECK_EQ(a[0].at, AIO_MS(1));
    CHECK_EQ(aio_chan_try_send(&tx[1], &v), 0);
    a[1] = act(A_SELECT, &sel, 0, AIO_MS(1));
    CHECK_EQ(run_actors(&a[1], 1), 0);
    CHECK_EQ(a[1].rc, 1);
    CHECK_EQ(dst[1], 3);
}

TEST(a_select_with_only_a_deadline_sleeps_until_it)
{
    struct actor a[1];
    open_chans(2, 1);
    aio_select_deadline(&sel, AIO_MS(7));
    a[0] = act(A_SELECT, &sel, 0, 0);
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, AIO_ETIMEDOUT);
    CHECK_EQ(a[0].at, AIO_MS(7));
}

TEST(a_select_with_no_case_and_no_deadline_is_EINVAL)
{
    struct actor a[1];
    open_chans(2, 1);
    a[0] = act(A_SELECT, &sel, 0, 0);
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].rc, AIO_EINVAL);
}

TEST(a_cancelled_select_completes_no_case_and_leaves_no_trace)
{
    struct actor a[2];
    open_chans(3, 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    aio_select_send(&sel, 2, &txs[2], &dst[2]);
    aio_select_deadline(&sel, AIO_MS(50));
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[0].timeout = AIO_MS(4);
    a[1] = act(A_SEND, &tx[0], 5, AIO_MS(6)); /* arrives after the cancel: no receiver */
    a[1].timeout = AIO_MS(1);
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(a[0].at, AIO_MS(4));
    CHECK_EQ(a[1].raw, AIO_ECANCELED);
    CHECK_EQ(dst[0], 0);
    CHECK(no_trace(3));
    CHECK_EQ(aio_loop_next_deadline(&chan_loop), AIO_TIME_INF); /* the select's timer is gone too */
}

TEST(a_precancelled_select_does_nothing_even_when_a_case_is_ready)
{
    struct actor a[1];
    int v = 8;
    open_chans(2, 1);
    CHECK_EQ(aio_chan_try_send(&tx[0], &v), 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[0].precancel = 1;
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(aio_chan_len(&ch[0]), 1);
    CHECK_EQ(dst[0], 0);
}

TEST(a_closed_channel_makes_its_receive_case_ready_with_EEND)
{
    struct actor a[2];
    open_chans(2, 1);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    aio_chan_tx_close(&txs[1]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[1] = act(A_CLOSE_TX, &tx[1], 0, AIO_MS(2)); /* the last send end of channel 1 */
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 1);
    CHECK_EQ(a[0].at, AIO_MS(2));
    CHECK_EQ(aio_select_status(&sel), AIO_EEND);
    CHECK(no_trace(2));
}

TEST(closing_an_end_a_select_waits_on_completes_that_case_with_ECLOSED)
{
    struct actor a[2];
    open_chans(2, 0);
    aio_select_send(&sel, 0, &txs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[1] = act(A_CLOSE_RX, &rxs[1], 0, AIO_MS(2));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 1);
    CHECK_EQ(aio_select_status(&sel), AIO_ECLOSED);
    CHECK(no_trace(2));
}

static int panics;
static void count_panic(const char *msg, const char *file, int line)
{
    (void)msg; (void)file; (void)line;
    panics++;
}

TEST(two_cases_on_one_end_are_EBUSY)
{
    struct actor a[1];
    panics = 0;
    chan_panic = count_panic;
    open_chans(2, 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);
    aio_select_recv(&sel, 1, &rxs[0], &dst[1]);
    a[0] = act(A_SELECT, &sel, 0, 0);
    CHECK_EQ(run_actors(a, 1), 0);
    chan_panic = NULL;
    CHECK_EQ(a[0].rc, AIO_EBUSY);
    CHECK(no_trace(2));
#ifdef AIO_DEBUG
    CHECK_EQ(panics, 1); /* misuse is an assertion in debug builds */
#endif
}

TEST(two_selects_meet_on_a_rendezvous_channel)
{
    static aio_select s2;
    static aio_select_case c2[2];
    static aio_chan_tx t2;
    static aio_chan_rx r2;
    struct actor a[2];
    int v = 64;
    open_chans(2, 0);
    CHECK_EQ(aio_chan_tx_clone(&t2, &tx[1]), 0);
    CHECK_EQ(aio_chan_rx_clone(&r2, &rx[0]), 0);
    aio_select_recv(&sel, 0, &rxs[0], &dst[0]);   /* waits on 0 and 1 */
    aio_select_recv(&sel, 1, &rxs[1], &dst[1]);
    aio_select_init(&s2, c2, 2);
    aio_select_send(&s2, 0, &t2, &v);             /* sends on channel 1 */
    aio_select_recv(&s2, 1, &r2, &dst[2]);        /* or receives on channel 0 */
    a[0] = act(A_SELECT, &sel, 0, 0);
    a[1] = act(A_SELECT, &s2, 0, AIO_MS(1));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].rc, 1);
    CHECK_EQ(a[1].rc, 0);
    CHECK_EQ(dst[1], 64);
    CHECK_EQ(dst[0], 0);
    CHECK(no_trace(2));
}

/* A selecting consumer over many channels with a deadline per round: every
 * item sent is received exactly once, whatever the schedule. */
struct many_consumer {
    aio_frame hdr;
    int n, open, got, timeouts, sum;
};
static int many_consumer(aio_task *t, void *p)
{
    struct many_consumer *f = (struct many_consumer *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    for (i = 0; i < f->n; i++)
        aio_select_recv(&sel, (uint32_t)i, &rxs[i], &dst[i]);
    f->open = f->n;
    while (f->open > 0) {
        aio_select_deadline(&sel, aio_now(aio_task_loop(t)) + AIO_MS(3));
        AIO_SELECT(rc, &sel);
        if (rc == AIO_ETIMEDOUT) {
            f->timeouts++;
            continue;
        }
        if (rc < 0)
            AIO_RETURN(rc);
        if (aio_select_status(&sel) == AIO_EEND) {
            aio_select_recv(&sel, (uint32_t)rc, NULL, NULL); /* Go: set the channel to nil */
            f->open--;
            continue;
        }
        f->got++;
        f->sum += dst[rc];
    }
    AIO_END(0);
}

struct many_producer {
    aio_frame hdr;
    int idx, k, count;
    aio_time gap;
};
static int many_producer(aio_task *t, void *p)
{
    struct many_producer *f = (struct many_producer *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->k = 1; f->k <= f->count; f->k++) {
        AIO_SLEEP(rc, f->gap);
        AIO_CHAN_SEND(rc, &tx[f->idx], &f->k);
        if (rc)
            AIO_RETURN(rc);
    }
    aio_chan_tx_close(&tx[f->idx]);
    AIO_END(0);
}

struct many_main {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[NCH + 1];
    struct many_producer p[NCH];
    struct many_consumer c;
};
static int many_main(aio_task *t, void *p)
{
    struct many_main *f = (struct many_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < NCH; i++)
        aio_spawn(&f->g, &f->tasks[i], many_producer, &f->p[i]);
    aio_spawn(&f->g, &f->tasks[NCH], many_consumer, &f->c);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(select_over_sixteen_channels_with_deadlines_receives_every_item_once)
{
    static struct many_main m;
    aio_loop L;
    aio_task mt;
    int i, want = 0;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    open_chans(NCH, 0);
    for (i = 0; i < NCH; i++) {
        aio_chan_tx_close(&txs[i]); /* producers own tx[i] only */
        m.p[i].idx = i;
        m.p[i].count = 3 + i % 4;
        m.p[i].gap = AIO_MS(1 + i % 5);
        want += m.p[i].count * (m.p[i].count + 1) / 2;
    }
    m.c.n = NCH;
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, many_main, &m), 0);
    CHECK_EQ(m.c.sum, want);
    CHECK(m.c.timeouts > 0); /* gaps of 4 and 5 ms exceed the 3 ms deadline */
    CHECK(no_trace(NCH));
}

int main(void)
{
    RUN(a_ready_case_completes_without_parking);
    RUN(ready_cases_are_chosen_round_robin);
    RUN(a_case_that_stays_ready_is_chosen_at_least_once_every_n_selects);
    RUN(try_select_reports_EAGAIN_when_nothing_is_ready_and_EINVAL_with_no_case);
    RUN(the_first_operation_to_complete_wins_and_the_others_leave_no_trace);
    RUN(a_send_case_is_taken_by_a_receiver);
    RUN(deadline_ends_the_select_with_ETIMEDOUT_and_no_trace);
    RUN(a_deadline_already_passed_times_out_only_when_no_case_is_ready);
    RUN(a_select_with_only_a_deadline_sleeps_until_it);
    RUN(a_select_with_no_case_and_no_deadline_is_EINVAL);
    RUN(a_cancelled_select_completes_no_case_and_leaves_no_trace);
    RUN(a_precancelled_select_does_nothing_even_when_a_case_is_ready);
    RUN(a_closed_channel_makes_its_receive_case_ready_with_EEND);
    RUN(closing_an_end_a_select_waits_on_completes_that_case_with_ECLOSED);
    RUN(two_cases_on_one_end_are_EBUSY);
    RUN(two_selects_meet_on_a_rendezvous_channel);
    RUN(select_over_sixteen_channels_with_deadlines_receives_every_item_once);
    return harness_report();
}
