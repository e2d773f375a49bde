/*
 * aio_net.h - sockets and streams for aio: TCP (IPv4/IPv6), Unix and UDP
 * sockets, nonblocking connect, listen/accept, buffered stream reads
 * (read_some, read_exact, read_until), write_all, and a server helper that
 * runs one handler task per connection from a caller-provided pool.
 *
 * Everything is built on the reactor of aio_reactor.h (fd readiness waits), so every
 * blocking operation honours cancel scopes and deadlines like any other
 * await.  The rules, for every operation here:
 *  - it is a cancel point: a task that is already cancelled gets
 *    AIO_ECANCELED before any system call is made;
 *  - it is a schedule point: when it completes at once (data was ready) the
 *    task still goes to the back of the run queue once, and that yield cannot
 *    be cancelled, so a completed operation is never reported as cancelled
 *    (trio's rule; it also keeps a peer that always has data from starving
 *    the other tasks).  Exceptions are named where they are declared;
 *  - single-shot operations (read_some, accept, connect, recvfrom, sendto)
 *    either happen or report AIO_ECANCELED with nothing consumed or sent;
 *  - multi-step operations report their progress in the object, never lose
 *    it: a cancelled (or failed) write_all has written aio_stream_written(s)
 *    bytes, a cancelled read_exact has stored aio_stream_nread(s) bytes in
 *    the destination, and read_until keeps everything it received in the
 *    stream's buffer, so a later read sees it.
 *
 * Errors: AIO_EEND at end of stream; OS errors as -errno (-ECONNRESET for a
 * peer reset, -EPIPE for a write after the peer closed, -ECONNREFUSED...).
 * SIGPIPE is never raised: sends use MSG_NOSIGNAL (or SO_NOSIGPIPE where
 * that is the only way).
 *
 * One reader and one writer at a time per stream, like the reactor's fd
 * waits: a second concurrent reader gets AIO_EBUSY.
 *
 * Syscall hook: every socket system call that moves data or connections
 * (recv, send, recvfrom, sendto, accept, connect) goes through an
 * aio_net_ops table chosen per object (aio_stream_set_ops, the listener's
 * and UDP socket's ops field); NULL means the real system calls.  Tests use
 * it to inject EINTR, EAGAIN, short writes and resets.
 *
 * Name resolution: numeric addresses are parsed with AI_NUMERICHOST and
 * never block.  A host name given to a connect is looked up on a thread of
 * an aio_thread.h pool when the connect has one (aio_connect_resolve_on;
 * include aio_thread.h before this header), so the loop goes on meanwhile.
 * Without one (no threads, or none given) it is resolved with a blocking
 * getaddrinfo on the loop's thread: the loop stalls for the lookup.  That
 * fallback is also what aio_tcp_listen does with a name.
 *
 * Usage: POSIX only; the loop needs the OS reactor (aio_reactor_init).
 * Include after aio.h; define AIO_IMPLEMENTATION in the
 * translation unit that compiles aio.h's bodies (aio_sync.h is included and
 * compiled too).  Nothing here allocates (getaddrinfo's own list is freed
 * before the call returns).
 *
 * Map (declarations, then the implementation in the same order, after the
 * real system calls): addresses; the syscall hook; streams (reads, writes,
 * buffered writes, close); connecting (with name lookup on the pool);
 * listening and accepting; the server (handler slots, timeouts, eviction,
 * shutdown); UDP; internals the macros use.  A first reader needs streams,
 * AIO_TCP_CONNECT and the server.
 */
#ifndef AIO_NET_H
#define AIO_NET_H

#include "aio_reactor.h"
#ifdef AIO_TIME32
#error "aio_net.h needs nanosecond time: AIO_TIME32 (32-bit ticks) is a firmware option"
#endif
#include "aio_sync.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

/** A socket address of any family (IPv4, IPv6, Unix) and its length.  Every field is API. */
typedef struct aio_sockaddr {
    struct sockaddr_storage ss; /* the address (cast &a.ss to struct sockaddr * for the socket calls) */
    socklen_t len;              /* its length in bytes */
} aio_sockaddr;

/**
 * Fills `a` from a numeric host ("127.0.0.1", "::1") and a port.  Never
 * blocks (AI_NUMERICHOST).  Returns 0 or AIO_EINVAL (not a numeric address,
 * port out of range).
 */
AIO_API int aio_sockaddr_ip(aio_sockaddr *a, const char *host, int port);
/** Fills `a` with a Unix socket path.  Returns 0 or AIO_EINVAL (path too long). */
AIO_API int aio_sockaddr_unix(aio_sockaddr *a, const char *path);
/** The port of an IPv4/IPv6 address, or -1 for other families. */
AIO_API int aio_sockaddr_port(const aio_sockaddr *a);
/**
 * Writes `a` as text into out[n]: "127.0.0.1:8080", "[::1]:8080", or
 * "unix:/path" ("unix:" for an unnamed peer).  Returns `out`.
 */
AIO_API char *aio_sockaddr_format(const aio_sockaddr *a, char *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Syscall hook                                                              */
/* ------------------------------------------------------------------------ */

/**
 * The socket system calls the header makes, as a table: each returns the
 * system call's result, or -errno on failure (never sets errno for the
 * caller).  accept must return a descriptor; the header then makes it
 * non-blocking and close-on-exec itself.  `ctx` is passed to every call.
 * aio_net_sys_ops() is the table of the real calls (a hook can forward to it).
 * With a table of its own, a stream's AIO_STREAM_WRITEV sends one piece per
 * call through `send`; with the real calls it gathers (sendmsg, or writev
 * for a descriptor that is not a socket).  Every field is API.
 */
typedef struct aio_net_ops {
    long (*recv)(void *ctx, int fd, void *buf, size_t len);
    long (*send)(void *ctx, int fd, const void *buf, size_t len);
    long (*recvfrom)(void *ctx, int fd, void *buf, size_t len, struct sockaddr *sa, socklen_t *salen);
    long (*sendto)(void *ctx, int fd, const void *buf, size_t len, const struct sockaddr *sa, socklen_t salen);
    int (*accept)(void *ctx, int fd, struct sockaddr *sa, socklen_t *salen);
    int (*connect)(void *ctx, int fd, const struct sockaddr *sa, socklen_t salen);
    void *ctx;
} aio_net_ops;

/** The table of real system calls (recv with a read fallback for non-sockets, send with MSG_NOSIGNAL). */
AIO_API const aio_net_ops *aio_net_sys_ops(void);

/*
 * Under the table, every socket system call of this header (and the fcntl,
 * read, write and close it makes) is spelled through an AIO_SYS_<name>
 * macro, listed in aio.h ("Syscall hooks"): a program can route them all,
 * for every object at once, by defining the macros before including the
 * headers in its implementation translation unit.  aio_net_sys_ops() calls
 * through them.
 */
#ifndef AIO_SYS_socket
#define AIO_SYS_socket socket
#endif
#ifndef AIO_SYS_bind
#define AIO_SYS_bind bind
#endif
#ifndef AIO_SYS_listen
#define AIO_SYS_listen listen
#endif
#ifndef AIO_SYS_accept
#define AIO_SYS_accept accept
#endif
#ifndef AIO_SYS_connect
#define AIO_SYS_connect connect
#endif
#ifndef AIO_SYS_recv
#define AIO_SYS_recv recv
#endif
#ifndef AIO_SYS_send
#define AIO_SYS_send send
#endif
#ifndef AIO_SYS_recvfrom
#define AIO_SYS_recvfrom recvfrom
#endif
#ifndef AIO_SYS_sendto
#define AIO_SYS_sendto sendto
#endif
#ifndef AIO_SYS_sendmsg
#define AIO_SYS_sendmsg sendmsg
#endif
#ifndef AIO_SYS_writev
#define AIO_SYS_writev writev
#endif
#ifndef AIO_SYS_getsockopt
#define AIO_SYS_getsockopt getsockopt
#endif
#ifndef AIO_SYS_setsockopt
#define AIO_SYS_setsockopt setsockopt
#endif
#ifndef AIO_SYS_getsockname
#define AIO_SYS_getsockname getsockname
#endif
#ifndef AIO_SYS_shutdown
#define AIO_SYS_shutdown shutdown
#endif
#ifndef AIO_SYS_unlink
#define AIO_SYS_unlink unlink
#endif

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct aio_server aio_server;
typedef struct aio_conn aio_conn;

/* State of the one read or write operation in progress on an object. */
typedef struct aio__net_op {
    unsigned char *buf;    /* destination or source */
    size_t len;            /* bytes asked for (read_until: the max) */
    size_t done;           /* bytes transferred so far */
    const char *delim;     /* read_until */
    size_t dlen;
    void *addr;            /* UDP peer (in or out) */
    int result;            /* result of a completed op, during its final yield */
    uint8_t kind;          /* AIO__OP_* */
    uint8_t phase;         /* AIO__PH_* */
    uint8_t waited;        /* the op has suspended once already */
} aio__net_op;

/**
 * A connected byte stream (TCP or Unix socket, or any fd) with an optional
 * caller-provided read buffer: asyncio's StreamReader + StreamWriter,
 * anyio's SocketStream + BufferedByteReceiveStream.  Zero-initialise it or
 * call aio_stream_init.  The read buffer is needed by read_until (a line can
 * be at most its size); read_some and read_exact drain it first and
 * otherwise read straight into the destination.
 */
typedef struct aio_stream {
    int fd;                  /* the descriptor, -1 when not connected (read-only: close with aio_stream_close) */
    /* private: the fields below are not API */
    const aio_net_ops *ops;  /* syscall hook (aio_stream_set_ops); NULL = real calls */
    unsigned char *rbuf;     /* read buffer (may be NULL) */
    size_t rcap;             /* its size */
    size_t rpos, rlen;       /* buffered bytes are rbuf[rpos..rlen) */
    size_t scan;             /* read_until: bytes already searched for the delimiter */
    const unsigned char *line; /* read_until: the last line found */
    aio__net_op rd, wr;
    uint8_t eof;             /* the peer closed its side */
    unsigned char *wbuf;     /* write buffer (may be NULL) */
    size_t wcap;             /* its size */
    size_t wpos, wlen;       /* bytes written and not yet sent are wbuf[wpos..wlen) */
    aio_conn *conn;          /* set by aio_server: the slot whose timeouts watch this stream's waits */
} aio_stream;

/**
 * Resets `s` over descriptor `fd` (-1: to be connected or accepted into)
 * with read buffer buf[cap] (NULL, 0: none).  A descriptor is made
 * non-blocking and close-on-exec.  Returns 0 or -errno.  Never suspends.
 */
AIO_API int aio_stream_init(aio_stream *s, int fd, void *buf, size_t cap);
/** Gives `s` a read buffer.  Returns 0, or AIO_EBUSY while bytes are buffered. */
AIO_API int aio_stream_set_buffer(aio_stream *s, void *buf, size_t cap);
/** Routes the stream's system calls through `ops` (NULL: the real calls). */
#define aio_stream_set_ops(s, o) ((void)((s)->ops = (o)))
/** Bytes a cancelled or failed AIO_STREAM_WRITE_ALL had written (and the count of the last one). */
#define aio_stream_written(s) ((s)->wr.done)
/** Bytes a cancelled or failed AIO_STREAM_READ_EXACT had stored (and the count of the last one). */
#define aio_stream_nread(s) ((s)->rd.done)
/** The line found by the last AIO_STREAM_READ_UNTIL: valid until the next read on `s`. */
#define aio_stream_line(s) ((const char *)(s)->line)
/**
 * Bytes received and not yet consumed (in the read buffer): a read of at
 * most this many bytes completes without waiting.  asyncio's
 * len(reader._buffer), made public.
 */
#define aio_stream_buffered(s) ((s)->rlen - (s)->rpos)

/**
 * Would the next AIO_STREAM_READ_SOME on `s` suspend?  Returns 0 when it
 * completes at once (bytes are buffered, end of stream was seen, or the
 * descriptor is readable, hung up or in error now: a poll with timeout 0),
 * 1 when it would wait, AIO_EINVAL without fd.  A READ_UNTIL or READ_EXACT
 * may still wait for the rest of its line or count.  Never suspends.
 */
AIO_API int aio_stream_read_would_block(aio_stream *s);

/**
 * Gives `s` a write buffer for AIO_STREAM_WRITE (NULL, 0: none).  Returns
 * 0, or AIO_EBUSY while written bytes wait in the old one (flush first).
 * Never suspends.
 */
AIO_API int aio_stream_set_wbuffer(aio_stream *s, void *buf, size_t cap);
/** Bytes written with AIO_STREAM_WRITE and not yet sent (in the write buffer). */
#define aio_stream_wbuffered(s) ((s)->wlen - (s)->wpos)

/**
 * asyncio reader.read(n) / trio receive_some / anyio receive: reads between
 * 1 and `n` bytes into `dst` (buffered bytes first), suspending until data
 * arrives.  rc = the count, AIO_EEND at end of stream, AIO_ECANCELED
 * (nothing consumed), AIO_EBUSY (another task is reading), AIO_EINVAL
 * (n == 0, no fd), AIO_ECLOSED (the stream was closed while waiting),
 * -ECONNRESET or another -errno.  `s` is evaluated again after each
 * suspension: pass an expression that stays valid (a frame field).
 */
#define AIO_STREAM_READ_SOME(rc, s, dst, n) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_read_begin(aio__await_needs_AIO_BEGIN_first, (s), AIO__OP_SOME, (dst), (n), NULL, 0), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 0))

/**
 * asyncio reader.readexactly(n) / anyio receive_exactly: reads exactly `n`
 * bytes into `dst`.  rc = n, or AIO_EEND when the stream ends first
 * (asyncio's IncompleteReadError: aio_stream_nread(s) bytes were stored; 0
 * means it ended cleanly at the boundary), AIO_ECANCELED (the first
 * aio_stream_nread(s) bytes of dst were consumed from the stream; read the
 * rest with another read_exact), or the errors of AIO_STREAM_READ_SOME.
 */
#define AIO_STREAM_READ_EXACT(rc, s, dst, n) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_read_begin(aio__await_needs_AIO_BEGIN_first, (s), AIO__OP_EXACT, (dst), (n), NULL, 0), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 0))

/**
 * asyncio reader.readuntil(sep) / anyio receive_until(delim, max_bytes):
 * reads until the delimiter delim[dlen] has arrived, within the first `max`
 * bytes (max <= the read buffer's size).  rc = the line's length including
 * the delimiter; the line is aio_stream_line(s), inside the stream's buffer,
 * valid until the next read.  Errors: AIO_ETOOLONG (max bytes without the
 * delimiter: asyncio's LimitOverrunError; the bytes stay buffered), AIO_EEND
 * (end of stream first: asyncio's IncompleteReadError; the partial line
 * stays buffered, aio_stream_buffered(s) bytes), AIO_EINVAL (no buffer,
 * max == 0 or larger than the buffer, empty delimiter), AIO_ECANCELED
 * (nothing consumed: what arrived stays buffered), and those of
 * AIO_STREAM_READ_SOME.
 */
#define AIO_STREAM_READ_UNTIL(rc, s, delim, dlen, max) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, \
                 aio__stream_read_begin(aio__await_needs_AIO_BEGIN_first, (s), AIO__OP_UNTIL, NULL, (max), (delim), (dlen)), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 0))

