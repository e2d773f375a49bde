/*
 * tests/soak/soak.c - a long-running load test of aio in one process and
 * one loop (make soak SECONDS=N; make soak-smoke).
 *
 * An echo server on 127.0.0.1 (one handler per connection) and a spawner
 * keeping CLIENTS client sessions alive against it.  Each session connects,
 * streams a random amount of data (a writer task) while a reader task checks
 * every echoed byte against what was sent, then closes gracefully
 * (shutdown, drain to end of stream, all bytes back) - unless it is cut
 * short: a move_on_after or fail_after deadline around the session, an
 * explicit cancel from the chaos task, an abrupt close, or the server side
 * aborting the connection (the chaos task cancels handlers, and handlers
 * sometimes drop a connection on their own).  Meanwhile timer churn
 * (sleepers under random deadlines, call_later armed, moved and cancelled)
 * and channel churn (producers and consumers over a channel of random
 * capacity, with deadlines, cancels and the three ways of closing it).
 * Sessions take a permit of a bounded semaphore around connect, and some
 * hold a lock for a moment (never two at once).
 *
 * Accounting is exact, cancelled operations included (a cancelled
 * write_all reports how much it wrote; a cancelled read, send or receive
 * did nothing):
 *  - every byte a client reads back equals the byte it sent at that offset,
 *    and it never reads back more than it has sent;
 *  - a session that ends gracefully gets back every byte it sent;
 *  - client bytes echoed <= server bytes written <= server bytes read <=
 *    client bytes sent;
 *  - over each channel round, every item sent is received exactly once;
 *  - every call_later armed fires or is cancelled, no sleep ends early;
 *  - the lock is free and every semaphore permit back at the end.
 * After SECONDS of wall-clock time everything stops gracefully, and the
 * descriptors open, the loop's live tasks, armed timers, fd waits and held
 * locks must be back to their baseline, and the resident set size within
 * RSS_SLACK of the one measured after the warm-up.  One check per
 * invariant; the last line is "N passed, M failed"; the exit status is 1
 * on any failure.
 *
 * Usage: soak [--seconds N] [--clients N] [--seed S] [--rss-slack-kb K]
 *             [--warmup N]
 * The seed is printed at the start; pass it back with --seed to replay the
 * same random choices (the schedule still depends on the kernel's timing).
 */
#define AIO_IMPLEMENTATION
#include "../../aio_net.h"
#include "../../aio_chan.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifdef SOAK_ASAN
/* AddressSanitizer keeps freed blocks in a quarantine (256 MiB by default)
 * before reusing them; the resident set would grow with it for the whole
 * run (every connect's getaddrinfo allocates and frees).  Keep it small. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}
#endif

#define MAX_CLIENTS 1000
#define CHUNK 16384
#define NSLEEPERS 64
#define NCALLS 512
#define NPROD 4
#define NCONS 3
#define CHAN_CAP 16

/* ---- configuration, random numbers, counters ---------------------------- */

static int cfg_seconds = 60;
static int cfg_clients = 400;
static uint64_t cfg_seed;
static long cfg_rss_slack_kb = 8192;
static int cfg_warmup = -1;

static aio_loop L;
static aio_reactor io; /* the OS reactor: the sockets' waits */
static uint64_t rng;
static int stopping;
static int port;

static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n). */
static uint32_t rnd(uint32_t n)
{
    return n ? (uint32_t)(rnd64() % n) : 0;
}

/* In [lo, hi], spread over the orders of magnitude (small values common). */
static uint64_t rnd_span(uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo, cap;
    int bits = 0;
    while (bits < 63 && (span >> bits) > 1)
        bits++;
    cap = (uint64_t)1 << rnd((uint32_t)bits + 1);
    if (cap > span)
        cap = span;
    return lo + rnd64() % (cap + 1);
}

/* The byte a connection sends at offset `o`: a hash of (connection, offset). */
static unsigned char gen_byte(uint64_t conn, uint64_t o)
{
    uint64_t x = conn * 0x9E3779B97F4A7C15ULL ^ (o >> 3) * 0xD6E8FEB86659FD93ULL;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return (unsigned char)(x >> ((o & 7) * 8));
}

static struct {
    /* network */
    uint64_t sessions, connects, connect_errors, bytes_sent, bytes_echoed;
    uint64_t srv_in, srv_out, srv_handlers, srv_aborts, srv_cancels;
    uint64_t clean, deadline_move_on, deadline_fail_after, chaos_cancels, abrupt, peer_aborted, cut_by_stop;
    uint64_t corrupt, duplicated, lost, unexpected;
    uint64_t lock_holds, lock_shared, permit_waits;
    /* timers */
    uint64_t sleeps, sleep_deadlines, sleep_early, sleeper_cancels;
    uint64_t call_arms, call_moves, call_fires, call_cancels, call_errors;
    /* channels */
    uint64_t chan_rounds, chan_sends, chan_recvs, chan_send_deadlines, chan_recv_deadlines, chan_drained;
    uint64_t chan_task_cancels, chan_errors;
    /* the loop */
    uint64_t spawn_errors;
} st;

static int report_budget = 10; /* details of the first unexpected events */

