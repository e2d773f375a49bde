/*
 * aio_trace.h - a trace of what a loop does, for a timeline viewer.
 *
 * An aio_trace is an instrument (aio.h's aio_instrument) that records task
 * spawns, task steps, task exits and the loop's waits into a ring buffer
 * the caller provides, and writes them in the Chrome trace-event JSON
 * format, which Perfetto (ui.perfetto.dev) and chrome://tracing open as a
 * timeline: one row per task, grouped under the loop, with the loop's waits
 * on a row of their own.
 *
 *     static aio_trace_event buf[4096];
 *     aio_trace tr;
 *     aio_trace_start(&tr, &loop, buf, 4096);
 *     ... run the loop ...
 *     aio_trace_stop(&tr);
 *     aio_trace_write_json(&tr, write_piece, file);   (write_piece appends a string)
 *
 * When the buffer is full the oldest events are overwritten (the count is
 * kept in `dropped`), so a long run keeps its last events.  Recording costs
 * two clock reads per step (the step's start and end) and one store of 40
 * bytes; nothing allocates.  Times are the loop's clock: with a virtual
 * clock, steps take no time and waits jump.
 *
 * Usage: include after aio.h (it includes aio.h itself); the bodies are
 * compiled where AIO_IMPLEMENTATION is defined.  No OS calls.
 *
 * Map: the event kinds and record (aio_trace_event), the trace
 * (aio_trace), then aio_trace_start / aio_trace_stop / aio_trace_write_json;
 * the implementation is the instrument's hooks and the JSON writer.
 */
#ifndef AIO_TRACE_H
#define AIO_TRACE_H

#include "aio.h"
#ifdef AIO_TIME32
#error "aio_trace.h writes nanosecond times: AIO_TIME32 (32-bit ticks) is not supported"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of trace events (aio_trace_event.kind). */
enum {
    AIO_TRACE_SPAWN = 1, /* a task was queued to run for the first time */
    AIO_TRACE_STEP,      /* a task ran from `at` for `dur` ns */
    AIO_TRACE_EXIT,      /* a task finished with `rc` */
    AIO_TRACE_WAIT       /* the loop waited from `at` for `dur` ns */
};

/** One recorded event (40 bytes on 64-bit targets).  Owned by the trace.  Every field is API. */
typedef struct aio_trace_event {
    aio_time at;        /* when it began, on the loop's clock */
    aio_time dur;       /* STEP and WAIT: how long; 0 otherwise */
    const aio_task *task; /* the task (NULL for WAIT) */
    const void *parent; /* SPAWN: the task that owns the child's group (NULL: the loop's root group) */
    int32_t rc;         /* EXIT: the result; STEP: the line it suspended at (0 if unknown) */
    uint8_t kind;       /* AIO_TRACE_* */
} aio_trace_event;

/** A trace: an instrument and its ring of events.  Owned by the caller. */
typedef struct aio_trace {
    aio_trace_event *ev;  /* the ring: cap events (read-only, like the four below) */
    uint32_t cap, head, count; /* head: the oldest event; count: events held */
    uint64_t dropped;     /* events overwritten because the ring was full */
    /* private: the fields below are not API */
    aio_instrument ins;   /* registered with the loop while tracing */
    aio_loop *loop;
    aio_time step_at, wait_at; /* start of the step or wait in progress */
} aio_trace;

/**
 * Starts recording the events of `loop` into `buf` (`cap` events, cap >= 1):
 * registers the trace's instrument.  Returns 0, AIO_EINVAL (NULL, cap 0) or
 * AIO_EBUSY (already recording).
 */
AIO_API int aio_trace_start(aio_trace *tr, aio_loop *loop, aio_trace_event *buf, uint32_t cap);

/** Stops recording (the events stay).  Returns 0, or AIO_EINVAL if not recording. */
AIO_API int aio_trace_stop(aio_trace *tr);

/**
 * Writes the events held, oldest first, as a Chrome trace-event JSON
 * document: out(ctx, text) receives it piece by piece.  Steps and waits are
 * complete events ("ph":"X", with "dur"), spawns and exits are instant
 * events ("ph":"i"); every task is a thread ("tid") of process 1, named by
 * its aio_task_set_name name (AIO_DEBUG builds) or its address, and its
 * spawn event's args name the task whose group it was spawned into
 * ("parent"), so each task sits under the task that owns its group; the
 * loop's waits are thread 0.  Times are microseconds.  Returns the number
 * of events written.
 */