/** asyncio reader.readline() with a limit: AIO_STREAM_READ_UNTIL with "\n". */
#define AIO_STREAM_READ_LINE(rc, s, max) AIO_STREAM_READ_UNTIL(rc, s, "\n", 1, max)

/**
 * asyncio writer.write(b) + await writer.drain() / trio send_all / anyio
 * send: writes all `n` bytes of `src`, suspending while the socket buffer
 * is full and going on after short writes.  rc = n, or an error with
 * aio_stream_written(s) bytes already written: AIO_ECANCELED, -EPIPE or
 * -ECONNRESET (the peer is gone; never a SIGPIPE), AIO_ECLOSED, AIO_EBUSY
 * (another task is writing), AIO_EINVAL (no fd), other -errno.  n == 0 is a
 * checkpoint that returns 0.
 */
#define AIO_STREAM_WRITE_ALL(rc, s, src, n) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_write_begin(aio__await_needs_AIO_BEGIN_first, (s), (src), (n)), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 1))

/**
 * Gather write (asyncio writer.writelines + drain, POSIX writev): writes
 * every byte of the `iovcnt` pieces iov[0..iovcnt) in order, as
 * AIO_STREAM_WRITE_ALL writes one buffer, with up to AIO_STREAM_IOV_BATCH
 * pieces per system call.  `iov` (POSIX struct iovec) is not modified and
 * must stay valid until the write ends; empty pieces are skipped.  Buffered
 * bytes (AIO_STREAM_WRITE) are sent first.  rc = the total byte count, or an
 * error with aio_stream_written(s) bytes already written: those of
 * AIO_STREAM_WRITE_ALL, and AIO_EINVAL for iovcnt < 0 or over
 * AIO_STREAM_IOV_MAX, a NULL iov with iovcnt > 0, a NULL piece of nonzero
 * length, or a total over INT_MAX.  iovcnt == 0 is a checkpoint that
 * returns 0.
 */
#define AIO_STREAM_WRITEV(rc, s, iov, iovcnt) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_writev_begin(aio__await_needs_AIO_BEGIN_first, (s), (iov), (iovcnt)), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 1))
/** Pieces AIO_STREAM_WRITEV passes to one system call. */
#define AIO_STREAM_IOV_BATCH 16
/** Most pieces one AIO_STREAM_WRITEV takes (POSIX's smallest IOV_MAX). */
#define AIO_STREAM_IOV_MAX 1024

/**
 * Buffered write (asyncio writer.write without drain, a BufWriter): copies
 * the `n` bytes of `src` into the write buffer when they fit; otherwise
 * sends the buffer first, then copies the rest, or sends it directly when
 * it is larger than the buffer.  Nothing reaches the peer until the buffer
 * fills or AIO_STREAM_FLUSH (or AIO_STREAM_WRITE_ALL, which sends buffered
 * bytes first, keeping the order).  rc = n, or an error with
 * aio_stream_written(s) bytes of src taken (buffered or sent):
 * AIO_ECANCELED, -EPIPE, -ECONNRESET, AIO_EBUSY, AIO_EINVAL (no fd).  Bytes
 * taken stay buffered after an error.  Without a write buffer it is
 * AIO_STREAM_WRITE_ALL.  A schedule point like every other operation.
 */
#define AIO_STREAM_WRITE(rc, s, src, n) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_send_begin(aio__await_needs_AIO_BEGIN_first, (s), AIO__OP_BWRITE, (src), (n)), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 1))

/**
 * asyncio await writer.drain() / BufWriter flush: sends every buffered
 * byte, suspending while the socket buffer is full.  rc = 0 (nothing left
 * buffered), or an error with aio_stream_written(s) bytes sent and the rest
 * still buffered (a later flush sends it): AIO_ECANCELED, -EPIPE,
 * -ECONNRESET, AIO_ECLOSED, AIO_EBUSY, AIO_EINVAL.
 */
#define AIO_STREAM_FLUSH(rc, s) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__stream_send_begin(aio__await_needs_AIO_BEGIN_first, (s), AIO__OP_FLUSH, NULL, 0), \
                 aio__stream_next(aio__await_needs_AIO_BEGIN_first, (s), 1))

/**
 * asyncio writer.write_eof() / trio send_eof: shuts down the write side
 * (the peer reads end of stream); reading still works.  Returns 0 or -errno.
 * Never suspends.
 */
AIO_API int aio_stream_shutdown_write(aio_stream *s);

/**
 * asyncio writer.close() / trio aclose (without the checkpoint): wakes any
 * task waiting on the stream with AIO_ECLOSED (aio_notify_closing), closes
 * the descriptor and forgets buffered bytes (read and written: flush first,
 * or use AIO_STREAM_CLOSE_LINGER).  Unread input makes the kernel reset the
 * connection (the peer may lose what it has not read yet).  Returns 0 or
 * -errno from close; a stream without fd is 0.  Never suspends.
 */
AIO_API int aio_stream_close(aio_loop *loop, aio_stream *s);

/** The frame of a lingering close: embed one in your frame (AIO_STREAM_CLOSE_LINGER). */
typedef struct aio_linger {
    /* private: no field is API; use AIO_STREAM_CLOSE_LINGER */
    aio_frame hdr;
    aio_stream *s;
    aio_time timeout;
    aio_scope sc;
    int rc;
    unsigned char sink[256];   /* input read and dropped */
} aio_linger;

/**
 * A graceful close that does not reset the connection: flushes the write
 * buffer, shuts down the write side (the peer reads end of stream), reads
 * and drops input until the peer closes its side or `limit` ns pass, then
 * closes `stream` (aio_stream_close).  Runs shielded from outer cancellation
 * (aio_cleanup_enter) and is bounded by `limit` only, so a cancelled task
 * still closes cleanly.  `op` is an aio_linger in your frame.  rc = 0 (the
 * peer closed), AIO_ETIMEDOUT (it had not closed by then), AIO_EINVAL (no
 * fd), or the -errno of the flush or a read (-ECONNRESET); the stream is
 * closed in every case.
 */
#define AIO_STREAM_CLOSE_LINGER(rc, op, stream, limit) \
    do { \
        (op)->s = (stream); \
        (op)->timeout = (limit); \
        AIO_AWAIT(rc, aio_linger_run, (op)); \
    } while (0)

/** The coroutine behind AIO_STREAM_CLOSE_LINGER (frame: an aio_linger). */
AIO_API int aio_linger_run(aio_task *t, void *frame);

/* ------------------------------------------------------------------------ */
/* Connecting                                                                */
/* ------------------------------------------------------------------------ */

/** Addresses a connect tries in turn (the first ones getaddrinfo returns). */
#ifndef AIO_NET_MAX_ADDRS
#define AIO_NET_MAX_ADDRS 4
#endif

/**
 * The frame of a connect operation: embed one in your frame and pass it to
 * AIO_TCP_CONNECT / AIO_UNIX_CONNECT / AIO_ADDR_CONNECT.  After a failure,
 * `gai_error` holds getaddrinfo's code when resolution failed (for
 * gai_strerror).
 */
typedef struct aio_connect {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is a frame) */
    aio_frame hdr;
    aio_stream *s;
    const char *host;
    int port;
    int fd;           /* the socket being connected */
    int naddr, i;
    int err;          /* error of the last address tried */
    int gai_error;    /* API: after a failed resolution, getaddrinfo's code (for gai_strerror) */
    aio_sockaddr addrs[AIO_NET_MAX_ADDRS];
    aio_fn resolve;   /* looks a name up off the loop (aio_connect_resolve_on), or NULL */
    void *resolve_frame;
    int resolve_only; /* aio_happy: stop after the lookup, with the address count */
} aio_connect;

/**
 * asyncio open_connection(host, port) / trio open_tcp_stream / anyio
 * connect_tcp: connects stream `s` (initialised, fd -1) to `host`:`port`
 * with a nonblocking connect, trying each resolved address in turn, using
 * `op` (an aio_connect in your frame) as the frame.  A numeric host never
 * blocks; a name is looked up on a pool thread after aio_connect_resolve_on,
 * otherwise with a blocking getaddrinfo (see the top of this file).  TCP_NODELAY is set.  The deadline is the enclosing scope's
 * (wrap it in aio_fail_after).  Suspends while the connection is in
 * progress.  rc = 0 (s->fd is connected), AIO_ECANCELED (no socket left
 * open), -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (also: the name did not
 * resolve; op->gai_error has getaddrinfo's code), AIO_EINVAL (bad port, s
 * already has an fd), other -errno.
 */
#define AIO_TCP_CONNECT(rc, op, s, host, port) \
    do { \
        aio__connect_setup((op), (s), (host), (port), NULL, NULL); \
        AIO_AWAIT(rc, aio_connect_run, (op)); \
    } while (0)

/**
 * anyio connect_unix / trio open_unix_socket / asyncio
 * open_unix_connection: connects `s` to the Unix socket at `path`.  Usually
 * completes without suspending (then it is a cancel point only).
 * rc = 0, -ENOENT, -ECONNREFUSED, -EAGAIN (the listener's backlog is full:
 * nothing was connected; try again later), AIO_EINVAL (path too long), other
 * -errno.
 */
#define AIO_UNIX_CONNECT(rc, op, s, path) \
    do { \
        aio__connect_setup((op), (s), NULL, 0, NULL, (path)); \
        AIO_AWAIT(rc, aio_connect_run, (op)); \
    } while (0)

