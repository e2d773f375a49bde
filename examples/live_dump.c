/*
 * examples/live_dump.c - asking a running loop what its tasks are doing,
 * from outside, without stopping it: on SIGUSR1 the task tree is printed,
 * and every client of a Unix socket gets the task tree and is disconnected.
 *
 *     ./live_dump              the demonstration: sends itself SIGUSR1, then
 *                              connects to its own socket, prints what came
 *                              back, and stops
 *     ./live_dump PATH         serves the dump on the Unix socket PATH until
 *                              SIGINT or SIGTERM; from another shell:
 *                                  kill -USR1 <pid>
 *                                  socat - UNIX-CONNECT:PATH
 *
 * Python counterpart: aiomonitor's "ps" (a live view of a running asyncio
 * program's tasks), or sending a trio program a signal that prints
 * trio.lowlevel.current_root_task()'s tree.
 *
 * The dump (aio_dump) names each task, what it is parked on and for how
 * long (the "for" figure: AIO_DEBUG builds), the line each frame is
 * suspended at, and each cancel scope with its deadline.  It is written
 * piece by piece into a fixed buffer here: nothing is allocated.
 */
#define AIO_IMPLEMENTATION
#include "aio_proc.h" /* first: it selects the POSIX level signals need */
#include "aio_net.h"
#include "aio_sync.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The dump of one request, collected piece by piece (truncated when full). */
static char text[8192];
static size_t text_len;

static void collect(void *ctx, const char *piece)
{
    size_t n = strlen(piece);
    (void)ctx;
    if (n > sizeof text - 1 - text_len)
        n = sizeof text - 1 - text_len;
    memcpy(text + text_len, piece, n);
    text_len += n;
    text[text_len] = '\0';
}

static void take_dump(aio_loop *loop)
{
    text_len = 0;
    text[0] = '\0';
    aio_dump(loop, collect, NULL);
}

/* ---- the application being watched ------------------------------------- */

struct ticker { aio_frame hdr; long ticks; };
static int ticker(aio_task *t, void *frame)
{
    struct ticker *f = (struct ticker *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_SLEEP(rc, AIO_SEC(1));
        if (rc < 0)
            AIO_RETURN(rc);
        f->ticks++;
    }
    AIO_END(0);
}

struct waiter { aio_frame hdr; aio_scope scope; aio_event *ev; };
static int waiter(aio_task *t, void *frame)
{
    struct waiter *f = (struct waiter *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->scope, AIO_SEC(60)); /* with anyio.move_on_after(60): */
    AIO_EVENT_WAIT(rc, f->ev);                   /*     await ev.wait()          */
    rc = aio_scope_exit(t, &f->scope, rc);
    AIO_END(rc);
}

/* ---- the dump on a signal ---------------------------------------------- */

struct on_signal { aio_frame hdr; aio_sigwatch *w; aio_scope *stop; };
static int on_signal(aio_task *t, void *frame)
{
    struct on_signal *f = (struct on_signal *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        AIO_SIGNAL_WAIT(rc, f->w);
        if (rc < 0)
            AIO_RETURN(rc);
        if (rc != SIGUSR1) { /* SIGINT or SIGTERM: stop the program */
            aio_scope_cancel(f->stop, "signal");
            continue;
        }
        take_dump(aio_task_loop(t));
        printf("--- task tree on SIGUSR1 ---\n%s", text);
        fflush(stdout);
    }
    AIO_END(0);
}

/* ---- the dump over a Unix socket --------------------------------------- */

