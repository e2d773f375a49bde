/*
 * embedded/sizes.c - sizeof of the main aio objects, read back from the
 * object file with `nm -S` (so it needs no emulator): each array below is
 * as large as the type it is named after.  Built without AIO_DEBUG.
 */
#define AIO_NO_OS
#include "aio.h"
#include "aio_sync.h"
#include "aio_chan.h"

char aio_sizeof_task[sizeof(aio_task)];
char aio_sizeof_frame[sizeof(aio_frame)];
char aio_sizeof_scope[sizeof(aio_scope)];
char aio_sizeof_group[sizeof(aio_group)];
char aio_sizeof_timer[sizeof(aio_timer)];
char aio_sizeof_loop[sizeof(aio_loop)];
char aio_sizeof_post[sizeof(aio_post)];
char aio_sizeof_event[sizeof(aio_event)];
char aio_sizeof_lock[sizeof(aio_lock)];
char aio_sizeof_sem[sizeof(aio_sem)];
char aio_sizeof_flags[sizeof(aio_flags)];
char aio_sizeof_notify[sizeof(aio_notify)];
char aio_sizeof_chan[sizeof(aio_chan)];
char aio_sizeof_chan_end[sizeof(aio_chan_tx)];
