/*
 * tests/test_core_stats.c - aio_loop_stats: live tasks (spawned, started,
 * nested), armed timers, fd waits and held locks, counted while they exist
 * and back to zero once they are gone.
 */
#define AIO_IMPLEMENTATION
#include "harness.h"
#include "../aio_sync.h"
#include <unistd.h>

static aio_loop L;
static aio_task mt;

/* Sleeps `dur`. */
struct nap { aio_frame hdr; aio_time dur; };
static int nap(aio_task *t, void *p)
{
    struct nap *f = (struct nap *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->dur);
    AIO_END(rc);
}

/* Opens a group of its own with two nappers in it, inside a scope with a deadline. */
struct nest {
    aio_frame hdr;
    aio_group g;
    aio_scope sc;
    aio_task kids[2];
    struct nap naps[2];
};
static int nest(aio_task *t, void *p)
{
    struct nest *f = (struct nest *)p;
    int rc, i;
    AIO_BEGIN(t, f);
    aio_move_on_after(t, &f->sc, AIO_SEC(100));
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (i = 0; i < 2; i++) {
        f->naps[i].dur = AIO_MS(10);
        aio_spawn(&f->g, &f->kids[i], nap, &f->naps[i]);
    }
    AIO_GROUP_WAIT(rc, &f->g, 0);
    rc = aio_scope_exit(t, &f->sc, rc);
    AIO_END(rc);
}

/* Signals started, then holds the lock for a while. */
struct holder { aio_frame hdr; aio_lock *lock; };
static int holder(aio_task *t, void *p)
{
    struct holder *f = (struct holder *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_LOCK_ACQUIRE(rc, f->lock);
    aio_started(t, NULL);
    AIO_SLEEP(rc, AIO_MS(20));
    aio_lock_release(t, f->lock);
    AIO_END(rc);
}

/* Waits for the read end of a pipe to become readable. */
struct reader { aio_frame hdr; int fd; };
static int reader(aio_task *t, void *p)
{
    struct reader *f = (struct reader *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    AIO_END(rc < 0 ? rc : 0);
}

static void noop(aio_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

struct m_stats {
    aio_frame hdr;
    aio_group g;
    aio_task nest_t, hold_t, read_t;
    struct nest nest;
    struct holder hold;
    struct reader rd;
    aio_lock lock;
    aio_call call;
    aio_stats at_start, busy, after;
    int fds[2];
};

static int m_stats_fn(aio_task *t, void *p)
{
    struct m_stats *f = (struct m_stats *)p;
    int rc;
    AIO_BEGIN(t, f);
    aio_loop_stats(&L, &f->at_start);
    aio_lock_init(&f->lock);
    f->hold.lock = &f->lock;
    f->rd.fd = f->fds[0];
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->nest_t, nest, &f->nest);
    aio_spawn(&f->g, &f->read_t, reader, &f->rd);
    AIO_START(rc, &f->g, &f->hold_t, holder, &f->hold, NULL);
    aio_call_later(&L, &f->call, AIO_SEC(5), noop, NULL);
    AIO_SLEEP(rc, AIO_MS(1));
    aio_loop_stats(&L, &f->busy);
    aio_call_cancel(&L, &f->call);
    if (write(f->fds[1], "x", 1) != 1)
        AIO_RETURN(AIO_EINVAL);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    aio_loop_stats(&L, &f->after);
    AIO_END(rc);
}

TEST(stats_count_live_tasks_timers_fd_waits_and_holds)
{
    static struct m_stats m;
    aio_stats end;
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    CHECK_EQ(pipe(m.fds), 0);
    test_loop_init(&L);
    aio_loop_stats(&L, &end);
    CHECK_EQ(end.tasks, 0);
    CHECK_EQ(end.timers, 0);
    CHECK_EQ(aio_run(&L, &mt, m_stats_fn, &m), 0);
    /* At the start: only the main task, running. */
    CHECK_EQ(m.at_start.tasks, 1);
    CHECK_EQ(m.at_start.ready, 0);
    CHECK_EQ(m.at_start.timers, 0);
    CHECK_EQ(m.at_start.fd_waits, 0);
    CHECK_EQ(m.at_start.holds, 0);
    /* Busy: main, nest and its two nappers, the reader, the started holder. */
    CHECK_EQ(m.busy.tasks, 6);
    CHECK_EQ(m.busy.ready, 0);
    /* The nappers' sleeps, nest's deadline, the holder's sleep, the call. */
    CHECK_EQ(m.busy.timers, 5);
    CHECK_EQ(m.busy.fd_waits, 1);
    CHECK_EQ(m.busy.holds, 1);
    CHECK(m.busy.steps > m.at_start.steps);
    /* Everything finished: the main task is all that is left. */
    CHECK_EQ(m.after.tasks, 1);
    CHECK_EQ(m.after.timers, 0);
    CHECK_EQ(m.after.fd_waits, 0);
    CHECK_EQ(m.after.holds, 0);
    CHECK_EQ(m.after.cancels, 0);
    aio_loop_stats(&L, &end);
    CHECK_EQ(end.tasks, 0);
    CHECK_EQ(end.ready, 0);
    CHECK_EQ(end.timers, 0);
    CHECK(end.turns > 0);
    aio_loop_close(&L);
    close(m.fds[0]);
    close(m.fds[1]);
}

int main(void)
{
    RUN(stats_count_live_tasks_timers_fd_waits_and_holds);
    return harness_report();
}