/** Connects `s` to the address `addr` (copied); as AIO_TCP_CONNECT without resolution. */
#define AIO_ADDR_CONNECT(rc, op, s, addr) \
    do { \
        aio__connect_setup((op), (s), NULL, 0, (addr), NULL); \
        AIO_AWAIT(rc, aio_connect_run, (op)); \
    } while (0)

/** The coroutine behind the connect macros (frame: an aio_connect set up by them). */
AIO_API int aio_connect_run(aio_task *t, void *frame);

/** Happy Eyeballs' connection attempt delay (RFC 8305 recommends 250 ms). */
#ifndef AIO_HAPPY_DELAY
#define AIO_HAPPY_DELAY AIO_MS(250)
#endif

typedef struct aio_happy aio_happy;

/* One connection attempt of a Happy Eyeballs connect: a child task's frame. */
typedef struct aio__happy_try {
    aio_frame hdr;
    aio_happy *he;
    int i;  /* the address, in he->c.addrs */
    int fd; /* the socket while it connects */
} aio__happy_try;

/**
 * The frame of a Happy Eyeballs connect (RFC 8305): embed one in your frame
 * and pass it to AIO_TCP_CONNECT_HAPPY or AIO_ADDRS_CONNECT_HAPPY.  About
 * 1.5 KB on x86-64 (four addresses, a task per attempt).
 */
struct aio_happy {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is a frame) */
    aio_frame hdr;
    aio_connect c;   /* API: c.gai_error after a failed lookup; aio_connect_resolve_on(&op->c, ...) looks names up off the loop */
    aio_time delay;  /* API: the connection attempt delay; 0 (a zeroed frame): AIO_HAPPY_DELAY */
    aio_group g;
    aio_event changed; /* an attempt ended */
    aio_scope sc;
    aio_task tasks[AIO_NET_MAX_ADDRS];
    aio__happy_try tries[AIO_NET_MAX_ADDRS];
    int next;        /* attempts started */
    int won;         /* an attempt connected: s->fd is its socket */
    int err;         /* error of the last attempt that failed */
};

/**
 * asyncio open_connection(..., happy_eyeballs_delay=0.25) / trio
 * open_tcp_stream / anyio connect_tcp with Happy Eyeballs (RFC 8305):
 * resolves `host` as AIO_TCP_CONNECT does, orders the addresses so that the
 * families alternate (starting with the first one returned), and starts one
 * connection attempt, then the next when the previous has not connected
 * within `op->delay` (0: AIO_HAPPY_DELAY) or has failed, each in a task of its
 * own.  The first attempt that connects wins: the others are cancelled and
 * their sockets closed.  rc = 0 (s->fd is connected, TCP_NODELAY set), or
 * the error of the last attempt to fail when none connects (-ECONNREFUSED,
 * -ETIMEDOUT, ...), AIO_ECANCELED (no socket left open), and the lookup
 * errors and AIO_EINVAL of AIO_TCP_CONNECT.  The deadline is the enclosing
 * scope's.  A numeric host is one address: one attempt.
 */
#define AIO_TCP_CONNECT_HAPPY(rc, op, s, host, port) \
    do { \
        aio__happy_setup((op), (s), (host), (port), NULL, 0); \
        AIO_AWAIT(rc, aio_happy_run, (op)); \
    } while (0)

/**
 * AIO_TCP_CONNECT_HAPPY over the `n` addresses addrs[0..n) (copied; at most
 * AIO_NET_MAX_ADDRS, AIO_EINVAL beyond) in the order given, without lookup.
 */
#define AIO_ADDRS_CONNECT_HAPPY(rc, op, s, addrs, n) \
    do { \
        aio__happy_setup((op), (s), NULL, 0, (addrs), (n)); \
        AIO_AWAIT(rc, aio_happy_run, (op)); \
    } while (0)

/** The coroutine behind the Happy Eyeballs macros (frame: an aio_happy set up by them). */
AIO_API int aio_happy_run(aio_task *t, void *frame);

#ifdef AIO_THREAD_H
/**
 * The frame of a name lookup on a pool thread (with aio_thread.h, included
 * before this header): embed one beside the aio_connect in your frame.
 */
typedef struct aio_net_resolver {
    /* private: no field is API; use aio_connect_resolve_on */
    aio_frame hdr;
    aio_pool *pool;
    aio_connect *c;
    aio_job job;
} aio_net_resolver;

/**
 * Makes the connects that use `op` look host names up on a thread of
 * `pool` (getaddrinfo there; numeric hosts are still parsed at once on the
 * loop), with `r` as the lookup's frame.  Call it once before
 * AIO_TCP_CONNECT; it holds for every later connect over `op`.
 * Cancellation: a lookup still queued is taken off the queue and the
 * connect returns AIO_ECANCELED at once; one already running cannot be
 * stopped (getaddrinfo has no cancel), so the connect waits for it and then
 * returns AIO_ECANCELED without connecting.  Never suspends.
 */
AIO_API void aio_connect_resolve_on(aio_connect *op, aio_net_resolver *r, aio_pool *pool);
/** The lookup coroutine aio_connect_resolve_on installs (frame: an aio_net_resolver). */
AIO_API int aio_net_resolver_run(aio_task *t, void *frame);
#endif

/* ------------------------------------------------------------------------ */
/* Listening and accepting                                                   */
/* ------------------------------------------------------------------------ */

/**
 * A listening socket.  Zero-initialise it, then aio_tcp_listen or
 * aio_unix_listen.  After a TCP listen, `port` is the port actually bound
 * (useful with port 0).  `backoff` is how long accept sleeps when the
 * process or system is out of descriptors (EMFILE/ENFILE/ENOBUFS/ENOMEM;
 * default 100 ms), and `emfile` counts those events.  Set `reuse_port`
 * before aio_tcp_listen to set SO_REUSEPORT: several listeners (one per
 * loop thread, see examples/net_multicore.c) then bind the same port and
 * the kernel spreads connections over them (Linux; where the option does
 * not exist the listen fails with AIO_EINVAL).
 */
typedef struct aio_listener {
    int port;                  /* bound port (TCP), set by aio_tcp_listen */
    uint8_t reuse_port;        /* set before aio_tcp_listen: SO_REUSEPORT */
    const aio_net_ops *ops;    /* syscall hook for accept (NULL = real calls); inherited by accepted streams */
    aio_time backoff;          /* how long accept sleeps when out of descriptors (default 100 ms) */
    uint32_t emfile;           /* accepts that found the process or system out of descriptors */
    /* private: the fields below are not API */
    int fd;
    int family;                /* AF_INET, AF_INET6 or AF_UNIX */
    const char *path;          /* Unix path, unlinked by aio_listener_close */
    aio_stream *out;           /* accept in progress: where the connection goes */
    aio_sockaddr *peer;
    aio__net_op op;
} aio_listener;

/**
 * asyncio start_server(host, port) / trio open_tcp_listeners / anyio
 * create_tcp_listener, the listening half: binds and listens on
 * `host`:`port` (host NULL: every IPv4 address; "::" or "::1" for IPv6; a
 * numeric address never blocks, a name is resolved blocking).  Port 0 picks
 * a free port, reported in l->port.  SO_REUSEADDR is set; an IPv6 socket is
 * IPv6-only.  `backlog` <= 0 means SOMAXCONN.  Returns 0, AIO_EINVAL, or
 * -errno (-EADDRINUSE...).  Never suspends.
 */
AIO_API int aio_tcp_listen(aio_listener *l, const char *host, int port, int backlog);
/**
 * asyncio start_unix_server / anyio create_unix_listener: listens on the
 * Unix socket `path` (which must not exist; kept by pointer and unlinked by
 * aio_listener_close).  Returns 0, AIO_EINVAL (too long), -EADDRINUSE, -errno.
 */
AIO_API int aio_unix_listen(aio_listener *l, const char *path, int backlog);
/**
 * Closes the listener (waking a task in accept with AIO_ECLOSED) and unlinks
 * its Unix path.  Returns 0 or -errno.  Never suspends.
 */
AIO_API int aio_listener_close(aio_loop *loop, aio_listener *l);

/**
 * trio SocketListener.accept / anyio Listener accept: waits for a
 * connection and puts it into stream `s` (its fd must be -1; its buffer and
 * ops are kept, and it gets the listener's ops if it has none), with the
 * peer's address in `*peer` (may be NULL).  Out of descriptors
 * (EMFILE/ENFILE/ENOBUFS/ENOMEM): sleeps l->backoff and tries again, so it
 * never spins; connections aborted before accept are skipped.  rc = 0,
 * AIO_ECANCELED (nothing accepted), AIO_ECLOSED (listener closed), AIO_EBUSY
 * (another task is accepting), AIO_EINVAL, other -errno.
 */
#define AIO_ACCEPT(rc, l, s, peer) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__accept_begin(aio__await_needs_AIO_BEGIN_first, (l), (s), (peer)), aio__accept_next(aio__await_needs_AIO_BEGIN_first, (l)))

/* ------------------------------------------------------------------------ */
/* Server                                                                    */
/* ------------------------------------------------------------------------ */

/* The server's wrapper frame around a handler (internal). */
typedef struct aio__conn_wrap {
    aio_frame hdr;
    aio_conn *conn;
} aio__conn_wrap;

/**
 * One connection slot.  A handler's frame struct starts with an aio_conn
 * (which starts with the handler's aio_frame):
 *
 *     struct echo { aio_conn conn; char buf[512]; };   // conn first
 *     static int echo(aio_task *t, void *frame) {
 *         struct echo *f = frame;                      // f->conn.stream, f->conn.peer
 *         ...
 *     }
 *
 * The server zeroes the whole slot before each connection, fills `stream`
 * (no read buffer: give it one with aio_stream_set_buffer), `peer` and
 * `server`, and closes the stream after the handler returns.
 */
struct aio_conn {
    /* private: fields not tagged API: are not API (hdr stays first: it is the handler's frame header) */
    aio_frame hdr;          /* the handler's frame header */
    aio_stream stream;      /* API: the connection */
    aio_sockaddr peer;      /* API: the peer's address */
    aio_server *server;     /* API: the server it belongs to */
    aio_task task;          /* the task running the handler */
    aio__conn_wrap wrap;
    aio_conn *next_free;
    aio_scope guard;        /* the handler runs inside it; its deadline carries the timeouts */
    aio_time since;         /* when the current wait on the stream began */
    aio_time req_deadline;  /* end of the current request (AIO_TIME_INF between requests) */
    uint8_t parked;         /* the handler waits on the stream: 1 reading, 2 writing */
    uint8_t in_request;     /* a byte of the current request has arrived */
    uint8_t why;            /* why the server cancelled it (AIO__CONN_*), 0 if it did not */
    uint8_t live;           /* a handler runs in this slot */
};

/**
 * Ends the current request of connection `c` for the server's timeouts
 * (call it when a response has been written): the request timeout stops,
 * and the next wait for a byte is bounded by first_byte_timeout again (the
 * keep-alive timeout).  Bytes already buffered start the next request at
 * once.  Never suspends.
 */
AIO_API void aio_conn_request_done(aio_conn *c);

/** What the server does when every slot is busy (aio_server.full_policy). */
enum {
    /* Close the connection that has waited longest on its client (between
     * requests first, then any waiting read or write), once it has waited
     * evict_after; while none qualifies, wait for a slot.  The default. */
    AIO_SERVER_FULL_EVICT = 0,
    /* Stop accepting until a slot frees (pending connections wait in the
     * listen backlog). */
    AIO_SERVER_FULL_WAIT
};

/**
 * An accept loop with one handler task per connection (asyncio
 * start_server + serve_forever, trio serve_tcp, anyio Listener.serve).
 * Handlers run in the server's task group, from a caller-provided pool of
 * slots (an array of handler frames, each starting with an aio_conn).  A
 * handler's negative result is counted (failed, last_error) and does not
 * stop the server or cancel other handlers.  Zero-initialise, then
 * aio_server_init; change the settings below after aio_server_init.
 *
 * Protection against clients that hold a slot without using it.  The
 * handler runs inside a cancel scope of its slot, and every wait of a read
 * or write on its connection's stream (conn.stream) is bounded:
 *  - first_byte_timeout (default 10 s): a read waiting for the first byte of
 *    a request, after the accept or after aio_conn_request_done;
 *  - idle_timeout (default 30 s): any other read or write waiting with no
 *    byte moving (a stalled client, or one that never reads);
 *  - request_timeout (default 60 s): from the first byte of a request to
 *    aio_conn_request_done, whatever the handler does (slowloris).  A handler
 *    that never calls aio_conn_request_done has one request per connection.
 * AIO_TIME_INF turns one off.  When one passes, the handler's awaits fail
 * with AIO_ECANCELED, the server closes the connection and counts it in
 * `timeouts` (not in `failed`).
 *
 * When every slot is busy, full_policy decides (AIO_SERVER_FULL_EVICT by
 * default: close the connection waiting longest on its client once it has
 * waited evict_after, default 1 s, and count it in `evicted`).
 *
 * aio_server_shutdown wakes at once every handler waiting for a read on its
 * connection (and any read that would wait after it), with AIO_ECANCELED;
 * handlers doing anything else finish within the grace period.
 */
