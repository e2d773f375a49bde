/*
 * examples/chan_memory_stream.c - a producer sends ten strings through a
 * memory object stream; closing the send end ends the consumer's loop.
 *
 * The Python original (anyio's memory object stream example; trio's
 * open_memory_channel reads the same):
 *
 *     async def process_items(receive_stream):
 *         async with receive_stream:
 *             async for item in receive_stream:
 *                 print("received", item)
 *
 *     async def main():
 *         send_stream, receive_stream = create_memory_object_stream[str]()
 *         async with create_task_group() as tg:
 *             tg.start_soon(process_items, receive_stream)
 *             async with send_stream:
 *                 for num in range(10):
 *                     await send_stream.send(f"number {num}")
 *
 * The C mapping:
 *   - create_memory_object_stream[str]() (max_buffer_size=0) is
 *     aio_chan_init(&ch, NULL, sizeof(item), 0, &tx, &rx): an unbuffered
 *     channel of fixed-size items; each send waits for the receiver.
 *   - `async for item in receive_stream` is AIO_CHAN_FOR(rc, &rx, &item);
 *     the loop ends with rc = AIO_EEND (anyio's EndOfStream) once the send
 *     end is closed.
 *   - `async with send_stream:` closing at the end is aio_chan_tx_close;
 *     `async with receive_stream:` is aio_chan_rx_close after the loop.
 *
 * Clock: the real monotonic clock; nothing sleeps, so it finishes at once.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_chan.h"

#include <stdio.h>
#include <string.h>

typedef struct item {
    char text[24];
} item;

struct consumer {
    aio_frame hdr;
    aio_chan_rx *rx;
    item it;
    int n;
};

static int process_items(aio_task *t, void *frame)
{
    struct consumer *f = (struct consumer *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_CHAN_FOR(rc, f->rx, &f->it) {
        printf("received %s\n", f->it.text);
        f->n++;
    }
    aio_chan_rx_close(f->rx);
    if (rc != AIO_EEND)
        AIO_RETURN(rc);
    printf("end of stream after %d items\n", f->n);
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_chan ch;
    aio_chan_tx tx;
    aio_chan_rx rx;
    aio_group g;
    aio_task ctask;
    struct consumer c;
    item it;
    int num;
};

static int main_task(aio_task *t, void *frame)
{
    struct main_frame *f = (struct main_frame *)frame;
    int rc = 0;
    AIO_BEGIN(t, f);
    aio_chan_init(&f->ch, NULL, sizeof(item), 0, &f->tx, &f->rx);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->c.rx = &f->rx;
    aio_spawn(&f->g, &f->ctask, process_items, &f->c);
    for (f->num = 0; f->num < 10; f->num++) {
        snprintf(f->it.text, sizeof f->it.text, "number %d", f->num);
        AIO_CHAN_SEND(rc, &f->tx, &f->it);
        if (rc < 0)
            break;
    }
    aio_chan_tx_close(&f->tx); /* the consumer's loop ends after the last item */
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_task mt;
    static struct main_frame f;
    int rc;
    aio_loop_init(&loop, NULL);
    rc = aio_run(&loop, &mt, main_task, &f);
    if (rc != 0)
        printf("error: %s\n", aio_strerror(rc));
    return rc != 0;
}
