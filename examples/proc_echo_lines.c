/*
 * examples/proc_echo_lines.c - runs `echo hello` and prints its output line
 * by line.
 *
 * The Python original (anyio):
 *
 *     async def main():
 *         async with await anyio.open_process(["echo", "hello"]) as process:
 *             async for line in TextReceiveStream(process.stdout):
 *                 print(line, end="")
 *
 * The C mapping: aio_proc_spawn with stdout as a pipe, AIO_PIPE_READ until
 * it reports 0 (end of stream), lines cut out of the frame's buffer, then
 * AIO_PROC_WAIT for the exit status.
 */
#define AIO_IMPLEMENTATION
#include "aio_proc.h"
#include <stdio.h>
#include <string.h>

struct main_frame {
    aio_frame hdr;
    aio_proc proc;
    char buf[256];
    size_t len;
};

/* Prints every complete line in buf and keeps the rest. */
static void print_lines(struct main_frame *f, int flush)
{
    char *nl;
    while ((nl = memchr(f->buf, '\n', f->len)) != NULL || (flush && f->len)) {
        size_t n = nl ? (size_t)(nl - f->buf) + 1 : f->len;
        printf("line: %.*s\n", (int)(nl ? n - 1 : n), f->buf);
        memmove(f->buf, f->buf + n, f->len - n);
        f->len -= n;
    }
}

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    static const char *const argv[] = { "echo", "hello", NULL };
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.io[1] = AIO_PROC_PIPE;
    rc = aio_proc_spawn(aio_task_loop(t), &f->proc, &o);
    if (rc) {
        printf("spawn: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    for (;;) {
        AIO_PIPE_READ(rc, f->proc.fds[1], f->buf + f->len, sizeof f->buf - f->len);
        if (rc <= 0)
            break;
        f->len += (size_t)rc;
        print_lines(f, f->len == sizeof f->buf);
    }
    print_lines(f, 1);
    AIO_PROC_WAIT(rc, &f->proc);
    printf("exit status %d\n", f->proc.returncode);
    aio_proc_close(&f->proc);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