static void detail(const char *what, uint64_t conn, const char *fmt, long long a, long long b)
{
    if (report_budget <= 0)
        return;
    report_budget--;
    fprintf(stderr, "soak: %s (connection %llu): ", what, (unsigned long long)conn);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

/* ---- process measurements ------------------------------------------------ */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static long rss_kb(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!fp)
        return -1;
    if (fscanf(fp, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(fp);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- server ---------------------------------------------------------------- */

/* Ports (the client's local port) of connections the server side dropped. */
static unsigned char server_aborted[65536];

struct handler {
    aio_conn conn; /* first */
    size_t n;
    unsigned char buf[CHUNK];
};

static int echo_handler(aio_task *t, void *frame)
{
    struct handler *f = (struct handler *)frame;
    int rc;
    AIO_BEGIN(t, f);
    st.srv_handlers++;
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, 1 + rnd(CHUNK));
        if (rc < 0)
            break;
        f->n = (size_t)rc;
        st.srv_in += f->n;
        if (rnd(4000) == 0) { /* the server drops the connection */
            server_aborted[aio_sockaddr_port(&f->conn.peer) & 0xffff] = 1;
            st.srv_aborts++;
            AIO_RETURN(0);
        }
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, f->n);
        st.srv_out += aio_stream_written(&f->conn.stream);
        if (rc < 0)
            break;
        if (rnd(64) == 0) {
            AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_MS(2)));
            if (rc < 0)
                break;
        }
    }
    AIO_END(0); /* the server closes the stream */
}

static aio_listener lst;
static aio_server srv;
static struct handler pool[MAX_CLIENTS + 16];

/* ---- clients ---------------------------------------------------------------- */

struct client;

struct writer {
    aio_frame hdr;
    struct client *c;
    size_t n;
    unsigned char buf[CHUNK];
};

struct reader {
    aio_frame hdr;
    struct client *c;
    unsigned char buf[CHUNK];
};

struct client {
    aio_frame hdr;
    uint64_t conn;       /* connection number: seeds the data */
    uint64_t total;      /* bytes this session means to send */
    uint64_t abrupt_at;  /* nonzero: close abruptly after this many bytes */
    uint64_t sent, recvd;
    int kind;            /* 0: no deadline, 1: move_on_after, 2: fail_after */
    int lport;           /* local port */
    int writing, wdone, eof, abrupted, corrupt, chaos, read_err, write_err, conn_err;
    aio_scope sc, csc;
    aio_stream s;
    aio_connect op;
    aio_group g;
    aio_task wt, rt;
    struct writer w;
    struct reader r;
};

static struct client cl[MAX_CLIENTS];

/* At most CONNECTING connects in progress at once; a lock some sessions hold
 * for a moment (while it is held, lock_held is set: never twice). */
#define CONNECTING 64
static aio_sem connect_sem;
static aio_lock big_lock;
static int lock_held;
static aio_task ct[MAX_CLIENTS];

static int writer_fn(aio_task *t, void *frame)
{
    struct writer *f = (struct writer *)frame;
    struct client *c = f->c;
    uint64_t w;
    size_t i;
    int rc;
    AIO_BEGIN(t, f);
    while (c->sent < c->total && !stopping) {
        if (c->abrupt_at && c->sent >= c->abrupt_at) {
            c->abrupted = 1;
            aio_group_cancel(&c->g, "abrupt close");
            AIO_RETURN(0);
        }
        f->n = 1 + rnd(CHUNK);
        if (f->n > c->total - c->sent)
            f->n = (size_t)(c->total - c->sent);
        for (i = 0; i < f->n; i++)
            f->buf[i] = gen_byte(c->conn, c->sent + i);
        c->writing = 1;
        AIO_STREAM_WRITE_ALL(rc, &c->s, f->buf, f->n);
        c->writing = 0;
        w = aio_stream_written(&c->s); /* == n when it completed */
        c->sent += w;
        st.bytes_sent += w;
        if (rc < 0) {
            if (rc != AIO_ECANCELED)
                c->write_err = rc;
            AIO_RETURN(rc == AIO_ECANCELED ? rc : 0);
        }
        if (rnd(8) == 0) {
            AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_MS(3)));
            if (rc < 0)
                AIO_RETURN(rc);
        }
    }
    aio_stream_shutdown_write(&c->s);
    c->wdone = 1;
    AIO_END(0);
}

static int reader_fn(aio_task *t, void *frame)
{
    struct reader *f = (struct reader *)frame;
    struct client *c = f->c;
    int rc, i, n;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &c->s, f->buf, 1 + rnd(CHUNK));
        if (rc == AIO_EEND) {
            c->eof = 1;
            break;
        }
        if (rc < 0) {
            if (rc != AIO_ECANCELED)
                c->read_err = rc;
            AIO_RETURN(rc == AIO_ECANCELED ? rc : 0);
        }
        n = rc;
        /* Never more back than has gone out (a write may be half done). */
        if (c->recvd + (uint64_t)n > c->sent + (c->writing ? aio_stream_written(&c->s) : 0)) {
            st.duplicated++;
            detail("more echoed than sent", c->conn, "%lld > %lld", (long long)(c->recvd + (uint64_t)n),
                   (long long)c->sent);
            c->corrupt = 1;
            aio_group_cancel(&c->g, "bad echo");
            AIO_RETURN(0);
        }
        for (i = 0; i < n; i++) {
            if (f->buf[i] != gen_byte(c->conn, c->recvd + (uint64_t)i)) {
                st.corrupt++;
                detail("echo differs", c->conn, "at offset %lld of %lld sent", (long long)(c->recvd + (uint64_t)i),
                       (long long)c->sent);
                c->corrupt = 1;
                aio_group_cancel(&c->g, "bad echo");
                AIO_RETURN(0);
            }
        }
        c->recvd += (uint64_t)n;
        st.bytes_echoed += (uint64_t)n;
    }
    AIO_END(0);
}

