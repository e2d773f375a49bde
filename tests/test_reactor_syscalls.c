/*
 * tests/test_reactor_syscalls.c - the system calls of a loop turn, counted
 * through the AIO_SYS_<name> hooks (epoll backend): in the steady state a
 * turn with one ready fd makes exactly one epoll_wait and no epoll_ctl,
 * whether 0 or 1,000 other waiters are parked; a cross-thread wake is one
 * write and no read (edge-triggered eventfd); a descriptor nobody waits on
 * any more is dropped by the first event that finds no waiter; a number
 * closed and reused behind the loop's back, or registered under an earlier
 * fd table, is registered again (ADD after ENOENT, MOD after EEXIST) or
 * removed; a descriptor past the table fails with AIO_EOVERFLOW.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static long n_wait, n_ctl, n_read, n_write;
static int cnt_epoll_wait(int ep, struct epoll_event *ev, int n, int ms) { n_wait++; return epoll_wait(ep, ev, n, ms); }
static int cnt_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev) { n_ctl++; return epoll_ctl(ep, op, fd, ev); }
static ssize_t cnt_read(int fd, void *b, size_t n) { n_read++; return read(fd, b, n); }
static ssize_t cnt_write(int fd, const void *b, size_t n) { n_write++; return write(fd, b, n); }
#define AIO_SYS_epoll_wait cnt_epoll_wait
#define AIO_SYS_epoll_ctl cnt_epoll_ctl
#define AIO_SYS_read cnt_read
#define AIO_SYS_write cnt_write
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_EPOLL
#include "harness.h"

static aio_loop L;
static aio_task mt;

#define TURNS 100
#define OTHERS 1000

struct counts { long wait, ctl, read, write; uint64_t turns; };
static void snap(struct counts *c)
{
    c->wait = n_wait;
    c->ctl = n_ctl;
    c->read = n_read;
    c->write = n_write;
    c->turns = L.turns;
}

static int others_p[OTHERS][2];
static aio_task others_t[OTHERS];
struct other { aio_frame hdr; int fd; };
static struct other others_f[OTHERS];

/* Waits TURNS + 1 times on an fd that stays readable (never drained),
 * optionally waking its own loop before each wait; counts from the second. */
struct spin { aio_frame hdr; int fd, wake, i; struct counts a, b; };
static int spin(aio_task *t, void *p)
{
    struct spin *f = (struct spin *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i <= TURNS; f->i++) {
        if (f->i == 1)
            snap(&f->a);
        if (f->wake)
            aio_loop_wake(aio_task_loop(t));
        AIO_WAIT_READABLE(rc, f->fd);
        if (rc != 0)
            AIO_RETURN(rc);
    }
    snap(&f->b);
    for (f->i = 0; f->i < OTHERS; f->i++) /* the bystanders go */
        if (others_f[f->i].fd > 0)
            aio_notify_closing(aio_task_loop(t), others_f[f->i].fd);
    AIO_END(0);
}

static int other(aio_task *t, void *p)
{
    struct other *f = (struct other *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    AIO_END(rc);
}

struct main_f { aio_frame hdr; aio_group g; aio_task st; struct spin s; int nothers, i; };
static int main_task(aio_task *t, void *p)
{
    struct main_f *f = (struct main_f *)p;
    int rc = 0;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    for (f->i = 0; f->i < f->nothers; f->i++)
        aio_spawn(&f->g, &others_t[f->i], other, &others_f[f->i]);
    AIO_YIELD();
    AIO_YIELD();
    CHECK_EQ(test_fd_waits(aio_task_loop(t)), (uint32_t)f->nothers);
    aio_spawn(&f->g, &f->st, spin, &f->s);
    AIO_GROUP_WAIT(rc, &f->g, rc);
    AIO_END(0);
}

static void run_steady(int nothers, int wake)
{
    static struct main_f m;
    static aio_reactor_fd table[4 * OTHERS];
    int p[2], i;
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    for (i = 0; i < nothers; i++) {
        CHECK_EQ(pipe(others_p[i]), 0);
        others_f[i].fd = others_p[i][0];
    }
    test_loop_init(&L);
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), table, 4 * OTHERS), 0);
    if (wake)
        CHECK_EQ(aio_loop_wake_enable(&L), 0);
    memset(&m, 0, sizeof m);
    memset(&mt, 0, sizeof mt);
    memset(others_t, 0, sizeof others_t);
    m.nothers = nothers;
    m.s.fd = p[0];
    m.s.wake = wake;
    CHECK_EQ(aio_run(&L, &mt, main_task, &m), 0);
    CHECK_EQ(m.s.b.turns - m.s.a.turns, TURNS);      /* one loop turn per wait */
    CHECK_EQ(m.s.b.wait - m.s.a.wait, TURNS);        /* one epoll_wait per turn */
    CHECK_EQ(m.s.b.ctl - m.s.a.ctl, 0);              /* no epoll_ctl in the steady state */
    CHECK_EQ(m.s.b.read - m.s.a.read, 0);            /* eventfd: edge-triggered, never read */
    CHECK_EQ(m.s.b.write - m.s.a.write, wake ? TURNS : 0); /* one write per wake */
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[0]);
    close(p[1]);
    for (i = 0; i < nothers; i++) {
        close(others_p[i][0]);
        close(others_p[i][1]);
        others_f[i].fd = 0;
    }
}

