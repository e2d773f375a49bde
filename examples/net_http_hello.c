/*
 * net_http_hello.c - a keep-alive HTTP/1.1 "hello" server on aio_server,
 * with the server's timeouts doing the protection:
 *
 *     # Python (aiohttp):
 *     async def hello(request): return web.Response(text="Hello, world\n")
 *     app = web.Application(); app.router.add_get("/", hello)
 *     web.run_app(app, host="127.0.0.1", port=8080)
 *
 * Each connection reads request heads (up to "\r\n\r\n", at most 8 KiB:
 * longer is answered 431 and closed, AIO_ETOOLONG) and answers every GET or
 * HEAD with "Hello, world\n", keeping the connection open (HTTP/1.1
 * keep-alive) until the client sends "Connection: close" or goes quiet.
 * Timeouts: 5 s for a request's first byte (the keep-alive timeout), 10 s
 * for a whole request head (slowloris), 10 s for any stalled read or write;
 * aio_conn_request_done after each response starts the next request's
 * clock.  Other methods get 405 and a close (no request bodies here).
 * SIGINT/SIGTERM: a graceful shutdown (idle keep-alive connections closed
 * at once, responses in progress given 5 s).
 *
 * Usage:
 *   net_http_hello                     demo: one client, 3 requests on one connection
 *   net_http_hello PORT [--seconds S]  serves on 127.0.0.1:PORT (0: a free port)
 *                                      until SIGINT/SIGTERM (or S seconds)
 *   curl -v http://127.0.0.1:PORT/ http://127.0.0.1:PORT/   (two requests, one connection)
 * Bad arguments are reported on stderr with exit status 2.
 */
#define _DEFAULT_SOURCE /* signalfd (Linux) */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include "aio_proc.h"
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_MAX 8192

struct conn {
    aio_conn conn;            /* first */
    char buf[HEAD_MAX];       /* the read buffer: one request head fits */
    char out[256];
    int n, close_after, requests;
};

static unsigned long long served;

/* Case-insensitive search for a header line "name: value" containing `value`. */
static int has_header(const char *head, int len, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    int i;
    for (i = 0; i + (int)nl + 1 < len; i++) {
        if ((i == 0 || head[i - 1] == '\n') && strncasecmp(head + i, name, nl) == 0 && head[i + (int)nl] == ':') {
            int j = i + (int)nl + 1, end = j;
            while (end < len && head[end] != '\r' && head[end] != '\n')
                end++;
            for (; j + (int)vl <= end; j++)
                if (strncasecmp(head + j, value, vl) == 0)
                    return 1;
        }
    }
    return 0;
}

static int handle(aio_task *t, void *frame)
{
    static const char hello[] = "Hello, world\n";
    struct conn *f = (struct conn *)frame;
    const char *head;
    int rc, get, is_head;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    while (!f->close_after) {
        AIO_STREAM_READ_UNTIL(rc, &f->conn.stream, "\r\n\r\n", 4, sizeof f->buf);
        if (rc == AIO_ETOOLONG) {
            f->n = snprintf(f->out, sizeof f->out,
                            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                            "Connection: close\r\n\r\n");
            AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->out, (size_t)f->n);
            break;
        }
        if (rc < 0)
            break; /* end of stream, a timeout, shutdown */
        head = aio_stream_line(&f->conn.stream);
        get = strncmp(head, "GET ", 4) == 0;
        is_head = strncmp(head, "HEAD ", 5) == 0;
        f->close_after = has_header(head, rc, "Connection", "close") || strstr(head, " HTTP/1.0\r\n") != NULL;
        if (get || is_head) {
            f->n = snprintf(f->out, sizeof f->out,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s",
                            (int)sizeof hello - 1, f->close_after ? "Connection: close\r\n" : "",
                            is_head ? "" : hello);
        } else {
            f->close_after = 1;
            f->n = snprintf(f->out, sizeof f->out,
                            "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
                            "Connection: close\r\n\r\n");
        }
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, f->out, (size_t)f->n);
        if (rc < 0)
            break;
        f->requests++;
        served++;
        aio_conn_request_done(&f->conn);        /* the next request's timeouts start now */
    }
    AIO_END(0);                                  /* the server closes the connection */
}

/* The demo's client: three requests on one connection, the last with "Connection: close". */
struct client {
    aio_frame hdr;
    int port, i, len;
    aio_stream s;
    aio_connect op;
    char buf[1024];
};

