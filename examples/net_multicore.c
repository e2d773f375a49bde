/*
 * net_multicore.c - one loop per thread, all serving one port through
 * SO_REUSEPORT: the pattern for a server that uses more than one core.
 *
 * A loop runs on one thread and its tasks never leave it, so a server that
 * wants several cores runs one loop per core, each with its own listener,
 * its own aio_server and its own slots.  With aio_listener.reuse_port set
 * before aio_tcp_listen, the listeners bind the same port and the kernel
 * spreads new connections over them (Linux: by a hash of the connection's
 * addresses; other systems may hand them all to one listener).  Nothing is
 * shared between the loops; to stop them, the main thread sets an aio_flags
 * word of each loop (safe from any thread), and each loop shuts its server
 * down.  Every loop is set up on the main thread before its thread starts
 * (the thread start publishes it); from then on only its thread touches it.
 *
 *     # Python: one asyncio loop per process, all on one port
 *     server = await asyncio.start_server(handle, "127.0.0.1", 8888, reuse_port=True)
 *
 * Usage:
 *   net_multicore                      demo: 2 loops, 32 clients from the main thread
 *   net_multicore PORT [--loops N]     serves on 127.0.0.1:PORT (0: a free port) with N
 *                                      loops (default 2, at most 16) until SIGINT/SIGTERM
 * Each connection gets "loop K\n" back for every chunk it sends.  Bad
 * arguments are reported on stderr with exit status 2.
 */
#define _DEFAULT_SOURCE /* signalfd (Linux) */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include "aio_proc.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOOPS 16
#define NSLOTS 16
#define NCLIENTS 32

/* One connection: answers every chunk with the number of its loop. */
struct conn {
    aio_conn conn; /* first */
    char buf[256];
    char reply[32];
    int n;
};

/* Everything one loop owns. */
struct worker {
    aio_frame hdr;
    int index;
    aio_loop loop;
    aio_reactor io; /* this loop's OS reactor */
    aio_task task, server_task;
    aio_group g;
    aio_listener lst;
    aio_server srv;
    aio_flags stop;      /* set by the main thread */
    struct conn slots[NSLOTS];
    pthread_t thread;
    int rc;
};

static struct worker workers[MAX_LOOPS];
static int nloops = 2;

/* The loop a slot belongs to. */
static int loop_of(const struct conn *c)
{
    int i;
    for (i = 0; i < nloops; i++)
        if (c >= workers[i].slots && c < workers[i].slots + NSLOTS)
            return i;
    return -1;
}

static int handle(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    snprintf(f->reply, sizeof f->reply, "loop %d\n", loop_of(f));
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);
        if (rc < 0)
            break;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->reply, strlen(f->reply));
        if (rc < 0)
            break;
        aio_conn_request_done(&f->conn);
    }
    AIO_END(0);
}

/* A loop's main task: serve until the stop flag, then shut down. */
static int worker_main(aio_task *t, void *frame)
{
    struct worker *w = (struct worker *)frame;
    int rc;
    AIO_BEGIN(t, w);
    aio_group_enter(t, &w->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&w->g, &w->server_task, aio_server_serve, &w->srv);
    AIO_FLAGS_WAIT_ANY(rc, &w->stop, 1u);
    aio_server_shutdown(&w->srv, AIO_SEC(5));
    AIO_GROUP_WAIT(rc, &w->g, rc < 0 ? rc : 0);
    AIO_END(rc);
}

static void *worker_thread(void *arg)
{
    struct worker *w = (struct worker *)arg;
    w->rc = aio_run(&w->loop, &w->task, worker_main, w);
    aio_loop_close(&w->loop);
    return NULL;
}

/* Sets up loop i on `port` (0 for the first: a free port).  Returns the port or a negative code. */
static int worker_setup(int i, int port)
{
    struct worker *w = &workers[i];
    int rc;
    w->index = i;
    rc = aio_loop_init(&w->loop, NULL);
    if (rc == 0)
        rc = aio_reactor_init(&w->io, &w->loop);
    if (rc == 0)
        rc = aio_flags_init(&w->stop, &w->loop);
    if (rc < 0)
        return rc;
    w->lst.reuse_port = 1;                     /* before the listen: share the port */
    rc = aio_tcp_listen(&w->lst, "127.0.0.1", port, 0);
    if (rc < 0)
        return rc;
    aio_server_init(&w->srv, &w->lst, w->slots, NSLOTS, sizeof w->slots[0], handle);
    return w->lst.port;
}

/* ---- the demo's clients, on the main thread's loop ---------------------- */

struct client {
    aio_frame hdr;
    int port, loop;
    aio_stream s;
    aio_connect op;
    char buf[32];
    int n;
};

