/*
 * tests/fuzz/fuzz_ops.c - reads its input as a program of operations on one
 * loop with the virtual clock, runs it, and checks the result against a
 * simple model.
 *
 * Input: byte 0 sets up the world (bits 0-1: capacity of channel 0, 0 =
 * rendezvous; bits 2-3: capacity of channel 1; bits 4-6: number of workers
 * - 1; bit 7: queue capacity 1 instead of 3).  The rest is a list of
 * two-byte operations (opcode, argument) dealt to the workers in turn: op k
 * goes to worker k % workers.  A main task opens a fail-fast group, spawns
 * the workers into it and waits for the group.  Every blocking operation
 * runs inside its own move_on_after scope of 1-16 ms, so the program always
 * ends.
 *
 * Checked during the run: the lock is never held by two tasks, every
 * operation returns one of its documented results, a receiver sees each
 * sender's items on one channel in the order they were sent.
 * Checked after aio_run: it returned the group result the model predicts
 * (the first failing worker's code, else 0), every task finished with the
 * result it returned, on every channel and the queue each item sent was
 * received exactly once or is still buffered (none lost, none duplicated,
 * none invented), the queue's unfinished count matches its length, and no
 * wait queue still has a task linked.
 *
 * Built with -DFUZZ_LIBFUZZER it is a libFuzzer target (and, compiled by
 * afl-clang-fast with -fsanitize=fuzzer, an AFL++ one: make fuzz-afl);
 * otherwise it is a program that replays the files named on its command line
 * (the corpus) and prints "RESULT <passed> <failed>" like the test programs;
 * with -DFUZZ_NO_MAIN it only defines fuzz_one() (tests/test_fuzz_corpus.c).
 */
#define AIO_IMPLEMENTATION
#include "../../aio.h"
#include "../../aio_sync.h"
#include "../../aio_chan.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NW 8          /* workers at most */
#define NX 8          /* extra tasks spawned by SPAWN */
#define MAXOPS 96     /* operations per worker at most */
#define NCH 2
#define NVAL (NW << 8) /* item values: worker << 8 | sequence */

enum {
    OP_SLEEP, OP_LOCK, OP_EVENT_SET, OP_EVENT_CLEAR, OP_EVENT_WAIT, OP_SEND, OP_RECV, OP_CLOSE_TX,
    OP_SELECT, OP_PUT, OP_GET, OP_JOIN, OP_CANCEL_TASK, OP_SCOPE_PUSH, OP_SCOPE_POP, OP_SCOPE_CANCEL,
    OP_FAIL, OP_SPAWN, OP_GROUP_CANCEL, OP_CHECKPOINT, OP_COUNT
};

#define FAIL_CODE(i) (-20000 - (i))

static void fuzz_fail(const char *what, int line)
{
    fprintf(stderr, "fuzz_ops: invariant broken at line %d: %s\n", line, what);
    abort();
}
#define ASSERT(c) ((c) ? (void)0 : fuzz_fail(#c, __LINE__))

struct worker {
    aio_frame hdr;
    int i, pc, nops, rc, ret, v, got, holding, c;
    unsigned char ops[MAXOPS][2];
    int depth;
    aio_scope stack[3];
    aio_scope opsc;
    aio_select sel;
    aio_select_case cases[2];
    int sel_out, sel_in;
};

struct extra {
    aio_frame hdr;
    aio_time d;
};

struct mainf {
    aio_frame hdr;
    aio_group g;
    int i, rc;
};

static struct world {
    aio_loop L;
    aio_task main, tasks[NW], xtasks[NX];
    struct worker wk[NW];
    struct extra xf[NX];
    struct mainf mf;
    int nw, nx, first_fail;
    aio_lock lock;
    int holder;
    aio_event ev;
    aio_chan ch[NCH];
    int ring[NCH][3];
    aio_chan_tx tx0[NCH], tx[NCH][NW];
    aio_chan_rx rx0[NCH], rx[NCH][NW];
    int seq[NW];                         /* next item sequence per worker */
    unsigned char sent[NCH + 1][NVAL];   /* [NCH] is the queue */
    unsigned char offered[NCH + 1][NVAL]; /* a send of it has begun */
    unsigned char seen[NCH + 1][NVAL];
    int nsent[NCH + 1], nrecv[NCH + 1];
    int last[NCH][NW][NW];               /* last sequence receiver r saw from sender s */
    aio_queue q;
    int qbuf[3];
} W;

static int next_value(int i, int c)
{
    int v = (i << 8) | (W.seq[i] & 0xff);
    W.seq[i]++;
    ASSERT(W.seq[i] <= 256);
    W.offered[c][v] = 1;
    return v;
}

