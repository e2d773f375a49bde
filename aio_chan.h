/*
 * aio_chan.h - channels, select, queues and generators for aio.
 *
 * Built on aio.h's park/wake protocol.  Four families of objects, all owned
 * by the caller, none allocating:
 *
 *  - Channels (trio's memory channels, anyio's memory object streams): items
 *    of a fixed size, passed through a ring of N items in caller storage, or
 *    handed over directly when N is 0 (rendezvous).  Reference-counted send
 *    and receive ends with trio's close rules.  An item sent while receivers
 *    wait goes straight to the longest-waiting one.
 *  - Select (Go's select): wait on several sends and receives, and a
 *    deadline, at once; exactly one completes.
 *  - Queues (asyncio.Queue, LifoQueue, PriorityQueue): bounded, with
 *    task_done / join and shutdown.
 *  - Generators: a producer task yielding values into a rendezvous channel,
 *    consumed with the iteration macro (Python's async generator and
 *    `async for`).
 *
 * Cancellation: every blocking operation here is atomic.  The waker takes the
 * waiter off the wait queue and moves the item in the same step, so a send
 * that reports AIO_ECANCELED sent nothing, and a receive that reports
 * AIO_ECANCELED took nothing.
 *
 * Checkpoints (trio's rule): every blocking macro is a cancel point, and a
 * schedule point when it succeeds at once against the buffer (the task goes
 * to the back of the run queue, uncancellably, so an operation that happened
 * is never reported as cancelled).  A send that hands its item straight to a
 * parked receiver, and a receive that completes a parked sender, do not
 * yield: they woke the other task, which runs next turn, so the pair makes
 * progress with one task switch per message instead of two, and a task that
 * loops on such a channel still parks on the operation after (a rendezvous
 * peer is then runnable, not parked).  An operation that fails at once
 * (closed, broken, end) returns without yielding.  The aio_*_try_* functions never suspend and are
 * not checkpoints.  A channel or queue put in fast mode (aio_chan_set_fast,
 * aio_queue_set_fast) skips the schedule point, as asyncio does.
 *
 * Usage: include after aio.h; in the translation unit that defines
 * AIO_IMPLEMENTATION, the function bodies are compiled too.
 *
 * Map (declarations, then the implementation in the same order, after the
 * ring of items and the queues of blocked ends they share):
 *   Channels; Select; Queues; Generators; internals the macros use.
 * A first reader needs Channels: aio_chan_init, AIO_SEND, AIO_RECV and the
 * close functions.
 */
#ifndef AIO_CHAN_H
#define AIO_CHAN_H

#include "aio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Channels                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct aio_chan aio_chan;
typedef struct aio_chan_end aio_chan_end;
typedef struct aio_chan_tx aio_chan_tx;
typedef struct aio_chan_rx aio_chan_rx;
typedef struct aio_select aio_select;
typedef struct aio_select_case aio_select_case;

/*
 * One end of a channel.  An end is also the wait node of the task blocked
 * through it, which is how a channel waits without allocating: each task
 * that may block on a channel uses its own end (give each worker a clone, as
 * trio's documentation does).  Two tasks blocking through one end at the same
 * time is misuse: the second gets AIO_EBUSY.  An end must not be moved or
 * copied while it is open.
 */
struct aio_chan_end {
    /* private: no field is API; use the channel and select functions */
    aio_chan *ch;                /* the shared channel state */
    aio_chan_end *next, *prev;   /* link in the channel's queue of blocked ends */
    union {
        aio_task *task;          /* plain send/receive: the blocked task */
        aio_select *sel;         /* registered in a select */
    } w;
    void *buf;                   /* while blocked: item source (send) or destination (receive) */
    uint16_t index;              /* select case index while registered */
    uint8_t flags;               /* AIO__END_* */
    uint8_t dir;                 /* AIO__END_TX or AIO__END_RX */
};

/** A send end (trio MemorySendChannel, anyio MemoryObjectSendStream). */
struct aio_chan_tx {
    /* private: no field is API; use the channel functions */
    aio_chan_end e;
};

/** A receive end (trio MemoryReceiveChannel, anyio MemoryObjectReceiveStream). */
struct aio_chan_rx {
    /* private: no field is API; use the channel functions */
    aio_chan_end e;
};

/** FIFO queue of blocked ends (internal). */
struct aio__chan_q {
    aio_chan_end *head, *tail;
    uint32_t len;
};

/**
 * Shared channel state (trio's MemoryChannelState).  Owned by the caller;
 * set up with aio_chan_init.  Holds the ring of buffered items (in storage
 * the caller provides), the queues of blocked senders and receivers, and the
 * counts of open ends.
 */
struct aio_chan {
    /* private: no field is API; use the functions and macros declared below */
    unsigned char *buf;        /* capacity * item_size bytes, or NULL when unbuffered */
    size_t item_size;
    uint32_t cap;              /* ring capacity in items (0 = rendezvous) */
    uint32_t head;             /* index of the oldest buffered item */
    uint32_t count;            /* buffered items */
    uint32_t ntx, nrx;         /* open send / receive ends */
    uint8_t fast;              /* aio_chan_set_fast: no schedule point on the fast path */
    struct aio__chan_q sendq;  /* blocked senders, longest-waiting first */
    struct aio__chan_q recvq;  /* blocked receivers, longest-waiting first */
    aio_waiter abort_w;        /* abort hook shared by plain sends and receives */
};

/* End flags and directions (internal). */
#define AIO__END_CLOSED 0x01u
#define AIO__END_WAITING 0x02u /* linked in the channel's send or receive queue */
#define AIO__END_SELECT 0x04u  /* registered by a select rather than a plain op */
#define AIO__END_TX 1u
#define AIO__END_RX 2u

/**
 * trio.open_memory_channel(capacity) / anyio.create_memory_object_stream:
 * initialises channel `ch` for items of `item_size` bytes with a ring of
 * `capacity` items in `buf` (capacity * item_size bytes; NULL and 0 for an
 * unbuffered, rendezvous channel), and opens its first send end `tx` and
 * receive end `rx`.  Not a checkpoint.  Returns 0, or AIO_EINVAL (NULL
 * pointers, item_size 0, capacity > 0 with a NULL buffer).
 */
AIO_API int aio_chan_init(aio_chan *ch, void *buf, size_t item_size, uint32_t capacity, aio_chan_tx *tx,
                          aio_chan_rx *rx);

/**
 * trio's clone(): opens another send end `dst` on the channel of `src`, so
 * another producer can close independently.  The channel stays open to
 * receivers until every send end is closed.  Returns 0, AIO_ECLOSED if `src`
 * is closed, AIO_EINVAL for NULL arguments.
 */
AIO_API int aio_chan_tx_clone(aio_chan_tx *dst, aio_chan_tx *src);

/** trio's clone() of a receive end: as aio_chan_tx_clone.  Items are distributed among receivers, not broadcast. */
AIO_API int aio_chan_rx_clone(aio_chan_rx *dst, aio_chan_rx *src);

/**
 * trio's close() of a send end: idempotent, never suspends, not a
 * checkpoint (usable in cancelled cleanup).  A task blocked sending through
 * this end resumes with AIO_ECLOSED (its item was not sent).  When the last
 * send end closes, receivers drain the buffer and then get AIO_EEND; blocked
 * receivers get AIO_EEND at once.
 */
AIO_API void aio_chan_tx_close(aio_chan_tx *tx);

/**
 * trio's close() of a receive end: idempotent, never suspends, not a
 * checkpoint.  A task blocked receiving through this end resumes with
 * AIO_ECLOSED.  When the last receive end closes, the buffer is discarded and
 * blocked senders get AIO_EBROKEN, as do all later sends.
 */
AIO_API void aio_chan_rx_close(aio_chan_rx *rx);

/**
 * trio's send_nowait: sends the item at `src` without suspending.  Hands it
 * to the longest-waiting receiver if any, else buffers it.  Not a
 * checkpoint.  Returns 0; AIO_EAGAIN if it would have to wait (buffer full,
 * or no receiver waiting on a rendezvous channel); AIO_ECLOSED if `tx` is
 * closed; AIO_EBROKEN if every receive end is closed.
 */
AIO_API int aio_chan_try_send(aio_chan_tx *tx, const void *src);

/**
 * trio's receive_nowait: receives an item into `dst` without suspending.
 * Items come in order: the buffer first; a blocked sender's item moves into
 * the freed slot (rendezvous: it is taken straight from the longest-waiting
 * sender).  Not a checkpoint.  Returns 0; AIO_EAGAIN if nothing is
 * available; AIO_EEND once the buffer is empty and every send end is closed;
 * AIO_ECLOSED if `rx` is closed.
 */
AIO_API int aio_chan_try_recv(aio_chan_rx *rx, void *dst);

/**
 * trio's `await send_channel.send(value)`: sends the item at `src` (which
 * must stay valid until the operation completes), suspending while the
 * buffer is full (rendezvous: until a receiver takes it).  A cancel point;
 * a schedule point when it completes at once into the buffer (not when it
 * hands the item to a parked receiver).  rc = 0; AIO_ECANCELED (the
 * item was not sent); AIO_ECLOSED (`tx` closed, before or during the wait);
 * AIO_EBROKEN (every receive end closed, before or during the wait);
 * AIO_EBUSY (another task is blocked through the same end).
 */
#define AIO_CHAN_SEND(rc, tx, src) AIO_OP(rc, aio__chan_send_begin(aio__await_needs_AIO_BEGIN_first, (tx), (src)))

/**
 * trio's `await receive_channel.receive()`: receives an item into `dst`,
 * suspending while none is available.  A cancel point; a schedule point when
 * it completes at once from the buffer alone (not when it also completes a
 * parked sender).  rc = 0; AIO_ECANCELED (no item was taken and `dst`
 * is untouched); AIO_EEND (drained and every send end closed: trio's
 * EndOfChannel, anyio's EndOfStream); AIO_ECLOSED (`rx` closed);
 * AIO_EBUSY (another task is blocked through the same end).
 */
#define AIO_CHAN_RECV(rc, rx, dst) AIO_OP(rc, aio__chan_recv_begin(aio__await_needs_AIO_BEGIN_first, (rx), (dst)))

/**
 * `async for item in receive_channel:` - loops over the items of `rx`,
 * receiving each into `dst` and running the statement (or block) that
 * follows.  The loop ends when a receive fails: rc = AIO_EEND after the last
 * item of a closed and drained channel, or the error (AIO_ECANCELED,
 * AIO_ECLOSED).  `break` leaves it with rc = 0; `continue` receives the next
 * item.  Each receive is a checkpoint.
 *
 *     AIO_CHAN_FOR(rc, &f->rx, &f->item) {
 *         total += f->item;
 *     }
 *     if (rc != AIO_EEND) AIO_RETURN(rc);
 */
#define AIO_CHAN_FOR(rc, rx, dst) AIO__CHAN_FOR1(rc, rx, dst, AIO__FOR_ID)
#ifdef __COUNTER__
#define AIO__FOR_ID __COUNTER__
#else
#define AIO__FOR_ID __LINE__
#endif
#define AIO__CHAN_FOR1(rc, rx, dst, n) AIO__CHAN_FOR2(rc, rx, dst, AIO__CAT(aio__for_body_, n))
#define AIO__CHAN_FOR2(rc, rx, dst, body) \
    for (;;) \
        if (1) { \
            AIO_CHAN_RECV(rc, rx, dst); \
            if ((rc) < 0) \
                break; \
            goto body; \
        } else \
            body:

/**
 * Fast mode (anyio's fast_acquire, asyncio's behaviour): with `on` nonzero,
 * a blocking send or receive on `ch` that can complete at once returns
 * without the schedule point (it is still a cancel point first).  Halves the
 * task switches of a producer/consumer pair; the price is that a task looping
 * on an always-ready channel does not let other tasks run.  Off by default.
 */
#define aio_chan_set_fast(ch, on) ((void)((ch)->fast = (uint8_t)((on) != 0)))

/** Items currently buffered (trio's statistics().current_buffer_used). */
#define aio_chan_len(ch) ((ch)->count)
/** Ring capacity in items (trio's max_buffer_size; 0 = rendezvous). */
#define aio_chan_capacity(ch) ((ch)->cap)
/** Open send ends (trio's open_send_channels). */
#define aio_chan_open_tx(ch) ((ch)->ntx)
/** Open receive ends (trio's open_receive_channels). */
#define aio_chan_open_rx(ch) ((ch)->nrx)
/** Tasks (and selects) blocked sending (trio's tasks_waiting_send). */
#define aio_chan_waiting_send(ch) ((ch)->sendq.len)
/** Tasks (and selects) blocked receiving (trio's tasks_waiting_receive). */
#define aio_chan_waiting_recv(ch) ((ch)->recvq.len)
/** Nonzero if the end is closed. */
#define aio_chan_tx_closed(tx) (((tx)->e.flags & AIO__END_CLOSED) != 0)
#define aio_chan_rx_closed(rx) (((rx)->e.flags & AIO__END_CLOSED) != 0)

/* ------------------------------------------------------------------------ */
/* Select                                                                    */
/* ------------------------------------------------------------------------ */

/** Select case kinds (internal). */
enum { AIO__SEL_OFF = 0, AIO__SEL_SEND, AIO__SEL_RECV };

