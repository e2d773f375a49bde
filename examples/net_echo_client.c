/*
 * net_echo_client.c - asyncio's open_connection echo client:
 *
 *     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
 *     writer.write(message.encode()); await writer.drain()
 *     data = await reader.readline()
 *     print(f'Received: {data.decode()!r}')
 *     writer.close(); await writer.wait_closed()
 *
 * Usage:
 *   net_echo_client                     demo: starts an echo server in-process, talks to it
 *   net_echo_client HOST PORT [MESSAGE...]   one line per message, against a running server
 * Run with net_echo_server as a pair:
 *   net_echo_server 8888 --once & net_echo_client 127.0.0.1 8888 hello
 * The whole exchange runs under a 5 s fail_after.
 */
#define AIO_IMPLEMENTATION
#include "aio_net.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client {
    aio_frame hdr;
    const char *host;
    int port;
    char **msgs;
    int nmsgs, i;
    aio_scope timeout;
    aio_stream s;
    aio_connect op;
    char buf[1024];
    char line[1024];
};

static int client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_fail_after(t, &f->timeout, AIO_SEC(5));
    aio_stream_init(&f->s, -1, f->buf, sizeof f->buf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, f->host, f->port);          /* open_connection */
    for (f->i = 0; rc == 0 && f->i < f->nmsgs; f->i++) {
        snprintf(f->line, sizeof f->line, "%s\n", f->msgs[f->i]);
        printf("Send: %s", f->line);
        AIO_STREAM_WRITE_ALL(rc, &f->s, f->line, strlen(f->line));  /* write + drain */
        if (rc < 0)
            break;
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->buf);              /* readline */
        if (rc < 0)
            break;
        printf("Received: %.*s", rc, aio_stream_line(&f->s));
        rc = 0;
    }
    aio_stream_close(aio_task_loop(t), &f->s);                      /* writer.close() */
    rc = aio_scope_exit(t, &f->timeout, rc);
    if (rc < 0)
        fprintf(stderr, "echo client: %s\n", aio_strerror(rc));
    AIO_END(rc);
}

/* The demo's in-process echo server: one handler per connection. */
struct conn {
    aio_conn conn;
    char buf[1024];
};

static int echo_lines(aio_task *t, void *frame)
{
    struct conn *f = (struct conn *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_set_buffer(&f->conn.stream, f->buf, sizeof f->buf);
    for (;;) {
        AIO_STREAM_READ_LINE(rc, &f->conn.stream, sizeof f->buf);
        if (rc < 0)
            break;
        AIO_STREAM_WRITE_ALL(rc, &f->conn.stream, aio_stream_line(&f->conn.stream), (size_t)rc);
        if (rc < 0)
            break;
    }
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_group g;
    aio_task server_task, client_task;
    aio_listener lst;
    aio_server srv;
    struct conn slots[4];
    struct client cl;
    int demo;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    if (f->demo) {
        rc = aio_tcp_listen(&f->lst, "127.0.0.1", 0, 0);
        if (rc < 0)
            AIO_RETURN(rc);
        aio_server_init(&f->srv, &f->lst, f->slots, 4, sizeof f->slots[0], echo_lines);
        aio_spawn(&f->g, &f->server_task, aio_server_serve, &f->srv);
        f->cl.port = f->lst.port;
    }
    aio_spawn(&f->g, &f->client_task, client, &f->cl);
    AIO_JOIN(rc, &f->client_task);
    if (f->demo)
        aio_server_shutdown(&f->srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}

int main(int argc, char **argv)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    static char *demo_msgs[] = { "Hello World!", "second line" };
    frame.demo = argc < 3;
    if (frame.demo) {
        frame.cl.host = "127.0.0.1";
        frame.cl.msgs = demo_msgs;
        frame.cl.nmsgs = 2;
    } else {
        frame.cl.host = argv[1];
        frame.cl.port = atoi(argv[2]);
        frame.cl.msgs = argc > 3 ? argv + 3 : demo_msgs;
        frame.cl.nmsgs = argc > 3 ? argc - 3 : 1;
    }
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