AIO_API uint32_t aio_trace_write_json(const aio_trace *tr, void (*out)(void *ctx, const char *text), void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* AIO_TRACE_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__TRACE_IMPLEMENTED)
#define AIO__TRACE_IMPLEMENTED

#ifdef __cplusplus
extern "C" {
#endif

static aio_time aio__trace_clock(aio_loop *L)
{
    return L->cfg.virtual_clock ? L->now : L->cfg.clock(L->cfg.clock_ctx);
}

static aio_trace_event *aio__trace_push(aio_trace *tr)
{
    aio_trace_event *e;
    if (tr->count == tr->cap) { /* full: overwrite the oldest */
        e = &tr->ev[tr->head];
        tr->head = tr->head + 1 == tr->cap ? 0 : tr->head + 1;
        tr->dropped++;
    } else {
        uint32_t i = tr->head + tr->count;
        e = &tr->ev[i >= tr->cap ? i - tr->cap : i];
        tr->count++;
    }
    e->dur = 0;
    e->task = NULL;
    e->parent = NULL;
    e->rc = 0;
    return e;
}

static void aio__trace_spawned(void *ctx, aio_loop *L, aio_task *t)
{
    aio_trace *tr = (aio_trace *)ctx;
    aio_trace_event *e = aio__trace_push(tr);
    e->kind = AIO_TRACE_SPAWN;
    e->at = aio__trace_clock(L);
    e->task = t;
    e->parent = t->group ? t->group->scope.owner : NULL;
}

static void aio__trace_before_step(void *ctx, aio_loop *L, aio_task *t)
{
    aio_trace *tr = (aio_trace *)ctx;
    (void)t;
    tr->step_at = aio__trace_clock(L);
}

static void aio__trace_after_step(void *ctx, aio_loop *L, aio_task *t)
{
    aio_trace *tr = (aio_trace *)ctx;
    aio_trace_event *e = aio__trace_push(tr);
    unsigned line;
    e->kind = AIO_TRACE_STEP;
    e->at = tr->step_at;
    e->dur = AIO_TIME_DIFF(aio__trace_clock(L), tr->step_at);
    e->task = t;
    (void)aio_task_resume_site(t, &line);
    e->rc = (int32_t)line;
}

static void aio__trace_exited(void *ctx, aio_loop *L, aio_task *t, int rc)
{
    aio_trace *tr = (aio_trace *)ctx;
    aio_trace_event *e = aio__trace_push(tr);
    e->kind = AIO_TRACE_EXIT;
    e->at = aio__trace_clock(L);
    e->task = t;
    e->rc = rc;
}

static void aio__trace_before_wait(void *ctx, aio_loop *L, aio_time deadline)
{
    aio_trace *tr = (aio_trace *)ctx;
    (void)deadline;
    tr->wait_at = aio__trace_clock(L);
}

static void aio__trace_after_wait(void *ctx, aio_loop *L)
{
    aio_trace *tr = (aio_trace *)ctx;
    aio_time now = aio__trace_clock(L);
    aio_trace_event *e;
    if (now == tr->wait_at)
        return; /* a look that did not wait: not worth a row entry */
    e = aio__trace_push(tr);
    e->kind = AIO_TRACE_WAIT;
    e->at = tr->wait_at;
    e->dur = AIO_TIME_DIFF(now, tr->wait_at);
}

AIO_IMPL int aio_trace_start(aio_trace *tr, aio_loop *L, aio_trace_event *buf, uint32_t cap)
{
    int rc;
    if (!tr || !L || !buf || cap == 0)
        return AIO_EINVAL;
    if (tr->loop)
        return AIO_EBUSY;
    tr->ins.next = NULL;
    tr->ins.ctx = tr;
    tr->ins.task_spawned = aio__trace_spawned;
    tr->ins.before_step = aio__trace_before_step;
    tr->ins.after_step = aio__trace_after_step;
    tr->ins.task_exited = aio__trace_exited;
    tr->ins.before_wait = aio__trace_before_wait;
    tr->ins.after_wait = aio__trace_after_wait;
    tr->ev = buf;
    tr->cap = cap;
    tr->head = tr->count = 0;
    tr->dropped = 0;
    tr->step_at = tr->wait_at = 0;
    rc = aio_instrument_add(L, &tr->ins);
    if (rc)
        return rc;
    tr->loop = L;
    return 0;
}

AIO_IMPL int aio_trace_stop(aio_trace *tr)
{
    int rc;
    if (!tr || !tr->loop)
        return AIO_EINVAL;
    rc = aio_instrument_remove(tr->loop, &tr->ins);
    tr->loop = NULL;
    return rc;
}

/* Decimal of an unsigned value. */
static void aio__trace_u(void (*out)(void *, const char *), void *ctx, unsigned long long v)
{
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    out(ctx, buf + i);
}

/* Nanoseconds as microseconds with three decimals. */
static void aio__trace_us(void (*out)(void *, const char *), void *ctx, aio_time ns)
{
    char frac[5];
    unsigned long long u;
    if (ns < 0) {
        out(ctx, "-");
        ns = -ns;
    }
    u = (unsigned long long)ns;
    aio__trace_u(out, ctx, u / 1000);
    frac[0] = '.';
    frac[1] = (char)('0' + (int)(u / 100 % 10));
    frac[2] = (char)('0' + (int)(u / 10 % 10));
    frac[3] = (char)('0' + (int)(u % 10));
    frac[4] = 0;
    out(ctx, frac);
}

/* A task's thread id: its address (JSON numbers hold 53 bits; user-space
 * addresses fit). */
static void aio__trace_tid(void (*out)(void *, const char *), void *ctx, const void *t)
{
    aio__trace_u(out, ctx, (unsigned long long)(uintptr_t)t);
}

/* A JSON string of `s` (quotes and backslashes escaped, control characters
 * dropped). */
static void aio__trace_str(void (*out)(void *, const char *), void *ctx, const char *s)
{
    char c[2];
    out(ctx, "\"");
    c[1] = 0;
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            out(ctx, "\\");
        if ((unsigned char)*s < 0x20)
            continue;
        c[0] = *s;
        out(ctx, c);
    }
    out(ctx, "\"");
}

