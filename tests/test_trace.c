/*
 * tests/test_trace.c - aio_trace.h: the events a trace records and the
 * Chrome trace-event JSON it writes, parsed back here: well-formed, every
 * step ends after it begins and steps of one task do not overlap, each task
 * sits under the task that owns its group, exits carry the results, and a
 * full ring keeps the newest events.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_trace.h"

/* ---- the JSON text, and a small parser for it ----------------------------- */

static char json[1 << 16];
static size_t json_len;
static void put(void *ctx, const char *s)
{
    size_t n = strlen(s);
    (void)ctx;
    if (json_len + n < sizeof json) {
        memcpy(json + json_len, s, n);
        json_len += n;
        json[json_len] = 0;
    }
}

/* One trace event as parsed: the fields the checks read. */
struct jev {
    char name[32], ph[4];
    double tid, ts, dur, parent, rc;
    int has_dur, has_parent, has_rc;
};
static struct jev jevs[512];
static int njev;
static double dropped = -1;

static const char *jp;
static int jerr;

static void ws(void) { while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r') jp++; }

static void jstring(char *dst, size_t cap)
{
    size_t n = 0;
    if (*jp != '"') { jerr = 1; return; }
    jp++;
    while (*jp && *jp != '"') {
        char c = *jp++;
        if (c == '\\') {
            c = *jp++;
            if (!c) { jerr = 1; return; }
        }
        if (dst && n + 1 < cap)
            dst[n++] = c;
    }
    if (*jp != '"') { jerr = 1; return; }
    jp++;
    if (dst)
        dst[n] = 0;
}

static double jnumber(void)
{
    char *end;
    double v = strtod(jp, &end);
    if (end == jp)
        jerr = 1;
    jp = end;
    return v;
}

/* Parses a value; `ev` is the event being filled (depth 1 in traceEvents),
 * `key` the key the value belongs to, `in_args` whether it is inside args. */
static void jvalue(struct jev *ev, const char *key, int in_args, int in_events);

static void jobject(struct jev *ev, int in_args, int in_events)
{
    char key[32];
    jp++; /* { */
    ws();
    if (*jp == '}') { jp++; return; }
    for (;;) {
        ws();
        jstring(key, sizeof key);
        ws();
        if (*jp != ':') { jerr = 1; return; }
        jp++;
        ws();
        jvalue(ev, key, in_args, in_events);
        if (jerr)
            return;
        ws();
        if (*jp == ',') { jp++; continue; }
        if (*jp == '}') { jp++; return; }
        jerr = 1;
        return;
    }
}

static void jvalue(struct jev *ev, const char *key, int in_args, int in_events)
{
    ws();
    if (*jp == '{') {
        if (in_events && !ev && njev < 512) { /* an element of traceEvents */
            struct jev *e = &jevs[njev++];
            memset(e, 0, sizeof *e);
            jobject(e, 0, 0);
        } else {
            jobject(ev, ev && strcmp(key, "args") == 0, 0);
        }
    } else if (*jp == '[') {
        int events = strcmp(key, "traceEvents") == 0;
        jp++;
        ws();
        if (*jp == ']') { jp++; return; }
        for (;;) {
            jvalue(NULL, "", 0, events);
            if (jerr)
                return;
            ws();
            if (*jp == ',') { jp++; continue; }
            if (*jp == ']') { jp++; return; }
            jerr = 1;
            return;
        }
    } else if (*jp == '"') {
        char buf[64];
        jstring(buf, sizeof buf);
        if (ev && !in_args && strcmp(key, "name") == 0) {
            strncpy(ev->name, buf, sizeof ev->name - 1);
            ev->name[sizeof ev->name - 1] = 0;
        }
        if (ev && !in_args && strcmp(key, "ph") == 0) {
            strncpy(ev->ph, buf, sizeof ev->ph - 1);
            ev->ph[sizeof ev->ph - 1] = 0;
        }
    } else if (strncmp(jp, "true", 4) == 0 || strncmp(jp, "null", 4) == 0) {
        jp += 4;
    } else if (strncmp(jp, "false", 5) == 0) {
        jp += 5;
    } else {
        double v = jnumber();
        if (!ev) {
            if (strcmp(key, "dropped") == 0)
                dropped = v;
            return;
        }
        if (in_args) {
            if (strcmp(key, "parent") == 0) { ev->parent = v; ev->has_parent = 1; }
            if (strcmp(key, "rc") == 0) { ev->rc = v; ev->has_rc = 1; }
        } else {
            if (strcmp(key, "tid") == 0) ev->tid = v;
            if (strcmp(key, "ts") == 0) ev->ts = v;
            if (strcmp(key, "dur") == 0) { ev->dur = v; ev->has_dur = 1; }
        }
    }
}

/* Parses the whole document; the objects of its traceEvents array become
 * jevs[].  The dropped count sits in otherData, outside any event: it is
 * read with a plain search after the parse. */
static int parse_json(void)
{
    const char *d;
    njev = 0;
    jerr = 0;
    jp = json;
    ws();
    if (*jp != '{')
        return -1;
    jobject(NULL, 0, 0);
    if (jerr)
        return -1;
    ws();
    if (*jp)
        return -1;
    d = strstr(json, "\"dropped\":");
    dropped = d ? strtod(d + 10, NULL) : -1;
    return 0;
}

/* ---- the program traced ------------------------------------------------ */

static aio_time fake_now;
static aio_time fake_clock(void *ctx) { (void)ctx; return fake_now; }
static void fake_idle(void *ctx, aio_time dl) { (void)ctx; if (dl != AIO_TIME_INF && dl > fake_now) fake_now = dl; }

struct leaf { aio_frame hdr; int id; };
static int leaf(aio_task *t, void *p)
{
    struct leaf *f = (struct leaf *)p;
    int rc;
    AIO_BEGIN(t, f);
    fake_now += AIO_US(10) * (f->id + 1); /* work inside the step */
    AIO_SLEEP(rc, AIO_MS(1) * (f->id + 1));
    AIO_END(rc ? rc : -(10 + f->id));
}

struct mid { aio_frame hdr; aio_group g; aio_task kids[2]; struct leaf l[2]; int id; };
static int mid(aio_task *t, void *p)
{
    struct mid *f = (struct mid *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    f->l[0].id = 0;
    f->l[1].id = 1;
    aio_spawn(&f->g, &f->kids[0], leaf, &f->l[0]);
    aio_spawn(&f->g, &f->kids[1], leaf, &f->l[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

struct top { aio_frame hdr; aio_group g; aio_task kids[2]; struct mid m[2]; };
static int top(aio_task *t, void *p)
{
    struct top *f = (struct top *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->kids[0], mid, &f->m[0]);
    aio_spawn(&f->g, &f->kids[1], mid, &f->m[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static struct top T;
static aio_task mt;
static aio_trace_event ring[512];

static void run_traced(uint32_t cap, aio_trace *tr)
{
    aio_loop L;
    aio_config cfg;
    memset(&T, 0, sizeof T);
    memset(&mt, 0, sizeof mt);
    memset(tr, 0, sizeof *tr);
    memset(&cfg, 0, sizeof cfg);
    cfg.clock = fake_clock;
    cfg.idle = fake_idle;
    cfg.seed = harness_seed;
    fake_now = AIO_SEC(1);
    CHECK_EQ(aio_loop_init(&L, &cfg), 0);
    test_reactor_attach(&L);
    aio_loop_set_slow_step(&L, 0, NULL, NULL);
    CHECK_EQ(aio_trace_start(tr, &L, ring, cap), 0);
    CHECK_EQ(aio_trace_start(tr, &L, ring, cap), AIO_EBUSY);
    CHECK_EQ(aio_run(&L, &mt, top, &T), -10); /* the first error of the leaves */
    CHECK_EQ(aio_trace_stop(tr), 0);
    CHECK_EQ(aio_trace_stop(tr), AIO_EINVAL);
    json_len = 0;
    json[0] = 0;
    aio_trace_write_json(tr, put, NULL);
    aio_loop_close(&L);
}

static int find_spawn(double tid)
{
    int i;
    for (i = 0; i < njev; i++)
        if (strcmp(jevs[i].name, "spawn") == 0 && jevs[i].tid == tid)
            return i;
    return -1;
}

TEST(a_trace_is_json_with_steps_that_end_and_tasks_under_their_groups)
{
    aio_trace tr;
    int i, j, k, spawns = 0, steps = 0, exits = 0, waits = 0;
    run_traced(512, &tr);
    CHECK_EQ(tr.dropped, 0);
    CHECK_EQ(parse_json(), 0);
    CHECK_EQ(dropped, 0);
    for (i = 0; i < njev; i++) {
        struct jev *e = &jevs[i];
        if (strcmp(e->name, "spawn") == 0) {
            spawns++;
            CHECK(e->has_parent);
            /* The root task's parent is the loop (0); every other task's is
             * a task spawned before it. */
            if (e->parent != 0) {
                j = find_spawn(e->parent);
                CHECK(j >= 0 && j < i);
            }
        } else if (strcmp(e->name, "step") == 0 || strcmp(e->name, "wait") == 0) {
            CHECK_EQ(strcmp(e->ph, "X"), 0);
            CHECK(e->has_dur);
            CHECK(e->dur >= 0);
            if (strcmp(e->name, "step") == 0) {
                steps++;
                CHECK(find_spawn(e->tid) >= 0 && find_spawn(e->tid) < i);
                /* The task's next step begins after this one ends. */
                for (j = i + 1; j < njev; j++)
                    if (strcmp(jevs[j].name, "step") == 0 && jevs[j].tid == e->tid)
                        break;
                if (j < njev)
                    CHECK(jevs[j].ts >= e->ts + e->dur - 1e-9);
            } else {
                waits++;
                CHECK_EQ(e->tid, 0);
            }
        } else if (strcmp(e->name, "exit") == 0) {
            exits++;
            CHECK(e->has_rc);
        }
    }
    CHECK_EQ(spawns, 7); /* top, 2 mids, 4 leaves */
    CHECK_EQ(exits, 7);
    CHECK(steps >= 14);
    CHECK(waits >= 1);
    /* A leaf's first step did its work: 10 or 20 µs on the loop's clock. */
    for (i = 0; i < njev; i++)
        if (strcmp(jevs[i].name, "step") == 0 && jevs[i].dur > 0)
            CHECK(jevs[i].dur == 10.0 || jevs[i].dur == 20.0);
    /* The results reached the trace: the two second leaves end with -11;
     * the two first leaves, both mids and the root with -10. */
    j = 0;
    k = 0;
    for (i = 0; i < njev; i++) {
        if (strcmp(jevs[i].name, "exit") != 0)
            continue;
        j += jevs[i].rc == -10;
        k += jevs[i].rc == -11;
    }
    CHECK_EQ(j, 5);
    CHECK_EQ(k, 2);
}

TEST(a_full_ring_keeps_the_newest_events_and_counts_the_rest)
{
    aio_trace tr;
    run_traced(8, &tr);
    CHECK_EQ(tr.count, 8);
    CHECK(tr.dropped > 0);
    CHECK_EQ(parse_json(), 0);
    CHECK_EQ(dropped, (double)tr.dropped);
    /* The run ends with the root task's exit and its last step. */
    CHECK(njev >= 2);
    if (njev >= 2) {
        CHECK_EQ(strcmp(jevs[njev - 2].name, "exit"), 0);
        CHECK(jevs[njev - 2].tid == (double)(uintptr_t)&mt);
        CHECK_EQ(strcmp(jevs[njev - 1].name, "step"), 0);
        CHECK(jevs[njev - 1].tid == (double)(uintptr_t)&mt);
    }
}

TEST(trace_start_rejects_bad_arguments)
{
    aio_trace tr;
    aio_loop L;
    memset(&tr, 0, sizeof tr);
    test_loop_init(&L);
    CHECK_EQ(aio_trace_start(NULL, &L, ring, 4), AIO_EINVAL);
    CHECK_EQ(aio_trace_start(&tr, &L, ring, 0), AIO_EINVAL);
    CHECK_EQ(aio_trace_start(&tr, NULL, ring, 4), AIO_EINVAL);
    CHECK_EQ(aio_trace_stop(&tr), AIO_EINVAL);
    aio_loop_close(&L);
}

int main(void)
{
    RUN(a_trace_is_json_with_steps_that_end_and_tasks_under_their_groups);
    RUN(a_full_ring_keeps_the_newest_events_and_counts_the_rest);
    RUN(trace_start_rejects_bad_arguments);
    return harness_report();
}