static int client_fn(aio_task *t, void *frame)
{
    struct client *c = (struct client *)frame;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int rc, caught;
    AIO_BEGIN(t, c);
    st.sessions++;
    c->total = rnd_span(1, (uint64_t)1 << 21);
    if (rnd(20) == 0)
        c->abrupt_at = rnd_span(0, c->total);
    c->kind = (int)rnd(5) < 2 ? 0 : (rnd(3) < 2 ? 1 : 2);
    aio_stream_init(&c->s, -1, NULL, 0);
    aio_scope_init(&c->sc);
    if (c->kind == 0)
        aio_scope_enter(t, &c->sc, AIO_TIME_INF);
    else if (c->kind == 1)
        aio_move_on_after(t, &c->sc, (aio_time)rnd_span(AIO_MS(1), AIO_SEC(3)));
    else
        aio_fail_after(t, &c->sc, (aio_time)rnd_span(AIO_MS(1), AIO_SEC(3)));
    if (connect_sem.value == 0)
        st.permit_waits++;
    AIO_SEM_ACQUIRE(rc, &connect_sem);
    if (rc < 0)
        goto out;
    aio_scope_init(&c->csc);
    aio_fail_after(t, &c->csc, AIO_SEC(10));
    AIO_TCP_CONNECT(rc, &c->op, &c->s, "127.0.0.1", port);
    rc = aio_scope_exit(t, &c->csc, rc);
    aio_sem_release(&connect_sem);
    if (rc < 0) {
        if (rc != AIO_ECANCELED)
            c->conn_err = rc;
        goto out;
    }
    st.connects++;
    if (getsockname(c->s.fd, (struct sockaddr *)(void *)&ss, &sl) == 0) {
        aio_sockaddr a;
        memcpy(&a.ss, &ss, sizeof ss);
        a.len = sl;
        c->lport = aio_sockaddr_port(&a) & 0xffff;
        server_aborted[c->lport] = 0;
    }
    if (rnd(8) == 0) {
        AIO_LOCK_ACQUIRE(rc, &big_lock);
        if (rc < 0)
            goto out;
        if (lock_held)
            st.lock_shared++;
        lock_held = 1;
        st.lock_holds++;
        AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_US(500)));
        lock_held = 0;
        aio_lock_release(t, &big_lock);
        if (rc < 0)
            goto out;
    }
    c->w.c = c;
    c->r.c = c;
    aio_group_enter(t, &c->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&c->g, &c->wt, writer_fn, &c->w);
    aio_spawn(&c->g, &c->rt, reader_fn, &c->r);
    AIO_GROUP_WAIT(rc, &c->g, 0);
out:
    caught = 0;
    rc = aio_scope_exit(t, &c->sc, rc);
    if (aio_scope_cancelled_caught(&c->sc))
        caught = 1;
    aio_stream_close(aio_task_loop(t), &c->s);
    /* Classify how the session ended. */
    if (c->corrupt) {
        /* counted where it was found */
    } else if (c->chaos) {
        st.chaos_cancels++;
    } else if (caught) {
        if (c->kind == 2)
            st.deadline_fail_after++;
        else
            st.deadline_move_on++;
    } else if (c->abrupted) {
        st.abrupt++;
    } else if (c->lport && server_aborted[c->lport]) {
        st.peer_aborted++;
    } else if (c->conn_err) {
        st.connect_errors++;
        detail("connect failed", c->conn, "%lld (%lld)", c->conn_err, 0);
    } else if (c->read_err || c->write_err) {
        st.unexpected++;
        detail("unexpected error", c->conn, "read %lld, write %lld", c->read_err, c->write_err);
    } else if (c->eof && c->wdone && c->recvd == c->sent) {
        if (c->sent == c->total)
            st.clean++;
        else
            st.cut_by_stop++;
    } else if (c->eof) {
        st.lost++;
        detail("bytes lost", c->conn, "%lld echoed of %lld sent", (long long)c->recvd, (long long)c->sent);
    } else {
        st.unexpected++;
        detail("session ended without end of stream", c->conn, "rc %lld, %lld bytes echoed", rc,
               (long long)c->recvd);
    }
    AIO_END(rc == AIO_ECANCELED ? rc : 0);
}

static uint64_t next_conn;

static int slot_free(const aio_task *t)
{
    return t->state == AIO__TASK_IDLE || t->state == AIO__TASK_DONE;
}

struct spawner {
    aio_frame hdr;
    aio_group g;
    int i;
    double t0;
};

