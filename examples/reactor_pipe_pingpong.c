/*
 * examples/reactor_pipe_pingpong.c - two tasks play ping-pong over a pair of
 * pipes, each waiting for its pipe to become readable.
 *
 * The Python original (trio; anyio is the same with anyio.wait_readable):
 *
 *     async def player(name, rd, wr, serve, rounds):
 *         if serve:
 *             os.write(wr, b"1")
 *         for _ in range(rounds):
 *             await trio.lowlevel.wait_readable(rd)
 *             n = int(os.read(rd, 16))
 *             print(name, n)
 *             os.write(wr, str(n + 1).encode())
 *
 *     async with trio.open_nursery() as nursery:
 *         nursery.start_soon(player, "ping", a_rd, b_wr, True, 5)
 *         nursery.start_soon(player, "pong", b_rd, a_wr, False, 5)
 *
 * The C mapping: AIO_WAIT_READABLE(rc, fd) is wait_readable; the fds are
 * non-blocking so a read after the wait never blocks the loop.  Before the
 * pipes are closed, aio_notify_closing tells the loop (trio's
 * notify_closing); here nobody waits any more, so it wakes no one.
 */
#define AIO_IMPLEMENTATION
#include "aio_reactor.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 5

struct player {
    aio_frame hdr;
    const char *name;
    int rd, wr, serve, i;
};

static int send_num(int fd, int n)
{
    char buf[16];
    int len = snprintf(buf, sizeof buf, "%d", n);
    return write(fd, buf, (size_t)len) == len ? 0 : -1;
}

static int player(aio_task *t, void *p)
{
    struct player *f = (struct player *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->serve && send_num(f->wr, 1) != 0)
        AIO_RETURN(AIO_EBROKEN);
    for (f->i = 0; f->i < ROUNDS; f->i++) {
        char buf[16];
        ssize_t n;
        AIO_WAIT_READABLE(rc, f->rd);
        if (rc < 0)
            AIO_RETURN(rc);
        n = read(f->rd, buf, sizeof buf - 1);
        if (n <= 0)
            AIO_RETURN(AIO_EEND);
        buf[n] = 0;
        printf("%s %s\n", f->name, buf);
        if (send_num(f->wr, atoi(buf) + 1) != 0)
            AIO_RETURN(AIO_EBROKEN);
    }
    AIO_END(0);
}

struct game {
    aio_frame hdr;
    aio_group g;
    aio_task pt[2];
    struct player pl[2];
};

static int game(aio_task *t, void *p)
{
    struct game *f = (struct game *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->pt[0], player, &f->pl[0]);
    aio_spawn(&f->g, &f->pt[1], player, &f->pl[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

int main(void)
{
    aio_loop loop;
    aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    aio_task main_task;
    struct game g;
    int a[2], b[2], i, rc;
    if (pipe(a) != 0 || pipe(b) != 0)
        return 1;
    for (i = 0; i < 2; i++) {
        fcntl(a[i], F_SETFL, fcntl(a[i], F_GETFL) | O_NONBLOCK);
        fcntl(b[i], F_SETFL, fcntl(b[i], F_GETFL) | O_NONBLOCK);
    }
    memset(&g, 0, sizeof g);
    memset(&main_task, 0, sizeof main_task);
    g.pl[0].name = "ping";
    g.pl[0].rd = a[0];
    g.pl[0].wr = b[1];
    g.pl[0].serve = 1;
    g.pl[1].name = "pong";
    g.pl[1].rd = b[0];
    g.pl[1].wr = a[1];
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    rc = aio_run(&loop, &main_task, game, &g);
    printf("done on %s: %s\n", AIO_BACKEND_NAME, aio_strerror(rc));
    for (i = 0; i < 2; i++) {
        aio_notify_closing(&loop, a[i]);
        aio_notify_closing(&loop, b[i]);
        close(a[i]);
        close(b[i]);
    }
    aio_loop_close(&loop);
    return rc == 0 ? 0 : 1;
}