/** One case of a select: set it with aio_select_send / aio_select_recv. */
struct aio_select_case {
    /* private: no field is API; set cases with aio_select_send / aio_select_recv */
    aio_chan_end *end; /* NULL: the case is disabled (Go's nil channel) */
    void *buf;         /* item source (send) or destination (receive) */
    uint8_t kind;      /* AIO__SEL_* */
};

/**
 * Go's select over channel operations, with an optional deadline.  Owned by
 * the caller (usually a frame field) together with an array of cases.
 * Initialise once with aio_select_init; the cases and the deadline stay set
 * across selects, so a loop can select again without setting them up anew.
 *
 * Fair choice policy: when several cases are ready at once, the select takes
 * the first ready case in round-robin order starting after the case chosen
 * by the previous select on this object.  A case that stays ready is
 * therefore chosen at least once in every n selects, and the choice is
 * deterministic (replayable).  When no case is ready the task waits on every
 * case at once, in each channel's FIFO queue, and the first operation
 * another task completes wins.
 */
struct aio_select {
    /* private: no field is API; use the functions and macros declared below */
    aio_waiter w;           /* abort hook while parked */
    aio_call timer;         /* the deadline while parked */
    aio_task *task;         /* the waiting task */
    aio_select_case *cases;
    uint32_t n;             /* number of cases */
    uint32_t last;          /* case chosen last (round-robin origin) */
    int32_t status;         /* result of the chosen case (0, AIO_EEND, AIO_ECLOSED, AIO_EBROKEN) */
    uint8_t waiting;        /* cases registered in channels */
    aio_time deadline;      /* absolute; AIO_TIME_INF = none */
};

/**
 * Initialises select `s` over `cases[n]`: every case disabled, no deadline.
 * The first select prefers case 0.  Not a checkpoint.
 */
AIO_API void aio_select_init(aio_select *s, aio_select_case *cases, uint32_t n);

/**
 * Case `i` sends the item at `src` through `tx` (NULL disables the case).
 * `src` must stay valid while a select is in progress.  Returns 0 or
 * AIO_EINVAL (index out of range).
 */
AIO_API int aio_select_send(aio_select *s, uint32_t i, aio_chan_tx *tx, const void *src);

/** Case `i` receives from `rx` into `dst` (NULL disables the case).  Returns 0 or AIO_EINVAL. */
AIO_API int aio_select_recv(aio_select *s, uint32_t i, aio_chan_rx *rx, void *dst);

/** Sets the absolute deadline of the following selects (AIO_TIME_INF: none); Go's `case <-time.After(d)`, trio's move_on_at around the wait. */
#define aio_select_deadline(s, when) ((void)((s)->deadline = (when)))

/** Result of the case the last select chose: 0, AIO_EEND, AIO_ECLOSED or AIO_EBROKEN. */
#define aio_select_status(s) ((int)(s)->status)

/**
 * Go's `select { case ...: }`: completes exactly one enabled case of `s`
 * and leaves no trace on the others.  A case is ready when its operation
 * would complete now or fail now (a receive on a closed and drained channel
 * is ready with AIO_EEND, as in Go).  A cancel point; a schedule point when a
 * case is ready at once.  rc = the index of the case that completed (its
 * result in aio_select_status(s)); AIO_ETIMEDOUT when the deadline passed
 * first (also when it had passed already and no case was ready);
 * AIO_ECANCELED (no case happened); AIO_EINVAL (no enabled case and no
 * deadline); AIO_EBUSY (an end is in use by another blocked operation, or
 * used by two cases).
 */
#define AIO_SELECT(rc, s) AIO_OP(rc, aio__select_begin(aio__await_needs_AIO_BEGIN_first, (s)))

/**
 * Go's select with a `default:` case: completes a ready case without
 * suspending.  Not a checkpoint.  Returns the case index, AIO_EAGAIN when no
 * case is ready, AIO_EINVAL when no case is enabled.
 */
AIO_API int aio_select_try(aio_select *s);

/* ------------------------------------------------------------------------ */
/* Queues                                                                    */
/* ------------------------------------------------------------------------ */

/** Queue kinds. */
enum {
    AIO_QUEUE_FIFO = 0, /* asyncio.Queue */
    AIO_QUEUE_LIFO,     /* asyncio.LifoQueue */
    AIO_QUEUE_PRIORITY  /* asyncio.PriorityQueue: smallest item first by cmp */
};

/**
 * asyncio.Queue: a bounded queue of fixed-size items in caller storage,
 * with unfinished-work counting (task_done / join) and shutdown.  Owned by
 * the caller; set up with aio_queue_init.  Waiting getters and putters are
 * served in FIFO order, and an item put while getters wait is handed to the
 * longest-waiting one directly.
 */
typedef struct aio_queue {
    /* private: no field is API; use the functions and macros declared below */
    unsigned char *buf;
    size_t item_size;
    uint32_t cap;        /* capacity in items (at least 1) */
    uint32_t head;       /* oldest item (FIFO) */
    uint32_t count;      /* items in the queue */
    uint32_t unfinished; /* items put and not yet marked done */
    aio_lot getters;     /* parked getters; wait pointer = destination */
    aio_lot putters;     /* parked putters; wait pointer = source */
    aio_lot joiners;     /* parked in AIO_QUEUE_JOIN */
    int (*cmp)(const void *a, const void *b, void *ctx); /* priority order */
    void *cmp_ctx;
    uint8_t kind;        /* AIO_QUEUE_* */
    uint8_t shutdown;    /* 0; 1 after shutdown; 2 after shutdown(immediate) */
    uint8_t fast;        /* aio_queue_set_fast */
} aio_queue;

/**
 * Initialises `q` as a queue of `kind` (AIO_QUEUE_FIFO, _LIFO, _PRIORITY)
 * holding up to `capacity` items of `item_size` bytes in `buf`.  A priority
 * queue needs `cmp(a, b, ctx)` < 0 when `a` comes before `b` (equal items
 * leave in unspecified order); the others ignore cmp.  Returns 0 or
 * AIO_EINVAL.  (asyncio's unbounded maxsize=0 has no allocation-free
 * equivalent: the capacity is at least 1.)
 */
AIO_API int aio_queue_init(aio_queue *q, int kind, void *buf, size_t item_size, uint32_t capacity,
                           int (*cmp)(const void *a, const void *b, void *ctx), void *ctx);

/**
 * asyncio Queue.put_nowait: returns 0, AIO_EAGAIN when full, AIO_ECLOSED
 * after shutdown (asyncio's QueueShutDown).  Counts one unfinished item on
 * success.  Never suspends.
 */
AIO_API int aio_queue_try_put(aio_queue *q, const void *src);

/**
 * asyncio Queue.get_nowait: returns 0, AIO_EAGAIN when empty, AIO_EEND
 * when empty after shutdown, or at once after shutdown(immediate)
 * (asyncio's QueueShutDown).  Never suspends.
 */
AIO_API int aio_queue_try_get(aio_queue *q, void *dst);