static int spawner_fn(aio_task *t, void *frame)
{
    struct spawner *f = (struct spawner *)frame;
    int rc, i, live;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    while (!stopping) {
        for (i = 0; i < cfg_clients; i++) {
            if (!slot_free(&ct[i]))
                continue;
            memset(&cl[i], 0, sizeof cl[i]);
            cl[i].conn = ++next_conn;
            if (aio_spawn(&f->g, &ct[i], client_fn, &cl[i]) != 0)
                st.spawn_errors++;
        }
        AIO_SLEEP(rc, (aio_time)rnd_span(AIO_MS(1), AIO_MS(10)));
        if (rc < 0)
            break;
    }
    /* Stop: writers stop, shut down, and readers drain; then what is left is cancelled. */
    f->t0 = wall();
    for (;;) {
        for (i = 0, live = 0; i < cfg_clients; i++)
            live += !slot_free(&ct[i]);
        if (live == 0 || wall() - f->t0 > 10.0)
            break;
        AIO_SLEEP(rc, AIO_MS(10));
    }
    aio_group_cancel(&f->g, "soak over");
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* ---- timer churn ---------------------------------------------------------------- */

struct sleeper {
    aio_frame hdr;
    aio_scope sc;
    aio_time dur, start;
    int scoped, raw;
};

static int sleeper_fn(aio_task *t, void *frame)
{
    struct sleeper *f = (struct sleeper *)frame;
    int rc;
    AIO_BEGIN(t, f);
    while (!stopping) {
        f->dur = (aio_time)rnd_span(0, AIO_MS(50));
        f->scoped = rnd(2) == 0;
        if (f->scoped) {
            aio_scope_init(&f->sc);
            aio_move_on_after(t, &f->sc, (aio_time)rnd_span(0, AIO_MS(50)));
        }
        f->start = aio_now(aio_task_loop(t));
        AIO_SLEEP(rc, f->dur);
        f->raw = rc;
        if (rc == 0 && aio_now(aio_task_loop(t)) < f->start + f->dur)
            st.sleep_early++;
        if (f->scoped)
            rc = aio_scope_exit(t, &f->sc, rc);
        if (rc < 0)
            AIO_RETURN(rc);
        if (f->raw == 0)
            st.sleeps++;
        else
            st.sleep_deadlines++;
    }
    AIO_END(0);
}

static struct sleeper sl[NSLEEPERS];
static aio_task slt[NSLEEPERS];

struct sleepers_sup {
    aio_frame hdr;
    aio_group g;
};

static int sleepers_fn(aio_task *t, void *frame)
{
    struct sleepers_sup *f = (struct sleepers_sup *)frame;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    while (!stopping) {
        for (i = 0; i < NSLEEPERS; i++) {
            if (!slot_free(&slt[i]))
                continue;
            memset(&sl[i], 0, sizeof sl[i]);
            if (aio_spawn(&f->g, &slt[i], sleeper_fn, &sl[i]) != 0)
                st.spawn_errors++;
        }
        AIO_SLEEP(rc, AIO_MS(20));
        if (rc < 0)
            break;
    }
    aio_group_cancel(&f->g, "soak over");
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static aio_call calls[NCALLS];
static unsigned char call_armed[NCALLS];

static void on_call(aio_loop *loop, void *arg)
{
    unsigned char *armed = (unsigned char *)arg;
    (void)loop;
    if (!*armed)
        st.call_errors++;
    *armed = 0;
    st.call_fires++;
}

struct churn {
    aio_frame hdr;
};

static int calls_fn(aio_task *t, void *frame)
{
    struct churn *f = (struct churn *)frame;
    int rc, k, i;
    AIO_BEGIN(t, f);
    while (!stopping) {
        for (k = 0; k < 32; k++) {
            i = (int)rnd(NCALLS);
            if (call_armed[i] && rnd(2) == 0) {
                if (aio_call_cancel(&L, &calls[i]) == 1)
                    st.call_cancels++;
                else
                    st.call_errors++;
                call_armed[i] = 0;
            } else {
                if (call_armed[i])
                    st.call_moves++;
                else
                    st.call_arms++;
                call_armed[i] = 1;
                aio_call_later(&L, &calls[i], (aio_time)rnd_span(0, AIO_MS(50)), on_call, &call_armed[i]);
            }
        }
        AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_MS(2)));
        if (rc < 0)
            break;
    }
    for (i = 0; i < NCALLS; i++) {
        if (call_armed[i]) {
            if (aio_call_cancel(&L, &calls[i]) == 1)
                st.call_cancels++;
            else
                st.call_errors++;
            call_armed[i] = 0;
        }
    }
    AIO_END(0);
}

/* ---- channel churn ---------------------------------------------------------------- */

struct item {
    uint32_t producer;
    uint32_t seq;
};

static uint64_t ch_sent[NPROD], ch_sent_sum[NPROD], ch_recv[NPROD], ch_recv_sum[NPROD];

static void chan_account(const struct item *it)
{
    if (it->producer >= NPROD) {
        st.chan_errors++;
        return;
    }
    ch_recv[it->producer]++;
    ch_recv_sum[it->producer] += it->seq;
}

struct producer {
    aio_frame hdr;
    aio_chan_tx tx;
    aio_scope sc;
    struct item it;
    uint32_t id, seq;
    int scoped, raw;
};