static void on_sent(int c, int v)
{
    ASSERT(!W.sent[c][v]);
    W.sent[c][v] = 1;
    W.nsent[c]++;
}

/* An item arrived at worker r (r < 0: drained after the run). */
static void on_recv(int c, int r, int v)
{
    ASSERT(v >= 0 && v < NVAL);
    /* Not invented.  (The sender may not have resumed yet, so whether its
       send succeeded is settled after the run.) */
    ASSERT(W.offered[c][v]);
    ASSERT(!W.seen[c][v]); /* not duplicated */
    W.seen[c][v] = 1;
    W.nrecv[c]++;
    if (c < NCH && r >= 0) {
        int s = v >> 8, q = v & 0xff;
        ASSERT(q > W.last[c][r][s]); /* FIFO per sender */
        W.last[c][r][s] = q;
    }
}

static void check_lock(void)
{
    /* A release hands the lock to the first waiter, which owns it from then
       on although it has not resumed yet. */
    if (W.holder >= 0)
        ASSERT(W.lock.hold.owner == &W.tasks[W.holder]);
    else if (aio_lock_locked(&W.lock))
        ASSERT(W.lock.hold.owner->state == AIO__TASK_READY);
}

static int extra_fn(aio_task *t, void *p)
{
    struct extra *f = (struct extra *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->d);
    ASSERT(rc == 0 || rc == AIO_ECANCELED);
    AIO_END(rc);
}

/* Enters the per-operation scope that bounds every blocking operation. */
#define OPSCOPE(f, a) ((void)aio_move_on_after(t, &(f)->opsc, AIO_MS(1 + ((a) & 15))))