/**
 * asyncio `await queue.put(item)`: puts the item at `src` (which must stay
 * valid until the operation completes), suspending while the queue is full.  A cancel point; a schedule point when it completes at
 * once.  rc = 0, AIO_ECANCELED (nothing was put), AIO_ECLOSED (shut down,
 * before or during the wait; nothing was put).
 */
#define AIO_QUEUE_PUT(rc, q, src) AIO_OP(rc, aio__queue_put_begin(aio__await_needs_AIO_BEGIN_first, (q), (src)))

/**
 * asyncio `await queue.get()`: takes the next item into `dst`, suspending
 * while the queue is empty.  A cancel point; a schedule point when it
 * completes at once.  rc = 0, AIO_ECANCELED (nothing was taken), AIO_EEND
 * (shut down and drained, or shut down immediately).
 */
#define AIO_QUEUE_GET(rc, q, dst) AIO_OP(rc, aio__queue_get_begin(aio__await_needs_AIO_BEGIN_first, (q), (dst)))

/**
 * asyncio `await queue.join()`: waits until every item put has been marked
 * done with aio_queue_task_done.  A cancel point; a schedule point when
 * nothing is unfinished.  rc = 0 or AIO_ECANCELED.
 */
#define AIO_QUEUE_JOIN(rc, q) AIO_OP(rc, aio__queue_join_begin(aio__await_needs_AIO_BEGIN_first, (q)))

/**
 * asyncio Queue.task_done: marks one item taken with get as processed; when
 * none is left unfinished, every task in join wakes.  Not a checkpoint.
 * Returns 0, or AIO_EINVAL when called more times than items were put
 * (asyncio's ValueError).
 */
AIO_API int aio_queue_task_done(aio_queue *q);

/**
 * asyncio Queue.shutdown (3.13): later puts fail with AIO_ECLOSED, and so do
 * blocked putters; gets drain the queue and then fail with AIO_EEND, and
 * blocked getters wake with AIO_EEND.  With `immediate`, the queue is
 * emptied at once (each discarded item counts as done, so join can return)
 * and gets fail at once.  Idempotent, never suspends.
 */
AIO_API void aio_queue_shutdown(aio_queue *q, int immediate);

/** Fast mode for put and get, as aio_chan_set_fast (asyncio's own Queue never yields on its fast path). */
#define aio_queue_set_fast(q, on) ((void)((q)->fast = (uint8_t)((on) != 0)))

/** Items in the queue (qsize). */
#define aio_queue_len(q) ((q)->count)
/** Nonzero when empty / full. */
#define aio_queue_empty(q) ((q)->count == 0)
#define aio_queue_full(q) ((q)->count >= (q)->cap)
/** Items put and not yet marked done. */
#define aio_queue_unfinished(q) ((q)->unfinished)

/* ------------------------------------------------------------------------ */
/* Generators                                                                */
/* ------------------------------------------------------------------------ */

/**
 * A generator: a producer coroutine running as its own task and yielding
 * values one at a time through a rendezvous channel to a consumer (Python's
 * async generator and `async for`).  The producer runs at most one value
 * ahead of the consumer.  When the producer returns, the channel is closed
 * and the consumer's loop ends with AIO_EEND.  When the consumer stops early
 * (aio_gen_close), the producer's next yield fails with AIO_EBROKEN; a
 * producer that returns that code ends quietly (the group sees 0), like an
 * async generator closed with aclose().
 *
 * Owned by the caller; the producer's frame holds a pointer to its aio_gen
 * so it can yield:
 *
 *     struct range { aio_frame hdr; aio_gen *gen; int i, n; };
 *     static int range(aio_task *t, void *p) {
 *         struct range *f = p; int rc;
 *         AIO_BEGIN(t, f);
 *         for (f->i = 0; f->i < f->n; f->i++) {
 *             AIO_GEN_YIELD(rc, f->gen, &f->i);
 *             if (rc < 0) AIO_RETURN(rc);
 *         }
 *         AIO_END(0);
 *     }
 *     ...
 *     f->r.gen = &f->gen; f->r.n = 5;
 *     aio_gen_start(&f->g, &f->gen, sizeof(int), range, &f->r);
 *     AIO_GEN_FOR(rc, &f->gen, &f->v) printf("%d\n", f->v);
 */
typedef struct aio_gen {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is a frame) */
    aio_frame hdr;   /* frame of the generator task's root */
    aio_chan ch;
    aio_chan_tx tx;  /* the producer's end */
    aio_chan_rx rx;  /* the consumer's end */
    aio_task task;   /* API: the producer task, for aio_task_rc, aio_task_done and AIO_JOIN once it finished */
    aio_fn fn;       /* the producer coroutine */
    void *frame;     /* its frame */
} aio_gen;

/**
 * Starts producer `fn` over `frame` as a task of group `g`, yielding items
 * of `item_size` bytes.  The producer does not run before the consumer's
 * first await.  Returns 0, or aio_spawn's errors (AIO_ECLOSED, AIO_EBUSY,
 * AIO_EINVAL).
 */
AIO_API int aio_gen_start(aio_group *g, aio_gen *gen, size_t item_size, aio_fn fn, void *frame);

/**
 * In the producer: `yield value` - hands the item at `src` to the consumer,
 * suspending until it takes it.  rc = 0, AIO_EBROKEN (the consumer stopped:
 * return it), AIO_ECANCELED.
 */
#define AIO_GEN_YIELD(rc, gen, src) AIO_CHAN_SEND(rc, &(gen)->tx, (src))

/**
 * In the consumer: `async for v in gen:` over the generator's values; see
 * AIO_CHAN_FOR.  rc = AIO_EEND once the producer has returned.
 */
#define AIO_GEN_FOR(rc, gen, dst) AIO_CHAN_FOR(rc, &(gen)->rx, (dst))

/** In the consumer: one value (`await anext(gen)`); rc as AIO_CHAN_RECV. */
#define AIO_GEN_NEXT(rc, gen, dst) AIO_CHAN_RECV(rc, &(gen)->rx, (dst))

/**
 * The consumer stops early (async generator aclose()): closes its end; the
 * producer's next yield gets AIO_EBROKEN.  Never suspends; idempotent.
 */
#define aio_gen_close(gen) aio_chan_rx_close(&(gen)->rx)

/* ------------------------------------------------------------------------ */
/* Internals used by the macros                                              */
/* ------------------------------------------------------------------------ */

AIO_API int aio__chan_send_begin(aio_task *t, aio_chan_tx *tx, const void *src);
AIO_API int aio__chan_recv_begin(aio_task *t, aio_chan_rx *rx, void *dst);
AIO_API int aio__select_begin(aio_task *t, aio_select *s);
AIO_API int aio__queue_put_begin(aio_task *t, aio_queue *q, const void *src);
AIO_API int aio__queue_get_begin(aio_task *t, aio_queue *q, void *dst);
AIO_API int aio__queue_join_begin(aio_task *t, aio_queue *q);