struct aio_server {
    /* private: fields not tagged API: are not API (hdr stays first: the struct is aio_server_serve's frame) */
    aio_frame hdr;              /* frame of aio_server_serve */
    aio_listener *lst;
    aio_fn handler;
    unsigned char *slots;
    size_t stride;
    uint32_t nslots;
    uint32_t active;            /* handlers running now */
    uint64_t accepted;          /* API: connections accepted */
    uint64_t failed;            /* API: handlers that returned an error */
    int last_error;             /* API: the latest such error, or an accept error that stopped the server */
    aio_time grace;             /* shutdown: how long handlers may go on */
    uint8_t stopping;           /* aio_server_shutdown was called */
    aio_conn *free;
    aio_conn *cur;
    aio_sem free_sem;           /* free slots */
    aio_group g;                /* the handlers */
    aio_scope accept_scope;     /* cancelled by aio_server_shutdown */
    aio_call grace_timer;
    int rc;
    aio_time first_byte_timeout; /* API: a read waiting for a request's first byte (default 10 s) */
    aio_time idle_timeout;      /* API: a read or write waiting with nothing moving (default 30 s) */
    aio_time request_timeout;   /* API: first byte to aio_conn_request_done (default 60 s) */
    aio_time evict_after;       /* API: AIO_SERVER_FULL_EVICT: how long a connection must have waited (default 1 s) */
    uint8_t full_policy;        /* API: AIO_SERVER_FULL_EVICT (default) or AIO_SERVER_FULL_WAIT */
    uint8_t waiting_full;       /* the accept loop waits for a slot under wait_scope */
    uint64_t timeouts;          /* API: connections closed by a timeout */
    uint64_t evicted;           /* API: connections closed to make room */
    aio_scope wait_scope;       /* the accept loop's wait for a slot, until a victim qualifies */
};

/**
 * Prepares `srv` to serve listener `lst` with handler `fn` over `nslots`
 * slots laid out `stride` bytes apart from `slots` (an array of handler
 * frames: pass the array, its length and sizeof one element).  Returns 0, or
 * AIO_EINVAL (stride < sizeof(aio_conn), no slots, NULL).
 */
AIO_API int aio_server_init(aio_server *srv, aio_listener *lst, void *slots, uint32_t nslots, size_t stride,
                            aio_fn fn);

/**
 * The server coroutine, over `srv` as its frame: spawn it
 * (aio_spawn(&g, &task, aio_server_serve, &srv)) or await it
 * (AIO_SERVER_SERVE).  Accepts until aio_server_shutdown (or a cancellation
 * from outside, or an accept error other than the transient ones), then
 * closes the listener, lets the running handlers finish for the grace
 * period, cancels those still running, and waits for them.  Returns 0 after
 * a shutdown, AIO_ECANCELED when cancelled from outside (handlers are
 * cancelled at once), or the accept error that stopped it.
 */
AIO_API int aio_server_serve(aio_task *t, void *frame);
/** Awaits aio_server_serve in the current task: asyncio server.serve_forever(). */
#define AIO_SERVER_SERVE(rc, srv) AIO_AWAIT(rc, aio_server_serve, (srv))

/**
 * Graceful shutdown (asyncio server.close() + wait_closed with a timeout):
 * stops accepting at once and wakes every handler waiting in a read on its
 * connection with AIO_ECANCELED (a later read that would wait fails the
 * same way); the other handlers then have `grace` ns to finish
 * (AIO_TIME_INF: no limit; 0: cancelled at once) before they are cancelled.
 * Call it from any task of the loop; never suspends.  Handlers can poll
 * aio_server_stopping to finish early.
 */
AIO_API void aio_server_shutdown(aio_server *srv, aio_time grace);
/** Nonzero once aio_server_shutdown was called. */
#define aio_server_stopping(srv) ((srv)->stopping != 0)

/* ------------------------------------------------------------------------ */
/* UDP                                                                       */
/* ------------------------------------------------------------------------ */

/** A UDP socket.  Zero-initialise, then aio_udp_bind. */
typedef struct aio_udp {
    int port;                   /* bound port, set by aio_udp_bind */
    /* private: the fields below are not API */
    int fd;
    const aio_net_ops *ops;
    aio__net_op rd, wr;
} aio_udp;

/**
 * asyncio create_datagram_endpoint(local_addr=...) / anyio
 * create_udp_socket: a UDP socket bound to numeric `host` (NULL: 0.0.0.0)
 * and `port` (0: a free port, reported in u->port).  Returns 0, AIO_EINVAL
 * or -errno.  Never suspends.
 */
AIO_API int aio_udp_bind(aio_udp *u, const char *host, int port);
/** Closes the socket (waking its waiters with AIO_ECLOSED).  Returns 0 or -errno. */
AIO_API int aio_udp_close(aio_loop *loop, aio_udp *u);

/**
 * anyio UDPSocket.send((data, host, port)) / trio socket.sendto: sends one
 * datagram of `n` bytes to `*to`, suspending while the socket buffer is
 * full.  rc = n, AIO_ECANCELED (nothing sent), AIO_EBUSY, -EMSGSIZE, -errno.
 */
#define AIO_UDP_SENDTO(rc, u, buf, n, to) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__udp_begin(aio__await_needs_AIO_BEGIN_first, (u), 1, (void *)(buf), (n), (void *)(to)), \
                 aio__udp_next(aio__await_needs_AIO_BEGIN_first, (u), 1))

/**
 * anyio UDPSocket.receive() / trio socket.recvfrom: waits for one datagram,
 * stores up to `n` bytes in `buf` (the rest of a longer one is dropped) and
 * the sender in `*from` (may be NULL).  rc = the bytes stored,
 * AIO_ECANCELED (nothing received), AIO_EBUSY, AIO_ECLOSED, -errno.
 */
#define AIO_UDP_RECVFROM(rc, u, buf, n, from) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__udp_begin(aio__await_needs_AIO_BEGIN_first, (u), 0, (buf), (n), (from)), \
                 aio__udp_next(aio__await_needs_AIO_BEGIN_first, (u), 0))

/* ------------------------------------------------------------------------ */
/* Internals used by the macros                                              */
/* ------------------------------------------------------------------------ */

enum { AIO__OP_SOME = 1, AIO__OP_EXACT, AIO__OP_UNTIL, AIO__OP_WRITE, AIO__OP_BWRITE, AIO__OP_FLUSH, AIO__OP_WRITEV };
enum { AIO__PH_IDLE = 0, AIO__PH_WAIT, AIO__PH_DONE };

/* Begin an operation, then, while it is parked, suspend and continue it. */
#define AIO__NET_RUN(id, rc, begin_expr, next_expr) \
    do { \
        (rc) = (begin_expr); \
        while ((rc) == AIO_PARKED) { \
            AIO__LC_YIELD(aio__f, id); \
            (rc) = (next_expr); \
        } \
    } while (0)

AIO_API int aio__stream_read_begin(aio_task *t, aio_stream *s, int kind, void *dst, size_t n, const char *delim,
                                   size_t dlen);
AIO_API int aio__stream_write_begin(aio_task *t, aio_stream *s, const void *src, size_t n);
AIO_API int aio__stream_send_begin(aio_task *t, aio_stream *s, int kind, const void *src, size_t n);
AIO_API int aio__stream_writev_begin(aio_task *t, aio_stream *s, const struct iovec *iov, int iovcnt);
AIO_API int aio__stream_next(aio_task *t, aio_stream *s, int wr);
AIO_API void aio__happy_setup(aio_happy *op, aio_stream *s, const char *host, int port, const aio_sockaddr *addrs,
                              int n);
AIO_API void aio__connect_setup(aio_connect *op, aio_stream *s, const char *host, int port, const aio_sockaddr *addr,
                                const char *path);
AIO_API int aio__accept_begin(aio_task *t, aio_listener *l, aio_stream *s, aio_sockaddr *peer);
AIO_API int aio__accept_next(aio_task *t, aio_listener *l);
AIO_API int aio__udp_begin(aio_task *t, aio_udp *u, int snd, void *buf, size_t n, void *addr);
AIO_API int aio__udp_next(aio_task *t, aio_udp *u, int snd);

#ifdef __cplusplus
}
#endif
#endif /* AIO_NET_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__NET_IMPLEMENTED)
#define AIO__NET_IMPLEMENTED

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
/* glibc shows SO_REUSEPORT only with _DEFAULT_SOURCE; on Linux its value is
 * part of the kernel's ABI (asm/socket.h, which cannot be included beside
 * glibc's own definitions by every compiler). */
#if defined(SO_REUSEPORT)
#define AIO__SO_REUSEPORT SO_REUSEPORT
#elif defined(__linux__)
#if defined(__mips__) || defined(__sparc__) || defined(__alpha__)
#define AIO__SO_REUSEPORT 0x0200
#elif defined(__hppa__)
#define AIO__SO_REUSEPORT 0x0404
#else
#define AIO__SO_REUSEPORT 15
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef MSG_NOSIGNAL
#define AIO__NOSIGNAL MSG_NOSIGNAL
#else
#define AIO__NOSIGNAL 0
#endif

/* ---- addresses ---------------------------------------------------------- */

/* getaddrinfo into up to `max` addresses; returns the count, or a negative
 * code with the EAI code in *gai. */
static int aio__resolve_ex(const char *host, int port, int passive, int socktype, aio_sockaddr *out, int max,
                           int *gai, int numeric_only)
{
    struct addrinfo hints, *res = NULL, *ai;
    char serv[16];
    int rc, n = 0;
    *gai = 0;
    if (port < 0 || port > 65535)
        return AIO_EINVAL;
    snprintf(serv, sizeof serv, "%d", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST | (passive ? AI_PASSIVE : 0);
    rc = getaddrinfo(host, serv, &hints, &res);
    if (rc == EAI_NONAME && host && numeric_only)
        return AIO_EAGAIN; /* a name: the caller looks it up elsewhere */
    if (rc == EAI_NONAME && host) {
        /* Not numeric: the blocking lookup (on a pool thread, or the
         * documented fallback on the loop's thread). */
        hints.ai_flags &= ~AI_NUMERICHOST;
        rc = getaddrinfo(host, serv, &hints, &res);
    }
    if (rc != 0) {
        *gai = rc;
        if (rc == EAI_SYSTEM)
            return errno ? -errno : -EHOSTUNREACH;
        if (rc == EAI_MEMORY)
            return -ENOMEM;
        return -EHOSTUNREACH;
    }
    for (ai = res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = (socklen_t)ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    return n ? n : -EHOSTUNREACH;
}

static int aio__resolve(const char *host, int port, int passive, int socktype, aio_sockaddr *out, int max,
                        int *gai)
{
    return aio__resolve_ex(host, port, passive, socktype, out, max, gai, 0);
}

AIO_IMPL int aio_sockaddr_ip(aio_sockaddr *a, const char *host, int port)
{
    struct addrinfo hints, *res = NULL;
    char serv[16];
    if (!a || !host || port < 0 || port > 65535)
        return AIO_EINVAL;
    snprintf(serv, sizeof serv, "%d", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, serv, &hints, &res) != 0 || !res)
        return AIO_EINVAL;
    memset(a, 0, sizeof *a);
    memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
    a->len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

AIO_IMPL int aio_sockaddr_unix(aio_sockaddr *a, const char *path)
{
    struct sockaddr_un *un = (struct sockaddr_un *)(void *)&a->ss;
    size_t n = path ? strlen(path) : 0;
    if (!path || n == 0 || n >= sizeof un->sun_path)
        return AIO_EINVAL;
    memset(a, 0, sizeof *a);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n + 1);
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

AIO_IMPL int aio_sockaddr_port(const aio_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)&a->ss)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_port);
    return -1;
}

