/*
 * tests/kqueue_double.h - a kqueue()/kevent() test double over poll(), so the
 * kqueue backend of aio.h compiles and runs its logic on systems without
 * kqueue.  Include it before aio.h with AIO_BACKEND_KQUEUE defined.
 *
 * What it models: knotes keyed by (ident, filter) for EVFILT_READ and
 * EVFILT_WRITE; EV_ADD (adding twice updates), EV_DELETE (ENOENT when
 * absent, EBADF on a closed fd); level-triggered results with EV_EOF on
 * hang-up; a knote whose fd was closed disappears silently, as the kernel
 * drops it on close; EINTR from the wait.  What it does not: other filters,
 * EV_ONESHOT/EV_CLEAR/EV_RECEIPT, udata, and a pollable queue descriptor
 * (the queue fd is a /dev/null handle; only its number matters).
 *
 * Test hooks: kqd_eintr_next (fail that many waits with EINTR) and
 * kqd_registered(kq, fd) (knotes on fd).  State is static: test code only.
 */
#ifndef AIO_TEST_KQUEUE_DOUBLE_H
#define AIO_TEST_KQUEUE_DOUBLE_H

#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AIO_KQUEUE_DOUBLE 1 /* aio.h: do not include <sys/event.h> */

struct kevent {
    uintptr_t ident;
    short filter;
    unsigned short flags;
    unsigned int fflags;
    intptr_t data;
    void *udata;
};

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define EV_SET(kevp, a, b, c, d, e, f) \
    do { \
        struct kevent *kqd_ev_ = (kevp); \
        kqd_ev_->ident = (a); \
        kqd_ev_->filter = (short)(b); \
        kqd_ev_->flags = (unsigned short)(c); \
        kqd_ev_->fflags = (unsigned int)(d); \
        kqd_ev_->data = (intptr_t)(e); \
        kqd_ev_->udata = (f); \
    } while (0)

#if defined(__GNUC__) || defined(__clang__)
#define KQD_UNUSED __attribute__((unused))
#else
#define KQD_UNUSED
#endif

#define KQD_QUEUES 8
#define KQD_KNOTES 4096

struct kqd_knote { int fd; short filter; };
struct kqd_queue { int used, kq, n; struct kqd_knote k[KQD_KNOTES]; };

static struct kqd_queue kqd_queues[KQD_QUEUES];
static struct pollfd kqd_pfd[KQD_KNOTES];
static int kqd_eintr_next; /* the next this-many waits fail with EINTR */

static struct kqd_queue *kqd_find(int kq)
{
    int i;
    for (i = 0; i < KQD_QUEUES; i++)
        if (kqd_queues[i].used && kqd_queues[i].kq == kq)
            return &kqd_queues[i];
    return NULL;
}

/* Drops the knotes of fds that are no longer open (the kernel does so on close). */
static void kqd_prune(struct kqd_queue *q)
{
    int i = 0;
    while (i < q->n) {
        if (fcntl(q->k[i].fd, F_GETFD) < 0)
            q->k[i] = q->k[--q->n];
        else
            i++;
    }
}

static int kqueue(void)
{
    int fd = open("/dev/null", O_RDONLY), i;
    struct kqd_queue *q;
    if (fd < 0)
        return -1;
    q = kqd_find(fd); /* a stale queue whose number was reused */
    for (i = 0; !q && i < KQD_QUEUES; i++)
        if (!kqd_queues[i].used)
            q = &kqd_queues[i];
    if (!q) {
        close(fd);
        errno = EMFILE;
        return -1;
    }
    q->used = 1;
    q->kq = fd;
    q->n = 0;
    return fd;
}

static int kqd_index(const struct kqd_queue *q, int fd, short filter)
{
    int i;
    for (i = 0; i < q->n; i++)
        if (q->k[i].fd == fd && q->k[i].filter == filter)
            return i;
    return -1;
}

KQD_UNUSED static int kqd_registered(int kq, int fd)
{
    struct kqd_queue *q = kqd_find(kq);
    int i, n = 0;
    if (!q)
        return 0;
    kqd_prune(q);
    for (i = 0; i < q->n; i++)
        n += q->k[i].fd == fd;
    return n;
}

static int kqd_apply(struct kqd_queue *q, const struct kevent *c)
{
    int fd = (int)c->ident, i;
    if (c->filter != EVFILT_READ && c->filter != EVFILT_WRITE) {
        errno = EINVAL;
        return -1;
    }
    if (fcntl(fd, F_GETFD) < 0) {
        errno = EBADF;
        return -1;
    }
    i = kqd_index(q, fd, c->filter);
    if (c->flags & EV_DELETE) {
        if (i < 0) {
            errno = ENOENT;
            return -1;
        }
        q->k[i] = q->k[--q->n];
        return 0;
    }
    if ((c->flags & EV_ADD) && i < 0) {
        if (q->n == KQD_KNOTES) {
            errno = ENOMEM;
            return -1;
        }
        q->k[q->n].fd = fd;
        q->k[q->n].filter = c->filter;
        q->n++;
    }
    return 0;
}

static int kevent(int kq, const struct kevent *changes, int nchanges, struct kevent *events, int nevents,
                  const struct timespec *timeout)
{
    struct kqd_queue *q = kqd_find(kq);
    int i, r, n = 0, ms;
    if (!q || fcntl(kq, F_GETFD) < 0) {
        errno = EBADF;
        return -1;
    }
    for (i = 0; i < nchanges; i++)
        if (kqd_apply(q, &changes[i]) != 0)
            return -1;
    if (nevents <= 0)
        return 0;
    if (kqd_eintr_next > 0) {
        kqd_eintr_next--;
        errno = EINTR;
        return -1;
    }
    kqd_prune(q);
    for (i = 0; i < q->n; i++) {
        kqd_pfd[i].fd = q->k[i].fd;
        kqd_pfd[i].events = q->k[i].filter == EVFILT_READ ? POLLIN : POLLOUT;
        kqd_pfd[i].revents = 0;
    }
    ms = !timeout ? -1 : (int)(timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000);
    r = poll(kqd_pfd, (nfds_t)q->n, ms);
    if (r < 0)
        return -1;
    for (i = 0; i < q->n && n < nevents; i++) {
        short re = kqd_pfd[i].revents;
        if (!re || (re & POLLNVAL))
            continue;
        EV_SET(&events[n], (uintptr_t)q->k[i].fd, q->k[i].filter, (re & POLLHUP) ? EV_EOF : 0, 0, 0, NULL);
        n++;
    }
    return n;
}

#endif
