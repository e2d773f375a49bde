/*
 * net_echo_server.c - asyncio's start_server echo example:
 *
 *     async def handle(reader, writer):
 *         data = await reader.readline()
 *         print(f"{writer.get_extra_info('peername')}: {data!r}")
 *         writer.write(data); await writer.drain(); writer.close()
 *     server = await asyncio.start_server(handle, '127.0.0.1', 8888)
 *     async with server: await server.serve_forever()
 *
 * Usage:
 *   net_echo_server                    demo: serves one built-in client, then exits
 *   net_echo_server PORT [--once] [--seconds S]
 *                                      serves on 127.0.0.1:PORT; --once stops after the
 *                                      first connection; --seconds S after S seconds
 * Run with net_echo_client as a pair:
 *   net_echo_server 8888 --once & net_echo_client 127.0.0.1 8888 hello
 */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One connection: echo every line, printing it with the peer's address. */
struct conn {
    aio_conn conn;            /* first: the server fills stream and peer */
    char buf[1024];
    char peer[64];
    int n;
};

static int once;

static int handle(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    aio_sockaddr_format(&f->conn.peer, f->peer, sizeof f->peer);
    printf("%s connected\n", f->peer);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, &f->conn.stream, sizeof f->buf);   /* await reader.readline() */
        if (rc < 0)
            break;
        f->n = rc;
        printf("%s: %.*s", f->peer, f->n, aio_stream_line(&f->conn.stream));
        fflush(stdout);
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, aio_stream_line(&f->conn.stream), (size_t)f->n);
        if (rc < 0)
            break;
    }
    printf("%s closed (%s)\n", f->peer, rc == AIO_EEND ? "end of stream" : aio_strerror(rc));
    if (once)
        aio_server_shutdown(f->conn.server, AIO_SEC(1));
    AIO_END(0);                                /* the server closes the connection */
}

/* The demo's built-in client (net_echo_client.c shows the client side). */
struct client {
    aio_frame hdr;
    int port, i;
    aio_stream s;
    aio_connect op;
    char buf[128];
};

static int client(aio_task *t, void *frame)
{
    static const char *lines[] = { "hello\n", "echo me\n" };
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    for (f->i = 0; rc == 0 && f->i < 2; f->i++) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, lines[f->i], strlen(lines[f->i]));
        if (rc >= 0)
            AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);
        rc = rc < 0 ? rc : 0;
    }
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(rc);
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

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_task, client_task, timer_task;
    aio_listener lst;
    aio_server srv;
    struct conn slots[16];
    struct client cl;
    struct limit_frame lim;
    int port, demo;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    rc = aio_tcp_listen(&f->lst, "127.0.0.1", f->port, 0);
    if (rc < 0) {
        fprintf(stderr, "listen: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    printf("serving on 127.0.0.1:%d\n", f->lst.port);
    fflush(stdout);
    aio_server_init(&f->srv, &f->lst, f->slots, 16, sizeof f->slots[0], handle);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);   /* serve_forever() */
    if (f->demo) {
        f->cl.port = f->lst.port;
        aio_spawn(&f->g, &f->client_task, client, &f->cl);
    }
    if (f->lim.limit > 0) {
        f->lim.srv = &f->srv;
        aio_spawn(&f->g, &f->timer_task, time_limit, &f->lim);
    }
    AIO_JOIN(rc, &f->server_task);              /* until a shutdown */
    aio_group_cancel(&f->g, "server stopped");  /* ends the time limit */
    AIO_GROUP_WAIT(rc, &f->g, rc);
    printf("server stopped: %llu connection(s)\n", (unsigned long long)f->srv.accepted);
    AIO_END(rc);
}

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    int i;
    frame.demo = argc < 2;
    once = frame.demo;
    if (argc >= 2)
        frame.port = atoi(argv[1]);
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            frame.lim.limit = AIO_SEC(atoi(argv[++i]));
    }
    if (frame.demo)
        frame.lim.limit = AIO_SEC(5); /* a safety net; the demo ends long before */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
