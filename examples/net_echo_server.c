/*
 * net_echo_server.c - a byte-exact echo server (asyncio's start_server echo,
 * made to survive real clients):
 *
 *     async def handle(reader, writer):
 *         while data := await reader.read(16384):
 *             writer.write(data); await writer.drain()
 *         writer.close()
 *     server = await asyncio.start_server(handle, '127.0.0.1', 8888)
 *     loop.add_signal_handler(SIGTERM, server.close)
 *     async with server: await server.serve_forever()
 *
 * Every byte comes back as it came, binary or text, however it is split
 * (no line limit; a last line without a newline is echoed too).  The server's
 * default timeouts hold: a client that sends nothing for 10 s, or stalls a
 * read or write for 30 s, is closed; each echoed chunk ends a request
 * (aio_conn_request_done), so a long session is not cut by the request
 * timeout.  SIGINT (Ctrl-C) and SIGTERM shut it down gracefully: it stops
 * accepting, closes idle connections at once and gives busy ones 5 s.
 *
 * Usage:
 *   net_echo_server                    demo: serves one built-in client, then exits
 *   net_echo_server PORT [--once] [--seconds S] [--verbose]
 *                                      serves on 127.0.0.1:PORT (0: a free port, printed);
 *                                      --once stops after the first connection;
 *                                      --seconds S after S seconds; --verbose prints
 *                                      each connection
 * Bad arguments are reported on stderr with exit status 2.
 * Run with net_echo_client as a pair:
 *   net_echo_server 8888 --once & net_echo_client 127.0.0.1 8888 hello
 * or with socat:  printf 'any bytes' | socat -t 5 - TCP:127.0.0.1:8888
 */
#define _DEFAULT_SOURCE /* signalfd, for the signal watch (Linux); elsewhere Ctrl-C ends the process at once */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include "aio_proc.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One connection: echo every chunk as it arrives. */
struct conn {
    aio_conn conn;            /* first: the server fills stream and peer */
    unsigned char buf[16384];
    char peer[64];
    int n;
    unsigned long long bytes;
};

static int once, verbose;
static unsigned long long total_bytes;

static int handle(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_sockaddr_format(&f->conn.peer, f->peer, sizeof f->peer);
    if (verbose)
        printf("%s connected\n", f->peer);
    for (;;) {
        AIO_STREAM_READ_SOME(rc, &f->conn.stream, f->buf, sizeof f->buf);   /* await reader.read(n) */
        if (rc < 0)
            break;
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->buf, (size_t)f->n);
        if (rc < 0)
            break;
        f->bytes += (unsigned long long)f->n;
        total_bytes += (unsigned long long)f->n;
        aio_conn_request_done(&f->conn);       /* each chunk is one request for the timeouts */
    }
    if (verbose)
        printf("%s closed: %llu bytes echoed (%s)\n", f->peer, f->bytes,
               rc == AIO_EEND ? "end of stream" : aio_strerror(rc));
    fflush(stdout);
    if (once)
        aio_server_shutdown(f->conn.server, AIO_SEC(1));
    AIO_END(0);                                /* the server closes the connection */
}

/* The demo's built-in client: two lines and a last one without newline,
 * then end of input; it reads the echo to the end. */
struct client {
    aio_frame hdr;
    int port, n;
    aio_stream s;
    aio_connect op;
    char buf[128];
};

static int client(aio_task *t, void *frame)
{
    static const char msg[] = "hello\necho me\nno newline at the end";
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc == 0)
        AIO_STREAM_WRITE_ALL(rc, &f->s, msg, sizeof msg - 1);
    if (rc >= 0)
        rc = aio_stream_shutdown_write(&f->s);  /* writer.write_eof() */
    while (rc >= 0 && f->n < (int)sizeof f->buf) {
        AIO_STREAM_READ_SOME(rc, &f->s, f->buf + f->n, sizeof f->buf - (size_t)f->n);
        if (rc > 0)
            f->n += rc;
    }
    printf("client got %d of %d bytes back, %s\n", f->n, (int)sizeof msg - 1,
           f->n == (int)sizeof msg - 1 && memcmp(f->buf, msg, sizeof msg - 1) == 0 ? "identical" : "DIFFERENT");
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc == AIO_EEND ? 0 : rc);
}