static int client(aio_task *t, void *frame)
{
    static const char *reqs[] = {
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    };
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    for (f->i = 0; rc == 0 && f->i < 3; f->i++) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, reqs[f->i], strlen(reqs[f->i]));
        if (rc >= 0)
            AIO_STREAM_READ_UNTIL(rc, &f->s, "\r\n\r\n", 4, sizeof f->buf);
        if (rc < 0)
            break;
        f->len = rc;
        printf("request %d: %.*s\n", f->i + 1, (int)strcspn(aio_stream_line(&f->s), "\r"),
               aio_stream_line(&f->s));
        if (f->i != 1) { /* GET: the 13-byte body follows */
            AIO_STREAM_READ_EXACT(rc, &f->s, f->buf + sizeof f->buf - 64, 13);
            if (rc < 0)
                break;
            printf("  body: %.12s\n", f->buf + sizeof f->buf - 64);
        }
        rc = 0;
    }
    if (rc == 0) { /* after "Connection: close" the server ends the connection */
        AIO_STREAM_READ_SOME(rc, &f->s, f->buf, 16);
        printf("then: %s\n", rc == AIO_EEND ? "the server closed the connection" : aio_strerror(rc));
        rc = rc == AIO_EEND ? 0 : -1;
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc);
}

/* SIGINT / SIGTERM, or --seconds: a graceful shutdown. */
struct stopper {
    aio_frame hdr;
    aio_server *srv;
    aio_sigwatch *w;
    aio_time limit;
    aio_scope sc;
};

static int stopper(aio_task *t, void *frame)
{
    struct stopper *f = (struct stopper *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_scope_init(&f->sc);
    aio_scope_enter(t, &f->sc, f->limit > 0 ? aio_now(aio_task_loop(t)) + f->limit : AIO_TIME_INF);
    if (f->w)
        AIO_SIGNAL_WAIT(rc, f->w);
    else
        AIO_SLEEP_FOREVER(rc);
    rc = aio_scope_exit(t, &f->sc, rc);
    if (rc > 0)
        printf("%s: shutting down\n", rc == SIGINT ? "SIGINT" : "SIGTERM");
    if (rc >= 0) /* a signal, or the time limit */
        aio_server_shutdown(f->srv, AIO_SEC(5));
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_task, client_task, stop_task;
    aio_listener lst;
    aio_server srv;
    aio_sigwatch sig;
    struct conn slots[64];
    struct client cl;
    struct stopper st;
    int port, demo, have_sig;
};

static int main_task(aio_task *t, void *frame)
{
    static const int sigs[] = { SIGINT, SIGTERM };
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_tcp_listen(&f->lst, "127.0.0.1", f->port, 0);
    if (rc < 0) {
        fprintf(stderr, "net_http_hello: listen on 127.0.0.1:%d: %s\n", f->port, aio_strerror(rc));
        AIO_RETURN(rc);
    }
    f->have_sig = aio_signal_open(aio_task_loop(t), &f->sig, sigs, 2) == 0;
    printf("serving http://127.0.0.1:%d/\n", f->lst.port);
    fflush(stdout);
    aio_server_init(&f->srv, &f->lst, f->slots, 64, sizeof f->slots[0], handle);
    f->srv.first_byte_timeout = AIO_SEC(5);      /* keep-alive */
    f->srv.request_timeout = AIO_SEC(10);        /* a whole request head */
    f->srv.idle_timeout = AIO_SEC(10);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);
    f->st.srv = &f->srv;
    f->st.w = f->have_sig ? &f->sig : NULL;
    aio_spawn(&f->g, &f->stop_task, stopper, &f->st);
    if (f->demo) {
        f->cl.port = f->lst.port;
        aio_spawn(&f->g, &f->client_task, client, &f->cl);
        AIO_JOIN(rc, &f->client_task);
        aio_server_shutdown(&f->srv, AIO_SEC(1));
    }
    AIO_JOIN(rc, &f->server_task);
    aio_group_cancel(&f->g, "server stopped");
    AIO_GROUP_WAIT(rc, &f->g, rc);
    if (f->have_sig)
        aio_signal_close(&f->sig);
    printf("server stopped: %llu connection(s), %llu response(s), %llu timed out\n",
           (unsigned long long)f->srv.accepted, served, (unsigned long long)f->srv.timeouts);
    AIO_END(rc);
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
    fprintf(stderr, "net_http_hello: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: net_http_hello [PORT [--seconds S]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, signals */
    static aio_task task;
    static struct main_frame frame;
    long v;
    int i;
    frame.demo = argc < 2;
    if (argc >= 2) {
        if ((v = number(argv[1], 0, 65535)) < 0)
            return usage("invalid port (a number from 0 to 65535)", argv[1]);
        frame.port = (int)v;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc && (v = number(argv[i + 1], 1, 86400)) > 0) {
            frame.st.limit = AIO_SEC(v);
            i++;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            return usage("--seconds needs a number of seconds from 1 to 86400", i + 1 < argc ? argv[i + 1] : NULL);
        } else {
            return usage("unknown argument", argv[i]);
        }
    }
    if (frame.demo)
        frame.st.limit = AIO_SEC(5); /* a safety net; the demo ends long before */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