AIO_IMPL uint32_t aio_trace_write_json(const aio_trace *tr, void (*out)(void *, const char *), void *ctx)
{
    uint32_t k;
    out(ctx, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped\":");
    aio__trace_u(out, ctx, tr->dropped);
    out(ctx, "},\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"aio loop\"}}");
    out(ctx, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"loop waits\"}}");
    for (k = 0; k < tr->count; k++) {
        const aio_trace_event *e = &tr->ev[(tr->head + k) % tr->cap];
        if (e->kind == AIO_TRACE_SPAWN) {
            /* Name the task's row, then mark the spawn. */
            const char *name = NULL;
#ifdef AIO_DEBUG
            name = e->task->name;
#endif
            out(ctx, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":");
            aio__trace_tid(out, ctx, e->task);
            out(ctx, ",\"args\":{\"name\":");
            if (name) {
                aio__trace_str(out, ctx, name);
            } else {
                out(ctx, "\"task ");
                aio__trace_tid(out, ctx, e->task);
                out(ctx, "\"");
            }
            out(ctx, "}}");
            out(ctx, ",\n{\"name\":\"spawn\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":");
            aio__trace_tid(out, ctx, e->task);
            out(ctx, ",\"ts\":");
            aio__trace_us(out, ctx, e->at);
            out(ctx, ",\"args\":{\"parent\":");
            aio__trace_tid(out, ctx, e->parent);
            out(ctx, "}}");
        } else if (e->kind == AIO_TRACE_STEP || e->kind == AIO_TRACE_WAIT) {
            out(ctx, e->kind == AIO_TRACE_STEP ? ",\n{\"name\":\"step\",\"ph\":\"X\",\"pid\":1,\"tid\":"
                                               : ",\n{\"name\":\"wait\",\"ph\":\"X\",\"pid\":1,\"tid\":");
            aio__trace_tid(out, ctx, e->task);
            out(ctx, ",\"ts\":");
            aio__trace_us(out, ctx, e->at);
            out(ctx, ",\"dur\":");
            aio__trace_us(out, ctx, e->dur);
            if (e->kind == AIO_TRACE_STEP) {
                out(ctx, ",\"args\":{\"suspended_at_line\":");
                aio__trace_u(out, ctx, (unsigned long long)(e->rc > 0 ? e->rc : 0));
                out(ctx, "}");
            }
            out(ctx, "}");
        } else if (e->kind == AIO_TRACE_EXIT) {
            out(ctx, ",\n{\"name\":\"exit\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":");
            aio__trace_tid(out, ctx, e->task);
            out(ctx, ",\"ts\":");
            aio__trace_us(out, ctx, e->at);
            out(ctx, ",\"args\":{\"rc\":");
            if (e->rc < 0) {
                out(ctx, "-");
                aio__trace_u(out, ctx, (unsigned long long)-(long long)e->rc);
            } else {
                aio__trace_u(out, ctx, (unsigned long long)e->rc);
            }
            out(ctx, "}}");
        }
    }
    out(ctx, "\n]}\n");
    return tr->count;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION */
