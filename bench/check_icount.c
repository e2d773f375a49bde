/*
 * check_icount.c - runs one operation n times on the virtual clock, for
 * bench/check.sh, which counts the instructions of two runs with different n
 * under callgrind and divides the difference by the difference in n (so
 * process start-up and setup cancel out).
 *
 *   check_icount OP N      OP: floor | switch | spawn_join | spawn_batch |
 *                              timer | event | lock | chan_unbuf | chan_buf |
 *                              scope_unwind | switch_instr | fd_turn |
 *                              fd_turn_1k | fd_turn_10k
 *
 * floor is the bare resume the switch row is measured against: two
 * switch/case coroutines taking turns through an intrusive FIFO run queue,
 * resumed through a function pointer, with no library code at all.
 *
 * switch_instr is switch with one instrument registered whose before_step
 * and after_step hooks count steps: what watching every step costs.
 *
 * chan_unbuf and chan_buf move n messages from one task to another through
 * an unbuffered (rendezvous) channel and a channel of capacity 64, in the
 * default mode (a schedule point on every send and receive).
 *
 * fd_turn is one loop turn in which a task waits for an fd that stays
 * readable (a pipe never drained): park, backend wait,
 * dispatch, resume; fd_turn_1k and fd_turn_10k the same beside 1,000 and
 * 10,000 other tasks parked on eventfds that never become ready.  Only
 * user-space instructions count (callgrind does not see the kernel).  The
 * file also builds against a tree whose aio.h still holds the reactor.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#if defined(__has_include)
#if __has_include("aio_sync.h")
#include "aio_sync.h"
#define CHECK_HAVE_SYNC 1
#endif
#if __has_include("aio_chan.h")
#include "aio_chan.h"
#define CHECK_HAVE_CHAN 1
#endif
#if __has_include("aio_reactor.h")
#include "aio_reactor.h"
#define CHECK_HAVE_REACTOR_H 1
#endif
#endif
#if defined(AIO_READABLE) && defined(__linux__)
#define CHECK_HAVE_FD 1
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yielder {
    aio_frame hdr;
    long i, n;
};

static int yielder(aio_task *t, void *frame)
{
    struct yielder *f = (struct yielder *)frame;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++)
        AIO_YIELD();
    AIO_END(0);
}

static int child_fn(aio_task *t, void *frame)
{
    AIO_BEGIN(t, frame);
    AIO_END(0);
}

struct spawner {
    aio_frame hdr;
    aio_group g;
    aio_task child;
    aio_frame cf;
    long i, n;
};

static int spawner(aio_task *t, void *frame)
{
    struct spawner *f = (struct spawner *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < f->n; f->i++) {
        aio_spawn(&f->g, &f->child, child_fn, &f->cf);
        AIO_JOIN(rc, &f->child);
        if (rc)
            break;
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* An instrument's step hooks: a counter each. */
static long instr_steps;
static void count_step(void *ctx, aio_loop *loop, aio_task *t)
{
    (void)ctx;
    (void)loop;
    (void)t;
    instr_steps++;
}

/* The floor: the least a scheduled switch can do. */
struct floor_co {
    struct floor_co *next;
    int (*fn)(struct floor_co *);
    int pc;
    long i, n;
};

static int floor_step(struct floor_co *c)
{
    switch (c->pc) {
    case 0:
        for (c->i = 0; c->i < c->n; c->i++) {
            c->pc = 1;
            return 1;
    case 1:;
        }
        break;
    default:
        break;
    }
    return 0;
}

static void run_floor(long n)
{
    static struct floor_co co[2];
    struct floor_co *head = &co[0], **tailp = &co[1].next;
    int k;
    for (k = 0; k < 2; k++) {
        co[k].fn = floor_step;
        co[k].n = n / 2;
    }
    co[0].next = &co[1];
    while (head) {
        struct floor_co *c = head;
        head = c->next;
        if (!head)
            tailp = &head;
        if (c->fn(c)) {
            c->next = NULL;
            *tailp = c;
            tailp = &c->next;
        }
    }
}

/* One task enters n nested scopes, cancels the outermost, parks until the
 * cancellation reaches it, and exits all n innermost first: the cost per
 * scope is flat only if neither the cancellation nor an exit walks the
 * chain of enclosing scopes. */
struct nester {
    aio_frame hdr;
    aio_scope *s;
    long i, n;
};

static int nester(aio_task *t, void *frame)
{
    struct nester *f = (struct nester *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++)
        aio_move_on_after(t, &f->s[f->i], AIO_SEC(1000));
    aio_scope_cancel(&f->s[0], "unwind");
    AIO_SLEEP_FOREVER(rc);
    for (f->i = f->n - 1; f->i >= 0; f->i--)
        rc = aio_scope_exit(t, &f->s[f->i], rc);
    AIO_END(rc);
}