AIO_IMPL char *aio_sockaddr_format(const aio_sockaddr *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    if (!out || n == 0)
        return out;
    out[0] = 0;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&a->ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, n, "%s:%d", ip, ntohs(in->sin_port));
    } else if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&a->ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, n, "[%s]:%d", ip, ntohs(in6->sin6_port));
    } else if (a->ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)(const void *)&a->ss;
        size_t plen = a->len > offsetof(struct sockaddr_un, sun_path)
                          ? (size_t)a->len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (plen > sizeof un->sun_path)
            plen = sizeof un->sun_path;
        snprintf(out, n, "unix:%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
    } else {
        snprintf(out, n, "?");
    }
    return out;
}

/* ---- the real system calls ---------------------------------------------- */

static long aio__sys_recv(void *ctx, int fd, void *buf, size_t len)
{
    ssize_t n;
    (void)ctx;
    n = AIO_SYS_recv(fd, buf, len, 0);
    if (n < 0 && errno == ENOTSOCK)
        n = AIO_SYS_read(fd, buf, len);
    return n < 0 ? -(long)errno : (long)n;
}

static long aio__sys_send(void *ctx, int fd, const void *buf, size_t len)
{
    ssize_t n;
    (void)ctx;
    n = AIO_SYS_send(fd, buf, len, AIO__NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
        n = AIO_SYS_write(fd, buf, len);
    return n < 0 ? -(long)errno : (long)n;
}

static long aio__sys_recvfrom(void *ctx, int fd, void *buf, size_t len, struct sockaddr *sa, socklen_t *salen)
{
    ssize_t n;
    (void)ctx;
    n = AIO_SYS_recvfrom(fd, buf, len, 0, sa, salen);
    return n < 0 ? -(long)errno : (long)n;
}

static long aio__sys_sendto(void *ctx, int fd, const void *buf, size_t len, const struct sockaddr *sa,
                            socklen_t salen)
{
    ssize_t n;
    (void)ctx;
    n = AIO_SYS_sendto(fd, buf, len, AIO__NOSIGNAL, sa, salen);
    return n < 0 ? -(long)errno : (long)n;
}

static long aio__sys_sendv(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr m;
    ssize_t n;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)(uintptr_t)iov;
    m.msg_iovlen = (size_t)iovcnt;
    n = AIO_SYS_sendmsg(fd, &m, AIO__NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
        n = AIO_SYS_writev(fd, iov, iovcnt);
    return n < 0 ? -(long)errno : (long)n;
}

static int aio__sys_accept(void *ctx, int fd, struct sockaddr *sa, socklen_t *salen)
{
    int r;
    (void)ctx;
    r = AIO_SYS_accept(fd, sa, salen);
    return r < 0 ? -errno : r;
}

static int aio__sys_connect(void *ctx, int fd, const struct sockaddr *sa, socklen_t salen)
{
    (void)ctx;
    return AIO_SYS_connect(fd, sa, salen) < 0 ? -errno : 0;
}

static const aio_net_ops aio__net_sys = { aio__sys_recv, aio__sys_send, aio__sys_recvfrom, aio__sys_sendto,
                                          aio__sys_accept, aio__sys_connect, NULL };

AIO_IMPL const aio_net_ops *aio_net_sys_ops(void)
{
    return &aio__net_sys;
}

#define AIO__OPS(o) ((o) ? (o) : &aio__net_sys)

/* Non-blocking, close-on-exec, and no SIGPIPE where a socket option is the only way. */
static int aio__net_fd_setup(int fd)
{
    int fl = AIO_SYS_fcntl(fd, F_GETFL);
    if (fl < 0 || AIO_SYS_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || AIO_SYS_fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
#if defined(SO_NOSIGPIPE)
    {
        int one = 1;
        AIO_SYS_setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one); /* not a socket: harmless */
    }
#endif
    return 0;
}

static void aio__net_nodelay(int fd, int family)
{
    int one = 1;
    if (family == AF_INET || family == AF_INET6)
        AIO_SYS_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Opens a socket of the given kind, set up for the loop. */
static int aio__net_socket(int family, int type)
{
    int fd = AIO_SYS_socket(family, type, 0), rc;
    if (fd < 0)
        return -errno;
    rc = aio__net_fd_setup(fd);
    if (rc) {
        AIO_SYS_close(fd);
        return rc;
    }
    return fd;
}

/* ---- the operation engine ------------------------------------------------
 * An operation's begin function checks cancellation and runs its step; the
 * step makes system calls until it completes (a result) or must wait (it
 * parks the task on an fd wait or a sleep and returns AIO_PARKED).  A result
 * reached without suspending is delivered after one uncancellable yield
 * (phase DONE); after a wait, the next step's result is delivered directly.
 * A wait that ends with an error (cancelled, closed) ends the operation.
 */

static int aio__op_finish(aio_task *t, aio__net_op *op, int r)
{
    if (r == AIO_PARKED) {
        op->phase = AIO__PH_WAIT;
        return r;
    }
    if (!op->waited) {
        op->phase = AIO__PH_DONE;
        op->result = r;
        aio__yield(t, 0);
        return AIO_PARKED;
    }
    op->phase = AIO__PH_IDLE;
    return r;
}

/* After a resume: the delivered result, the end of a failed wait, or the
 * next step (which is then `step(t, obj)`'s business). Returns 1 when the
 * caller must run the step. */
static int aio__op_resumed(aio_task *t, aio__net_op *op, int *rc)
{
    int w = aio__resumed(t);
    if (op->phase == AIO__PH_DONE) {
        op->phase = AIO__PH_IDLE;
        *rc = op->result;
        return 0;
    }
    op->waited = 1;
    if (w < 0) {
        op->phase = AIO__PH_IDLE;
        *rc = w;
        return 0;
    }
    return 1;
}

static int aio__op_start(aio_task *t, aio__net_op *op, int fd)
{
    int rc = aio_check_cancel(t);
    if (rc)
        return rc;
    if (op->phase != AIO__PH_IDLE)
        return AIO_EBUSY;
    if (fd < 0)
        return AIO_EINVAL;
    op->waited = 0;
    op->done = 0;
    return 0;
}

/* ---- streams ------------------------------------------------------------ */

/* A server's connection watches its stream's waits (the server section). */
static void aio__conn_park(aio_task *t, aio_stream *s, int bit);
static void aio__conn_unpark(aio_task *t, aio_stream *s, int bit);
static void aio__conn_got(aio_task *t, aio_stream *s);

/* Parks the task until the stream's fd is readable or writable, telling a
 * server connection that its handler waits on the client. */
static int aio__stream_wait(aio_task *t, aio_stream *s, int wr)
{
    int rc;
    if (s->conn)
        aio__conn_park(t, s, wr ? 2 : 1);
    rc = aio__fd_wait_begin(t, s->fd, wr ? AIO_WRITABLE : AIO_READABLE);
    if (rc != AIO_PARKED && s->conn)
        aio__conn_unpark(t, s, wr ? 2 : 1);
    return rc;
}

AIO_IMPL int aio_stream_init(aio_stream *s, int fd, void *buf, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->rbuf = (unsigned char *)buf;
    s->rcap = buf ? cap : 0;
    return fd >= 0 ? aio__net_fd_setup(fd) : 0;
}

AIO_IMPL int aio_stream_set_buffer(aio_stream *s, void *buf, size_t cap)
{
    if (s->rlen != s->rpos)
        return AIO_EBUSY;
    s->rbuf = (unsigned char *)buf;
    s->rcap = buf ? cap : 0;
    s->rpos = s->rlen = s->scan = 0;
    return 0;
}

/* Copies buffered bytes to the read destination. */
static void aio__stream_take(aio_stream *s)
{
    size_t k = s->rlen - s->rpos, want = s->rd.len - s->rd.done;
    if (k > want)
        k = want;
    if (k) {
        memcpy(s->rd.buf + s->rd.done, s->rbuf + s->rpos, k);
        s->rpos += k;
        s->rd.done += k;
    }
}

/* Searches the buffer for the delimiter; returns the line length or 0. */
static size_t aio__stream_find(aio_stream *s)
{
    size_t have = s->rlen - s->rpos, i;
    const unsigned char *p = s->rbuf + s->rpos;
    i = s->scan > s->rd.dlen - 1 ? s->scan - (s->rd.dlen - 1) : 0;
    for (; i + s->rd.dlen <= have; i++)
        if (p[i] == (unsigned char)s->rd.delim[0] && memcmp(p + i, s->rd.delim, s->rd.dlen) == 0)
            return i + s->rd.dlen;
    s->scan = have;
    return 0;
}

static int aio__stream_read_step(aio_task *t, aio_stream *s)
{
    const aio_net_ops *o = AIO__OPS(s->ops);
    long n;
    for (;;) {
        if (s->rd.kind == AIO__OP_UNTIL) {
            size_t len = aio__stream_find(s);
            if (len && len <= s->rd.len) {
                s->line = s->rbuf + s->rpos;
                s->rpos += len;
                s->scan = 0;
                return (int)len;
            }
            if (len || s->rlen - s->rpos >= s->rd.len)
                return AIO_ETOOLONG;
            if (s->eof)
                return AIO_EEND;
            if (s->rlen == s->rcap) { /* room at the front: compact */
                memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
                s->rlen -= s->rpos;
                s->rpos = 0;
            }
            n = o->recv(o->ctx, s->fd, s->rbuf + s->rlen, s->rcap - s->rlen);
            if (n > 0) {
                s->rlen += (size_t)n;
                if (s->conn)
                    aio__conn_got(t, s);
            }
        } else {
            if (s->rpos < s->rlen) {
                aio__stream_take(s);
                if (s->rd.kind == AIO__OP_SOME || s->rd.done == s->rd.len)
                    return (int)s->rd.done;
            }
            if (s->eof)
                return s->rd.kind == AIO__OP_EXACT || s->rd.done == 0 ? AIO_EEND : (int)s->rd.done;
            n = o->recv(o->ctx, s->fd, s->rd.buf + s->rd.done, s->rd.len - s->rd.done);
            if (n > 0) {
                s->rd.done += (size_t)n;
                if (s->conn)
                    aio__conn_got(t, s);
                if (s->rd.kind == AIO__OP_SOME || s->rd.done == s->rd.len)
                    return (int)s->rd.done;
            }
        }
        if (n == 0)
            s->eof = 1;
        else if (n == -EAGAIN || n == -EWOULDBLOCK)
            return aio__stream_wait(t, s, 0);
        else if (n < 0 && n != -EINTR)
            return (int)n;
    }
}

/* One gather send of what is left of a WRITEV (wr.buf is the iovec array,
 * wr.dlen its count, wr.done the bytes sent): the pieces from the first
 * unsent byte on, at most AIO_STREAM_IOV_BATCH of them. */
static long aio__stream_sendv(const aio_net_ops *o, aio_stream *s)
{
    const struct iovec *v = (const struct iovec *)(const void *)s->wr.buf;
    struct iovec part[AIO_STREAM_IOV_BATCH];
    size_t i = 0, skip = s->wr.done;
    int k = 0;
    while (i < s->wr.dlen && skip >= v[i].iov_len) { /* sent whole, or empty */
        skip -= v[i].iov_len;
        i++;
    }
    for (; i < s->wr.dlen && k < AIO_STREAM_IOV_BATCH; i++) {
        if (v[i].iov_len == skip) /* empty */
            continue;
        part[k].iov_base = (char *)v[i].iov_base + skip;
        part[k].iov_len = v[i].iov_len - skip;
        skip = 0;
        k++;
    }
    if (o == &aio__net_sys)
        return aio__sys_sendv(s->fd, part, k);
    return o->send(o->ctx, s->fd, part[0].iov_base, part[0].iov_len);
}

/* Every write kind sends buffered bytes first, so the order of the bytes is
 * the order of the calls.  A buffered write then copies what fits; a flush
 * ends when the buffer is empty. */
static int aio__stream_write_step(aio_task *t, aio_stream *s)
{
    const aio_net_ops *o = AIO__OPS(s->ops);
    for (;;) {
        const unsigned char *p;
        size_t k, left = s->wr.len - s->wr.done;
        int own;
        long n;
        if (s->wpos == s->wlen)
            s->wpos = s->wlen = 0;
        if (s->wr.kind == AIO__OP_BWRITE && left <= s->wcap - s->wlen && (left < s->wcap || s->wlen)) {
            if (left)
                memcpy(s->wbuf + s->wlen, s->wr.buf + s->wr.done, left);
            s->wlen += left;
            s->wr.done = s->wr.len;
            return (int)s->wr.done;
        }
        if (s->wlen > s->wpos) {
            p = s->wbuf + s->wpos;
            k = s->wlen - s->wpos;
            own = 1;
        } else if (s->wr.kind == AIO__OP_FLUSH || left == 0) {
            return s->wr.kind == AIO__OP_FLUSH ? 0 : (int)s->wr.done;
        } else if (s->wr.kind == AIO__OP_WRITEV) {
            p = NULL;
            k = 0;
            own = 0;
        } else {
            p = s->wr.buf + s->wr.done;
            k = left;
            own = 0;
        }
        n = p ? o->send(o->ctx, s->fd, p, k) : aio__stream_sendv(o, s);
        if (n >= 0) {
            if (!own)
                s->wr.done += (size_t)n;
            else {
                s->wpos += (size_t)n;
                if (s->wr.kind == AIO__OP_FLUSH)
                    s->wr.done += (size_t)n;
            }
        } else if (n == -EAGAIN || n == -EWOULDBLOCK) {
            return aio__stream_wait(t, s, 1);
        } else if (n != -EINTR) {
            return (int)n;
        }
    }
}

AIO_IMPL int aio__stream_read_begin(aio_task *t, aio_stream *s, int kind, void *dst, size_t n, const char *delim,
                                    size_t dlen)
{
    int rc = aio__op_start(t, &s->rd, s->fd);
    if (rc)
        return rc;
    if (n == 0 || n > (size_t)0x7fffffff)
        return AIO_EINVAL;
    if (kind == AIO__OP_UNTIL) {
        if (!s->rbuf || n > s->rcap || !delim || dlen == 0 || dlen > n)
            return AIO_EINVAL;
        if (s->rpos == s->rlen) /* empty: start at the front */
            s->rpos = s->rlen = 0;
    } else if (!dst) {
        return AIO_EINVAL;
    }
    s->rd.kind = (uint8_t)kind;
    s->rd.buf = (unsigned char *)dst;
    s->rd.len = n;
    s->rd.delim = delim;
    s->rd.dlen = dlen;
    s->line = NULL;
    s->scan = 0;
    return aio__op_finish(t, &s->rd, aio__stream_read_step(t, s));
}

AIO_IMPL int aio__stream_write_begin(aio_task *t, aio_stream *s, const void *src, size_t n)
{
    return aio__stream_send_begin(t, s, AIO__OP_WRITE, src, n);
}

AIO_IMPL int aio__stream_send_begin(aio_task *t, aio_stream *s, int kind, const void *src, size_t n)
{
    int rc = aio__op_start(t, &s->wr, s->fd);
    if (rc)
        return rc;
    if (n > (size_t)0x7fffffff || (n && !src))
        return AIO_EINVAL;
    if (kind == AIO__OP_BWRITE && !s->wbuf)
        kind = AIO__OP_WRITE;
    s->wr.kind = (uint8_t)kind;
    s->wr.buf = (unsigned char *)(uintptr_t)src;
    s->wr.len = n;
    return aio__op_finish(t, &s->wr, aio__stream_write_step(t, s));
}

AIO_IMPL int aio__stream_writev_begin(aio_task *t, aio_stream *s, const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    int i, rc = aio__op_start(t, &s->wr, s->fd);
    if (rc)
        return rc;
    if (iovcnt < 0 || iovcnt > AIO_STREAM_IOV_MAX || (iovcnt && !iov))
        return AIO_EINVAL;
    for (i = 0; i < iovcnt; i++) {
        if ((iov[i].iov_len && !iov[i].iov_base) || iov[i].iov_len > (size_t)0x7fffffff - total)
            return AIO_EINVAL;
        total += iov[i].iov_len;
    }
    s->wr.kind = AIO__OP_WRITEV;
    s->wr.buf = (unsigned char *)(uintptr_t)iov;
    s->wr.dlen = (size_t)iovcnt;
    s->wr.len = total;
    return aio__op_finish(t, &s->wr, aio__stream_write_step(t, s));
}

AIO_IMPL int aio__stream_next(aio_task *t, aio_stream *s, int wr)
{
    aio__net_op *op = wr ? &s->wr : &s->rd;
    int rc;
    if (s->conn && (s->conn->parked & (wr ? 2 : 1)))
        aio__conn_unpark(t, s, wr ? 2 : 1);
    if (!aio__op_resumed(t, op, &rc))
        return rc;
    return aio__op_finish(t, op, wr ? aio__stream_write_step(t, s) : aio__stream_read_step(t, s));
}

AIO_IMPL int aio_stream_shutdown_write(aio_stream *s)
{
    if (s->fd < 0)
        return AIO_EINVAL;
    return AIO_SYS_shutdown(s->fd, SHUT_WR) < 0 ? -errno : 0;
}

AIO_IMPL int aio_stream_close(aio_loop *loop, aio_stream *s)
{
    int rc = 0;
    if (s->fd >= 0) {
        aio_notify_closing(loop, s->fd);
        rc = AIO_SYS_close(s->fd) < 0 ? -errno : 0;
    }
    s->fd = -1;
    s->rpos = s->rlen = s->scan = 0;
    s->wpos = s->wlen = 0;
    s->eof = 0;
    s->line = NULL;
    return rc;
}

AIO_IMPL int aio_stream_read_would_block(aio_stream *s)
{
    struct pollfd p;
    int r;
    if (!s || s->fd < 0)
        return AIO_EINVAL;
    if (s->rpos < s->rlen || s->eof)
        return 0;
    p.fd = s->fd;
    p.events = POLLIN;
    p.revents = 0;
    do
        r = AIO_SYS_poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) ? 0 : 1;
}

AIO_IMPL int aio_stream_set_wbuffer(aio_stream *s, void *buf, size_t cap)
{
    if (s->wlen != s->wpos)
        return AIO_EBUSY;
    s->wbuf = (unsigned char *)buf;
    s->wcap = buf ? cap : 0;
    s->wpos = s->wlen = 0;
    return 0;
}

AIO_IMPL int aio_linger_run(aio_task *t, void *frame)
{
    aio_linger *f = (aio_linger *)frame;
    int rc;
    AIO_BEGIN(t, f);
    if (!f->s || f->s->fd < 0)
        AIO_RETURN(AIO_EINVAL);
    aio_cleanup_enter(t, &f->sc, f->timeout < 0 ? 0 : f->timeout);
    rc = 0;
    if (aio_stream_wbuffered(f->s))
        AIO_STREAM_FLUSH(rc, f->s);
    if (rc >= 0) {
        rc = aio_stream_shutdown_write(f->s);
        while (rc >= 0)
            AIO_STREAM_READ_SOME(rc, f->s, f->sink, sizeof f->sink);
        if (rc == AIO_EEND)
            rc = 0;
    }
    f->rc = rc;
    if (f->sc.flags & AIO__SCOPE_CANCEL_CALLED) /* only its deadline cancels a cleanup scope */
        f->rc = AIO_ETIMEDOUT;
    aio_scope_exit(t, &f->sc, rc);
    aio_stream_close(aio_task_loop(t), f->s);
    AIO_END(f->rc);
}

/* ---- connect ------------------------------------------------------------ */

AIO_IMPL void aio__connect_setup(aio_connect *op, aio_stream *s, const char *host, int port, const aio_sockaddr *addr,
                                 const char *path)
{
    op->s = s;
    op->host = host;
    op->port = port;
    op->fd = -1;
    op->i = 0;
    op->err = AIO_EINVAL;
    op->gai_error = 0;
    op->naddr = 0; /* resolve and resolve_frame are kept: set once by aio_connect_resolve_on */
    op->resolve_only = 0;
    if (addr) {
        op->addrs[0] = *addr;
        op->naddr = 1;
    } else if (path) {
        op->naddr = aio_sockaddr_unix(&op->addrs[0], path) == 0 ? 1 : 0; /* 0 without host: AIO_EINVAL */
    }
}

/* The steps of one connection attempt, shared by aio_connect_run and the
 * Happy Eyeballs attempts.  Starts a nonblocking connect to `a`: *fd is the
 * socket (-1 if none could be made); returns 0, -EINPROGRESS or -errno. */
static int aio__connect_start(const aio_net_ops *o, const aio_sockaddr *a, int *fd)
{
    int r;
    *fd = aio__net_socket(a->ss.ss_family, SOCK_STREAM);
    if (*fd < 0) {
        r = *fd;
        *fd = -1;
        return r;
    }
    do
        r = o->connect(o->ctx, *fd, (const struct sockaddr *)(const void *)&a->ss, a->len);
    while (r == -EINTR);
    return r;
}

/* The outcome of a connect that was in progress, once fd is writable. */
static int aio__connect_result(int fd)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (AIO_SYS_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    return -soerr;
}

/* Gives the connected socket fd to stream s. */
static void aio__connect_adopt(aio_stream *s, int fd, int family)
{
    aio__net_nodelay(fd, family);
    s->fd = fd;
    s->rpos = s->rlen = s->scan = 0;
    s->eof = 0;
}

AIO_IMPL int aio_connect_run(aio_task *t, void *frame)
{
    aio_connect *c = (aio_connect *)frame;
    int rc, r;
    AIO_BEGIN(t, c);
    rc = aio_check_cancel(t);
    if (rc)
        AIO_RETURN(rc);
    if (!c->s || c->s->fd >= 0)
        AIO_RETURN(AIO_EINVAL);
    if (c->naddr == 0) {
        if (!c->host)
            AIO_RETURN(AIO_EINVAL);
        r = aio__resolve_ex(c->host, c->port, 0, SOCK_STREAM, c->addrs, AIO_NET_MAX_ADDRS, &c->gai_error,
                            c->resolve != NULL);
        if (r == AIO_EAGAIN) { /* a name, and a resolver off the loop */
            AIO_AWAIT(r, c->resolve, c->resolve_frame);
            if (r >= 0 && aio_check_cancel(t))
                r = AIO_ECANCELED; /* cancelled while the lookup ran: connect nothing */
        }
        if (r < 0)
            AIO_RETURN(r);
        c->naddr = r;
    }
    if (c->resolve_only)
        AIO_RETURN(c->naddr);
    for (c->i = 0; c->i < c->naddr; c->i++) {
        r = aio__connect_start(AIO__OPS(c->s->ops), &c->addrs[c->i], &c->fd);
        if (c->fd < 0) {
            c->err = r;
            continue;
        }
        /* Only EINPROGRESS means "in progress": EAGAIN from a nonblocking
         * connect is a Unix listener's full backlog (or no free local port)
         * and nothing is connecting, so waiting for writability would report
         * a connection that does not exist. */
        if (r == -EINPROGRESS) {
            AIO_WAIT_WRITABLE(rc, c->fd);
            if (rc < 0) { /* cancelled or failed: nothing stays open */
                AIO_SYS_close(c->fd);
                c->fd = -1;
                AIO_RETURN(rc);
            }
            r = aio__connect_result(c->fd);
        }
        if (r == 0) {
            aio__connect_adopt(c->s, c->fd, c->addrs[c->i].ss.ss_family);
            c->fd = -1;
            AIO_RETURN(0);
        }
        AIO_SYS_close(c->fd);
        c->fd = -1;
        c->err = r;
    }
    AIO_END(c->err);
}

/* ---- Happy Eyeballs ------------------------------------------------------- */

AIO_IMPL void aio__happy_setup(aio_happy *op, aio_stream *s, const char *host, int port, const aio_sockaddr *addrs,
                               int n)
{
    int i;
    aio__connect_setup(&op->c, s, host, port, NULL, NULL);
    op->c.resolve_only = 1;
    if (op->delay <= 0)
        op->delay = AIO_HAPPY_DELAY;
    if (addrs) {
        if (n <= 0 || n > AIO_NET_MAX_ADDRS) {
            op->c.host = NULL; /* no addresses and no host: AIO_EINVAL */
            return;
        }
        for (i = 0; i < n; i++)
            op->c.addrs[i] = addrs[i];
        op->c.naddr = n;
    }
}

/* RFC 8305 section 4: the families alternate, the first one returned first;
 * within a family the order is kept. */
static void aio__happy_interleave(aio_sockaddr *a, int n)
{
    aio_sockaddr tmp[AIO_NET_MAX_ADDRS];
    int fam = a[0].ss.ss_family, i, k = 0, ia = 0, ib = 0;
    int first[AIO_NET_MAX_ADDRS], other[AIO_NET_MAX_ADDRS], nf = 0, no = 0;
    for (i = 0; i < n; i++) {
        if (a[i].ss.ss_family == fam)
            first[nf++] = i;
        else
            other[no++] = i;
    }
    while (ia < nf || ib < no) {
        if (ia < nf)
            tmp[k++] = a[first[ia++]];
        if (ib < no)
            tmp[k++] = a[other[ib++]];
    }
    for (i = 0; i < n; i++)
        a[i] = tmp[i];
}

/* One attempt: connect to its address; the first to connect gives the
 * stream its socket and cancels the others.  Never fails its group: the
 * error is kept in the aio_happy. */
static int aio__happy_try_run(aio_task *t, void *frame)
{
    aio__happy_try *a = (aio__happy_try *)frame;
    aio_happy *he = a->he;
    int rc, r;
    AIO_BEGIN(t, a);
    r = aio__connect_start(AIO__OPS(he->c.s->ops), &he->c.addrs[a->i], &a->fd);
    if (r == -EINPROGRESS) { /* (EAGAIN is not: see aio_connect_run) */
        AIO_WAIT_WRITABLE(rc, a->fd);
        r = rc < 0 ? rc : aio__connect_result(a->fd);
    }
    if (r == 0 && !he->won) {
        he->won = 1;
        aio__connect_adopt(he->c.s, a->fd, he->c.addrs[a->i].ss.ss_family);
        a->fd = -1;
        aio_group_cancel(&he->g, "happy eyeballs: another attempt connected");
    } else if (r != 0 && r != AIO_ECANCELED) {
        he->err = r;
    }
    if (a->fd >= 0) { /* failed, cancelled, or connected second */
        aio_notify_closing(aio_task_loop(t), a->fd);
        AIO_SYS_close(a->fd);
        a->fd = -1;
    }
    aio_event_set(&he->changed);
    AIO_END(0);
}

AIO_IMPL int aio_happy_run(aio_task *t, void *frame)
{
    aio_happy *he = (aio_happy *)frame;
    int rc;
    AIO_BEGIN(t, he);
    AIO_AWAIT(rc, aio_connect_run, &he->c); /* checks, then the lookup: the address count */
    if (rc < 0)
        AIO_RETURN(rc);
    aio__happy_interleave(he->c.addrs, he->c.naddr);
    he->won = 0;
    he->err = -EHOSTUNREACH;
    aio_event_init(&he->changed);
    memset(&he->g, 0, sizeof he->g);
    aio_group_enter(t, &he->g, AIO_GROUP_ALL_SETTLED);
    for (he->next = 0; he->next < he->c.naddr && !he->won; he->next++) {
        he->tries[he->next].he = he;
        he->tries[he->next].i = he->next;
        he->tries[he->next].fd = -1;
        memset(&he->tasks[he->next], 0, sizeof he->tasks[he->next]);
        aio_spawn(&he->g, &he->tasks[he->next], aio__happy_try_run, &he->tries[he->next]);
        if (he->next + 1 < he->c.naddr) {
            /* The next attempt starts when this one ends (the event), or
             * after the delay; a win or a cancellation ends the wait too. */
            aio_event_clear(&he->changed);
            aio_move_on_after(t, &he->sc, he->delay);
            AIO_EVENT_WAIT(rc, &he->changed);
            rc = aio_scope_exit(t, &he->sc, rc);
            if (rc == AIO_ECANCELED && !he->won)
                break; /* cancelled from outside: the group cancels the attempts */
        }
    }
    AIO_GROUP_WAIT(rc, &he->g, 0);
    if (he->won)
        AIO_RETURN(0); /* connected: a completed connect is never reported as cancelled */
    /* Attempts never fail the group, so a cancellation from outside is
     * seen here rather than in the group's result. */
    AIO_END(rc == AIO_ECANCELED || aio_task_cancelled(t) ? AIO_ECANCELED : he->err);
}

#ifdef AIO_THREAD_H
/* Runs on a pool thread: the blocking lookup into the connect's addresses
 * (read by the loop only after the job has completed). */
static int aio__resolve_job(void *arg)
{
    aio_connect *c = (aio_connect *)arg;
    return aio__resolve_ex(c->host, c->port, 0, SOCK_STREAM, c->addrs, AIO_NET_MAX_ADDRS, &c->gai_error, 0);
}

AIO_IMPL void aio_connect_resolve_on(aio_connect *op, aio_net_resolver *r, aio_pool *pool)
{
    r->pool = pool;
    r->c = op;
    op->resolve = aio_net_resolver_run;
    op->resolve_frame = r;
}

AIO_IMPL int aio_net_resolver_run(aio_task *t, void *frame)
{
    aio_net_resolver *r = (aio_net_resolver *)frame;
    int rc;
    AIO_BEGIN(t, r);
    rc = aio_job_init(&r->job, aio__resolve_job, r->c, NULL, 0);
    if (rc)
        AIO_RETURN(rc);
    AIO_TO_THREAD(rc, r->pool, &r->job);
    AIO_END(rc);
}
#endif

/* ---- listen and accept -------------------------------------------------- */

static int aio__listen_on(aio_listener *l, const aio_sockaddr *a, int backlog)
{
    int one = 1, fd, family = a->ss.ss_family;
    fd = aio__net_socket(family, SOCK_STREAM);
    if (fd < 0)
        return fd;
    if (family != AF_UNIX)
        AIO_SYS_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l->reuse_port && family != AF_UNIX) {
#ifdef AIO__SO_REUSEPORT
        if (AIO_SYS_setsockopt(fd, SOL_SOCKET, AIO__SO_REUSEPORT, &one, sizeof one) < 0) {
            int e = errno;
            AIO_SYS_close(fd);
            return -e;
        }
#else
        AIO_SYS_close(fd);
        return AIO_EINVAL;
#endif
    }
    if (family == AF_INET6)
        AIO_SYS_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (AIO_SYS_bind(fd, (const struct sockaddr *)(const void *)&a->ss, a->len) < 0) {
        int e = errno;
        AIO_SYS_close(fd);
        return -e;
    }
    if (AIO_SYS_listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
        int e = errno;
        AIO_SYS_close(fd);
        if (family == AF_UNIX) /* the bind made the socket file: remove it again */
            AIO_SYS_unlink(((const struct sockaddr_un *)(const void *)&a->ss)->sun_path);
        return -e;
    }
    l->port = 0;
    if (family != AF_UNIX) { /* the bound port (port 0 picks one): a listener without it is no use */
        aio_sockaddr b;
        b.len = sizeof b.ss;
        if (AIO_SYS_getsockname(fd, (struct sockaddr *)(void *)&b.ss, &b.len) != 0) {
            int e = errno;
            AIO_SYS_close(fd);
            return -e;
        }
        l->port = aio_sockaddr_port(&b);
    }
    l->fd = fd;
    l->family = family;
    if (!l->backoff)
        l->backoff = AIO_MS(100);
    l->op.phase = AIO__PH_IDLE;
    return 0;
}