TEST(a_turn_with_one_ready_fd_is_one_epoll_wait_and_no_epoll_ctl)
{
    run_steady(0, 0);
}

TEST(a_thousand_other_parked_waiters_add_no_system_call)
{
    run_steady(OTHERS, 0);
}

TEST(a_cross_thread_wake_is_one_write_and_no_read)
{
    run_steady(0, 1);
}

/* One wait, then the fd stays readable with nobody waiting: the next wait
 * of the loop sees the event, finds no waiter and drops the registration. */
struct once { aio_frame hdr; int fd, fd2, rc, rc2; };
static int once(aio_task *t, void *p)
{
    struct once *f = (struct once *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_WAIT_READABLE(rc, f->fd);
    f->rc = rc;
    if (f->fd2 > 0) { /* a wait elsewhere: the loop polls with nobody waiting on fd */
        AIO_WAIT_WRITABLE(rc, f->fd2);
        f->rc2 = rc;
    }
    AIO_END(0);
}

TEST(a_registration_nobody_waits_on_is_dropped_by_its_next_event)
{
    struct once f;
    int p[2];
    long ctl0;
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    test_loop_init(&L);
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.fd = p[0];
    f.fd2 = p[1];
    ctl0 = n_ctl;
    CHECK_EQ(aio_run(&L, &mt, once, &f), 0);
    CHECK_EQ(f.rc, 0);
    CHECK_EQ(f.rc2, 0);
    CHECK_EQ(n_ctl - ctl0, 3); /* ADD for each wait, DEL for the event nobody wanted */
    CHECK_EQ(test_reactor(&L)->fds[p[0]].reg, 0);
    CHECK_EQ(test_reactor(&L)->fds[p[1]].reg, AIO_WRITABLE); /* lingers: nothing reported it since */
    ctl0 = n_ctl;
    CHECK_EQ(aio_notify_closing(&L, p[0]), 0);
    CHECK_EQ(n_ctl - ctl0, 0); /* nothing left to drop */
    CHECK_EQ(aio_notify_closing(&L, p[1]), 0);
    CHECK_EQ(n_ctl - ctl0, 1); /* DEL */
    CHECK_EQ(test_reactor(&L)->fds[p[1]].reg, 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[0]);
    close(p[1]);
}

/* Past the table: a clear error, nothing parked. */
TEST(a_descriptor_past_the_fd_table_fails_with_eoverflow)
{
    struct once f;
    int p[2];
    static aio_reactor_fd small[4];
    CHECK_EQ(pipe(p), 0);
    test_loop_init(&L);
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), small, 4), 0);
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.fd = p[0] > 4 ? p[0] : 4;
    CHECK_EQ(aio_run(&L, &mt, once, &f), 0);
    CHECK_EQ(f.rc, AIO_EOVERFLOW);
    CHECK_EQ(test_fd_waits(&L), 0);
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), NULL, 4), AIO_EINVAL);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[0]);
    close(p[1]);
}

/* Waits on fd in direction dir, then records the result. */
struct dirwait { aio_frame hdr; int fd; unsigned dir; int rc, done; };
static int dirwait(aio_task *t, void *p)
{
    struct dirwait *f = (struct dirwait *)p;
    int rc;
    AIO_BEGIN(t, f);
    if (f->dir == AIO_READABLE)
        AIO_WAIT_READABLE(rc, f->fd);
    else
        AIO_WAIT_WRITABLE(rc, f->fd);
    f->rc = rc;
    f->done = 1;
    AIO_END(0);
}

