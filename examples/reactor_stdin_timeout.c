/*
 * examples/reactor_stdin_timeout.c - reads lines from stdin, giving up when
 * no input arrives for two seconds.
 *
 * The Python original (trio):
 *
 *     async def main():
 *         while True:
 *             with trio.move_on_after(2) as scope:
 *                 await trio.lowlevel.wait_readable(sys.stdin.fileno())
 *             if scope.cancelled_caught:
 *                 print("no input for 2 s")
 *                 return
 *             data = os.read(0, 4096)
 *             if not data:
 *                 print("end of input")
 *                 return
 *             print("read", len(data), "bytes")
 *
 * The C mapping: aio_move_on_after + AIO_WAIT_READABLE + aio_scope_exit.
 * stdin is not made non-blocking (that would change it for every process
 * sharing it); after the wait says readable, one read() does not block.
 * With stdin at /dev/null or an empty file the wait completes at once (a
 * file is always ready) and read() reports end of input, so the program
 * exits immediately; try `./reactor_stdin_timeout`, then type, or wait.
 */
#define AIO_IMPLEMENTATION
#include "aio_reactor.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct reader {
    aio_frame hdr;
    aio_scope scope;
    long total;
};

static int reader(aio_task *t, void *p)
{
    struct reader *f = (struct reader *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (;;) {
        char buf[4096];
        ssize_t n;
        aio_scope_init(&f->scope);
        aio_move_on_after(t, &f->scope, AIO_SEC(2));
        AIO_WAIT_READABLE(rc, STDIN_FILENO);
        rc = aio_scope_exit(t, &f->scope, rc);
        if (aio_scope_cancelled_caught(&f->scope)) {
            printf("no input for 2 s\n");
            break;
        }
        if (rc < 0) {
            printf("wait failed: %s\n", aio_strerror(rc));
            AIO_RETURN(rc);
        }
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) {
            printf("end of input\n");
            break;
        }
        f->total += n;
        printf("read %ld bytes\n", (long)n);
    }
    printf("%ld bytes in total\n", f->total);
    AIO_END(0);
}

int main(void)
{
    aio_loop loop;
    aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    aio_task main_task;
    struct reader r;
    int rc;
    memset(&r, 0, sizeof r);
    memset(&main_task, 0, sizeof main_task);
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    rc = aio_run(&loop, &main_task, reader, &r);
    aio_loop_close(&loop);
    return rc == 0 ? 0 : 1;
}
