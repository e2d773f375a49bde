/*
 * net_resp_kv.c - a small key-value server speaking RESP, the Redis
 * protocol (PING, GET, SET), so redis-cli and redis-benchmark can talk to
 * it:
 *
 *     # Python (asyncio), the same server in outline:
 *     async def handle(reader, writer):
 *         while cmd := await read_resp_array(reader):
 *             writer.write(execute(cmd))
 *             if not reader._buffer: await writer.drain()   # pipelining
 *
 * Commands arrive as RESP arrays ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") or as
 * inline lines ("PING\r\n", for nc and telnet).  Replies go through the
 * stream's write buffer and are flushed only when no further command is
 * already buffered (aio_stream_buffered), so a pipelined batch is answered
 * with one send.  Limits: 64 keys, keys and values up to 64 bytes, 8
 * arguments, 512-byte lines: an inline command over them gets an error
 * reply; an array over them, or a line longer than 512 bytes
 * (AIO_ETOOLONG), closes the connection.  The server's
 * default timeouts hold; each command ends a request.  SIGINT/SIGTERM: a
 * graceful shutdown.
 *
 * Usage:
 *   net_resp_kv                        demo: a built-in client runs a few commands
 *   net_resp_kv PORT [--seconds S]     serves on 127.0.0.1:PORT (0: a free port)
 *   redis-cli -p PORT set k v ; redis-cli -p PORT get k
 *   redis-benchmark -p PORT -t set,get,ping -q
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

#define NKEYS 64
#define KMAX 64
#define MAXARGS 8
#define LINE_MAX_LEN 512

/* The store: a fixed table, linear search (it is an example). */
static struct entry {
    char key[KMAX], val[KMAX];
    int klen, vlen, used;
} store[NKEYS];

static struct entry *find(const char *k, int klen)
{
    int i;
    for (i = 0; i < NKEYS; i++)
        if (store[i].used && store[i].klen == klen && memcmp(store[i].key, k, (size_t)klen) == 0)
            return &store[i];
    return NULL;
}

struct conn {
    aio_conn conn;               /* first */
    char rbuf[LINE_MAX_LEN + 8];
    char wbuf[4096];
    char arg[MAXARGS][KMAX + 2]; /* each argument and its \r\n */
    int alen[MAXARGS];
    int nargs, i, want, bad;
    char out[KMAX + 32];
    int n;
};

static unsigned long long commands;

/* Builds the reply to the command in f->arg[0..nargs) into f->out. */
static void execute(struct conn *f)
{
    char cmd[8];
    int i;
    struct entry *e;
    if (f->bad) {
        f->n = snprintf(f->out, sizeof f->out, "-ERR %s\r\n",
                        f->bad == 1 ? "argument too long (64 bytes at most)" : "too many arguments");
        return;
    }
    for (i = 0; i < (int)sizeof cmd - 1 && i < f->alen[0]; i++)
        cmd[i] = (char)toupper((unsigned char)f->arg[0][i]);
    cmd[i] = 0;
    if (f->alen[0] > (int)sizeof cmd - 1)
        cmd[0] = 0;
    if (strcmp(cmd, "PING") == 0 && f->nargs == 1) {
        f->n = snprintf(f->out, sizeof f->out, "+PONG\r\n");
    } else if (strcmp(cmd, "GET") == 0 && f->nargs == 2) {
        e = find(f->arg[1], f->alen[1]);
        if (e)
            f->n = snprintf(f->out, sizeof f->out, "$%d\r\n%.*s\r\n", e->vlen, e->vlen, e->val);
        else
            f->n = snprintf(f->out, sizeof f->out, "$-1\r\n");
    } else if (strcmp(cmd, "SET") == 0 && f->nargs == 3) {
        e = find(f->arg[1], f->alen[1]);
        for (i = 0; !e && i < NKEYS; i++)
            if (!store[i].used)
                e = &store[i];
        if (!e) {
            f->n = snprintf(f->out, sizeof f->out, "-ERR the store is full (%d keys)\r\n", NKEYS);
            return;
        }
        memcpy(e->key, f->arg[1], (size_t)f->alen[1]);
        e->klen = f->alen[1];
        memcpy(e->val, f->arg[2], (size_t)f->alen[2]);
        e->vlen = f->alen[2];
        e->used = 1;
        f->n = snprintf(f->out, sizeof f->out, "+OK\r\n");
    } else if (strcmp(cmd, "COMMAND") == 0 || strcmp(cmd, "CONFIG") == 0) {
        f->n = snprintf(f->out, sizeof f->out, "*0\r\n"); /* redis-cli and redis-benchmark ask */
    } else {
        f->n = snprintf(f->out, sizeof f->out, "-ERR unknown command or wrong number of arguments\r\n");
    }
}