static int wait_once(int fd, unsigned dir)
{
    static struct dirwait f;
    memset(&f, 0, sizeof f);
    memset(&mt, 0, sizeof mt);
    f.fd = fd;
    f.dir = dir;
    if (aio_run(&L, &mt, dirwait, &f) != 0 || !f.done)
        return -1;
    return f.rc;
}

/* A number closed behind the loop's back (no aio_notify_closing) and reused:
 * the kernel dropped the old registration, so the MOD a new direction needs
 * fails with ENOENT and the reactor ADDs instead. */
TEST(a_number_closed_and_reused_behind_the_loops_back_is_registered_again)
{
    int a[2], b[2], num;
    long ctl0;
    test_loop_init(&L);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    CHECK_EQ(write(a[1], "x", 1), 1);
    num = a[0];
    CHECK_EQ(wait_once(num, AIO_READABLE), 0);
    CHECK_EQ(test_reactor(&L)->fds[num].reg, AIO_READABLE); /* lingers */
    close(a[0]); /* behind the loop's back: the kernel drops the registration */
    close(a[1]);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    if (b[0] != num) { /* the same number, another file */
        CHECK_EQ(dup2(b[0], num), num);
        close(b[0]);
    }
    ctl0 = n_ctl;
    CHECK_EQ(wait_once(num, AIO_WRITABLE), 0); /* MOD fails with ENOENT, then ADD */
    CHECK_EQ(n_ctl - ctl0, 2);
    CHECK_EQ(write(b[1], "y", 1), 1);
    CHECK_EQ(wait_once(num, AIO_READABLE), 0); /* MOD to add the direction */
    CHECK_EQ(aio_notify_closing(&L, num), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(num);
    close(b[1]);
}

/* Registrations made under an earlier table linger in the kernel: a wait
 * whose ADD finds one (EEXIST) modifies it instead. */
TEST(a_registration_left_from_an_earlier_table_is_modified_not_added_twice)
{
    int p[2];
    long ctl0;
    static aio_reactor_fd table[AIO_REACTOR_FDS];
    test_loop_init(&L);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(wait_once(p[0], AIO_READABLE), 0);
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), table, AIO_REACTOR_FDS), 0);
    ctl0 = n_ctl;
    CHECK_EQ(wait_once(p[0], AIO_READABLE), 0); /* ADD: EEXIST, then MOD */
    CHECK_EQ(n_ctl - ctl0, 2);
    CHECK_EQ(aio_notify_closing(&L, p[0]), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[0]);
    close(p[1]);
}

/* A registration the table does not know (made under an earlier table)
 * that fires with nobody waiting is deleted, not left to fire at every wait. */
TEST(an_event_for_a_registration_the_table_forgot_removes_it)
{
    int p[2];
    struct epoll_event ev;
    static aio_reactor_fd table[AIO_REACTOR_FDS];
    test_loop_init(&L);
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(wait_once(p[0], AIO_READABLE), 0); /* the registration lingers */
    CHECK_EQ(aio_reactor_set_fds(test_reactor(&L), table, AIO_REACTOR_FDS), 0);
    CHECK_EQ(wait_once(p[1], AIO_WRITABLE), 0); /* this wait sees p[0]'s event too */
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    CHECK(epoll_ctl(test_reactor(&L)->bfd, EPOLL_CTL_MOD, p[0], &ev) != 0); /* gone */
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(aio_notify_closing(&L, p[1]), 0);
    CHECK_EQ(aio_loop_close(&L), 0);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    RUN(a_turn_with_one_ready_fd_is_one_epoll_wait_and_no_epoll_ctl);
    RUN(a_thousand_other_parked_waiters_add_no_system_call);
    RUN(a_cross_thread_wake_is_one_write_and_no_read);
    RUN(a_registration_nobody_waits_on_is_dropped_by_its_next_event);
    RUN(a_descriptor_past_the_fd_table_fails_with_eoverflow);
    RUN(a_number_closed_and_reused_behind_the_loops_back_is_registered_again);
    RUN(a_registration_left_from_an_earlier_table_is_modified_not_added_twice);
    RUN(an_event_for_a_registration_the_table_forgot_removes_it);
    return harness_report();
}