/* --seconds: shuts the server down after the limit. */
struct limit_frame {
    aio_frame hdr;
    aio_server *srv;
    aio_time limit;
};

static int time_limit(aio_task *t, void *frame)
{
    struct limit_frame *f = (struct limit_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->limit);
    if (rc == 0)
        aio_server_shutdown(f->srv, AIO_SEC(1));
    AIO_END(0);
}

/* SIGINT / SIGTERM: a graceful shutdown (busy handlers get 5 s). */
struct signal_frame {
    aio_frame hdr;
    aio_server *srv;
    aio_sigwatch *w;
};

static int on_signal(aio_task *t, void *frame)
{
    struct signal_frame *f = (struct signal_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SIGNAL_WAIT(rc, f->w);
    if (rc > 0) {
        printf("%s: shutting down\n", rc == SIGINT ? "SIGINT" : "SIGTERM");
        fflush(stdout);
        aio_server_shutdown(f->srv, AIO_SEC(5));
    }
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_task, client_task, timer_task, signal_task;
    aio_listener lst;
    aio_server srv;
    aio_sigwatch sig;
    int have_sig;
    struct conn slots[16];
    struct client cl;
    struct limit_frame lim;
    struct signal_frame sf;
    int port, demo;
};

static int main_task(aio_task *t, void *frame)
{
    static const int sigs[] = { SIGINT, SIGTERM };
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_tcp_listen(&f->lst, "127.0.0.1", f->port, 0);
    if (rc < 0) {
        fprintf(stderr, "net_echo_server: listen on 127.0.0.1:%d: %s\n", f->port, aio_strerror(rc));
        AIO_RETURN(rc);
    }
    f->have_sig = aio_signal_open(aio_task_loop(t), &f->sig, sigs, 2) == 0;
    printf("serving on 127.0.0.1:%d\n", f->lst.port);
    fflush(stdout);
    aio_server_init(&f->srv, &f->lst, f->slots, 16, sizeof f->slots[0], handle);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);   /* serve_forever() */
    if (f->have_sig) {
        f->sf.srv = &f->srv;
        f->sf.w = &f->sig;
        aio_spawn(&f->g, &f->signal_task, on_signal, &f->sf);
    }
    if (f->demo) {
        f->cl.port = f->lst.port;
        aio_spawn(&f->g, &f->client_task, client, &f->cl);
    }
    if (f->lim.limit > 0) {
        f->lim.srv = &f->srv;
        aio_spawn(&f->g, &f->timer_task, time_limit, &f->lim);
    }
    AIO_JOIN(rc, &f->server_task);              /* until a shutdown */
    if (f->demo)
        AIO_JOIN(rc, &f->client_task);
    aio_group_cancel(&f->g, "server stopped");  /* ends the time limit and the signal watch */
    AIO_GROUP_WAIT(rc, &f->g, rc);
    if (f->have_sig)
        aio_signal_close(&f->sig);
    printf("server stopped: %llu connection(s), %llu bytes echoed, %llu timed out, %llu evicted\n",
           (unsigned long long)f->srv.accepted, total_bytes, (unsigned long long)f->srv.timeouts,
           (unsigned long long)f->srv.evicted);
    AIO_END(rc);
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "net_echo_server: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: net_echo_server [PORT [--once] [--seconds S] [--verbose]]\n");
    return 2;
}

/* A whole decimal number in [lo, hi], or -1. */
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

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    int i;
    long v;
    frame.demo = argc < 2;
    once = frame.demo;
    verbose = frame.demo;
    if (argc >= 2) {
        if ((v = number(argv[1], 0, 65535)) < 0)
            return usage("invalid port (a number from 0 to 65535)", argv[1]);
        frame.port = (int)v;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0) {
            once = 1;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            if (i + 1 >= argc || (v = number(argv[i + 1], 1, 86400)) < 0)
                return usage("--seconds needs a number of seconds from 1 to 86400", i + 1 < argc ? argv[i + 1] : NULL);
            frame.lim.limit = AIO_SEC(v);
            i++;
        } else {
            return usage("unknown argument", argv[i]);
        }
    }
    if (frame.demo)
        frame.lim.limit = AIO_SEC(5); /* a safety net; the demo ends long before */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
