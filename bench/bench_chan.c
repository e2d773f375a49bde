/*
 * bench_chan.c - cost of aio_chan.h operations: one message through an
 * unbuffered (rendezvous) channel between two tasks, a buffered channel
 * between two tasks, a queue, a select over four channels, and the
 * non-blocking pair in one task, beside the bare-resume floor measured in
 * this binary.  Every figure is ns per message (one item moved from the
 * sending task to the receiving one), task switches included.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_chan.h"

#include "bench_util.h"

enum { K_CHAN, K_QUEUE, K_SELECT };

struct sender {
    aio_frame hdr;
    int kind;
    aio_chan_tx *tx;
    aio_queue *q;
    long i, n;
    int v;
};

static int sender(aio_task *t, void *frame)
{
    struct sender *f = (struct sender *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        f->v = (int)f->i;
        if (f->kind == K_QUEUE)
            AIO_QUEUE_PUT(rc, f->q, &f->v);
        else
            AIO_CHAN_SEND(rc, f->tx, &f->v);
        if (rc)
            AIO_RETURN(rc);
    }
    if (f->kind != K_QUEUE)
        aio_chan_tx_close(f->tx);
    AIO_END(0);
}

struct receiver {
    aio_frame hdr;
    int kind;
    aio_chan_rx *rx;
    aio_queue *q;
    aio_select *sel;
    long i, n, sum;
    int v;
};

static int receiver(aio_task *t, void *frame)
{
    struct receiver *f = (struct receiver *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (f->kind == K_QUEUE)
            AIO_QUEUE_GET(rc, f->q, &f->v);
        else if (f->kind == K_SELECT)
            AIO_SELECT(rc, f->sel);
        else
            AIO_CHAN_RECV(rc, f->rx, &f->v);
        if (rc < 0)
            AIO_RETURN(rc);
        f->sum += f->v;
    }
    AIO_END(0);
}

struct pair_main {
    aio_frame hdr;
    aio_group g;
    aio_task st, rt;
    struct sender s;
    struct receiver r;
};

static int pair_main(aio_task *t, void *frame)
{
    struct pair_main *f = (struct pair_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->rt, receiver, &f->r);
    aio_spawn(&f->g, &f->st, sender, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

struct cfg {
    int kind;
    uint32_t cap;
    int virtual_clock; /* no clock read per loop turn */
    int fast;          /* aio_chan_set_fast / aio_queue_set_fast */
};

static uint64_t run_pair(void *ctx, long n)
{
    const struct cfg *c = (const struct cfg *)ctx;
    static aio_loop loop;
    static aio_task mt;
    static struct pair_main m;
    static aio_chan ch[4];
    static aio_chan_tx tx[4];
    static aio_chan_rx rx[4];
    static int ring[4][64];
    static aio_queue q;
    static aio_select sel;
    static aio_select_case cases[4];
    aio_config lc;
    uint64_t t0;
    int i, rc;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    memset(&lc, 0, sizeof lc);
    lc.virtual_clock = c->virtual_clock;
    aio_loop_init(&loop, &lc);
    for (i = 0; i < 4; i++)
        aio_chan_init(&ch[i], c->cap ? ring[i] : NULL, sizeof(int), c->cap, &tx[i], &rx[i]);
    aio_queue_init(&q, AIO_QUEUE_FIFO, ring[0], sizeof(int), c->cap ? c->cap : 1, NULL, NULL);
    aio_queue_set_fast(&q, c->fast);
    for (i = 0; i < 4; i++)
        aio_chan_set_fast(&ch[i], c->fast);
    aio_select_init(&sel, cases, 4);
    for (i = 0; i < 4; i++)
        aio_select_recv(&sel, (uint32_t)i, &rx[i], &m.r.v);
    m.s.kind = m.r.kind = c->kind;
    m.s.tx = &tx[3]; /* select: the last case, so each select scans all four */
    m.r.rx = &rx[3];
    m.s.q = m.r.q = &q;
    m.r.sel = &sel;
    m.s.n = m.r.n = n;
    t0 = bu_now();
    rc = aio_run(&loop, &mt, pair_main, &m);
    t0 = bu_now() - t0;
    if (rc != 0 || m.r.sum != (long)n * (n - 1) / 2)
        abort();
    return t0;
}

