/*
 * examples/thread_files.c - writes a file and reads it back through the
 * thread pool, so the loop never blocks on the disk.
 *
 * The Python original (anyio):
 *
 *     async def main():
 *         path = anyio.Path("/tmp/aio-example.txt")
 *         await path.write_text("written off the loop\n")
 *         print(await path.read_text(), end="")
 *
 * The C mapping: a caller-owned aio_pool over a pthread_t array, an
 * aio_limiter bounding the offloads (anyio's default thread limiter), and
 * AIO_FILE_WRITE_ALL / AIO_FILE_READ_ALL on an aio_file_op in the frame.
 */
#define AIO_IMPLEMENTATION
#include "aio_thread.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static aio_pool pool;

struct main_frame {
    aio_frame hdr;
    aio_limiter limiter;
    aio_file_op op;
    char path[64];
    char text[64];
    char back[64];
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_limiter_init(&f->limiter, 4);
    snprintf(f->path, sizeof f->path, "/tmp/aio-example-%d.txt", (int)getpid());
    strcpy(f->text, "written off the loop\n");
    AIO_FILE_WRITE_ALL(rc, &pool, &f->op, f->path, f->text, strlen(f->text), &f->limiter);
    if (rc < 0) {
        printf("write: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    printf("wrote %d bytes to %s\n", rc, f->path);
    AIO_FILE_READ_ALL(rc, &pool, &f->op, f->path, f->back, sizeof f->back, &f->limiter);
    if (rc < 0) {
        printf("read: %s\n", aio_strerror(rc));
        AIO_RETURN(rc);
    }
    printf("read back: %.*s", rc, f->back);
    unlink(f->path);
    AIO_END(0);
}

int main(void)
{
    static aio_loop loop;
    static aio_reactor io; /* the OS reactor: fd waits, sockets, threads */
    static aio_task task;
    static struct main_frame frame;
    static pthread_t threads[2];
    int rc;
    if (aio_pool_init(&pool, threads, 2) != 0)
        return 1;
    aio_loop_init(&loop, NULL);
    aio_reactor_init(&io, &loop);
    rc = aio_run(&loop, &task, main_task, &frame);
    aio_pool_shutdown(&pool);
    aio_loop_close(&loop);
    return rc == 0 ? 0 : 1;
}