static int worker_fn(aio_task *t, void *p)
{
    struct worker *f = (struct worker *)p;
    int op, a;
    AIO_BEGIN(t, f);
    f->ret = 0;
    for (f->pc = 0; f->pc < f->nops; f->pc++) {
        op = f->ops[f->pc][0] % OP_COUNT;
        a = f->ops[f->pc][1];
        f->c = a >> 7 & 1;
        if (op == OP_SLEEP) {
            AIO_SLEEP(f->rc, AIO_MS(a & 15));
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
        } else if (op == OP_LOCK) {
            if (f->holding) {
                W.holder = -1;
                f->holding = 0;
                ASSERT(aio_lock_release(t, &W.lock) == 0);
            } else {
                OPSCOPE(f, a);
                AIO_LOCK_ACQUIRE(f->rc, &W.lock);
                ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
                if (f->rc == 0) {
                    ASSERT(W.holder == -1); /* never held by two */
                    W.holder = f->i;
                    f->holding = 1;
                }
                (void)aio_scope_exit(t, &f->opsc, f->rc);
            }
        } else if (op == OP_EVENT_SET) {
            aio_event_set(&W.ev);
        } else if (op == OP_EVENT_CLEAR) {
            aio_event_clear(&W.ev);
        } else if (op == OP_EVENT_WAIT) {
            OPSCOPE(f, a);
            AIO_EVENT_WAIT(f->rc, &W.ev);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_SEND) {
            f->v = next_value(f->i, f->c);
            OPSCOPE(f, a);
            AIO_CHAN_SEND(f->rc, &W.tx[f->c][f->i], &f->v);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED || f->rc == AIO_ECLOSED);
            if (f->rc == 0)
                on_sent(f->c, f->v);
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_RECV) {
            OPSCOPE(f, a);
            f->got = -1;
            AIO_CHAN_RECV(f->rc, &W.rx[f->c][f->i], &f->got);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED || f->rc == AIO_EEND);
            if (f->rc == 0)
                on_recv(f->c, f->i, f->got);
            else
                ASSERT(f->got == -1);
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_CLOSE_TX) {
            aio_chan_tx_close(&W.tx[f->c][f->i]);
        } else if (op == OP_SELECT) {
            /* Receive from channel c or send to the other one. */
            f->sel_out = next_value(f->i, !f->c);
            f->sel_in = -1;
            aio_select_init(&f->sel, f->cases, 2);
            aio_select_recv(&f->sel, 0, &W.rx[f->c][f->i], &f->sel_in);
            aio_select_send(&f->sel, 1, &W.tx[!f->c][f->i], &f->sel_out);
            OPSCOPE(f, a);
            AIO_SELECT(f->rc, &f->sel);
            if (f->rc == 0) {
                ASSERT(aio_select_status(&f->sel) == 0 || aio_select_status(&f->sel) == AIO_EEND);
                if (aio_select_status(&f->sel) == 0)
                    on_recv(f->c, f->i, f->sel_in);
            } else if (f->rc == 1) {
                ASSERT(aio_select_status(&f->sel) == 0 || aio_select_status(&f->sel) == AIO_ECLOSED);
                ASSERT(f->sel_in == -1);
                if (aio_select_status(&f->sel) == 0)
                    on_sent(!f->c, f->sel_out);
            } else {
                ASSERT(f->rc == AIO_ECANCELED);
                ASSERT(f->sel_in == -1);
            }
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_PUT) {
            f->v = next_value(f->i, NCH);
            OPSCOPE(f, a);
            AIO_QUEUE_PUT(f->rc, &W.q, &f->v);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
            if (f->rc == 0)
                on_sent(NCH, f->v);
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_GET) {
            OPSCOPE(f, a);
            f->got = -1;
            AIO_QUEUE_GET(f->rc, &W.q, &f->got);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
            if (f->rc == 0) {
                on_recv(NCH, f->i, f->got);
                ASSERT(aio_queue_task_done(&W.q) == 0);
            }
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_JOIN) {
            OPSCOPE(f, a);
            AIO_QUEUE_JOIN(f->rc, &W.q);
            /* (0 means the count reached zero; a put may follow before this task resumes) */
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
            (void)aio_scope_exit(t, &f->opsc, f->rc);
        } else if (op == OP_CANCEL_TASK) {
            if (!aio_task_done(&W.tasks[a % W.nw]))
                ASSERT(aio_task_cancel(&W.tasks[a % W.nw]) == 0);
        } else if (op == OP_SCOPE_PUSH) {
            if (f->depth < 3) {
                aio_scope *s = &f->stack[f->depth++];
                aio_scope_init(s);
                if (a & 0x40)
                    aio_scope_set_shield(s, 1);
                if (a & 0x20)
                    ASSERT(aio_fail_after(t, s, AIO_MS(1 + (a & 31))) == 0);
                else
                    ASSERT(aio_move_on_after(t, s, AIO_MS(1 + (a & 31))) == 0);
            }
        } else if (op == OP_SCOPE_POP) {
            if (f->depth > 0) {
                f->rc = aio_scope_exit(t, &f->stack[--f->depth], AIO_ECANCELED);
                ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED || f->rc == AIO_ETIMEDOUT);
            }
        } else if (op == OP_SCOPE_CANCEL) {
            if (f->depth > 0)
                aio_scope_cancel(&f->stack[f->depth - 1], "fuzz");
        } else if (op == OP_FAIL) {
            f->ret = FAIL_CODE(f->i);
            break;
        } else if (op == OP_SPAWN) {
            if (W.nx < NX) {
                W.xf[W.nx].d = AIO_MS(a & 15);
                ASSERT(aio_spawn(&W.mf.g, &W.xtasks[W.nx], extra_fn, &W.xf[W.nx]) == 0);
                W.nx++;
            }
        } else if (op == OP_GROUP_CANCEL) {
            aio_group_cancel(&W.mf.g, "fuzz");
        } else {
            AIO_CHECKPOINT(f->rc);
            ASSERT(f->rc == 0 || f->rc == AIO_ECANCELED);
        }
        check_lock();
    }
    /* Cleanup: never an await, so it runs even when cancelled. */
    while (f->depth > 0)
        (void)aio_scope_exit(t, &f->stack[--f->depth], 0);
    if (f->holding) {
        W.holder = -1;
        f->holding = 0;
        ASSERT(aio_lock_release(t, &W.lock) == 0);
    }
    aio_chan_tx_close(&W.tx[0][f->i]);
    aio_chan_tx_close(&W.tx[1][f->i]);
    if (f->ret && !W.first_fail)
        W.first_fail = f->ret;
    AIO_END(f->ret);
}

static int main_fn(aio_task *t, void *p)
{
    struct mainf *f = (struct mainf *)p;
    AIO_BEGIN(t, f);
    ASSERT(aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST) == 0);
    for (f->i = 0; f->i < W.nw; f->i++)
        ASSERT(aio_spawn(&f->g, &W.tasks[f->i], worker_fn, &W.wk[f->i]) == 0);
    AIO_GROUP_WAIT(f->rc, &f->g, 0);
    AIO_END(f->rc);
}