static uint64_t run_try_pair(void *ctx, long n)
{
    static aio_chan ch;
    static aio_chan_tx tx;
    static aio_chan_rx rx;
    static int ring[8];
    long i, sum = 0;
    uint64_t t0;
    int v;
    (void)ctx;
    aio_chan_init(&ch, ring, sizeof(int), 8, &tx, &rx);
    t0 = bu_now();
    for (i = 0; i < n; i++) {
        v = (int)i;
        if (aio_chan_try_send(&tx, &v) || aio_chan_try_recv(&rx, &v))
            abort();
        sum += v;
    }
    t0 = bu_now() - t0;
    if (sum != n * (n - 1) / 2)
        abort();
    return t0;
}

int main(void)
{
    static const struct cfg unbuf = { K_CHAN, 0, 0, 0 }, buf1 = { K_CHAN, 1, 0, 0 }, buf64 = { K_CHAN, 64, 0, 0 },
                            queue = { K_QUEUE, 64, 0, 0 }, sel0 = { K_SELECT, 0, 0, 0 },
                            unbuf_f = { K_CHAN, 0, 0, 1 }, buf1_f = { K_CHAN, 1, 0, 1 },
                            buf64_f = { K_CHAN, 64, 0, 1 }, queue_f = { K_QUEUE, 64, 0, 1 },
                            unbuf_v = { K_CHAN, 0, 1, 0 }, unbuf_fv = { K_CHAN, 0, 1, 1 },
                            buf1_fv = { K_CHAN, 1, 1, 1 }, buf64_fv = { K_CHAN, 64, 1, 1 };
    bu_stat floor = bu_floor_resume();
    long n = 2000000;
    printf("## aio_chan.h: ns per message between two tasks\n\n");
    bu_print_machine();
    bu_table_head();
    bu_row("bare resume (floor)", floor, floor.med);
    bu_row("unbuffered channel send -> receive (rendezvous)", bu_measure(run_pair, (void *)&unbuf, n), floor.med);
    bu_row("buffered channel, capacity 1", bu_measure(run_pair, (void *)&buf1, n), floor.med);
    bu_row("buffered channel, capacity 64", bu_measure(run_pair, (void *)&buf64, n), floor.med);
    bu_row("queue put -> get, capacity 64", bu_measure(run_pair, (void *)&queue, n), floor.med);
    bu_row("select over 4 unbuffered channels -> send", bu_measure(run_pair, (void *)&sel0, n), floor.med);
    bu_row("unbuffered channel, fast mode (no schedule point on the fast path)",
           bu_measure(run_pair, (void *)&unbuf_f, n), floor.med);
    bu_row("buffered channel, capacity 1, fast mode", bu_measure(run_pair, (void *)&buf1_f, n), floor.med);
    bu_row("buffered channel, capacity 64, fast mode", bu_measure(run_pair, (void *)&buf64_f, n), floor.med);
    bu_row("queue put -> get, capacity 64, fast mode", bu_measure(run_pair, (void *)&queue_f, n), floor.med);
    bu_row("unbuffered channel, virtual clock (no clock read per loop turn)", bu_measure(run_pair, (void *)&unbuf_v, n),
           floor.med);
    bu_row("unbuffered channel, fast mode, virtual clock", bu_measure(run_pair, (void *)&unbuf_fv, n), floor.med);
    bu_row("buffered channel, capacity 1, fast mode, virtual clock", bu_measure(run_pair, (void *)&buf1_fv, n),
           floor.med);
    bu_row("buffered channel, capacity 64, fast mode, virtual clock", bu_measure(run_pair, (void *)&buf64_fv, n),
           floor.med);
    bu_row("try_send + try_recv in one task", bu_measure(run_try_pair, NULL, 20000000), floor.med);
    printf("\nsizeof: aio_chan %u, aio_chan_tx/rx %u, aio_select %u + %u per case, aio_queue %u, aio_gen %u\n",
           (unsigned)sizeof(aio_chan), (unsigned)sizeof(aio_chan_tx), (unsigned)sizeof(aio_select),
           (unsigned)sizeof(aio_select_case), (unsigned)sizeof(aio_queue), (unsigned)sizeof(aio_gen));
    return 0;
}