#ifdef __cplusplus
}
#endif
#endif /* AIO_CHAN_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__CHAN_IMPLEMENTED)
#define AIO__CHAN_IMPLEMENTED

#ifdef __cplusplus
extern "C" {
#endif

/* Item copy.  The freestanding build may call memcpy only through the
 * compiler builtin. */
static void aio__chan_copy(void *dst, const void *src, size_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    /* Fixed sizes compile to plain moves: the common items (ints, pointers,
     * small structs) are copied without a call. */
    switch (n) {
    case 4: __builtin_memcpy(dst, src, 4); break;
    case 8: __builtin_memcpy(dst, src, 8); break;
    case 16: __builtin_memcpy(dst, src, 16); break;
    default: __builtin_memcpy(dst, src, n); break;
    }
#else
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    while (n--)
        *d++ = *s++;
#endif
}

/* ---- ring of items ------------------------------------------------------ */

static unsigned char *aio__ring_slot(unsigned char *buf, size_t isz, uint32_t cap, uint32_t head, uint32_t i)
{
    uint32_t k = head + i;
    if (k >= cap)
        k -= cap;
    return buf + (size_t)k * isz;
}

/* ---- queues of blocked ends --------------------------------------------- */

static AIO__INLINE void aio__chan_q_push(struct aio__chan_q *q, aio_chan_end *e)
{
    e->next = NULL;
    e->prev = q->tail;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->len++;
    e->flags |= AIO__END_WAITING;
}

static AIO__INLINE struct aio__chan_q *aio__chan_q_of(aio_chan_end *e)
{
    return e->dir == AIO__END_TX ? &e->ch->sendq : &e->ch->recvq;
}

/* Takes the longest-waiting end off a non-empty queue `q`. */
static AIO__INLINE aio_chan_end *aio__chan_q_pop(struct aio__chan_q *q)
{
    aio_chan_end *e = q->head;
    q->head = e->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    e->next = NULL;
    q->len--;
    e->flags &= (uint8_t)~AIO__END_WAITING;
    return e;
}

static AIO__INLINE void aio__chan_unlink(aio_chan_end *e)
{
    struct aio__chan_q *q = aio__chan_q_of(e);
    if (e->prev)
        e->prev->next = e->next;
    else
        q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->tail = e->prev;
    e->next = e->prev = NULL;
    q->len--;
    e->flags &= (uint8_t)~AIO__END_WAITING;
}

static void aio__select_fire(aio_select *s, uint32_t idx, int status);

/* Completes the operation of end `e` (already unlinked, item already moved)
 * with `rc`: wakes its task, or fires its select. */
static AIO__INLINE void aio__chan_complete(aio_chan_end *e, int rc)
{
    if (e->flags & AIO__END_SELECT) {
        e->flags &= (uint8_t)~AIO__END_SELECT;
        aio__select_fire(e->w.sel, e->index, rc);
    } else {
        aio_task *t = e->w.task;
        e->w.task = NULL;
        aio_reschedule(t, rc);
    }
}

/* Wakes every end in `q` with `rc`.  Firing a select may unlink its other
 * ends from this same queue, so the head is re-read each time. */
static void aio__chan_q_wake_all(struct aio__chan_q *q, int rc)
{
    while (q->head) {
        aio_chan_end *e = q->head;
        aio__chan_unlink(e);
        aio__chan_complete(e, rc);
    }
}

/* ---- channels ----------------------------------------------------------- */

static int aio__chan_abort(aio_task *t, aio_waiter *w)
{
    aio_chan_end *e = (aio_chan_end *)aio_task_wait_ptr(t);
    (void)w;
    aio__chan_unlink(e);
    e->w.task = NULL;
    return AIO_ABORT_OK;
}

static void aio__end_open(aio_chan_end *e, aio_chan *ch, uint8_t dir)
{
    e->ch = ch;
    e->next = e->prev = NULL;
    e->w.task = NULL;
    e->buf = NULL;
    e->index = 0;
    e->flags = 0;
    e->dir = dir;
}

AIO_IMPL int aio_chan_init(aio_chan *ch, void *buf, size_t item_size, uint32_t capacity, aio_chan_tx *tx,
                           aio_chan_rx *rx)
{
    if (!ch || !tx || !rx || item_size == 0 || (capacity > 0 && !buf))
        return AIO_EINVAL;
    ch->buf = (unsigned char *)buf;
    ch->item_size = item_size;
    ch->cap = capacity;
    ch->head = ch->count = 0;
    ch->ntx = ch->nrx = 1;
    ch->fast = 0;
    ch->sendq.head = ch->sendq.tail = NULL;
    ch->sendq.len = 0;
    ch->recvq.head = ch->recvq.tail = NULL;
    ch->recvq.len = 0;
    ch->abort_w.abort = aio__chan_abort;
    aio__end_open(&tx->e, ch, AIO__END_TX);
    aio__end_open(&rx->e, ch, AIO__END_RX);
    return 0;
}

AIO_IMPL int aio_chan_tx_clone(aio_chan_tx *dst, aio_chan_tx *src)
{
    if (!dst || !src || !src->e.ch)
        return AIO_EINVAL;
    if (src->e.flags & AIO__END_CLOSED)
        return AIO_ECLOSED;
    aio__end_open(&dst->e, src->e.ch, AIO__END_TX);
    src->e.ch->ntx++;
    return 0;
}

AIO_IMPL int aio_chan_rx_clone(aio_chan_rx *dst, aio_chan_rx *src)
{
    if (!dst || !src || !src->e.ch)
        return AIO_EINVAL;
    if (src->e.flags & AIO__END_CLOSED)
        return AIO_ECLOSED;
    aio__end_open(&dst->e, src->e.ch, AIO__END_RX);
    src->e.ch->nrx++;
    return 0;
}

AIO_IMPL void aio_chan_tx_close(aio_chan_tx *tx)
{
    aio_chan_end *e = &tx->e;
    aio_chan *ch = e->ch;
    if (!ch || (e->flags & AIO__END_CLOSED))
        return;
    e->flags |= AIO__END_CLOSED;
    if (e->flags & AIO__END_WAITING) {
        aio__chan_unlink(e);
        aio__chan_complete(e, AIO_ECLOSED);
    }
    if (--ch->ntx == 0)
        aio__chan_q_wake_all(&ch->recvq, AIO_EEND); /* receivers wait only on an empty buffer */
}

AIO_IMPL void aio_chan_rx_close(aio_chan_rx *rx)
{
    aio_chan_end *e = &rx->e;
    aio_chan *ch = e->ch;
    if (!ch || (e->flags & AIO__END_CLOSED))
        return;
    e->flags |= AIO__END_CLOSED;
    if (e->flags & AIO__END_WAITING) {
        aio__chan_unlink(e);
        aio__chan_complete(e, AIO_ECLOSED);
    }
    if (--ch->nrx == 0) {
        ch->count = ch->head = 0; /* nobody can ever receive them */
        aio__chan_q_wake_all(&ch->sendq, AIO_EBROKEN);
    }
}

/* The body of aio_chan_try_send, inlined into the blocking send too. */
static AIO__INLINE int aio__chan_send_now(aio_chan_end *e, const void *src)
{
    aio_chan *ch = e->ch;
    if (e->flags & AIO__END_CLOSED)
        return AIO_ECLOSED;
    if (ch->nrx == 0)
        return AIO_EBROKEN;
    if (ch->recvq.head) {
        /* Hand-off: the item belongs to the longest-waiting receiver. */
        aio_chan_end *r = aio__chan_q_pop(&ch->recvq);
        aio__chan_copy(r->buf, src, ch->item_size);
        aio__chan_complete(r, 0);
        return 0;
    }
    if (ch->count < ch->cap) {
        aio__chan_copy(aio__ring_slot(ch->buf, ch->item_size, ch->cap, ch->head, ch->count), src, ch->item_size);
        ch->count++;
        return 0;
    }
    return AIO_EAGAIN;
}

AIO_IMPL int aio_chan_try_send(aio_chan_tx *tx, const void *src)
{
    return aio__chan_send_now(&tx->e, src);
}

/* The body of aio_chan_try_recv, inlined into the blocking receive too. */
static AIO__INLINE int aio__chan_recv_now(aio_chan_end *e, void *dst)
{
    aio_chan *ch = e->ch;
    if (e->flags & AIO__END_CLOSED)
        return AIO_ECLOSED;
    if (ch->count) {
        aio__chan_copy(dst, ch->buf + (size_t)ch->head * ch->item_size, ch->item_size);
        if (++ch->head == ch->cap)
            ch->head = 0;
        ch->count--;
        if (ch->sendq.head) {
            /* The longest-waiting sender's item takes the freed slot. */
            aio_chan_end *s = aio__chan_q_pop(&ch->sendq);
            aio__chan_copy(aio__ring_slot(ch->buf, ch->item_size, ch->cap, ch->head, ch->count), s->buf,
                           ch->item_size);
            ch->count++;
            aio__chan_complete(s, 0);
        }
        return 0;
    }
    if (ch->sendq.head) {
        /* Rendezvous: straight from the longest-waiting sender. */
        aio_chan_end *s = aio__chan_q_pop(&ch->sendq);
        aio__chan_copy(dst, s->buf, ch->item_size);
        aio__chan_complete(s, 0);
        return 0;
    }
    if (ch->ntx == 0)
        return AIO_EEND;
    return AIO_EAGAIN;
}

AIO_IMPL int aio_chan_try_recv(aio_chan_rx *rx, void *dst)
{
    return aio__chan_recv_now(&rx->e, dst);
}

/* Parks `t` with end `e` in `q`, its channel's queue for its direction. */
static int aio__chan_park(aio_task *t, aio_chan_end *e, void *buf, struct aio__chan_q *q)
{
    e->w.task = t;
    e->buf = buf;
    aio__chan_q_push(q, e);
    aio_task_wait_ptr(t) = e;
    aio_park_custom(t, &e->ch->abort_w);
    return AIO_PARKED;
}

AIO_IMPL int aio__chan_send_begin(aio_task *t, aio_chan_tx *tx, const void *src)
{
    int handoff, rc = aio_check_cancel(t);
    if (rc)
        return rc;
    AIO__ASSERT(aio_task_loop(t), tx && tx->e.ch && src, "AIO_CHAN_SEND: NULL or uninitialised send end");
    if (!tx || !tx->e.ch || !src)
        return AIO_EINVAL;
    handoff = tx->e.ch->recvq.head != NULL;
    rc = aio__chan_send_now(&tx->e, src);
    if (rc == 0) {
        if (tx->e.ch->fast || handoff)
            return 0; /* handed to a parked receiver, which runs next: no schedule point */
        aio_reschedule(t, 0); /* schedule point; the send happened, so not a cancel point */
        return AIO_PARKED;
    }
    if (rc != AIO_EAGAIN)
        return rc;
    AIO__ASSERT(aio_task_loop(t), !(tx->e.flags & AIO__END_WAITING),
                "AIO_CHAN_SEND: another task is blocked through this send end (give each task its own clone)");
    if (tx->e.flags & AIO__END_WAITING)
        return AIO_EBUSY;
    return aio__chan_park(t, &tx->e, (void *)(uintptr_t)src, &tx->e.ch->sendq);
}

AIO_IMPL int aio__chan_recv_begin(aio_task *t, aio_chan_rx *rx, void *dst)
{
    int handoff, rc = aio_check_cancel(t);
    if (rc)
        return rc;
    AIO__ASSERT(aio_task_loop(t), rx && rx->e.ch && dst, "AIO_CHAN_RECV: NULL or uninitialised receive end");
    if (!rx || !rx->e.ch || !dst)
        return AIO_EINVAL;
    handoff = rx->e.ch->sendq.head != NULL;
    rc = aio__chan_recv_now(&rx->e, dst);
    if (rc == 0) {
        if (rx->e.ch->fast || handoff)
            return 0; /* completed a parked sender, which runs next: no schedule point */
        aio_reschedule(t, 0);
        return AIO_PARKED;
    }
    if (rc != AIO_EAGAIN)
        return rc;
    AIO__ASSERT(aio_task_loop(t), !(rx->e.flags & AIO__END_WAITING),
                "AIO_CHAN_RECV: another task is blocked through this receive end (give each task its own clone)");
    if (rx->e.flags & AIO__END_WAITING)
        return AIO_EBUSY;
    return aio__chan_park(t, &rx->e, dst, &rx->e.ch->recvq);
}

/* ---- select ------------------------------------------------------------- */

AIO_IMPL void aio_select_init(aio_select *s, aio_select_case *cases, uint32_t n)
{
    uint32_t i;
    s->w.abort = NULL;
    s->timer.tm.armed = 0;
    s->task = NULL;
    s->cases = cases;
    s->n = n;
    s->last = n ? n - 1 : 0;
    s->status = 0;
    s->waiting = 0;
    s->deadline = AIO_TIME_INF;
    for (i = 0; i < n; i++) {
        cases[i].end = NULL;
        cases[i].buf = NULL;
        cases[i].kind = AIO__SEL_OFF;
    }
}

AIO_IMPL int aio_select_send(aio_select *s, uint32_t i, aio_chan_tx *tx, const void *src)
{
    if (i >= s->n)
        return AIO_EINVAL;
    s->cases[i].end = tx ? &tx->e : NULL;
    s->cases[i].buf = (void *)(uintptr_t)src;
    s->cases[i].kind = tx ? AIO__SEL_SEND : AIO__SEL_OFF;
    return 0;
}

AIO_IMPL int aio_select_recv(aio_select *s, uint32_t i, aio_chan_rx *rx, void *dst)
{
    if (i >= s->n)
        return AIO_EINVAL;
    s->cases[i].end = rx ? &rx->e : NULL;
    s->cases[i].buf = dst;
    s->cases[i].kind = rx ? AIO__SEL_RECV : AIO__SEL_OFF;
    return 0;
}

/* Takes every still-registered case of `s` off its channel. */
static void aio__select_unregister(aio_select *s)
{
    uint32_t i;
    for (i = 0; i < s->n; i++) {
        aio_chan_end *e = s->cases[i].end;
        if (e && (e->flags & AIO__END_SELECT) && e->w.sel == s) {
            if (e->flags & AIO__END_WAITING)
                aio__chan_unlink(e);
            e->flags &= (uint8_t)~AIO__END_SELECT;
            e->w.sel = NULL;
        }
    }
    s->waiting = 0;
}

/* Case `idx` completed with `status` (its end already unlinked): the other
 * cases leave their channels, the deadline is disarmed, the task wakes with
 * the index. */
static void aio__select_fire(aio_select *s, uint32_t idx, int status)
{
    aio_task *t = s->task;
    s->cases[idx].end->w.sel = NULL;
    aio__select_unregister(s);
    if (s->timer.tm.armed)
        aio_call_cancel(aio_task_loop(t), &s->timer);
    s->task = NULL;
    s->last = idx;
    s->status = status;
    aio_reschedule(t, (int)idx);
}

static int aio__select_abort(aio_task *t, aio_waiter *w)
{
    aio_select *s = (aio_select *)(void *)w; /* the waiter is the select's first member */
    aio__select_unregister(s);
    if (s->timer.tm.armed)
        aio_call_cancel(aio_task_loop(t), &s->timer);
    s->task = NULL;
    return AIO_ABORT_OK;
}

static void aio__select_timeout(aio_loop *L, void *arg)
{
    aio_select *s = (aio_select *)arg;
    aio_task *t = s->task;
    (void)L;
    aio__select_unregister(s);
    s->task = NULL;
    aio_reschedule(t, AIO_ETIMEDOUT);
}

/* The fair pass: tries each enabled case once, round-robin from the one
 * after the last choice.  Returns the index done, AIO_EAGAIN, AIO_EINVAL (no
 * enabled case) or AIO_EBUSY (an end is blocked elsewhere). */
static int aio__select_pass(aio_select *s)
{
    uint32_t k, i, enabled = 0;
    for (i = 0; i < s->n; i++) {
        aio_chan_end *e = s->cases[i].end;
        if (!e)
            continue;
        if (e->flags & AIO__END_WAITING)
            return AIO_EBUSY;
        enabled++;
    }
    if (!enabled)
        return AIO_EINVAL;
    for (k = 1; k <= s->n; k++) {
        aio_select_case *c;
        int rc;
        i = (s->last + k) % s->n;
        c = &s->cases[i];
        if (c->kind == AIO__SEL_SEND)
            rc = aio_chan_try_send((aio_chan_tx *)(void *)c->end, c->buf);
        else if (c->kind == AIO__SEL_RECV)
            rc = aio_chan_try_recv((aio_chan_rx *)(void *)c->end, c->buf);
        else
            continue;
        if (rc != AIO_EAGAIN) {
            s->last = i;
            s->status = rc;
            return (int)i;
        }
    }
    return AIO_EAGAIN;
}

AIO_IMPL int aio_select_try(aio_select *s)
{
    return aio__select_pass(s);
}

AIO_IMPL int aio__select_begin(aio_task *t, aio_select *s)
{
    aio_loop *L = aio_task_loop(t);
    uint32_t i;
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    AIO__ASSERT(L, !s->waiting, "AIO_SELECT: this select is already in progress in another task");
    if (s->waiting)
        return AIO_EBUSY;
    rc = aio__select_pass(s);
    if (rc == AIO_EINVAL && s->deadline != AIO_TIME_INF)
        rc = AIO_EAGAIN; /* only a deadline: a sleep */
    if (rc >= 0) {
        aio_reschedule(t, rc);
        return AIO_PARKED;
    }
    if (rc != AIO_EAGAIN)
        return rc;
    if (!AIO_TIME_BEFORE(aio_now(L), s->deadline))
        return AIO_ETIMEDOUT;
    for (i = 0; i < s->n; i++) {
        aio_chan_end *e = s->cases[i].end;
        if (!e)
            continue;
        if (e->flags & AIO__END_WAITING) { /* two cases on one end */
            AIO__ASSERT(L, 0, "AIO_SELECT: two cases use the same channel end");
            aio__select_unregister(s);
            return AIO_EBUSY;
        }
        e->w.sel = s;
        e->buf = s->cases[i].buf;
        e->index = (uint16_t)i;
        e->flags |= AIO__END_SELECT;
        aio__chan_q_push(aio__chan_q_of(e), e);
    }
    s->task = t;
    s->waiting = 1;
    s->w.abort = aio__select_abort;
    if (s->deadline != AIO_TIME_INF)
        aio_call_at(L, &s->timer, s->deadline, aio__select_timeout, s);
    aio_task_wait_ptr(t) = s;
    aio_park_custom(t, &s->w);
    return AIO_PARKED;
}

/* ---- queues ------------------------------------------------------------- */

static void aio__swap_items(unsigned char *a, unsigned char *b, size_t n)
{
    while (n--) {
        unsigned char x = *a;
        *a++ = *b;
        *b++ = x;
    }
}

static unsigned char *aio__q_at(aio_queue *q, uint32_t i)
{
    return q->buf + (size_t)i * q->item_size;
}

/* Adds the item at `src` (the caller checked there is room). */
static void aio__q_insert(aio_queue *q, const void *src)
{
    if (q->kind == AIO_QUEUE_PRIORITY) {
        uint32_t i = q->count;
        aio__chan_copy(aio__q_at(q, i), src, q->item_size);
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (q->cmp(aio__q_at(q, i), aio__q_at(q, p), q->cmp_ctx) >= 0)
                break;
            aio__swap_items(aio__q_at(q, i), aio__q_at(q, p), q->item_size);
            i = p;
        }
    } else {
        aio__chan_copy(aio__ring_slot(q->buf, q->item_size, q->cap, q->head, q->count), src, q->item_size);
    }
    q->count++;
}

