/*
 * examples/proc_communicate.c - feeds text to a shell child and collects
 * what it writes back, with a deadline.
 *
 * The Python original (asyncio):
 *
 *     async def main():
 *         proc = await asyncio.create_subprocess_exec(
 *             "sh", "-c", "tr a-z A-Z; echo done >&2",
 *             stdin=PIPE, stdout=PIPE, stderr=PIPE)
 *         out, err = await asyncio.wait_for(proc.communicate(b"hello from aio\n"), 5)
 *         print(out, err, proc.returncode)
 *
 * The C mapping: aio_proc_spawn with three pipes, aio_proc_comm_init with
 * the input and two output buffers, AIO_PROC_COMMUNICATE inside
 * aio_fail_after (a timeout would terminate the child).
 */
#define AIO_IMPLEMENTATION
#include "aio_proc.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct main_frame {
    aio_frame hdr;
    aio_proc proc;
    aio_proc_comm comm;
    aio_scope timeout;
    char out[256], err[256];
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    static const char *const argv[] = { "sh", "-c", "tr a-z A-Z; echo done >&2", NULL };
    static const char input[] = "hello from aio\n";
    aio_proc_opts o;
    int rc;
    AIO_BEGIN(t, f);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.io[0] = o.io[1] = o.io[2] = AIO_PROC_PIPE;
    rc = aio_proc_spawn(aio_task_loop(t), &f->proc, &o);
    if (rc)
        AIO_RETURN(rc);
    aio_proc_comm_init(&f->comm, &f->proc, input, sizeof input - 1, f->out, sizeof f->out, f->err,
                       sizeof f->err);
    aio_fail_after(t, &f->timeout, AIO_SEC(5));
    AIO_PROC_COMMUNICATE(rc, &f->comm);
    rc = aio_scope_exit(t, &f->timeout, rc);
    printf("stdout: %.*s", (int)f->comm.out_len, f->out);
    printf("stderr: %.*s", (int)f->comm.err_len, f->err);
    printf("result: %s, exit status %d\n", aio_strerror(rc), f->proc.returncode);
    aio_proc_close(&f->proc);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    signal(SIGPIPE, SIG_IGN); /* a child that stops reading makes our write fail with EPIPE instead */
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    return aio_run(&loop, &task, main_task, &frame) == 0 ? 0 : 1;
}