/* Batches of 1,000 children spawned into a group, each returning at once,
 * then the group waited: the cost per child of spawn + finish + the
 * group's bookkeeping. */
#define BATCH 1000
struct batcher {
    aio_frame hdr;
    aio_group g;
    aio_task child[BATCH];
    aio_frame cf[BATCH];
    long i, k, n;
};

static int batcher(aio_task *t, void *frame)
{
    struct batcher *f = (struct batcher *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    for (f->k = 0; f->k < f->n; f->k += BATCH) {
        aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
        for (f->i = 0; f->i < BATCH; f->i++)
            aio_spawn(&f->g, &f->child[f->i], child_fn, &f->cf[f->i]);
        AIO_GROUP_WAIT(rc, &f->g, 0);
        if (rc)
            break;
    }
    AIO_END(rc);
}

static void nop_cb(aio_loop *L, void *arg)
{
    (void)L;
    (void)arg;
}

#ifdef CHECK_HAVE_SYNC
struct pinger {
    aio_frame hdr;
    aio_event *mine, *other;
    int first;
    long i, n;
};

static int pinger(aio_task *t, void *frame)
{
    struct pinger *f = (struct pinger *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        if (f->first)
            aio_event_set(f->other);
        AIO_EVENT_WAIT(rc, f->mine);
        if (rc)
            AIO_RETURN(rc);
        aio_event_clear(f->mine);
        if (!f->first)
            aio_event_set(f->other);
    }
    AIO_END(0);
}

struct locker {
    aio_frame hdr;
    aio_lock *l;
    long i, n;
};

static int locker(aio_task *t, void *frame)
{
    struct locker *f = (struct locker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_LOCK_ACQUIRE(rc, f->l);
        if (rc)
            AIO_RETURN(rc);
        aio_lock_release(t, f->l);
    }
    AIO_END(0);
}
#endif

#ifdef CHECK_HAVE_CHAN
struct chan_end {
    aio_frame hdr;
    aio_chan_tx *tx;
    aio_chan_rx *rx;
    long i, n, v;
};

static int chan_sender(aio_task *t, void *frame)
{
    struct chan_end *f = (struct chan_end *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        f->v = f->i;
        AIO_CHAN_SEND(rc, f->tx, &f->v);
        if (rc)
            AIO_RETURN(rc);
    }
    aio_chan_tx_close(f->tx);
    AIO_END(0);
}

static int chan_receiver(aio_task *t, void *frame)
{
    struct chan_end *f = (struct chan_end *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_CHAN_RECV(rc, f->rx, &f->v);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}
#endif

#ifdef CHECK_HAVE_FD
struct fd_spin { aio_frame hdr; int fd; long i, n; };
static int fd_spin(aio_task *t, void *frame)
{
    struct fd_spin *f = (struct fd_spin *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AIO_WAIT_READABLE(rc, f->fd);
        if (rc)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

struct fd_idle { aio_frame hdr; int fd; };
static int fd_idle(aio_task *t, void *frame)
{
    struct fd_idle *f = (struct fd_idle *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    AIO_END(rc);
}

#define CHECK_FD_OTHERS 10000
static aio_task fd_tasks[CHECK_FD_OTHERS];
static struct fd_idle fd_frames[CHECK_FD_OTHERS];

/* n turns with one ready fd beside `others` parked waiters. */
static int run_fd_turn(aio_loop *L, long n, int others)
{
    static aio_task mt;
    static struct fd_spin f;
    int p[2], i;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#ifdef CHECK_HAVE_REACTOR_H
    {
        static aio_reactor io;
        static aio_reactor_fd table[2 * CHECK_FD_OTHERS + 64];
        aio_reactor_init(&io, L);
        aio_reactor_set_fds(&io, table, 2 * CHECK_FD_OTHERS + 64);
    }
#endif
    if (pipe(p) != 0 || write(p[1], "x", 1) != 1)
        return 1;
    for (i = 0; i < others; i++) {
        fd_frames[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* count 0: never readable */
        if (fd_frames[i].fd < 0)
            return 1;
    }
    for (i = 0; i < others; i++)
        aio_spawn(&L->root, &fd_tasks[i], fd_idle, &fd_frames[i]);
    aio_loop_step(L); /* the bystanders park */
    f.fd = p[0];
    f.n = n;
    return aio_run(L, &mt, fd_spin, &f) == 0 ? 0 : 1;
}
#endif

int main(int argc, char **argv)
{
    static aio_task tasks[2];
    static struct yielder y[2];
    static struct spawner sp;
    static aio_call bg[100000];
    aio_config cfg;
    aio_loop L;
    const char *op;
    long n, i;
    int k;

    if (argc != 3) {
        fprintf(stderr, "usage: %s floor|switch|switch_instr|spawn_join|spawn_batch|timer|event|lock|chan_unbuf|chan_buf|scope_unwind N\n", argv[0]);
        return 2;
    }
    op = argv[1];
    n = atol(argv[2]);
    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&L, &cfg);

    if (strcmp(op, "floor") == 0) {
        run_floor(n);
        return 0;
    } else if (strcmp(op, "switch") == 0 || strcmp(op, "switch_instr") == 0) { /* n task steps, two tasks yielding */
        static aio_instrument ins;
        if (strcmp(op, "switch_instr") == 0) {
            ins.before_step = count_step;
            ins.after_step = count_step;
            aio_instrument_add(&L, &ins);
        }
        for (k = 0; k < 2; k++) {
            y[k].n = n / 2;
            aio_spawn(&L.root, &tasks[k], yielder, &y[k]);
        }
    } else if (strcmp(op, "spawn_join") == 0) {
        sp.n = n;
        aio_spawn(&L.root, &tasks[0], spawner, &sp);
    } else if (strcmp(op, "spawn_batch") == 0) { /* n children, in batches of 1,000 */
        static struct batcher b;
        b.n = n;
        aio_spawn(&L.root, &tasks[0], batcher, &b);
    } else if (strcmp(op, "scope_unwind") == 0) {
        static struct nester ns;
        ns.n = n;
        ns.s = (aio_scope *)calloc((size_t)n, sizeof(aio_scope));
        if (!ns.s)
            return 1;
        aio_spawn(&L.root, &tasks[0], nester, &ns);
        while (L.nready)
            aio_loop_step(&L);
        return tasks[0].top->rc == 0 ? 0 : 1;
    } else if (strcmp(op, "timer") == 0) { /* arm+cancel with 100,000 other timers armed */
        aio_call c;
        memset(&c, 0, sizeof c);
        for (i = 0; i < 100000; i++)
            aio_call_at(&L, &bg[i], AIO_SEC(1) + (aio_time)((i * 7919) % 100000) * 1000, nop_cb, NULL);
        for (i = 0; i < n; i++) {
            aio_call_at(&L, &c, AIO_SEC(3), nop_cb, NULL);
            aio_call_cancel(&L, &c);
        }
        return 0;
#ifdef CHECK_HAVE_SYNC
    } else if (strcmp(op, "event") == 0) { /* n one-way hand-offs */
        static aio_event ev[2];
        static struct pinger p[2];
        for (k = 0; k < 2; k++) {
            p[k].mine = &ev[k];
            p[k].other = &ev[1 - k];
            p[k].first = k == 0;
            p[k].n = n / 2;
        }
        for (k = 0; k < 2; k++)
            aio_spawn(&L.root, &tasks[k], pinger, &p[k]);
    } else if (strcmp(op, "lock") == 0) {
        static aio_lock lock;
        static struct locker lk[2];
        for (k = 0; k < 2; k++) {
            lk[k].l = &lock;
            lk[k].n = n / 2;
        }
        for (k = 0; k < 2; k++)
            aio_spawn(&L.root, &tasks[k], locker, &lk[k]);
#endif
#ifdef CHECK_HAVE_CHAN
    } else if (strcmp(op, "chan_unbuf") == 0 || strcmp(op, "chan_buf") == 0) { /* n messages */
        static aio_chan ch;
        static aio_chan_tx tx;
        static aio_chan_rx rx;
        static long ring[64];
        static struct chan_end ends[2];
        int buffered = strcmp(op, "chan_buf") == 0;
        aio_chan_init(&ch, buffered ? ring : NULL, sizeof(long), buffered ? 64 : 0, &tx, &rx);
        for (k = 0; k < 2; k++) {
            ends[k].tx = &tx;
            ends[k].rx = &rx;
            ends[k].n = n;
        }
        aio_spawn(&L.root, &tasks[0], chan_receiver, &ends[0]);
        aio_spawn(&L.root, &tasks[1], chan_sender, &ends[1]);
#endif
#ifdef CHECK_HAVE_FD
    } else if (strcmp(op, "fd_turn") == 0) {
        return run_fd_turn(&L, n, 0);
    } else if (strcmp(op, "fd_turn_1k") == 0) {
        return run_fd_turn(&L, n, 1000);
    } else if (strcmp(op, "fd_turn_10k") == 0) {
        return run_fd_turn(&L, n, 10000);
#endif
    } else {
        fprintf(stderr, "unknown operation %s\n", op);
        return 2;
    }
    while (L.nready)
        aio_loop_step(&L);
    return 0;
}
