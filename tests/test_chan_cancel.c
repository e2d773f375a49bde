/*
 * tests/test_chan_cancel.c - "cancelled" means "did not happen": no item is
 * lost or duplicated when sends and receives are cancelled at any point, and
 * a randomized producer/consumer model over many seeds receives exactly the
 * multiset of items that were sent.
 */
#define AIO_IMPLEMENTATION
#include "chan_util.h"

static aio_chan ch;
static aio_chan_tx tx;
static aio_chan_rx rx;
static int ring[4];

static void open_chan(uint32_t cap)
{
    CHECK_EQ(aio_chan_init(&ch, cap ? ring : NULL, sizeof(int), cap, &tx, &rx), 0);
}

/* ---- single operations ------------------------------------------------- */

TEST(a_precancelled_send_leaves_the_buffer_empty)
{
    struct actor a[1];
    open_chan(2);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[0].precancel = 1;
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(aio_chan_len(&ch), 0);
}

TEST(a_precancelled_receive_leaves_the_item_in_the_buffer)
{
    struct actor a[1];
    int v = 4;
    open_chan(2);
    CHECK_EQ(aio_chan_try_send(&tx, &v), 0);
    a[0] = act(A_RECV, &rx, -1, 0);
    a[0].precancel = 1;
    CHECK_EQ(run_actors(a, 1), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(a[0].v, -1);
    CHECK_EQ(aio_chan_len(&ch), 1);
}

TEST(a_send_cancelled_while_blocked_is_never_received)
{
    struct actor a[2];
    open_chan(0);
    a[0] = act(A_SEND, &tx, 1, 0);
    a[0].timeout = AIO_MS(2);
    a[1] = act(A_RECV, &rx, -1, AIO_MS(3));
    a[1].timeout = AIO_MS(5);
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(a[1].raw, AIO_ECANCELED);
    CHECK_EQ(a[1].v, -1);
    CHECK_EQ(aio_chan_waiting_send(&ch), 0);
}

TEST(a_receive_cancelled_while_blocked_takes_nothing_and_the_next_item_stays)
{
    struct actor a[2];
    int v = 0;
    open_chan(1);
    a[0] = act(A_RECV, &rx, -1, 0);
    a[0].timeout = AIO_MS(2);
    a[1] = act(A_SEND, &tx, 9, AIO_MS(3));
    CHECK_EQ(run_actors(a, 2), 0);
    CHECK_EQ(a[0].raw, AIO_ECANCELED);
    CHECK_EQ(a[0].v, -1);
    CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
    CHECK_EQ(v, 9);
}

/* One step that both cancels a blocked receiver and sends, in either order. */
struct race {
    aio_frame hdr;
    aio_task *victim;
    int cancel_first, v;
};
static int racer(aio_task *t, void *p)
{
    struct race *f = (struct race *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(1));
    if (f->cancel_first) {
        aio_task_cancel(f->victim);
        (void)aio_chan_try_send(&tx, &f->v);
    } else {
        (void)aio_chan_try_send(&tx, &f->v);
        aio_task_cancel(f->victim);
    }
    AIO_END(0);
}

struct race_main {
    aio_frame hdr;
    aio_group g;
    aio_task vt, rt;
    struct actor victim;
    struct race r;
};
static int race_main(aio_task *t, void *p)
{
    struct race_main *f = (struct race_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->r.victim = &f->vt;
    aio_spawn(&f->g, &f->vt, actor, &f->victim);
    aio_spawn(&f->g, &f->rt, racer, &f->r);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

TEST(cancel_and_hand_off_in_the_same_step_lose_nothing)
{
    int order;
    for (order = 0; order < 2; order++) {
        static struct race_main m;
        aio_loop L;
        aio_task mt;
        int v = -1;
        memset(&m, 0, sizeof m);
        memset(&mt, 0, sizeof mt);
        open_chan(1);
        m.victim = act(A_RECV, &rx, -1, 0);
        m.r.cancel_first = order;
        m.r.v = 5;
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, race_main, &m), 0);
        if (order) {
            /* Cancelled first: the receive did not happen, the item is buffered. */
            CHECK_EQ(m.victim.raw, AIO_ECANCELED);
            CHECK_EQ(m.victim.v, -1);
            CHECK_EQ(aio_chan_try_recv(&rx, &v), 0);
            CHECK_EQ(v, 5);
        } else {
            /* Handed off first: the receive happened and is reported as such. */
            CHECK_EQ(m.victim.raw, 0);
            CHECK_EQ(m.victim.v, 5);
            CHECK_EQ(aio_chan_try_recv(&rx, &v), AIO_EAGAIN);
        }
    }
}

/* ---- cancellation swept across every await point ------------------------ */

#define SWEEP_N 8

struct sweep_prod {
    aio_frame hdr;
    int i, sent[SWEEP_N], cancels;
    aio_scope sc;
};
static int sweep_prod(aio_task *t, void *p)
{
    struct sweep_prod *f = (struct sweep_prod *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < SWEEP_N; f->i++) {
        AIO_SLEEP(rc, AIO_US(700));
        aio_scope_init(&f->sc);
        aio_scope_enter(t, &f->sc, AIO_TIME_INF);
        AIO_CHAN_SEND(rc, &tx, &f->i);
        aio_scope_exit(t, &f->sc, rc);
        if (rc == 0)
            f->sent[f->i]++;
        else if (rc == AIO_ECANCELED)
            f->cancels++; /* not sent: move on to the next item */
        else
            AIO_RETURN(rc);
    }
    aio_chan_tx_close(&tx);
    AIO_END(0);
}

struct sweep_cons {
    aio_frame hdr;
    int v, got[SWEEP_N], cancels, rc;
    aio_scope sc;
};
static int sweep_cons(aio_task *t, void *p)
{
    struct sweep_cons *f = (struct sweep_cons *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_SLEEP(rc, AIO_US(1100));
        aio_scope_init(&f->sc);
        aio_scope_enter(t, &f->sc, AIO_TIME_INF);
        f->v = -1;
        AIO_CHAN_RECV(rc, &rx, &f->v);
        aio_scope_exit(t, &f->sc, rc);
        if (rc == 0) {
            if (f->v >= 0 && f->v < SWEEP_N)
                f->got[f->v]++;
        } else if (rc == AIO_ECANCELED) {
            if (f->v != -1)
                f->rc = -1; /* a cancelled receive wrote the destination */
            f->cancels++;
        } else {
            break;
        }
    }
    if (!f->rc)
        f->rc = rc;
    AIO_END(0);
}

/* Cancels the producer's and the consumer's current operation at given times. */
struct sweeper {
    aio_frame hdr;
    struct sweep_prod *p;
    struct sweep_cons *c;
    aio_time tp, tc;
};
static int sweeper(aio_task *t, void *p)
{
    struct sweeper *f = (struct sweeper *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->tp <= f->tc) {
        AIO_SLEEP_UNTIL(rc, f->tp);
        if (f->p->sc.flags & AIO__SCOPE_ACTIVE)
            aio_scope_cancel(&f->p->sc, "sweep");
    }
    AIO_SLEEP_UNTIL(rc, f->tc);
    if (f->c->sc.flags & AIO__SCOPE_ACTIVE)
        aio_scope_cancel(&f->c->sc, "sweep");
    if (f->tp > f->tc) {
        AIO_SLEEP_UNTIL(rc, f->tp);
        if (f->p->sc.flags & AIO__SCOPE_ACTIVE)
            aio_scope_cancel(&f->p->sc, "sweep");
    }
    AIO_END(0);
}

struct sweep_main {
    aio_frame hdr;
    aio_group g;
    aio_task tp, tc, ts;
    struct sweep_prod p;
    struct sweep_cons c;
    struct sweeper s;
};
static int sweep_main(aio_task *t, void *p)
{
    struct sweep_main *f = (struct sweep_main *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->s.p = &f->p;
    f->s.c = &f->c;
    aio_spawn(&f->g, &f->tp, sweep_prod, &f->p);
    aio_spawn(&f->g, &f->tc, sweep_cons, &f->c);
    aio_spawn(&f->g, &f->ts, sweeper, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(cancelling_sender_and_receiver_at_every_await_point_loses_and_duplicates_nothing)
{
    static struct sweep_main m;
    uint32_t cap;
    int dp, dc, i, total_cancels = 0;
    for (cap = 0; cap <= 2; cap++) {
        for (dp = 0; dp < 48; dp++) {
            for (dc = 0; dc < 48; dc += 5) {
                aio_loop L;
                aio_task mt;
                memset(&m, 0, sizeof m);
                memset(&mt, 0, sizeof mt);
                open_chan(cap);
                m.s.tp = AIO_US(100) * dp + AIO_US(50) * (dp % 2);
                m.s.tc = AIO_US(100) * dc + AIO_US(50) * ((dp + dc) % 3);
                test_loop_init(&L);
                CHECK_EQ(aio_run(&L, &mt, sweep_main, &m), 0);
                CHECK_EQ(m.c.rc, AIO_EEND);
                for (i = 0; i < SWEEP_N; i++)
                    CHECK_EQ(m.c.got[i], m.p.sent[i]);
                total_cancels += m.p.cancels + m.c.cancels;
            }
        }
    }
    CHECK(total_cancels > 100); /* the sweep really did hit operations in flight */
}

/* ---- the randomized model ---------------------------------------------- */

#define MP 4          /* producers at most */
#define MC 3          /* consumers at most */
#define MITEMS 12     /* items per producer */

struct m_prod {
    aio_frame hdr;
    aio_chan_tx tx;
    uint64_t rng;
    int id, i, v, rc;
    uint32_t r;
    int sent[MITEMS];
    aio_scope sc;
};
static int m_prod(aio_task *t, void *p)
{
    struct m_prod *f = (struct m_prod *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < MITEMS; f->i++) {
        f->r = rnd_next(&f->rng);
        if (f->r & 1) {
            AIO_SLEEP(rc, AIO_US(f->r % 2000));
        }
        f->v = f->id * 100 + f->i;
        aio_scope_init(&f->sc);
        aio_scope_enter(t, &f->sc, (f->r >> 4) % 3 ? aio_now(aio_task_loop(t)) + AIO_US((f->r >> 8) % 1500)
                                                 : AIO_TIME_INF);
        if ((f->r >> 12) % 4 == 0) {
            rc = aio_chan_try_send(&f->tx, &f->v);
        } else {
            AIO_CHAN_SEND(rc, &f->tx, &f->v);
        }
        rc = aio_scope_exit(t, &f->sc, rc);
        if (rc == 0 && !aio_scope_cancelled_caught(&f->sc))
            f->sent[f->i]++;
        else if (rc != 0 && rc != AIO_EAGAIN)
            AIO_RETURN(rc);
        /* A cancelled or refused send did not happen; the item is dropped. */
    }
    aio_chan_tx_close(&f->tx);
    AIO_END(0);
}

struct m_cons {
    aio_frame hdr;
    aio_chan_rx rx;
    aio_chan_rx rx_sel;  /* a second end for the select case */
    aio_select sel;
    aio_select_case cases[2];
    uint64_t rng;
    uint32_t r;
    int v, rc, last[MP];
    int got[MP][MITEMS];
    int order_broken;
    aio_scope sc;
};
static int m_cons(aio_task *t, void *p)
{
    struct m_cons *f = (struct m_cons *)p;
    int rc, k;
    AIO_BEGIN(t, f);
    for (k = 0; k < MP; k++)
        f->last[k] = -1;
    aio_select_init(&f->sel, f->cases, 2);
    for (;;) {
        f->r = rnd_next(&f->rng);
        if (f->r & 1) {
            AIO_SLEEP(rc, AIO_US(f->r % 1500));
        }
        f->v = -1;
        aio_scope_init(&f->sc);
        aio_scope_enter(t, &f->sc, (f->r >> 4) % 3 ? aio_now(aio_task_loop(t)) + AIO_US((f->r >> 8) % 1200)
                                                 : AIO_TIME_INF);
        switch ((f->r >> 12) % 4) {
        case 0: rc = aio_chan_try_recv(&f->rx, &f->v); break;
        case 1: rc = 1; break; /* select, below */
        default: rc = 2; break; /* plain receive, below */
        }
        if (rc == 1) {
            aio_select_recv(&f->sel, 0, &f->rx_sel, &f->v);
            aio_select_recv(&f->sel, 1, NULL, NULL);
            aio_select_deadline(&f->sel, (f->r >> 20) % 2 ? aio_now(aio_task_loop(t)) + AIO_US((f->r >> 22) % 900)
                                                       : AIO_TIME_INF);
            AIO_SELECT(rc, &f->sel);
            if (rc == 0)
                rc = aio_select_status(&f->sel);
            else if (rc == AIO_ETIMEDOUT)
                rc = AIO_EAGAIN;
        } else if (rc == 2) {
            AIO_CHAN_RECV(rc, &f->rx, &f->v);
        }
        rc = aio_scope_exit(t, &f->sc, rc);
        if (rc == 0 && !aio_scope_cancelled_caught(&f->sc)) {
            int pid = f->v / 100, i = f->v % 100;
            if (f->v < 0 || pid >= MP || i >= MITEMS) {
                f->order_broken = 1;
                continue;
            }
            f->got[pid][i]++;
            if (i <= f->last[pid])
                f->order_broken = 1; /* one producer's items arrive in order */
            f->last[pid] = i;
        } else if (rc == 0 || rc == AIO_EAGAIN) {
            if (f->v != -1)
                f->order_broken = 1; /* a cancelled receive wrote the destination */
        } else {
            f->rc = rc;
            break;
        }
    }
    aio_chan_rx_close(&f->rx);
    aio_chan_rx_close(&f->rx_sel);
    AIO_END(0);
}

struct model_main {
    aio_frame hdr;
    aio_group g;
    aio_task tasks[MP + MC];
    struct m_prod p[MP];
    struct m_cons c[MC];
    int np, nc;
};
static int model_main(aio_task *t, void *p)
{
    struct model_main *f = (struct model_main *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < f->np; i++)
        aio_spawn(&f->g, &f->tasks[i], m_prod, &f->p[i]);
    for (i = 0; i < f->nc; i++)
        aio_spawn(&f->g, &f->tasks[MP + i], m_cons, &f->c[i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(randomized_producers_and_consumers_receive_exactly_the_items_sent)
{
    static struct model_main m;
    static int mring[3];
    uint64_t seed;
    long sent_total = 0, cancelled_total = 0;
    for (seed = 1; seed <= 300; seed++) {
        aio_loop L;
        aio_task mt;
        uint64_t s = seed * 7919;
        uint32_t cap = rnd_next(&s) % 4;
        int i, j, k, ok = 1;
        memset(&m, 0, sizeof m);
        memset(&mt, 0, sizeof mt);
        m.np = 1 + (int)(rnd_next(&s) % MP);
        m.nc = 1 + (int)(rnd_next(&s) % MC);
        CHECK_EQ(aio_chan_init(&ch, cap ? mring : NULL, sizeof(int), cap, &tx, &rx), 0);
        for (i = 0; i < m.np; i++) {
            CHECK_EQ(aio_chan_tx_clone(&m.p[i].tx, &tx), 0);
            m.p[i].id = i;
            m.p[i].rng = s + 101u * (uint64_t)(i + 1);
        }
        for (i = 0; i < m.nc; i++) {
            CHECK_EQ(aio_chan_rx_clone(&m.c[i].rx, &rx), 0);
            CHECK_EQ(aio_chan_rx_clone(&m.c[i].rx_sel, &rx), 0);
            m.c[i].rng = s + 977u * (uint64_t)(i + 1);
        }
        aio_chan_tx_close(&tx);
        aio_chan_rx_close(&rx);
        test_loop_init(&L);
        CHECK_EQ(aio_run(&L, &mt, model_main, &m), 0);
        for (i = 0; i < m.np; i++) {
            for (j = 0; j < MITEMS; j++) {
                int got = 0;
                for (k = 0; k < m.nc; k++)
                    got += m.c[k].got[i][j];
                if (got != m.p[i].sent[j] || got > 1)
                    ok = 0;
                sent_total += m.p[i].sent[j];
                cancelled_total += !m.p[i].sent[j];
            }
        }
        for (k = 0; k < m.nc; k++) {
            if (m.c[k].order_broken || m.c[k].rc != AIO_EEND)
                ok = 0;
        }
        if (!ok)
            printf("  model seed %llu (cap %u, %d producers, %d consumers) failed\n", (unsigned long long)seed,
                   (unsigned)cap, m.np, m.nc);
        CHECK(ok);
        CHECK_EQ(aio_chan_open_tx(&ch), 0);
        CHECK_EQ(aio_chan_open_rx(&ch), 0);
    }
    CHECK(sent_total > 1000);
    CHECK(cancelled_total > 100);
}

int main(void)
{
    RUN(a_precancelled_send_leaves_the_buffer_empty);
    RUN(a_precancelled_receive_leaves_the_item_in_the_buffer);
    RUN(a_send_cancelled_while_blocked_is_never_received);
    RUN(a_receive_cancelled_while_blocked_takes_nothing_and_the_next_item_stays);
    RUN(cancel_and_hand_off_in_the_same_step_lose_nothing);
    RUN(cancelling_sender_and_receiver_at_every_await_point_loses_and_duplicates_nothing);
    RUN(randomized_producers_and_consumers_receive_exactly_the_items_sent);
    return harness_report();
}
