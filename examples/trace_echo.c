/*
 * examples/trace_echo.c - a timeline of an echo server under load.
 *
 * An echo server and four clients in one loop, on loopback: each client
 * sends 50 lines and reads each one back.  An aio_trace (aio_trace.h)
 * records every spawn, step, exit and wait of the loop into a fixed buffer,
 * and the run is written as Chrome trace-event JSON, which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open as a timeline: one row per
 * task, the loop's waits on a row of their own.
 *
 *     ./trace_echo                 runs and prints a summary
 *     ./trace_echo trace.json      also writes the trace
 *     python3 docs/trace_svg.py trace.json > trace.svg    a picture of it
 *
 * Python counterpart: running an asyncio server under a tracer such as
 * viztracer (`viztracer --log_async server.py`), whose output is the same
 * trace-event format.
 */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include "aio_trace.h"
#include <stdio.h>
#include <string.h>

#define CLIENTS 4
#define LINES 50

/* One connection: echo every line. */
struct conn {
    aio_conn conn; /* first: the server fills stream and peer */
    char buf[256];
    int n;
};

static int handle(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_task_set_name(t, "connection");
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, &f->conn.stream, sizeof f->buf);
        if (rc < 0)
            break;
        f->n = rc;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, aio_stream_line(&f->conn.stream), (size_t)f->n);
        if (rc < 0)
            break;
    }
    AIO_END(0); /* end of stream: the server closes the connection */
}

struct client {
    aio_frame hdr;
    int port, i, echoed;
    aio_stream s;
    aio_connect op;
    char buf[256], line[64];
};

static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    for (f->i = 0; rc == 0 && f->i < LINES; f->i++) {
        snprintf(f->line, sizeof f->line, "line %d from %p\n", f->i, (void *)t);
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->line, strlen(f->line));
        if (rc >= 0)
            AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);
        if (rc >= 0 && (size_t)rc == strlen(f->line) && memcmp(aio_stream_line(&f->s), f->line, (size_t)rc) == 0)
            f->echoed++;
        rc = rc < 0 ? rc : 0;
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc);
}

struct main_frame {
    aio_frame hdr;
    aio_group g, clients;
    aio_task server_task, client_task[CLIENTS];
    aio_listener lst;
    aio_server srv;
    struct conn slots[CLIENTS];
    struct client cl[CLIENTS];
    int i, echoed;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_tcp_listen(&f->lst, "127.0.0.1", 0, 0);
    if (rc < 0) {
        fprintf(stderr, "listen: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    aio_server_init(&f->srv, &f->lst, f->slots, CLIENTS, sizeof f->slots[0], handle);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);
    aio_task_set_name(&f->server_task, "server");
    aio_group_enter(t, &f->clients, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < CLIENTS; f->i++) {
        f->cl[f->i].port = f->lst.port;
        aio_spawn(&f->clients, &f->client_task[f->i], client, &f->cl[f->i]);
        aio_task_set_name(&f->client_task[f->i], "client");
    }
    AIO_GROUP_WAIT(rc, &f->clients, 0);
    for (f->i = 0; f->i < CLIENTS; f->i++)
        f->echoed += f->cl[f->i].echoed;
    aio_server_shutdown(&f->srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, rc);
    printf("%d clients, %d of %d lines echoed back intact\n", CLIENTS, f->echoed, CLIENTS * LINES);
    AIO_END(f->echoed == CLIENTS * LINES ? rc : -1);
}

static void to_file(void *ctx, const char *text)
{
    fputs(text, (FILE *)ctx);
}

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, signals */
    static aio_task task;
    static struct main_frame frame;
    static aio_trace_event events[16384];
    static aio_trace tr;
    aio_stats st;
    int rc;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [TRACE.json]\n", argv[0]);
        return 2;
    }
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    aio_task_set_name(&task, "main");
    aio_trace_start(&tr, &loop, events, 16384);
    rc = aio_run(&loop, &task, main_task, &frame);
    aio_trace_stop(&tr);
    aio_loop_stats(&loop, &st);
    printf("trace: %u events held, %llu dropped; %llu steps in %llu turns\n", tr.count,
           (unsigned long long)tr.dropped, (unsigned long long)st.steps, (unsigned long long)st.turns);
    if (argc == 2) {
        FILE *out = fopen(argv[1], "w");
        if (!out) {
            perror(argv[1]);
            return 1;
        }
        aio_trace_write_json(&tr, to_file, out);
        if (fclose(out) != 0) {
            perror(argv[1]);
            return 1;
        }
        printf("trace written to %s\n", argv[1]);
    }
    return rc == 0 ? 0 : 1;
}