static void fuzz_one(const unsigned char *data, size_t n)
{
    aio_config cfg;
    int i, c, k, rc, v;
    unsigned caps[NCH];
    memset(&W, 0, sizeof W);
    if (n < 1)
        return;
    caps[0] = data[0] & 3;
    caps[1] = data[0] >> 2 & 3;
    W.nw = 1 + (data[0] >> 4 & 7);
    data++;
    n--;
    for (k = 0; (size_t)k + 1 < n && k / 2 / W.nw < MAXOPS; k += 2) {
        struct worker *f = &W.wk[(k / 2) % W.nw];
        f->ops[f->nops][0] = data[k];
        f->ops[f->nops][1] = data[k + 1];
        f->nops++;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    ASSERT(aio_loop_init(&W.L, &cfg) == 0);
    aio_lock_init(&W.lock);
    W.holder = -1;
    aio_event_init(&W.ev);
    for (c = 0; c < NCH; c++) {
        ASSERT(aio_chan_init(&W.ch[c], caps[c] ? W.ring[c] : NULL, sizeof(int), caps[c], &W.tx0[c], &W.rx0[c]) == 0);
        for (i = 0; i < W.nw; i++) {
            ASSERT(aio_chan_tx_clone(&W.tx[c][i], &W.tx0[c]) == 0);
            ASSERT(aio_chan_rx_clone(&W.rx[c][i], &W.rx0[c]) == 0);
        }
        aio_chan_tx_close(&W.tx0[c]);
        for (i = 0; i < NW; i++)
            for (k = 0; k < NW; k++)
                W.last[c][i][k] = -1;
    }
    ASSERT(aio_queue_init(&W.q, AIO_QUEUE_FIFO, W.qbuf, sizeof(int), data[-1] & 0x80 ? 1 : 3, NULL, NULL) == 0);
    for (i = 0; i < W.nw; i++)
        W.wk[i].i = i;

    rc = aio_run(&W.L, &W.main, main_fn, &W.mf);

    /* The group result is the first failure, else 0. */
    ASSERT(rc == W.first_fail);
    ASSERT(aio_task_done(&W.main));
    for (i = 0; i < W.nw; i++) {
        ASSERT(aio_task_done(&W.tasks[i]));
        ASSERT(aio_task_rc(&W.tasks[i]) == W.wk[i].ret);
    }
    for (i = 0; i < W.nx; i++)
        ASSERT(aio_task_done(&W.xtasks[i]));
    ASSERT(W.holder == -1 && !aio_lock_locked(&W.lock));
    ASSERT(aio_lot_len(&W.lock.waiters) == 0);
    ASSERT(aio_lot_len(&W.ev.waiters) == 0);
    ASSERT(aio_lot_len(&W.q.getters) == 0 && aio_lot_len(&W.q.putters) == 0 && aio_lot_len(&W.q.joiners) == 0);
    for (c = 0; c < NCH; c++) {
        ASSERT(aio_chan_waiting_send(&W.ch[c]) == 0 && aio_chan_waiting_recv(&W.ch[c]) == 0);
        ASSERT((int)aio_chan_len(&W.ch[c]) == W.nsent[c] - W.nrecv[c]);
        /* Every send end is closed: the buffer drains, then the end. */
        while ((rc = aio_chan_try_recv(&W.rx0[c], &v)) == 0)
            on_recv(c, -1, v);
        ASSERT(rc == AIO_EEND);
        ASSERT(W.nsent[c] == W.nrecv[c]);
    }
    ASSERT(aio_queue_unfinished(&W.q) == aio_queue_len(&W.q));
    ASSERT((int)aio_queue_len(&W.q) == W.nsent[NCH] - W.nrecv[NCH]);
    while (aio_queue_try_get(&W.q, &v) == 0)
        on_recv(NCH, -1, v);
    ASSERT(W.nsent[NCH] == W.nrecv[NCH]);
    /* Received exactly the items whose send succeeded. */
    for (c = 0; c <= NCH; c++)
        for (v = 0; v < NVAL; v++)
            ASSERT(W.sent[c][v] == W.seen[c][v]);
    ASSERT(W.L.holds == NULL);
    (void)aio_loop_close(&W.L);
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    fuzz_one(data, n);
    return 0;
}
#elif !defined(FUZZ_NO_MAIN)
/* Replays each file named on the command line; a broken invariant aborts. */
int main(int argc, char **argv)
{
    static unsigned char buf[1 << 16];
    int i, passed = 0;
    for (i = 1; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        size_t n;
        if (!fp) {
            printf("cannot open %s\n", argv[i]);
            printf("RESULT %d 1\n", passed);
            return 1;
        }
        n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        fuzz_one(buf, n);
        passed++;
    }
    printf("replayed %d inputs\n", passed);
    printf("RESULT %d 0\n", passed);
    return 0;
}
#endif