/* Removes the next item into `dst` (the caller checked there is one). */
static void aio__q_remove(aio_queue *q, void *dst)
{
    if (q->kind == AIO_QUEUE_FIFO) {
        aio__chan_copy(dst, aio__q_at(q, q->head), q->item_size);
        if (++q->head == q->cap)
            q->head = 0;
        q->count--;
    } else if (q->kind == AIO_QUEUE_LIFO) {
        q->count--;
        aio__chan_copy(dst, aio__ring_slot(q->buf, q->item_size, q->cap, q->head, q->count), q->item_size);
    } else {
        uint32_t i = 0, n;
        aio__chan_copy(dst, aio__q_at(q, 0), q->item_size);
        n = --q->count;
        if (n)
            aio__chan_copy(aio__q_at(q, 0), aio__q_at(q, n), q->item_size);
        for (;;) {
            uint32_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < n && q->cmp(aio__q_at(q, l), aio__q_at(q, m), q->cmp_ctx) < 0)
                m = l;
            if (r < n && q->cmp(aio__q_at(q, r), aio__q_at(q, m), q->cmp_ctx) < 0)
                m = r;
            if (m == i)
                break;
            aio__swap_items(aio__q_at(q, i), aio__q_at(q, m), q->item_size);
            i = m;
        }
    }
}