AIO_IMPL int aio_tcp_listen(aio_listener *l, const char *host, int port, int backlog)
{
    aio_sockaddr a;
    int gai, r;
    if (!l)
        return AIO_EINVAL;
    l->fd = -1;
    l->path = NULL;
    r = aio__resolve(host ? host : "0.0.0.0", port, 1, SOCK_STREAM, &a, 1, &gai);
    if (r < 0)
        return r == -EHOSTUNREACH ? AIO_EINVAL : r;
    return aio__listen_on(l, &a, backlog);
}

AIO_IMPL int aio_unix_listen(aio_listener *l, const char *path, int backlog)
{
    aio_sockaddr a;
    int r;
    if (!l)
        return AIO_EINVAL;
    l->fd = -1;
    l->path = NULL;
    r = aio_sockaddr_unix(&a, path);
    if (r)
        return r;
    r = aio__listen_on(l, &a, backlog);
    if (r == 0)
        l->path = path;
    return r;
}

AIO_IMPL int aio_listener_close(aio_loop *loop, aio_listener *l)
{
    int rc = 0;
    if (l->fd >= 0) {
        aio_notify_closing(loop, l->fd);
        rc = AIO_SYS_close(l->fd) < 0 ? -errno : 0;
        l->fd = -1;
    }
    if (l->path) {
        AIO_SYS_unlink(l->path);
        l->path = NULL;
    }
    return rc;
}