static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    f->loop = -1;
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc == 0)
        AIO_STREAM_WRITE_ALL(rc, &f->s, "hi", 2);
    while (rc >= 0 && (f->n == 0 || f->buf[f->n - 1] != '\n') && f->n < (int)sizeof f->buf - 1) {
        AIO_STREAM_READ_SOME(rc, &f->s, f->buf + f->n, sizeof f->buf - 1 - (size_t)f->n);
        if (rc > 0)
            f->n += rc;
    }
    if (rc >= 0 && sscanf(f->buf, "loop %d", &f->loop) != 1)
        f->loop = -1;
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc < 0 ? rc : 0);
}

struct demo {
    aio_frame hdr;
    aio_group g;
    aio_task ct[NCLIENTS];
    struct client cl[NCLIENTS];
    int i;
};

static int demo_main(aio_task *t, void *frame)
{
    struct demo *f = (struct demo *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    for (f->i = 0; f->i < NCLIENTS; f->i++)
        aio_spawn(&f->g, &f->ct[f->i], client, &f->cl[f->i]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

/* ---- server mode: the main thread waits for SIGINT or SIGTERM ----------- */

struct waiter {
    aio_frame hdr;
    aio_sigwatch *w;
};

static int wait_signal(aio_task *t, void *frame)
{
    struct waiter *f = (struct waiter *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SIGNAL_WAIT(rc, f->w);
    if (rc > 0)
        printf("%s: shutting down\n", rc == SIGINT ? "SIGINT" : "SIGTERM");
    AIO_END(rc > 0 ? 0 : rc);
}

static long number(const char *s, long lo, long hi)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "net_multicore: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: net_multicore [PORT [--loops N]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const int sigs[] = { SIGINT, SIGTERM };
    static aio_loop main_loop;
    static aio_reactor main_io;
    static aio_task main_task;
    static struct demo demo;
    static struct waiter wt;
    static aio_sigwatch sig;
    int i, port = 0, demo_mode = argc < 2, rc = 0, started = 0, per_loop[MAX_LOOPS], answered = 0;
    unsigned long long accepted = 0;
    long v;
    if (argc >= 2) {
        if ((v = number(argv[1], 0, 65535)) < 0)
            return usage("invalid port (a number from 0 to 65535)", argv[1]);
        port = (int)v;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--loops") == 0 && i + 1 < argc && (v = number(argv[i + 1], 1, MAX_LOOPS)) > 0) {
            nloops = (int)v;
            i++;
        } else if (strcmp(argv[i], "--loops") == 0) {
            return usage("--loops needs a number from 1 to 16", i + 1 < argc ? argv[i + 1] : NULL);
        } else {
            return usage("unknown argument", argv[i]);
        }
    }
    aio_loop_init(&main_loop, NULL);
    aio_reactor_init(&main_io, &main_loop);
    /* Before any thread starts: the signals stay blocked in every thread
     * and reach the main thread's watch only. */
    if (!demo_mode && aio_signal_open(&main_loop, &sig, sigs, 2) != 0)
        fprintf(stderr, "net_multicore: no signal watch here; stop it with SIGKILL\n");
    for (i = 0; i < nloops; i++) {
        int p = worker_setup(i, port);
        if (p < 0) {
            fprintf(stderr, "net_multicore: loop %d: listen on 127.0.0.1:%d: %s\n", i, port, aio_strerror(p));
            rc = 1;
            break;
        }
        port = p; /* the next loops bind the port the first one got */
    }
    for (i = 0; rc == 0 && i < nloops; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_thread, &workers[i]) != 0) {
            rc = 1;
            break;
        }
        started++;
    }
    if (rc == 0) {
        printf("%d loops serving on 127.0.0.1:%d\n", nloops, port);
        fflush(stdout);
        if (demo_mode) {
            for (i = 0; i < NCLIENTS; i++)
                demo.cl[i].port = port;
            rc = aio_run(&main_loop, &main_task, demo_main, &demo) == 0 ? 0 : 1;
        } else {
            wt.w = &sig;
            rc = aio_run(&main_loop, &main_task, wait_signal, &wt) == 0 ? 0 : 1;
        }
    }
    for (i = 0; i < started; i++)
        aio_flags_set(&workers[i].stop, 1u); /* from this thread: safe */
    for (i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    for (i = 0; i < nloops; i++) {
        per_loop[i] = 0;
        accepted += workers[i].srv.accepted;
        if (workers[i].rc != 0)
            rc = 1;
    }
    if (demo_mode && started == nloops) {
        for (i = 0; i < NCLIENTS; i++) {
            if (demo.cl[i].loop >= 0 && demo.cl[i].loop < nloops) {
                per_loop[demo.cl[i].loop]++;
                answered++;
            }
        }
        printf("%d of %d clients answered\n", answered, NCLIENTS);
        for (i = 0; i < nloops; i++)
            printf("loop %d served %d (accepted %llu)\n", i, per_loop[i],
                   (unsigned long long)workers[i].srv.accepted);
        if (answered != NCLIENTS)
            rc = 1;
    }
    printf("stopped: %llu connection(s) over %d loops\n", accepted, nloops);
    if (!demo_mode)
        aio_signal_close(&sig);
    aio_loop_close(&main_loop);
    return rc;
}
