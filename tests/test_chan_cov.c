/*
 * tests/test_chan_cov.c - aio_chan.h's less travelled paths: items of 8, 16
 * and odd sizes, clone and select argument errors, a select through an end
 * another task is blocked on, queue operations on a shut-down queue, and
 * generator start errors.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_chan.h"

static aio_loop L;
static aio_task mt;

/* ---- item sizes --------------------------------------------------------- */

struct i16 { uint64_t a, b; };
struct i12 { uint32_t a, b, c; };

TEST(items_of_8_16_and_12_bytes_arrive_intact)
{
    aio_chan c8, c16, c12;
    aio_chan_tx t8, t16, t12;
    aio_chan_rx r8, r16, r12;
    uint64_t b8[2], v8 = 0x0102030405060708ULL, o8 = 0;
    struct i16 b16[2], v16 = { 11, 0xFFFFFFFFFFFFFFFFULL }, o16 = { 0, 0 };
    struct i12 b12[2], v12 = { 1, 2, 3 }, o12 = { 0, 0, 0 };
    CHECK_EQ(aio_chan_init(&c8, b8, sizeof v8, 2, &t8, &r8), 0);
    CHECK_EQ(aio_chan_init(&c16, b16, sizeof v16, 2, &t16, &r16), 0);
    CHECK_EQ(aio_chan_init(&c12, b12, sizeof v12, 2, &t12, &r12), 0);
    CHECK_EQ(aio_chan_try_send(&t8, &v8), 0);
    CHECK_EQ(aio_chan_try_send(&t16, &v16), 0);
    CHECK_EQ(aio_chan_try_send(&t12, &v12), 0);
    CHECK_EQ(aio_chan_try_recv(&r8, &o8), 0);
    CHECK_EQ(aio_chan_try_recv(&r16, &o16), 0);
    CHECK_EQ(aio_chan_try_recv(&r12, &o12), 0);
    CHECK(o8 == v8);
    CHECK(o16.a == 11 && o16.b == 0xFFFFFFFFFFFFFFFFULL);
    CHECK(o12.a == 1 && o12.b == 2 && o12.c == 3);
}

TEST(clone_and_select_reject_bad_arguments)
{
    aio_chan c;
    aio_chan_tx tx, tx2;
    aio_chan_rx rx, rx2;
    aio_select s;
    aio_select_case cases[1];
    int v = 0;
    CHECK_EQ(aio_chan_init(&c, NULL, sizeof(int), 0, &tx, &rx), 0);
    CHECK_EQ(aio_chan_tx_clone(NULL, &tx), AIO_EINVAL);
    CHECK_EQ(aio_chan_tx_clone(&tx2, NULL), AIO_EINVAL);
    CHECK_EQ(aio_chan_rx_clone(NULL, &rx), AIO_EINVAL);
    CHECK_EQ(aio_chan_rx_clone(&rx2, NULL), AIO_EINVAL);
    aio_select_init(&s, cases, 1);
    CHECK_EQ(aio_select_send(&s, 1, &tx, &v), AIO_EINVAL);
    CHECK_EQ(aio_select_recv(&s, 1, &rx, &v), AIO_EINVAL);
    CHECK_EQ(aio_select_send(&s, 0, &tx, &v), 0);
    aio_chan_tx_close(&tx);
    aio_chan_rx_close(&rx);
}

/* ---- a select through an end that another task is blocked on ------------ */

struct blocked { aio_frame hdr; aio_chan_rx *rx; int v, rc; };
static int blocked_recv(aio_task *t, void *p)
{
    struct blocked *f = (struct blocked *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_CHAN_RECV(rc, f->rx, &f->v);
    f->rc = rc;
    AIO_END(0);
}
struct selbusy {
    aio_frame hdr;
    aio_chan c;
    aio_chan_tx tx;
    aio_chan_rx rx;
    aio_select s;
    aio_select_case cases[1];
    aio_group g;
    aio_task w;
    struct blocked b;
    int dst, sel_rc, send_rc;
};
static int selbusy_main(aio_task *t, void *p)
{
    struct selbusy *f = (struct selbusy *)p;
    int rc, one = 42;
    AIO_BEGIN(t, f);
    aio_chan_init(&f->c, NULL, sizeof(int), 0, &f->tx, &f->rx);
    f->b.rx = &f->rx;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->w, blocked_recv, &f->b);
    AIO_YIELD(); /* the receiver blocks through rx */
    aio_select_init(&f->s, f->cases, 1);
    aio_select_recv(&f->s, 0, &f->rx, &f->dst);
    AIO_SELECT(rc, &f->s);
    f->sel_rc = rc;
    f->send_rc = aio_chan_try_send(&f->tx, &one);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    aio_chan_tx_close(&f->tx);
    aio_chan_rx_close(&f->rx);
    AIO_END(rc);
}