static int producer_fn(aio_task *t, void *frame)
{
    struct producer *f = (struct producer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        f->scoped = rnd(4) == 0;
        if (f->scoped) {
            aio_scope_init(&f->sc);
            aio_move_on_after(t, &f->sc, (aio_time)rnd_span(0, AIO_MS(3)));
        }
        f->it.producer = f->id;
        f->it.seq = f->seq;
        AIO_CHAN_SEND(rc, &f->tx, &f->it);
        f->raw = rc;
        if (f->scoped)
            rc = aio_scope_exit(t, &f->sc, rc);
        if (f->raw == 0) {
            ch_sent[f->id]++;
            ch_sent_sum[f->id] += f->seq;
            f->seq++;
            st.chan_sends++;
        } else if (rc == 0) {
            st.chan_send_deadlines++; /* not sent */
        } else {
            break;
        }
        if (rnd(16) == 0) {
            AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_MS(1)));
            if (rc < 0)
                break;
        }
    }
    aio_chan_tx_close(&f->tx);
    AIO_END(rc == AIO_ECANCELED ? rc : 0);
}

struct consumer {
    aio_frame hdr;
    aio_chan_rx rx;
    aio_scope sc;
    struct item it;
    int scoped, raw;
};

static int consumer_fn(aio_task *t, void *frame)
{
    struct consumer *f = (struct consumer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        f->scoped = rnd(4) == 0;
        if (f->scoped) {
            aio_scope_init(&f->sc);
            aio_move_on_after(t, &f->sc, (aio_time)rnd_span(0, AIO_MS(3)));
        }
        AIO_CHAN_RECV(rc, &f->rx, &f->it);
        f->raw = rc;
        if (f->scoped)
            rc = aio_scope_exit(t, &f->sc, rc);
        if (f->raw == 0) {
            chan_account(&f->it);
            st.chan_recvs++;
        } else if (rc == 0) {
            st.chan_recv_deadlines++; /* nothing taken */
        } else {
            break;
        }
        if (rnd(16) == 0) {
            AIO_SLEEP(rc, (aio_time)rnd_span(0, AIO_MS(1)));
            if (rc < 0)
                break;
        }
    }
    aio_chan_rx_close(&f->rx);
    AIO_END(rc == AIO_ECANCELED ? rc : 0);
}

static struct producer prod[NPROD];
static struct consumer cons[NCONS];
static aio_task prodt[NPROD], const_[NCONS];

struct chan_sup {
    aio_frame hdr;
    aio_chan ch;
    aio_chan_tx tx;
    aio_chan_rx rx;
    struct item buf[CHAN_CAP];
    aio_group g;
    int ending, rx_open;
};

static void chan_drain(struct chan_sup *f)
{
    struct item it;
    while (aio_chan_try_recv(&f->rx, &it) == 0) {
        chan_account(&it);
        st.chan_drained++;
    }
}

static int chan_fn(aio_task *t, void *frame)
{
    struct chan_sup *f = (struct chan_sup *)frame;
    int rc, i;
    AIO_BEGIN(t, f);
    while (!stopping) {
        memset(prod, 0, sizeof prod);
        memset(cons, 0, sizeof cons);
        memset(ch_sent, 0, sizeof ch_sent);
        memset(ch_sent_sum, 0, sizeof ch_sent_sum);
        memset(ch_recv, 0, sizeof ch_recv);
        memset(ch_recv_sum, 0, sizeof ch_recv_sum);
        memset(&f->ch, 0, sizeof f->ch);
        memset(&f->g, 0, sizeof f->g);
        if (aio_chan_init(&f->ch, f->buf, sizeof f->buf[0], rnd(CHAN_CAP + 1), &f->tx, &f->rx) != 0) {
            st.chan_errors++;
            break;
        }
        f->rx_open = 1;
        for (i = 0; i < NPROD; i++) {
            prod[i].id = (uint32_t)i;
            aio_chan_tx_clone(&prod[i].tx, &f->tx);
        }
        for (i = 0; i < NCONS; i++)
            aio_chan_rx_clone(&cons[i].rx, &f->rx);
        aio_chan_tx_close(&f->tx);
        aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
        for (i = 0; i < NPROD; i++)
            aio_spawn(&f->g, &prodt[i], producer_fn, &prod[i]);
        for (i = 0; i < NCONS; i++)
            aio_spawn(&f->g, &const_[i], consumer_fn, &cons[i]);
        AIO_SLEEP(rc, (aio_time)rnd_span(AIO_MS(10), AIO_MS(300)));
        f->ending = (int)rnd(3);
        if (rc < 0 || f->ending == 1) {
            aio_group_cancel(&f->g, "round over");
        } else if (f->ending == 0) {
            for (i = 0; i < NPROD; i++) /* producers see AIO_ECLOSED; consumers drain to the end */
                aio_chan_tx_close(&prod[i].tx);
        } else {
            for (i = 0; i < NCONS; i++) /* consumers see AIO_ECLOSED */
                aio_chan_rx_close(&cons[i].rx);
            chan_drain(f);
            aio_chan_rx_close(&f->rx); /* the last receive end: producers see AIO_EBROKEN */
            f->rx_open = 0;
        }
        AIO_GROUP_WAIT(rc, &f->g, 0);
        if (f->rx_open) {
            chan_drain(f);
            aio_chan_rx_close(&f->rx);
        }
        for (i = 0; i < NPROD; i++) {
            if (ch_sent[i] != ch_recv[i] || ch_sent_sum[i] != ch_recv_sum[i]) {
                st.chan_errors++;
                fprintf(stderr, "soak: channel round %llu, producer %d: sent %llu items (sum %llu), received %llu (sum %llu)\n",
                        (unsigned long long)st.chan_rounds, i, (unsigned long long)ch_sent[i],
                        (unsigned long long)ch_sent_sum[i], (unsigned long long)ch_recv[i],
                        (unsigned long long)ch_recv_sum[i]);
            }
        }
        st.chan_rounds++;
        if (rc < 0)
            break;
    }
    AIO_END(0);
}