AIO_IMPL int aio_queue_init(aio_queue *q, int kind, void *buf, size_t item_size, uint32_t capacity,
                            int (*cmp)(const void *a, const void *b, void *ctx), void *ctx)
{
    if (!q || !buf || item_size == 0 || capacity == 0 || kind < AIO_QUEUE_FIFO || kind > AIO_QUEUE_PRIORITY ||
        (kind == AIO_QUEUE_PRIORITY && !cmp))
        return AIO_EINVAL;
    q->buf = (unsigned char *)buf;
    q->item_size = item_size;
    q->cap = capacity;
    q->head = q->count = q->unfinished = 0;
    q->getters.head = q->getters.tail = NULL;
    q->getters.len = 0;
    q->putters = q->getters;
    q->joiners = q->getters;
    q->cmp = cmp;
    q->cmp_ctx = ctx;
    q->kind = (uint8_t)kind;
    q->shutdown = 0;
    q->fast = 0;
    return 0;
}

AIO_IMPL int aio_queue_try_put(aio_queue *q, const void *src)
{
    if (q->shutdown)
        return AIO_ECLOSED;
    if (q->getters.head) {
        /* Getters wait only on an empty queue: hand the item over. */
        aio_task *g = aio_lot_pop(&q->getters);
        aio__chan_copy(aio_task_wait_ptr(g), src, q->item_size);
        q->unfinished++;
        aio_reschedule(g, 0);
        return 0;
    }
    if (q->count < q->cap) {
        aio__q_insert(q, src);
        q->unfinished++;
        return 0;
    }
    return AIO_EAGAIN;
}