TEST(select_through_an_end_another_task_waits_on_is_busy)
{
    static struct selbusy f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, selbusy_main, &f), 0);
    CHECK_EQ(f.sel_rc, AIO_EBUSY);
    CHECK_EQ(f.send_rc, 0);
    CHECK_EQ(f.b.rc, 0);
    CHECK_EQ(f.b.v, 42);
}

/* ---- queue operations after shutdown ------------------------------------ */

struct qshut { aio_frame hdr; aio_queue q; int buf[2]; int v, put_rc, get_rc; };
static int qshut_main(aio_task *t, void *p)
{
    struct qshut *f = (struct qshut *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_queue_init(&f->q, AIO_QUEUE_FIFO, f->buf, sizeof(int), 2, NULL, NULL);
    aio_queue_shutdown(&f->q, 0);
    f->v = 1;
    AIO_QUEUE_PUT(rc, &f->q, &f->v);
    f->put_rc = rc;
    AIO_QUEUE_GET(rc, &f->q, &f->v);
    f->get_rc = rc;
    AIO_END(0);
}

TEST(queue_put_and_get_after_shutdown_fail_without_waiting)
{
    static struct qshut f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, qshut_main, &f), 0);
    CHECK_EQ(f.put_rc, aio_queue_try_put(&f.q, &f.v));
    CHECK(f.put_rc < 0 && f.put_rc != AIO_EAGAIN);
    CHECK_EQ(f.get_rc, aio_queue_try_get(&f.q, &f.v));
    CHECK(f.get_rc < 0 && f.get_rc != AIO_EAGAIN);
}

/* ---- generator start errors --------------------------------------------- */

struct prod { aio_frame hdr; };
static int prod(aio_task *t, void *p)
{
    struct prod *f = (struct prod *)p;
    AIO_BEGIN(t, f);
    AIO_END(0);
}
struct gens { aio_frame hdr; aio_group g; aio_gen gen; struct prod pr; int null_rc, size_rc, closed_rc; int v; };
static int gens_main(aio_task *t, void *p)
{
    struct gens *f = (struct gens *)p;
    int rc;
    AIO_BEGIN(t, f);
    f->null_rc = aio_gen_start(NULL, &f->gen, sizeof(int), prod, &f->pr);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->size_rc = aio_gen_start(&f->g, &f->gen, 0, prod, &f->pr);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->closed_rc = aio_gen_start(&f->g, &f->gen, sizeof(int), prod, &f->pr);
    AIO_END(rc);
}

TEST(generator_start_reports_bad_arguments_and_a_closed_group)
{
    static struct gens f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, gens_main, &f), 0);
    CHECK_EQ(f.null_rc, AIO_EINVAL);
    CHECK_EQ(f.size_rc, AIO_EINVAL);
    CHECK_EQ(f.closed_rc, AIO_ECLOSED);
    /* The ends opened for the failed start were closed again. */
    CHECK_EQ(aio_chan_try_recv(&f.gen.rx, &f.v), AIO_ECLOSED);
}

int main(void)
{
    RUN(items_of_8_16_and_12_bytes_arrive_intact);
    RUN(clone_and_select_reject_bad_arguments);
    RUN(select_through_an_end_another_task_waits_on_is_busy);
    RUN(queue_put_and_get_after_shutdown_fail_without_waiting);
    RUN(generator_start_reports_bad_arguments_and_a_closed_group);
    return harness_report();
}