static int aio__accept_step(aio_task *t, aio_listener *l)
{
    const aio_net_ops *o = AIO__OPS(l->ops);
    for (;;) {
        aio_sockaddr peer;
        int fd, rc;
        peer.len = sizeof peer.ss;
        fd = o->accept(o->ctx, l->fd, (struct sockaddr *)(void *)&peer.ss, &peer.len);
        if (fd >= 0) {
            rc = aio__net_fd_setup(fd);
            if (rc) {
                AIO_SYS_close(fd);
                return rc;
            }
            aio__net_nodelay(fd, l->family);
            l->out->fd = fd;
            l->out->rpos = l->out->rlen = l->out->scan = 0;
            l->out->eof = 0;
            if (!l->out->ops)
                l->out->ops = l->ops;
            if (l->peer)
                *l->peer = peer;
            return 0;
        }
        switch (fd) {
        case -EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case -EWOULDBLOCK:
#endif
            return aio__fd_wait_begin(t, l->fd, AIO_READABLE);
        case -EMFILE:
        case -ENFILE:
        case -ENOBUFS:
        case -ENOMEM: /* out of descriptors: back off instead of spinning on a ready listener */
            l->emfile++;
            return aio__sleep_begin(t, l->backoff, 0);
        case -EINTR:
        case -ECONNABORTED:
        case -EPROTO:
            continue;
        default:
            return fd;
        }
    }
}

AIO_IMPL int aio__accept_begin(aio_task *t, aio_listener *l, aio_stream *s, aio_sockaddr *peer)
{
    int rc = aio__op_start(t, &l->op, l->fd);
    if (rc)
        return rc;
    if (!s || s->fd >= 0)
        return AIO_EINVAL;
    l->out = s;
    l->peer = peer;
    return aio__op_finish(t, &l->op, aio__accept_step(t, l));
}

AIO_IMPL int aio__accept_next(aio_task *t, aio_listener *l)
{
    int rc;
    if (!aio__op_resumed(t, &l->op, &rc))
        return rc;
    if (l->fd < 0) {
        l->op.phase = AIO__PH_IDLE;
        return AIO_ECLOSED;
    }
    return aio__op_finish(t, &l->op, aio__accept_step(t, l));
}

/* ---- server ------------------------------------------------------------- */

AIO_IMPL int aio_server_init(aio_server *srv, aio_listener *lst, void *slots, uint32_t nslots, size_t stride,
                             aio_fn fn)
{
    uint32_t i;
    if (!srv || !lst || !slots || !nslots || stride < sizeof(aio_conn) || !fn)
        return AIO_EINVAL;
    memset(srv, 0, sizeof *srv);
    srv->lst = lst;
    srv->handler = fn;
    srv->slots = (unsigned char *)slots;
    srv->stride = stride;
    srv->nslots = nslots;
    srv->grace = AIO_TIME_INF;
    srv->first_byte_timeout = AIO_SEC(10);
    srv->idle_timeout = AIO_SEC(30);
    srv->request_timeout = AIO_SEC(60);
    srv->evict_after = AIO_SEC(1);
    srv->full_policy = AIO_SERVER_FULL_EVICT;
    for (i = nslots; i-- > 0;) {
        aio_conn *c = (aio_conn *)(void *)(srv->slots + (size_t)i * stride);
        c->next_free = srv->free;
        srv->free = c;
    }
    aio_sem_init(&srv->free_sem, nslots);
    return 0;
}

enum { AIO__CONN_EVICTED = 1, AIO__CONN_SHUTDOWN };

#define AIO__SLOT(srv, i) ((aio_conn *)(void *)((srv)->slots + (size_t)(i) * (srv)->stride))

/* now + d, saturating at AIO_TIME_INF (which d may be). */
static aio_time aio__net_after(aio_time now, aio_time d)
{
    if (d < 0)
        d = 0;
    return d == AIO_TIME_INF || d > AIO_TIME_INF - now ? AIO_TIME_INF : now + d;
}

/* Cancels a connection's handler for the server's own reason. */
static void aio__conn_stop(aio_conn *c, int why)
{
    if (!c->why)
        c->why = (uint8_t)why;
    aio_scope_cancel(&c->guard, why == AIO__CONN_EVICTED ? "server full: connection evicted" : "server shutdown");
}