AIO_IMPL int aio_queue_try_get(aio_queue *q, void *dst)
{
    if (q->shutdown == 2)
        return AIO_EEND;
    if (q->count) {
        aio__q_remove(q, dst);
        if (q->putters.head) {
            /* The longest-waiting putter's item takes the freed place. */
            aio_task *p = aio_lot_pop(&q->putters);
            aio__q_insert(q, aio_task_wait_ptr(p));
            q->unfinished++;
            aio_reschedule(p, 0);
        }
        return 0;
    }
    return q->shutdown ? AIO_EEND : AIO_EAGAIN;
}

AIO_IMPL int aio_queue_task_done(aio_queue *q)
{
    if (q->unfinished == 0)
        return AIO_EINVAL;
    if (--q->unfinished == 0)
        aio_lot_wake(&q->joiners, UINT32_MAX, 0);
    return 0;
}

AIO_IMPL void aio_queue_shutdown(aio_queue *q, int immediate)
{
    if (immediate && q->shutdown != 2) {
        uint32_t n = q->count;
        q->unfinished = q->unfinished > n ? q->unfinished - n : 0;
        q->count = q->head = 0;
        q->shutdown = 2;
        if (q->unfinished == 0)
            aio_lot_wake(&q->joiners, UINT32_MAX, 0);
    } else if (!q->shutdown) {
        q->shutdown = 1;
    }
    aio_lot_wake(&q->getters, UINT32_MAX, AIO_EEND); /* getters wait only on an empty queue */
    aio_lot_wake(&q->putters, UINT32_MAX, AIO_ECLOSED);
}

AIO_IMPL int aio__queue_put_begin(aio_task *t, aio_queue *q, const void *src)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    rc = aio_queue_try_put(q, src);
    if (rc == 0) {
        if (q->fast)
            return 0;
        aio_reschedule(t, 0);
        return AIO_PARKED;
    }
    if (rc != AIO_EAGAIN)
        return rc;
    aio_task_wait_ptr(t) = (void *)(uintptr_t)src;
    aio_park_lot(t, &q->putters);
    return AIO_PARKED;
}

AIO_IMPL int aio__queue_get_begin(aio_task *t, aio_queue *q, void *dst)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    rc = aio_queue_try_get(q, dst);
    if (rc == 0) {
        if (q->fast)
            return 0;
        aio_reschedule(t, 0);
        return AIO_PARKED;
    }
    if (rc != AIO_EAGAIN)
        return rc;
    aio_task_wait_ptr(t) = dst;
    aio_park_lot(t, &q->getters);
    return AIO_PARKED;
}

AIO_IMPL int aio__queue_join_begin(aio_task *t, aio_queue *q)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (q->unfinished == 0) {
        aio_reschedule(t, 0);
        return AIO_PARKED;
    }
    aio_park_lot(t, &q->joiners);
    return AIO_PARKED;
}

/* ---- generators --------------------------------------------------------- */

/* Root of a generator task: runs the producer, then closes its end so the
 * consumer's loop ends.  A producer stopped by the consumer's close ends
 * quietly. */
static int aio__gen_main(aio_task *t, void *p)
{
    aio_gen *g = (aio_gen *)p;
    int rc;
    AIO_BEGIN(t, g);
    AIO_AWAIT(rc, g->fn, g->frame);
    aio_chan_tx_close(&g->tx);
    if (rc == AIO_EBROKEN)
        rc = 0;
    AIO_END(rc);
}

AIO_IMPL int aio_gen_start(aio_group *grp, aio_gen *gen, size_t item_size, aio_fn fn, void *frame)
{
    int rc;
    if (!grp || !gen || !fn)
        return AIO_EINVAL;
    rc = aio_chan_init(&gen->ch, NULL, item_size, 0, &gen->tx, &gen->rx);
    if (rc)
        return rc;
    gen->fn = fn;
    gen->frame = frame;
    rc = aio_spawn(grp, &gen->task, aio__gen_main, gen);
    if (rc) {
        aio_chan_tx_close(&gen->tx);
        aio_chan_rx_close(&gen->rx);
    }
    return rc;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION && !AIO__CHAN_IMPLEMENTED */