struct dump_server { aio_frame hdr; aio_listener *lst; aio_stream s; long served; };
static int dump_server(aio_task *t, void *frame)
{
    struct dump_server *f = (struct dump_server *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    for (;;) {
        AIO_ACCEPT(rc, f->lst, &f->s, NULL);
        if (rc < 0)
            AIO_RETURN(rc);
        take_dump(aio_task_loop(t)); /* the tree as it is now, this task "running" */
        AIO_STREAM_WRITE_ALL(rc, &f->s, text, text_len);
        aio_stream_close(aio_task_loop(t), &f->s);
        if (rc == AIO_ECANCELED)
            AIO_RETURN(rc);
        f->served++; /* a client that went away early is not an error here */
    }
    AIO_END(0);
}

/* ---- the demonstration client ------------------------------------------ */

struct client { aio_frame hdr; const char *path; aio_connect op; aio_stream s; char buf[8192]; size_t len; };
static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_UNIX_CONNECT(rc, &f->op, &f->s, f->path);
    if (rc < 0)
        AIO_RETURN(rc);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->s, f->buf + f->len, sizeof f->buf - 1 - f->len);
        if (rc <= 0)
            break;
        f->len += (size_t)rc;
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    f->buf[f->len] = '\0';
    AIO_END(rc == AIO_EEND ? 0 : rc);
}

/* ---- main --------------------------------------------------------------- */

struct main_frame {
    aio_frame hdr;
    const char *path;
    int demo;
    aio_sigwatch w;
    aio_listener lst;
    aio_event ev;
    aio_scope stop;
    aio_group g;
    aio_task tick_task, wait_task, sig_task, srv_task, cl_task;
    struct ticker tk;
    struct waiter wt;
    struct on_signal sg;
    struct dump_server ds;
    struct client cl;
};

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int main_task(aio_task *t, void *frame)
{
    static const int sigs[] = { SIGUSR1, SIGINT, SIGTERM };
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_signal_open(aio_task_loop(t), &f->w, sigs, 3);
    if (rc < 0) {
        fprintf(stderr, "signals: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    rc = aio_unix_listen(&f->lst, f->path, 0);
    if (rc < 0) {
        fprintf(stderr, "listen on %s: %s\n", f->path, aio_strerror(rc));
        aio_signal_close(&f->w);
        AIO_RETURN(rc);
    }
    if (!f->demo) {
        printf("pid %ld: dump with `kill -USR1 %ld` or `socat - UNIX-CONNECT:%s`\n", (long)getpid(),
               (long)getpid(), f->path);
        fflush(stdout);
    }
    aio_event_init(&f->ev);
    aio_scope_enter(t, &f->stop, AIO_TIME_INF);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->wt.ev = &f->ev;
    f->sg.w = &f->w;
    f->sg.stop = &f->stop;
    f->ds.lst = &f->lst;
    aio_spawn(&f->g, &f->tick_task, ticker, &f->tk);
    aio_task_set_name(&f->tick_task, "ticker");
    aio_spawn(&f->g, &f->wait_task, waiter, &f->wt);
    aio_task_set_name(&f->wait_task, "waiter");
    aio_spawn(&f->g, &f->sig_task, on_signal, &f->sg);
    aio_task_set_name(&f->sig_task, "on-signal");
    aio_spawn(&f->g, &f->srv_task, dump_server, &f->ds);
    aio_task_set_name(&f->srv_task, "dump-server");
    if (f->demo) {
        AIO_SLEEP(rc, AIO_MS(20)); /* every task parked */
        kill(getpid(), SIGUSR1);
        AIO_SLEEP(rc, AIO_MS(20)); /* the signal task prints */
        f->cl.path = f->path;
        aio_spawn(&f->g, &f->cl_task, client, &f->cl);
        aio_task_set_name(&f->cl_task, "client");
        AIO_JOIN(rc, &f->cl_task);
        printf("--- over the socket: %d lines, first: %.*s\n", count_lines(f->cl.buf),
               (int)strcspn(f->cl.buf, "\n"), f->cl.buf);
        aio_scope_cancel(&f->stop, "demonstration over");
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = aio_scope_exit(t, &f->stop, rc);
    aio_listener_close(aio_task_loop(t), &f->lst);
    aio_signal_close(&f->w);
    printf("stopped: %ld dump(s) served over the socket\n", f->ds.served);
    AIO_END(rc);
}

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, signals */
    static aio_task task;
    static struct main_frame frame;
    static char path[108];
    frame.demo = argc < 2;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [SOCKET_PATH]\n", argv[0]);
        return 2;
    }
    if (frame.demo)
        snprintf(path, sizeof path, "/tmp/aio-live-dump.%ld", (long)getpid());
    else
        snprintf(path, sizeof path, "%s", argv[1]);
    frame.path = path;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