/* The handler is about to wait on its client: bound the wait. */
static void aio__conn_park(aio_task *t, aio_stream *s, int bit)
{
    aio_conn *c = s->conn;
    aio_server *srv = c->server;
    aio_time now, d;
    if (!srv || !c->live)
        return;
    now = aio_now(aio_task_loop(t));
    c->parked |= (uint8_t)bit;
    c->since = now;
    if (bit == 1 && srv->stopping) {
        aio__conn_stop(c, AIO__CONN_SHUTDOWN);
        return;
    }
    d = aio__net_after(now, bit == 1 && !c->in_request ? srv->first_byte_timeout : srv->idle_timeout);
    if (c->req_deadline < d)
        d = c->req_deadline;
    aio_scope_set_deadline(&c->guard, d);
    if (srv->waiting_full && srv->full_policy == AIO_SERVER_FULL_EVICT) {
        /* A connection became a candidate: the accept loop looks again then. */
        d = aio__net_after(now, srv->evict_after);
        if (d < srv->wait_scope.tm.deadline)
            aio_scope_set_deadline(&srv->wait_scope, d);
    }
}

/* The wait ended: only the request's deadline is left. */
static void aio__conn_unpark(aio_task *t, aio_stream *s, int bit)
{
    aio_conn *c = s->conn;
    (void)t;
    if (!c->server || !c->live)
        return;
    c->parked &= (uint8_t)~bit;
    if (!c->parked)
        aio_scope_set_deadline(&c->guard, c->req_deadline);
}

/* Bytes arrived: the first one starts a request. */
static void aio__conn_got(aio_task *t, aio_stream *s)
{
    aio_conn *c = s->conn;
    if (!c->server || !c->live || c->in_request)
        return;
    c->in_request = 1;
    c->req_deadline = aio__net_after(aio_now(aio_task_loop(t)), c->server->request_timeout);
    if (!c->parked)
        aio_scope_set_deadline(&c->guard, c->req_deadline);
}

AIO_IMPL void aio_conn_request_done(aio_conn *c)
{
    if (!c->server || !c->live)
        return;
    c->in_request = 0;
    c->req_deadline = AIO_TIME_INF;
    if (aio_stream_buffered(&c->stream) > 0) { /* a pipelined request is here already */
        c->in_request = 1;
        c->req_deadline = aio__net_after(aio_now(aio_task_loop(&c->task)), c->server->request_timeout);
    }
    if (!c->parked)
        aio_scope_set_deadline(&c->guard, c->req_deadline);
}

/* The connection that has waited longest on its client, preferring those
 * between requests; NULL when no handler waits. */
static aio_conn *aio__server_victim(aio_server *srv)
{
    aio_conn *best = NULL;
    int best_idle = 0;
    uint32_t i;
    for (i = 0; i < srv->nslots; i++) {
        aio_conn *c = AIO__SLOT(srv, i);
        int idle;
        if (!c->live || !c->parked || c->why)
            continue;
        idle = (c->parked & 1) && !c->in_request;
        if (!best || idle > best_idle || (idle == best_idle && c->since < best->since)) {
            best = c;
            best_idle = idle;
        }
    }
    return best;
}

/* Every slot is busy: evict a connection that has waited long enough, and
 * enter the wait scope with the time to look again. */
static void aio__server_make_room(aio_task *t, aio_server *srv)
{
    aio_conn *v = aio__server_victim(srv);
    aio_time when = v ? aio__net_after(v->since, srv->evict_after) : AIO_TIME_INF;
    if (v && when <= aio_now(aio_task_loop(t))) {
        aio__conn_stop(v, AIO__CONN_EVICTED);
        srv->evicted++;
        when = AIO_TIME_INF; /* its slot frees when its handler has returned */
    }
    aio_scope_init(&srv->wait_scope);
    aio_scope_enter(t, &srv->wait_scope, when);
}

AIO_IMPL void aio_server_shutdown(aio_server *srv, aio_time grace)
{
    uint32_t i;
    if (srv->stopping)
        return;
    srv->stopping = 1;
    srv->grace = grace < 0 ? 0 : grace;
    if (srv->accept_scope.flags & AIO__SCOPE_ACTIVE)
        aio_scope_cancel(&srv->accept_scope, "server shutdown");
    for (i = 0; i < srv->nslots; i++) { /* handlers waiting for a read: at once */
        aio_conn *c = AIO__SLOT(srv, i);
        if (c->live && (c->parked & 1))
            aio__conn_stop(c, AIO__CONN_SHUTDOWN);
    }
}

/* Runs one handler over its slot, then closes the connection and frees the slot. */
static int aio__conn_run(aio_task *t, void *frame)
{
    aio__conn_wrap *w = (aio__conn_wrap *)frame;
    aio_conn *c = w->conn;
    aio_server *srv = c->server;
    int rc, stopped;
    AIO_BEGIN(t, w);
    aio_scope_init(&c->guard);
    aio_scope_enter(t, &c->guard, AIO_TIME_INF);
    c->req_deadline = AIO_TIME_INF;
    c->live = 1;
    AIO_AWAIT(rc, srv->handler, c);
    stopped = (c->guard.flags & AIO__SCOPE_CANCEL_CALLED) != 0;
    if (stopped && !c->why)
        srv->timeouts++; /* only a deadline cancels the guard without a reason of the server's */
    rc = aio_scope_exit(t, &c->guard, rc);
    c->live = 0;
    c->parked = 0;
    if (rc < 0 && rc != AIO_ECANCELED && !stopped) {
        srv->failed++;
        srv->last_error = rc;
    }
    aio_stream_close(aio_task_loop(t), &c->stream);
    srv->active--;
    c->next_free = srv->free;
    srv->free = c;
    aio_sem_release(&srv->free_sem);
    AIO_END(rc == AIO_ECANCELED ? rc : 0);
}

static void aio__server_grace_expired(aio_loop *loop, void *arg)
{
    (void)loop;
    aio_group_cancel(&((aio_server *)arg)->g, "server shutdown: grace period over");
}

AIO_IMPL int aio_server_serve(aio_task *t, void *frame)
{
    aio_server *srv = (aio_server *)frame;
    int rc;
    AIO_BEGIN(t, srv);
    srv->rc = 0;
    aio_group_enter(t, &srv->g, AIO_GROUP_ALL_SETTLED);
    aio_scope_init(&srv->accept_scope);
    aio_scope_enter(t, &srv->accept_scope, AIO_TIME_INF);
    if (srv->stopping)
        aio_scope_cancel(&srv->accept_scope, "server shutdown");
    for (;;) {
        if (srv->full_policy == AIO_SERVER_FULL_EVICT && srv->free_sem.value == 0) { /* every slot is busy */
            /* Evict only for a client that is waiting to be accepted. */
            AIO_WAIT_READABLE(rc, srv->lst->fd);
            if (rc < 0)
                break;
            if (srv->free_sem.value == 0) {
                aio__server_make_room(t, srv);
                srv->waiting_full = 1;
                AIO_SEM_ACQUIRE(rc, &srv->free_sem);
                srv->waiting_full = 0;
                srv->rc = aio_scope_exit(t, &srv->wait_scope, rc);
                if (srv->rc < 0) {
                    rc = srv->rc; /* cancelled from outside or shut down */
                    break;
                }
                if (rc < 0)
                    continue; /* the wait scope's deadline: look again */
                goto have_slot;
            }
        }
        AIO_SEM_ACQUIRE(rc, &srv->free_sem);
        if (rc < 0)
            break;
    have_slot:
        srv->cur = srv->free;
        srv->free = srv->cur->next_free;
        memset(srv->cur, 0, srv->stride);
        srv->cur->stream.fd = -1;
        AIO_ACCEPT(rc, srv->lst, &srv->cur->stream, &srv->cur->peer);
        if (rc < 0) {
            srv->cur->next_free = srv->free;
            srv->free = srv->cur;
            aio_sem_release(&srv->free_sem);
            break;
        }
        srv->accepted++;
        srv->active++;
        srv->cur->server = srv;
        srv->cur->stream.conn = srv->cur;
        srv->cur->wrap.conn = srv->cur;
        aio_spawn(&srv->g, &srv->cur->task, aio__conn_run, &srv->cur->wrap);
    }
    rc = aio_scope_exit(t, &srv->accept_scope, rc);
    if (rc < 0 && rc != AIO_ECANCELED)
        srv->last_error = rc; /* an accept error that stopped the server */
    srv->rc = rc;
    srv->stopping = 1;
    aio_listener_close(aio_task_loop(t), srv->lst);
    if (srv->grace == 0)
        aio_group_cancel(&srv->g, "server shutdown");
    else if (srv->grace != AIO_TIME_INF)
        aio_call_later(aio_task_loop(t), &srv->grace_timer, srv->grace, aio__server_grace_expired, srv);
    AIO_GROUP_WAIT(rc, &srv->g, 0);
    aio_call_cancel(aio_task_loop(t), &srv->grace_timer);
    AIO_END(srv->rc < 0 ? srv->rc : rc);
}

/* ---- UDP ---------------------------------------------------------------- */

AIO_IMPL int aio_udp_bind(aio_udp *u, const char *host, int port)
{
    aio_sockaddr a, b;
    int fd, r;
    if (!u)
        return AIO_EINVAL;
    u->fd = -1;
    r = aio_sockaddr_ip(&a, host ? host : "0.0.0.0", port);
    if (r)
        return r;
    fd = aio__net_socket(a.ss.ss_family, SOCK_DGRAM);
    if (fd < 0)
        return fd;
    if (AIO_SYS_bind(fd, (const struct sockaddr *)(const void *)&a.ss, a.len) < 0) {
        r = -errno;
        AIO_SYS_close(fd);
        return r;
    }
    b.len = sizeof b.ss;
    if (AIO_SYS_getsockname(fd, (struct sockaddr *)(void *)&b.ss, &b.len) != 0) { /* the bound port */
        r = -errno;
        AIO_SYS_close(fd);
        return r;
    }
    u->port = aio_sockaddr_port(&b);
    u->fd = fd;
    u->rd.phase = u->wr.phase = AIO__PH_IDLE;
    return 0;
}

AIO_IMPL int aio_udp_close(aio_loop *loop, aio_udp *u)
{
    int rc = 0;
    if (u->fd >= 0) {
        aio_notify_closing(loop, u->fd);
        rc = AIO_SYS_close(u->fd) < 0 ? -errno : 0;
    }
    u->fd = -1;
    return rc;
}

static int aio__udp_step(aio_task *t, aio_udp *u, int snd)
{
    const aio_net_ops *o = AIO__OPS(u->ops);
    for (;;) {
        long n;
        if (snd) {
            const aio_sockaddr *to = (const aio_sockaddr *)u->wr.addr;
            n = o->sendto(o->ctx, u->fd, u->wr.buf, u->wr.len, (const struct sockaddr *)(const void *)&to->ss,
                          to->len);
        } else {
            aio_sockaddr from;
            from.len = sizeof from.ss;
            n = o->recvfrom(o->ctx, u->fd, u->rd.buf, u->rd.len, (struct sockaddr *)(void *)&from.ss, &from.len);
            if (n >= 0 && u->rd.addr)
                *(aio_sockaddr *)u->rd.addr = from;
        }
        if (n >= 0)
            return (int)n;
        if (n == -EAGAIN || n == -EWOULDBLOCK)
            return aio__fd_wait_begin(t, u->fd, snd ? AIO_WRITABLE : AIO_READABLE);
        if (n != -EINTR)
            return (int)n;
    }
}

AIO_IMPL int aio__udp_begin(aio_task *t, aio_udp *u, int snd, void *buf, size_t n, void *addr)
{
    aio__net_op *op = snd ? &u->wr : &u->rd;
    int rc = aio__op_start(t, op, u->fd);
    if (rc)
        return rc;
    if ((!buf && n) || n > (size_t)0x7fffffff || (snd && !addr))
        return AIO_EINVAL;
    op->buf = (unsigned char *)buf;
    op->len = n;
    op->addr = addr;
    return aio__op_finish(t, op, aio__udp_step(t, u, snd));
}

AIO_IMPL int aio__udp_next(aio_task *t, aio_udp *u, int snd)
{
    aio__net_op *op = snd ? &u->wr : &u->rd;
    int rc;
    if (!aio__op_resumed(t, op, &rc))
        return rc;
    return aio__op_finish(t, op, aio__udp_step(t, u, snd));
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION && !AIO__NET_IMPLEMENTED */
