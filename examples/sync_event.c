/*
 * examples/sync_event.c - an event set by one task releases the tasks
 * waiting for it.
 *
 * The Python original (asyncio; trio.Event / anyio.Event are the same):
 *
 *     async def waiter(name, event):
 *         print(f"{name} waiting")
 *         await event.wait()
 *         print(f"{name} released")
 *
 *     async def setter(event):
 *         await asyncio.sleep(0.100)
 *         print("setting the event")
 *         event.set()
 *
 *     async def main():
 *         event = asyncio.Event()
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(waiter("a", event))
 *             tg.create_task(waiter("b", event))
 *             tg.create_task(setter(event))
 *
 * The C mapping: `await event.wait()` is AIO_EVENT_WAIT(rc, &event);
 * event.set() is aio_event_set(&event), a plain call that wakes every
 * waiter.  Waiting on an event that is already set does not block.
 *
 * Clock: the real monotonic clock; the program takes about 100 ms.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#include "aio_sync.h"

#include <stdio.h>
#include <string.h>

/* async def waiter(name, event) */
struct waiter { aio_frame hdr; const char *name; aio_event *ev; };
static int waiter(aio_task *t, void *p)
{
    struct waiter *f = (struct waiter *)p;
    int rc;
    AIO_BEGIN(t, f);
    printf("%s waiting\n", f->name);
    AIO_EVENT_WAIT(rc, f->ev);
    if (rc < 0)
        AIO_RETURN(rc);
    printf("%s released\n", f->name);
    AIO_END(0);
}

/* async def setter(event) */
struct setter { aio_frame hdr; aio_event *ev; };
static int setter(aio_task *t, void *p)
{
    struct setter *f = (struct setter *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(100));
    if (rc < 0)
        AIO_RETURN(rc);
    printf("setting the event\n");
    aio_event_set(f->ev);
    AIO_END(0);
}

struct main_frame {
    aio_frame hdr;
    aio_event ev;
    aio_group g;
    aio_task ta, tb, ts;
    struct waiter a, b;
    struct setter s;
};
static int main_coro(aio_task *t, void *p)
{
    struct main_frame *f = (struct main_frame *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_event_init(&f->ev);
    f->a.name = "a";
    f->b.name = "b";
    f->a.ev = f->b.ev = f->s.ev = &f->ev;
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->ta, waiter, &f->a);
    aio_spawn(&f->g, &f->tb, waiter, &f->b);
    aio_spawn(&f->g, &f->ts, setter, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

int main(void)
{
    static aio_loop loop;
    static aio_task mt;
    static struct main_frame f;
    aio_loop_init(&loop, NULL);
    return aio_run(&loop, &mt, main_coro, &f) == 0 ? 0 : 1;
}