/* ---- chaos ---------------------------------------------------------------- */

static int chaos_fn(aio_task *t, void *frame)
{
    struct churn *f = (struct churn *)frame;
    int rc, i, r;
    AIO_BEGIN(t, f);
    while (!stopping) {
        AIO_SLEEP(rc, (aio_time)rnd_span(AIO_MS(1), AIO_MS(20)));
        if (rc < 0 || stopping)
            break;
        r = (int)rnd(10);
        if (r < 6) {
            i = (int)rnd((uint32_t)cfg_clients);
            if (!slot_free(&ct[i]) && aio_task_cancel(&ct[i]) == 0)
                cl[i].chaos = 1;
        } else if (r == 6) {
            struct handler *h = &pool[rnd(srv.nslots)];
            uint8_t s = h->conn.task.state;
            if ((s == AIO__TASK_PARKED || s == AIO__TASK_READY) && h->conn.stream.fd >= 0) {
                server_aborted[aio_sockaddr_port(&h->conn.peer) & 0xffff] = 1;
                if (aio_task_cancel(&h->conn.task) == 0)
                    st.srv_cancels++;
            }
        } else if (r < 9) {
            i = (int)rnd(NSLEEPERS);
            if (!slot_free(&slt[i]) && aio_task_cancel(&slt[i]) == 0)
                st.sleeper_cancels++;
        } else {
            i = (int)rnd(NPROD + NCONS);
            if (i < NPROD ? (!slot_free(&prodt[i]) && aio_task_cancel(&prodt[i]) == 0)
                          : (!slot_free(&const_[i - NPROD]) && aio_task_cancel(&const_[i - NPROD]) == 0))
                st.chan_task_cancels++;
        }
    }
    AIO_END(0);
}

/* ---- main ---------------------------------------------------------------- */

static aio_stats stats_start, stats_end;
static long rss_warm = -1, rss_peak, rss_end;
static double t_start, t_stop;

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_t, spawner_t, sleepers_t, calls_t, chan_t, chaos_t;
    struct spawner spawner;
    struct sleepers_sup sleepers;
    struct churn calls, chaos;
    struct chan_sup chan;
    double next_report, interval;
};

static void progress(const char *what)
{
    aio_stats s;
    aio_loop_stats(&L, &s);
    printf("%-8s %6.1fs  sessions %llu  connects %llu  echoed %.1f MiB  tasks %u  timers %u  fd waits %u  rss %ld KiB\n",
           what, wall() - t_start, (unsigned long long)st.sessions, (unsigned long long)st.connects,
           (double)st.bytes_echoed / 1048576.0, s.tasks, s.timers, s.fd_waits, rss_kb());
    fflush(stdout);
}

static int main_fn(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    long r;
    double now;
    AIO_BEGIN(t, f);
    aio_loop_stats(&L, &stats_start);
    rc = aio_tcp_listen(&lst, "127.0.0.1", 0, 0);
    if (rc < 0) {
        fprintf(stderr, "soak: listen: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    port = lst.port;
    aio_bsem_init(&connect_sem, CONNECTING);
    aio_lock_init(&big_lock);
    aio_server_init(&srv, &lst, pool, (uint32_t)cfg_clients + 16, sizeof pool[0], echo_handler);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server_t, aio_server_serve, &srv);
    aio_spawn(&f->g, &f->spawner_t, spawner_fn, &f->spawner);
    aio_spawn(&f->g, &f->sleepers_t, sleepers_fn, &f->sleepers);
    aio_spawn(&f->g, &f->calls_t, calls_fn, &f->calls);
    aio_spawn(&f->g, &f->chan_t, chan_fn, &f->chan);
    aio_spawn(&f->g, &f->chaos_t, chaos_fn, &f->chaos);
    f->interval = cfg_seconds >= 100 ? cfg_seconds / 10.0 : 5.0;
    f->next_report = f->interval;
    for (;;) {
        AIO_SLEEP(rc, AIO_MS(250));
        if (rc < 0)
            break;
        now = wall() - t_start;
        r = rss_kb();
        if (r > rss_peak)
            rss_peak = r;
        if (rss_warm < 0 && now >= cfg_warmup) {
            rss_warm = r;
            progress("warm");
            if (now >= f->next_report)
                f->next_report += f->interval;
        }
        if (now >= cfg_seconds)
            break;
        if (now >= f->next_report) {
            progress("load");
            f->next_report += f->interval;
        }
    }
    progress("stop");
    stopping = 1;
    t_stop = wall();
    AIO_JOIN(rc, &f->spawner_t);
    AIO_JOIN(rc, &f->chaos_t);
    AIO_JOIN(rc, &f->sleepers_t);
    AIO_JOIN(rc, &f->calls_t);
    AIO_JOIN(rc, &f->chan_t);
    aio_server_shutdown(&srv, AIO_SEC(2));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    aio_loop_stats(&L, &stats_end);
    AIO_END(rc);
}

static void on_alarm(int sig)
{
    static const char msg[] = "soak: did not finish in time; the loop's tasks:\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing to do */
    }
    aio_dump_stderr(&L);
    _exit(3);
}