/* Splits an inline command line into arguments. */
static void split_inline(struct conn *f, const char *line, int len)
{
    int i = 0;
    f->nargs = 0;
    while (i < len) {
        int start;
        while (i < len && (line[i] == ' ' || line[i] == '\r' || line[i] == '\n'))
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
            i++;
        if (f->nargs == MAXARGS) {
            f->bad = 2;
            return;
        }
        if (i - start > KMAX) {
            f->bad = 1;
            return;
        }
        memcpy(f->arg[f->nargs], line + start, (size_t)(i - start));
        f->alen[f->nargs++] = i - start;
    }
}

static int handle(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    const char *line;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->rbuf, sizeof f->rbuf);
    aio_stream_set_wbuffer(&f->conn.stream, f->wbuf, sizeof f->wbuf);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, &f->conn.stream, LINE_MAX_LEN);
        if (rc < 0)
            break;
        line = aio_stream_line(&f->conn.stream);
        f->bad = 0;
        if (line[0] == '*') {                 /* a RESP array of bulk strings */
            f->nargs = atoi(line + 1);
            if (f->nargs < 1 || f->nargs > MAXARGS) {
                rc = AIO_EINVAL;              /* a protocol error: close */
                break;
            }
            for (f->i = 0; f->i < f->nargs; f->i++) {
                AIO_STREAM_READ_LINE(rc, &f->conn.stream, LINE_MAX_LEN);
                if (rc < 0)
                    break;
                line = aio_stream_line(&f->conn.stream);
                f->want = line[0] == '$' ? atoi(line + 1) : -1;
                if (f->want < 0 || f->want > KMAX) {
                    rc = AIO_EINVAL;
                    break;
                }
                AIO_STREAM_READ_EXACT(rc, &f->conn.stream, f->arg[f->i], (size_t)f->want + 2);
                if (rc < 0)
                    break;
                f->alen[f->i] = f->want;
            }
            if (rc < 0)
                break;
        } else {
            split_inline(f, aio_stream_line(&f->conn.stream), rc); /* no read since the line was found */
            if (f->nargs == 0 && !f->bad)
                continue;
        }
        execute(f);
        commands++;
        AIO_STREAM_WRITE(rc, &f->conn.stream, f->out, (size_t)f->n);
        if (rc >= 0 && aio_stream_buffered(&f->conn.stream) == 0)
            AIO_STREAM_FLUSH(rc, &f->conn.stream); /* nothing more pipelined: send the replies */
        if (rc < 0)
            break;
        aio_conn_request_done(&f->conn);
    }
    if (aio_stream_wbuffered(&f->conn.stream))
        AIO_STREAM_FLUSH(rc, &f->conn.stream);
    AIO_END(0);
}

/* The demo's client: a pipelined batch, then one command at a time. */
struct client {
    aio_frame hdr;
    int port, i, got;
    aio_stream s;
    aio_connect op;
    char buf[512];
};

static int client(aio_task *t, void *frame)
{
    static const char batch[] = "*1\r\n$4\r\nPING\r\n"
                                "*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$5\r\nhello\r\n"
                                "*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n";
    static const char *more[] = { "GET missing\r\n", "PING\r\n", "FLUSHALL\r\n" };
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc == 0)
        AIO_STREAM_WRITE_ALL(rc, &f->s, batch, sizeof batch - 1);
    for (f->i = 0; rc >= 0 && f->i < 4; f->i++) { /* +PONG, +OK, $5, hello */
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);
        if (rc > 0)
            printf("pipelined reply: %.*s\n", rc - 2, aio_stream_line(&f->s));
    }
    for (f->i = 0; rc >= 0 && f->i < 3; f->i++) {
        printf("> %.*s\n", (int)strlen(more[f->i]) - 2, more[f->i]);
        AIO_STREAM_WRITE_ALL(rc, &f->s, more[f->i], strlen(more[f->i]));
        if (rc >= 0)
            AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);
        if (rc > 0)
            printf("  %.*s\n", rc - 2, aio_stream_line(&f->s));
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc < 0 ? rc : 0);
}

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
    if (rc >= 0)
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
        fprintf(stderr, "net_resp_kv: listen on 127.0.0.1:%d: %s\n", f->port, aio_strerror(rc));
        AIO_RETURN(rc);
    }
    f->have_sig = aio_signal_open(aio_task_loop(t), &f->sig, sigs, 2) == 0;
    printf("serving RESP on 127.0.0.1:%d\n", f->lst.port);
    fflush(stdout);
    aio_server_init(&f->srv, &f->lst, f->slots, 64, sizeof f->slots[0], handle);
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
    printf("server stopped: %llu connection(s), %llu command(s)\n", (unsigned long long)f->srv.accepted, commands);
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
    fprintf(stderr, "net_resp_kv: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: net_resp_kv [PORT [--seconds S]]\n");
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
        frame.st.limit = AIO_SEC(5); /* a safety net */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
