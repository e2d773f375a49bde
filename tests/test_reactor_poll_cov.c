/*
 * tests/test_reactor_poll_cov.c - the poll backend's descriptor limit: with
 * AIO_POLL_MAX set to 4, of four readers the one that would need the
 * fourth slot fails with AIO_EOVERFLOW and the three registered are unaffected.
 */
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_POLL
#define AIO_POLL_MAX 4
#include "harness.h"
#include <unistd.h>

static aio_loop L;
static aio_task mt;

struct reader { aio_frame hdr; int fd; int rc; };
static int reader(aio_task *t, void *p)
{
    struct reader *f = (struct reader *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    AIO_END(0);
}

struct full {
    aio_frame hdr;
    aio_group g;
    aio_task t[4];
    struct reader r[4];
    int p[4][2];
    int i;
};
static int full_main(aio_task *t, void *p)
{
    struct full *f = (struct full *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    for (f->i = 0; f->i < 4; f->i++) {
        f->r[f->i].fd = f->p[f->i][0];
        f->r[f->i].rc = 1;
        aio_spawn(&f->g, &f->t[f->i], reader, &f->r[f->i]);
    }
    for (f->i = 0; f->i < 4; f->i++)
        AIO_YIELD(); /* every reader has tried to register */
    for (f->i = 0; f->i < 4; f->i++)
        rc = (int)write(f->p[f->i][1], "x", 1);
    (void)rc;
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_wait_past_aio_poll_max_fails_with_eoverflow)
{
    static struct full f;
    int i, over, ok;
    memset(&f, 0, sizeof f);
    for (i = 0; i < 4; i++)
        CHECK_EQ(pipe(f.p[i]), 0);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, full_main, &f), 0);
    /* Whichever reader came fourth was refused; the three registered waits completed. */
    for (i = 0, over = 0, ok = 0; i < 4; i++) {
        over += f.r[i].rc == AIO_EOVERFLOW;
        ok += f.r[i].rc == 0;
    }
    CHECK_EQ(over, 1);
    CHECK_EQ(ok, 3);
    aio_loop_close(&L);
    for (i = 0; i < 4; i++) {
        close(f.p[i][0]);
        close(f.p[i][1]);
    }
}

int main(void)
{
    RUN(a_wait_past_aio_poll_max_fails_with_eoverflow);
    return harness_report();
}