/* Raises the descriptor limit for the clients (two descriptors each, plus
 * slack); with too low a hard limit the client count is scaled down. */
static void fit_fd_limit(void)
{
    struct rlimit r;
    rlim_t need = (rlim_t)cfg_clients * 2 + 128;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need) {
        r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > need ? need : r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need) {
        cfg_clients = (int)((r.rlim_cur - 128) / 2);
        printf("descriptor limit %llu: scaled down to %d clients\n", (unsigned long long)r.rlim_cur, cfg_clients);
    }
}

static int passed, failed;

static void check(int ok, const char *name, const char *fmt, long long a, long long b)
{
    printf("%s %s (", ok ? "ok  " : "FAIL", name);
    printf(fmt, a, b);
    printf(")\n");
    if (ok)
        passed++;
    else
        failed++;
}

int main(int argc, char **argv)
{
    static aio_task main_task;
    static struct main_frame frame;
    int i, rc, fds_start, fds_end;
    double dur;

    cfg_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "soak: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--seconds") == 0)
            cfg_seconds = atoi(v);
        else if (strcmp(a, "--clients") == 0)
            cfg_clients = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            cfg_seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--rss-slack-kb") == 0)
            cfg_rss_slack_kb = atol(v);
        else if (strcmp(a, "--warmup") == 0)
            cfg_warmup = atoi(v);
        else {
            fprintf(stderr, "usage: soak [--seconds N] [--clients N] [--seed S] [--rss-slack-kb K] [--warmup N]\n");
            return 2;
        }
    }
    if (cfg_clients < 1 || cfg_clients > MAX_CLIENTS || cfg_seconds < 1) {
        fprintf(stderr, "soak: clients must be 1..%d, seconds at least 1\n", MAX_CLIENTS);
        return 2;
    }
    if (cfg_warmup < 0)
        cfg_warmup = cfg_seconds / 5 < 30 ? cfg_seconds / 5 : 30;
    if (cfg_seed == 0)
        cfg_seed = 1;
    rng = cfg_seed;
    fit_fd_limit();
    printf("soak: %d s, %d clients, seed %llu (replay: --seed %llu), rss slack %ld KiB after %d s warm-up\n",
           cfg_seconds, cfg_clients, (unsigned long long)cfg_seed, (unsigned long long)cfg_seed, cfg_rss_slack_kb,
           cfg_warmup);
    fflush(stdout);

    /* Touch every static buffer now, so the resident set does not grow with
     * slots first used late in the run. */
    memset(pool, 0, ((size_t)cfg_clients + 16) * sizeof pool[0]);
    memset(cl, 0, (size_t)cfg_clients * sizeof cl[0]);
    memset(server_aborted, 0, sizeof server_aborted);

    signal(SIGALRM, on_alarm);
    alarm((unsigned)cfg_seconds + 120);
    fds_start = count_fds();
    aio_loop_init(&L, NULL);
    aio_reactor_init(&io, &L);
    t_start = wall();
    rc = aio_run(&L, &main_task, main_fn, &frame);
    dur = wall() - t_start;
    aio_loop_close(&L);
    alarm(0);
    fds_end = count_fds();
    rss_end = rss_kb();

    printf("\nsummary (seed %llu)\n", (unsigned long long)cfg_seed);
    printf("  duration        %.1f s under load, %.1f s to stop\n", t_stop - t_start, wall() - t_stop);
    printf("  clients         %d concurrent; %llu sessions, %llu connections, %llu accepted\n", cfg_clients,
           (unsigned long long)st.sessions, (unsigned long long)st.connects, (unsigned long long)srv.accepted);
    printf("  bytes           %llu sent, %llu echoed back and verified (%.1f MiB/s); server read %llu, wrote %llu\n",
           (unsigned long long)st.bytes_sent, (unsigned long long)st.bytes_echoed,
           (double)st.bytes_echoed / 1048576.0 / (t_stop > t_start ? t_stop - t_start : 1),
           (unsigned long long)st.srv_in, (unsigned long long)st.srv_out);
    printf("  sessions ended  %llu clean, %llu cut short by the stop, %llu move_on_after deadlines, %llu fail_after deadlines,\n"
           "                  %llu cancelled by chaos, %llu closed abruptly, %llu dropped by the server\n",
           (unsigned long long)st.clean, (unsigned long long)st.cut_by_stop, (unsigned long long)st.deadline_move_on,
           (unsigned long long)st.deadline_fail_after, (unsigned long long)st.chaos_cancels,
           (unsigned long long)st.abrupt, (unsigned long long)st.peer_aborted);
    printf("  sync            %llu lock holds, %llu sessions waited for a connect permit\n",
           (unsigned long long)st.lock_holds, (unsigned long long)st.permit_waits);
    printf("  server          %llu handlers, %llu dropped connections, %llu handlers cancelled by chaos\n",
           (unsigned long long)st.srv_handlers, (unsigned long long)st.srv_aborts, (unsigned long long)st.srv_cancels);
    printf("  timers          %llu sleeps, %llu sleeps cut by deadlines, %llu sleepers cancelled;\n"
           "                  call_later %llu armed, %llu moved, %llu fired, %llu cancelled\n",
           (unsigned long long)st.sleeps, (unsigned long long)st.sleep_deadlines,
           (unsigned long long)st.sleeper_cancels, (unsigned long long)st.call_arms,
           (unsigned long long)st.call_moves, (unsigned long long)st.call_fires, (unsigned long long)st.call_cancels);
    printf("  channels        %llu rounds, %llu sends, %llu receives (+%llu drained), %llu send and %llu receive deadlines,\n"
           "                  %llu producers/consumers cancelled by chaos\n",
           (unsigned long long)st.chan_rounds, (unsigned long long)st.chan_sends, (unsigned long long)st.chan_recvs,
           (unsigned long long)st.chan_drained, (unsigned long long)st.chan_send_deadlines,
           (unsigned long long)st.chan_recv_deadlines, (unsigned long long)st.chan_task_cancels);
    printf("  loop            %llu turns, %llu task steps\n", (unsigned long long)stats_end.turns,
           (unsigned long long)stats_end.steps);
    printf("  rss             %ld KiB after warm-up, %ld KiB peak, %ld KiB at the end\n", rss_warm, rss_peak, rss_end);
    printf("  descriptors     %d before, %d after\n\n", fds_start, fds_end);

    check(rc == 0, "the run ended cleanly", "aio_run %lld, %lld spawn errors", rc, (long long)st.spawn_errors);
    check(st.sessions > 0 && st.clean > 0 && st.bytes_echoed > 0, "load was applied",
          "%lld clean sessions, %lld bytes echoed", (long long)st.clean, (long long)st.bytes_echoed);
    check(st.corrupt == 0, "every echoed byte equals the byte sent", "%lld bad echoes%.0lld", (long long)st.corrupt, 0);
    check(st.duplicated == 0, "nothing echoed beyond what was sent", "%lld sessions%.0lld", (long long)st.duplicated, 0);
    check(st.lost == 0, "graceful sessions got every byte back", "%lld sessions lost bytes of %lld", (long long)st.lost,
          (long long)(st.clean + st.cut_by_stop + st.lost));
    check(st.unexpected == 0 && st.connect_errors == 0, "no unexpected connection errors", "%lld errors, %lld failed connects",
          (long long)st.unexpected, (long long)st.connect_errors);
    check(st.bytes_echoed <= st.srv_out && st.srv_out <= st.srv_in && st.srv_in <= st.bytes_sent,
          "echoed <= server wrote <= server read <= sent", "%lld echoed, %lld sent", (long long)st.bytes_echoed,
          (long long)st.bytes_sent);
    check(st.chan_errors == 0 && st.chan_sends == st.chan_recvs + st.chan_drained,
          "every channel item received exactly once", "%lld sent, %lld received",
          (long long)st.chan_sends, (long long)(st.chan_recvs + st.chan_drained));
    check(st.call_errors == 0 && st.call_arms == st.call_fires + st.call_cancels,
          "every call_later fired or was cancelled once", "%lld armed, %lld fired or cancelled",
          (long long)st.call_arms, (long long)(st.call_fires + st.call_cancels));
    check(st.lock_shared == 0 && !aio_lock_locked(&big_lock) && !big_lock.broken && big_lock.waiters.len == 0 &&
              connect_sem.value == CONNECTING && connect_sem.waiters.len == 0,
          "the lock was never shared and is free; every connect permit is back", "%lld times shared, %lld permits",
          (long long)st.lock_shared, (long long)connect_sem.value);
    check(st.sleep_early == 0, "no sleep ended early", "%lld early%.0lld", (long long)st.sleep_early, 0);
    check(stats_end.tasks == stats_start.tasks, "live tasks back to baseline", "%lld at the end, %lld at the start",
          stats_end.tasks, stats_start.tasks);
    check(stats_end.timers == stats_start.timers, "armed timers back to baseline", "%lld at the end, %lld at the start",
          stats_end.timers, stats_start.timers);
    check(stats_end.fd_waits == 0 && stats_end.holds == 0 && stats_end.ready == 0,
          "no fd waits, held locks or queued tasks left", "%lld fd waits, %lld held locks", stats_end.fd_waits,
          stats_end.holds);
    check(fds_end == fds_start, "open descriptors back to baseline", "%lld after, %lld before", fds_end, fds_start);
    check(rss_warm > 0 && rss_end <= rss_warm + cfg_rss_slack_kb, "resident set back within the slack of the warm-up",
          "%lld KiB at the end, %lld KiB after warm-up", rss_end, rss_warm);
    (void)dur;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
