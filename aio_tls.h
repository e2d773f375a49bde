/*
 * aio_tls.h - TLS streams over aio_net.h streams, built on OpenSSL
 * (asyncio ssl= on open_connection/start_server, trio SSLStream, anyio
 * TLSStream and TLSListener).
 *
 * A TLS stream is a plain aio_stream with TLS put between it and the socket:
 * aio_tls_wrap_client / aio_tls_wrap_server install the TLS layer as the
 * stream's syscall hook (its aio_net_ops), and from then on the stream's own
 * operations - AIO_STREAM_READ_SOME, READ_EXACT, READ_UNTIL, READ_LINE,
 * WRITE_ALL, and the server helper's handlers - move plaintext, encrypted
 * on the wire.  Code written for a plain stream runs unchanged over TLS.
 * What TLS adds is awaited through this header: AIO_TLS_HANDSHAKE and
 * AIO_TLS_SHUTDOWN (close_notify), and read after the handshake: the
 * negotiated protocol (ALPN), the peer's certificate, the server name (SNI).
 *
 * OpenSSL runs over a BIO of this header that calls the stream's previous
 * aio_net_ops (the real recv/send with MSG_NOSIGNAL, or a test's hook), so
 * the socket stays non-blocking: when OpenSSL needs the socket, the await
 * parks on the reactor like every other stream operation and obeys cancel
 * scopes and deadlines.  The rules of aio_net.h hold (cancel point first,
 * one schedule point when an operation completes at once).
 *
 * Verification: a client context verifies the server's chain against the
 * system store (plus any CA added with aio_tls_ctx_trust) and the host name
 * given to aio_tls_wrap_client (a DNS name, or a numeric IPv4/IPv6 address
 * matched against the certificate's IP entries).  Failures come back as
 * codes of their own: AIO_ETLS_HOSTNAME, AIO_ETLS_EXPIRED,
 * AIO_ETLS_UNTRUSTED, AIO_ETLS_VERIFY (any other verification failure).
 * TLS 1.2 is the oldest version accepted; renegotiation is refused.
 *
 * Close rules (trio's):
 *  - graceful close: AIO_TLS_SHUTDOWN sends close_notify (it does not wait
 *    for the peer's), then aio_tls_close closes the socket.  A peer's
 *    close_notify reads as end of stream: AIO_EEND.
 *  - abrupt close by the peer (the TCP connection ends without close_notify)
 *    reads as AIO_ETLS_TRUNCATED, never as a clean end of stream; a reset is
 *    -ECONNRESET.  An HTTP client that knows the body's length may treat
 *    AIO_ETLS_TRUNCATED after the body as the end.
 *  - a cancellation (or deadline) that lands mid-handshake, or while a write
 *    waits with part of a TLS record handed to OpenSSL, leaves the TLS state
 *    half-done: the stream is then broken.  aio_tls_broken() says so (and
 *    why: AIO_ECANCELED), and every later read, write or shutdown returns
 *    AIO_EBROKEN; only aio_tls_close is left.  Nothing is lost silently: a
 *    cancelled write_all has written aio_stream_written(s) bytes, the rest
 *    was not delivered.  A read cancelled while waiting for data leaves the
 *    stream usable (OpenSSL keeps a partial record; nothing was consumed).
 *  - a TLS protocol error or an alert from the peer (AIO_ETLS, the
 *    verification codes) breaks the stream too.
 *
 * Not through this header: aio_stream_shutdown_write on a TLS stream
 * would end the TCP stream without close_notify (the peer then reads
 * AIO_ETLS_TRUNCATED); use AIO_TLS_SHUTDOWN.  A write_all hands every byte
 * to the socket before it returns, so there is nothing to flush (asyncio's
 * drain is the write_all's return).
 *
 * Limits: OpenSSL allocates its own objects (the context, each connection's
 * state): that is the one place an aio header leads to malloc, inside
 * OpenSSL.  A read that needs OpenSSL to write (a TLS 1.3 key update reply)
 * while the socket's send buffer is full waits for readability, not
 * writability.  Certificates and keys are loaded from PEM files.
 *
 * Usage: POSIX only; include after aio.h (it includes aio_net.h); define
 * AIO_IMPLEMENTATION as for aio_net.h; link -lssl -lcrypto (pkg-config
 * aio-tls, or the CMake component aio::tls).  OpenSSL 1.1.1 or newer.
 *
 * Map (declarations, then the implementation): error codes; contexts
 * (aio_tls_ctx: trust, certificates, ALPN); TLS streams (wrap, handshake,
 * shutdown, what the handshake negotiated); the server helper; internals.
 * The implementation starts with the BIO through which OpenSSL reaches the
 * socket.  A first reader needs aio_tls_ctx_init, aio_tls_wrap_client and
 * AIO_TLS_HANDSHAKE.
 */
#ifndef AIO_TLS_H
#define AIO_TLS_H

#include "aio_net.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Error codes                                                               */
/* ------------------------------------------------------------------------ */

#define AIO_ETLS (-10101)           /**< TLS protocol failure or an alert from the peer (aio_tls_error_string has OpenSSL's reason) */
#define AIO_ETLS_HOSTNAME (-10102)  /**< the peer's certificate does not match the host name */
#define AIO_ETLS_EXPIRED (-10103)   /**< the peer's certificate (or one in its chain) has expired or is not yet valid */
#define AIO_ETLS_UNTRUSTED (-10104) /**< the peer's chain does not lead to a trusted CA (unknown or self-signed issuer) */
#define AIO_ETLS_VERIFY (-10105)    /**< another certificate verification failure (aio_tls_verify_result has X509's code) */
#define AIO_ETLS_TRUNCATED (-10106) /**< the peer ended the connection without close_notify */

/** Name of a code: the AIO_ETLS* codes here, every other code as aio_strerror. */
AIO_API const char *aio_tls_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Contexts                                                                  */
/* ------------------------------------------------------------------------ */

/** Which side a context is for. */
#define AIO_TLS_CLIENT 0
#define AIO_TLS_SERVER 1

/** Longest ALPN list (wire format: length-prefixed names) a context keeps. */
#ifndef AIO_TLS_ALPN_MAX
#define AIO_TLS_ALPN_MAX 64
#endif

/**
 * Settings shared by many connections (ssl.SSLContext): an OpenSSL SSL_CTX
 * and this header's BIO method.  Initialise with aio_tls_ctx_init, free
 * with aio_tls_ctx_free after the last connection made from it is closed.
 * It must stay at one address while in use (the server's ALPN choice reads
 * it).  `ctx` may be configured further with OpenSSL's own calls.
 */
typedef struct aio_tls_ctx {
    SSL_CTX *ctx;                           /* the OpenSSL context, for OpenSSL's own calls */
    /* private: the fields below are not API */
    BIO_METHOD *bio;
    int side;                               /* AIO_TLS_CLIENT or AIO_TLS_SERVER */
    unsigned char alpn[AIO_TLS_ALPN_MAX];   /* server: the protocols it accepts, in preference order */
    unsigned alpn_len;
} aio_tls_ctx;

/**
 * ssl.create_default_context(): a context for `side` (AIO_TLS_CLIENT or
 * AIO_TLS_SERVER), TLS 1.2 or newer.  A client context verifies the peer
 * against the system store (SSL_CTX_set_default_verify_paths); a server
 * context asks for no client certificate.  Returns 0, AIO_EINVAL, or
 * AIO_ETLS (OpenSSL failed; nothing is left to free).
 */
AIO_API int aio_tls_ctx_init(aio_tls_ctx *c, int side);
/** Frees the OpenSSL objects of `c` (safe on a zeroed or freed context). */
AIO_API void aio_tls_ctx_free(aio_tls_ctx *c);
/**
 * SSLContext.load_cert_chain(cert, key): the certificate chain (PEM, leaf
 * first) and private key a server (or a client asked for one) presents.
 * Returns 0, AIO_ETLS (unreadable, or the key does not match), AIO_EINVAL.
 */
AIO_API int aio_tls_ctx_load_cert(aio_tls_ctx *c, const char *cert_file, const char *key_file);
/**
 * SSLContext.load_verify_locations(cafile): trusts the CA certificates of
 * the PEM file `ca_file` too (beside the system store).  Returns 0,
 * AIO_ETLS, AIO_EINVAL.
 */
AIO_API int aio_tls_ctx_trust(aio_tls_ctx *c, const char *ca_file);
/**
 * Turns peer verification on or off.  Client: on by default; off accepts any
 * certificate and any host name (ssl.CERT_NONE; for tests only).  Server:
 * off by default; on requires a client certificate that verifies against
 * the trusted CAs (mutual TLS).  Returns 0 or AIO_EINVAL.
 */
AIO_API int aio_tls_ctx_set_verify(aio_tls_ctx *c, int on);
/**
 * SSLContext.set_alpn_protocols: `list` is a comma-separated list in
 * preference order ("h2,http/1.1").  A client offers it; a server picks its
 * first entry the client also offers (none in common: the handshake goes on
 * without ALPN).  Returns 0, AIO_EINVAL (empty name, a name over 255 bytes,
 * longer than AIO_TLS_ALPN_MAX), AIO_ETLS.
 */
AIO_API int aio_tls_ctx_set_alpn(aio_tls_ctx *c, const char *list);

/* ------------------------------------------------------------------------ */
/* TLS streams                                                               */
/* ------------------------------------------------------------------------ */

/**
 * The TLS state of one connection.  A wrap function fills it (wrapping a
 * live one again without aio_tls_free first leaks its OpenSSL state); it
 * must stay at one address while the stream is in use (the stream's hook
 * points at it).
 */
typedef struct aio_tls {
    /* private: no field is API; use the functions declared below (aio_tls_broken, aio_tls_alpn...) */
    aio_stream *s;          /* the stream it is layered on */
    const aio_net_ops *raw; /* the stream's ops before wrapping (NULL: real calls) */
    aio_net_ops ops;        /* installed on the stream: plaintext through TLS */
    SSL *ssl;
    aio__net_op op;         /* the handshake or shutdown in progress */
    long oserr;             /* the last system error the BIO saw (-errno), 0 if none */
    unsigned long ssl_error; /* OpenSSL's error code behind the last AIO_ETLS* */
    int broken;             /* 0, or why the stream can no longer be used */
    uint8_t want;           /* the direction OpenSSL's last call waits for */
    uint8_t wpending;       /* a write is half done inside OpenSSL: it must be retried */
    uint8_t handshaken;     /* the handshake completed */
    uint8_t sent_close;     /* close_notify was sent */
} aio_tls;

/**
 * asyncio open_connection(ssl=ctx, server_hostname=host) / trio
 * SSLStream(s, ctx, server_hostname=host) / anyio TLSStream.wrap: puts a
 * client TLS layer over connected stream `s`.  `host` is sent as SNI (when
 * it is a name) and checked against the server's certificate (a name, or a
 * numeric address against its IP entries); NULL checks the chain only.
 * Does not suspend and sends nothing: AIO_TLS_HANDSHAKE (or the first read
 * or write) runs the handshake.  Bytes already in the stream's read buffer
 * are an error (AIO_EBUSY).  Returns 0, AIO_EINVAL (no fd, not a client
 * context), AIO_EBUSY, AIO_ETLS.
 */
AIO_API int aio_tls_wrap_client(aio_tls *t, aio_stream *s, aio_tls_ctx *c, const char *host);
/** The server side of aio_tls_wrap_client (trio SSLStream(server_side=True)); returns as it. */
AIO_API int aio_tls_wrap_server(aio_tls *t, aio_stream *s, aio_tls_ctx *c);

/**
 * trio SSLStream.do_handshake / anyio TLSStream.wrap's handshake: runs the
 * handshake, suspending while the socket is not ready.  A completed
 * handshake makes it a checkpoint that returns 0.  rc = 0,
 * AIO_ECANCELED (the stream is then broken), AIO_ETLS_HOSTNAME,
 * AIO_ETLS_EXPIRED, AIO_ETLS_UNTRUSTED, AIO_ETLS_VERIFY, AIO_ETLS (alert or
 * protocol error; on a server, also a client that rejected our certificate),
 * AIO_ETLS_TRUNCATED (the peer closed), -ECONNRESET or another -errno,
 * AIO_ECLOSED, AIO_EBROKEN (already broken), AIO_EBUSY (a handshake or
 * shutdown is in progress in another task), AIO_EINVAL (not wrapped).
 */
#define AIO_TLS_HANDSHAKE(rc, t) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__tls_begin(aio__await_needs_AIO_BEGIN_first, (t), 0), aio__tls_next(aio__await_needs_AIO_BEGIN_first, (t)))

/**
 * trio SSLStream.aclose's first half / anyio TLSStream.unwrap without the
 * wait: sends close_notify, suspending while the socket is full.  Does not
 * wait for the peer's close_notify (a later read returns AIO_EEND when it
 * comes).  rc = 0 (also when it was already sent), AIO_ECANCELED (the
 * stream is then broken), AIO_EBROKEN, -EPIPE/-ECONNRESET (the peer is
 * gone), AIO_EINVAL (no handshake yet).  Then close with aio_tls_close.
 */
#define AIO_TLS_SHUTDOWN(rc, t) \
    AIO__NET_RUN(AIO__SUSPEND_ID, rc, aio__tls_begin(aio__await_needs_AIO_BEGIN_first, (t), 1), aio__tls_next(aio__await_needs_AIO_BEGIN_first, (t)))

/**
 * Abrupt close (trio's aclose when cancelled): frees the TLS state, gives
 * the stream back its own ops and closes it (aio_stream_close: waiters get
 * AIO_ECLOSED).  No close_notify is sent unless AIO_TLS_SHUTDOWN ran first.
 * Returns aio_stream_close's result.  Never suspends.
 */
AIO_API int aio_tls_close(aio_loop *loop, aio_tls *t);
/**
 * Frees the TLS state and gives the stream back its own ops without closing
 * it (the server helper closes the stream itself).  Never suspends.  A
 * stream unwrapped mid-connection carries TLS bytes no plain read can use.
 */
AIO_API void aio_tls_free(aio_tls *t);

/**
 * Zero while the stream is usable; otherwise why it is not: AIO_ECANCELED
 * (a cancellation landed mid-handshake, mid-shutdown or mid-record in a
 * write), or the TLS or system error that ended it.
 */
AIO_API int aio_tls_broken(aio_tls *t);

/**
 * SSLSocket.selected_alpn_protocol(): copies the protocol chosen by ALPN
 * into out[n] (NUL-terminated).  Returns its length, 0 when none was chosen
 * (or before the handshake), AIO_EOVERFLOW when n is too small.
 */
AIO_API int aio_tls_alpn(aio_tls *t, char *out, size_t n);
/** SSLSocket.version(): "TLSv1.3", "TLSv1.2"; "" before the handshake. */
AIO_API const char *aio_tls_version(aio_tls *t);
/**
 * SSLSocket.getpeercert(binary_form=True): the peer's certificate, owned by
 * the connection (valid until aio_tls_close/aio_tls_free), or NULL (none
 * sent, no handshake yet).
 */
AIO_API X509 *aio_tls_peer_cert(aio_tls *t);
/**
 * The common name (CN) of the peer certificate's subject, copied into
 * out[n].  Returns its length, 0 without certificate or CN, AIO_EOVERFLOW.
 */
AIO_API int aio_tls_peer_name(aio_tls *t, char *out, size_t n);
/** Server side: the host name the client sent as SNI, or NULL. */
AIO_API const char *aio_tls_server_name(aio_tls *t);
/** X509_V_OK (0) or OpenSSL's verification error code for the peer (X509_verify_cert_error_string names it). */
AIO_API long aio_tls_verify_result(aio_tls *t);
/**
 * OpenSSL's reason text for the latest AIO_ETLS* of `t` (the verification
 * error for the certificate codes), copied into out[n]; "" if none.
 * Returns out.
 */
AIO_API char *aio_tls_error_string(aio_tls *t, char *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Server helper                                                             */
/* ------------------------------------------------------------------------ */

typedef struct aio_tls_server aio_tls_server;

/**
 * The start of a TLS handler's frame (after the handshake the helper fills
 * it, then awaits the handler over it):
 *
 *     struct echo { aio_tls_handler h; char buf[512]; };     // h first
 *     struct slot { aio_tls_conn tc; struct echo e; };       // the pool's element
 *     static int echo(aio_task *t, void *frame) {
 *         struct echo *f = frame;                            // f->h.stream is plaintext
 *         ...
 *     }
 *     aio_tls_server_init(&ts, &lst, &ctx, pool, N, sizeof pool[0], offsetof(struct slot, e), echo);
 *
 * `stream` is the connection (TLS layered on it; give it a read buffer with
 * aio_stream_set_buffer), `tls` its TLS state, `peer` the peer's address.
 */
typedef struct aio_tls_handler {
    /* private: fields not tagged API: are not API (hdr stays first: it is the handler's frame header) */
    aio_frame hdr;
    aio_stream *stream;       /* API: the connection (plaintext; TLS is layered on it) */
    aio_tls *tls;             /* API: its TLS state */
    const aio_sockaddr *peer; /* API: the peer's address */
    aio_tls_server *server;   /* API: the server it belongs to */
} aio_tls_handler;

/** The part of a pool slot the helper owns (first in the slot). */
typedef struct aio_tls_conn {
    /* private: no field is API; aio_tls_server_init lays the slots out */
    aio_conn conn;     /* the plain server's slot: its frame is the helper's */
    aio_tls tls;
    aio_scope sc;      /* the handshake's deadline, then the close_notify's */
    int rc;
} aio_tls_conn;

/**
 * asyncio start_server(ssl=ctx) / anyio TLSListener / trio
 * serve_ssl_over_tcp: aio_server with a TLS handshake on every accepted
 * connection before its handler runs, under `handshake_timeout` (default
 * 10 s; a peer that stalls is cut off, counted in handshake_failed).  After
 * the handler returns 0 (or a positive value) the helper sends close_notify
 * (cut off after `close_timeout`, default 1 s); after an error it closes
 * without.  Run it with aio_server_serve(&ts->srv) (spawn or AIO_SERVER_SERVE)
 * and stop it with aio_server_shutdown(&ts->srv, grace).
 */
struct aio_tls_server {
    aio_server srv;             /* first: the plain server (serve, shut down and read counters through it) */
    aio_time handshake_timeout; /* the handshake's deadline (default 10 s; set after aio_tls_server_init) */
    aio_time close_timeout;     /* the close_notify's deadline (default 1 s; likewise) */
    uint64_t handshake_failed;  /* connections whose handshake failed or timed out */
    int last_handshake_error;   /* the latest such error */
    /* private: the fields below are not API */
    aio_tls_ctx *ctx;
    aio_fn fn;
    size_t handler_offset;
};

/**
 * Prepares `ts` to serve `lst` over `nslots` slots of `stride` bytes from
 * `slots`; each slot starts with an aio_tls_conn and holds the handler's
 * frame (starting with an aio_tls_handler) `handler_offset` bytes from its
 * start.  Returns 0, AIO_EINVAL (bad layout, not a server context, NULL).
 */
AIO_API int aio_tls_server_init(aio_tls_server *ts, aio_listener *lst, aio_tls_ctx *ctx, void *slots,
                                uint32_t nslots, size_t stride, size_t handler_offset, aio_fn fn);

/* ------------------------------------------------------------------------ */
/* Internals used by the macros                                              */
/* ------------------------------------------------------------------------ */

AIO_API int aio__tls_begin(aio_task *task, aio_tls *t, int shutdown);
AIO_API int aio__tls_next(aio_task *task, aio_tls *t);

#ifdef __cplusplus
}
#endif
#endif /* AIO_TLS_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(AIO_IMPLEMENTATION) && !defined(AIO__TLS_IMPLEMENTED)
#define AIO__TLS_IMPLEMENTED

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#ifdef __cplusplus
extern "C" {
#endif

AIO_IMPL const char *aio_tls_strerror(int code)
{
#ifdef AIO_NO_STRINGS
    (void)code;
    return "";
#else
    switch (code) {
    case AIO_ETLS: return "TLS protocol error or alert from the peer";
    case AIO_ETLS_HOSTNAME: return "TLS: certificate does not match the host name";
    case AIO_ETLS_EXPIRED: return "TLS: certificate expired or not yet valid";
    case AIO_ETLS_UNTRUSTED: return "TLS: certificate not signed by a trusted CA";
    case AIO_ETLS_VERIFY: return "TLS: certificate verification failed";
    case AIO_ETLS_TRUNCATED: return "TLS: peer closed without close_notify";
    default: return aio_strerror(code);
    }
#endif
}

/* ---- the BIO: OpenSSL's socket I/O through the stream's own ops ----------- */

#define AIO__TLS_RAW(t) ((t)->raw ? (t)->raw : aio_net_sys_ops())

static int aio__tls_bio_write(BIO *b, const char *buf, int len)
{
    aio_tls *t = (aio_tls *)BIO_get_data(b);
    const aio_net_ops *o = AIO__TLS_RAW(t);
    long n;
    BIO_clear_retry_flags(b);
    n = o->send(o->ctx, t->s->fd, buf, (size_t)len);
    if (n >= 0)
        return (int)n;
    if (n == -EAGAIN || n == -EWOULDBLOCK || n == -EINTR)
        BIO_set_retry_write(b);
    else
        t->oserr = n;
    return -1;
}

static int aio__tls_bio_read(BIO *b, char *buf, int len)
{
    aio_tls *t = (aio_tls *)BIO_get_data(b);
    const aio_net_ops *o = AIO__TLS_RAW(t);
    long n;
    BIO_clear_retry_flags(b);
    n = o->recv(o->ctx, t->s->fd, buf, (size_t)len);
    if (n >= 0)
        return (int)n; /* 0: the TCP stream ended */
    if (n == -EAGAIN || n == -EWOULDBLOCK || n == -EINTR)
        BIO_set_retry_read(b);
    else
        t->oserr = n;
    return -1;
}

static long aio__tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* writes go straight to the socket */
}

static int aio__tls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- errors --------------------------------------------------------------- */

static int aio__tls_verify_code(long v)
{
    switch (v) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return AIO_ETLS_HOSTNAME;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return AIO_ETLS_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return AIO_ETLS_UNTRUSTED;
    default:
        return AIO_ETLS_VERIFY;
    }
}

/* The handshake failed on the peer's certificate (only where it is checked:
 * with verification off OpenSSL records a failure and goes on). */
static int aio__tls_verify_failed(aio_tls *t)
{
    return t->ssl && !t->handshaken && (SSL_get_verify_mode(t->ssl) & SSL_VERIFY_PEER) &&
           SSL_get_verify_result(t->ssl) != X509_V_OK;
}

/* Internal: OpenSSL must wait for the socket (t->want says which way). */
#define AIO__TLS_WANT 1

/* Turns the result `r` of an SSL call into AIO__TLS_WANT, AIO_EEND (the
 * peer's close_notify) or an error code. */
static int aio__tls_error(aio_tls *t, int r)
{
    int e = SSL_get_error(t->ssl, r);
    unsigned long q;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        t->want = AIO_READABLE;
        return AIO__TLS_WANT;
    case SSL_ERROR_WANT_WRITE:
        t->want = AIO_WRITABLE;
        return AIO__TLS_WANT;
    case SSL_ERROR_ZERO_RETURN:
        return AIO_EEND;
    default:
        break;
    }
    q = ERR_peek_error();
    t->ssl_error = q;
    ERR_clear_error();
    if (aio__tls_verify_failed(t) && e == SSL_ERROR_SSL)
        return aio__tls_verify_code(SSL_get_verify_result(t->ssl));
    if (t->oserr)
        return (int)t->oserr;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    if (ERR_GET_LIB(q) == ERR_LIB_SSL && ERR_GET_REASON(q) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return AIO_ETLS_TRUNCATED;
#endif
    if (e == SSL_ERROR_SYSCALL && q == 0)
        return AIO_ETLS_TRUNCATED; /* OpenSSL 1.1: EOF reported as a bare SYSCALL */
    return AIO_ETLS;
}

/* Before each SSL call: a clean error queue and no stale system error. */
static void aio__tls_prepare(aio_tls *t)
{
    ERR_clear_error();
    t->oserr = 0;
}

/* A write that OpenSSL left half done, abandoned by a cancelled write_all:
 * the stream is broken (a new write cannot finish that record). */
static void aio__tls_check_abandoned(aio_tls *t)
{
    if (t->wpending && !t->broken && t->s && t->s->wr.phase == AIO__PH_IDLE)
        t->broken = AIO_ECANCELED;
}

/* ---- the stream's ops: plaintext in and out -------------------------------- */

static long aio__tls_recv(void *ctx, int fd, void *buf, size_t len)
{
    aio_tls *t = (aio_tls *)ctx;
    int r;
    (void)fd;
    aio__tls_check_abandoned(t);
    if (t->broken)
        return AIO_EBROKEN;
    if (!t->ssl)
        return AIO_EINVAL;
    aio__tls_prepare(t);
    r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0) {
        t->handshaken = 1;
        return r;
    }
    r = aio__tls_error(t, r);
    if (r == AIO__TLS_WANT)
        return -EAGAIN; /* the stream waits for readability (see "Limits") */
    if (r == AIO_EEND)
        return 0; /* close_notify: the stream's end */
    t->broken = r;
    return r;
}

static long aio__tls_send(void *ctx, int fd, const void *buf, size_t len)
{
    aio_tls *t = (aio_tls *)ctx;
    int r;
    (void)fd;
    /* A retry of a half-done write comes from the same write_all after it
     * waited; a new write_all (its op has not waited yet) finds the record
     * abandoned by a cancellation. */
    if (t->wpending && t->s->wr.waited == 0 && !t->broken)
        t->broken = AIO_ECANCELED;
    if (t->broken)
        return AIO_EBROKEN;
    if (!t->ssl)
        return AIO_EINVAL;
    if (t->sent_close)
        return -EPIPE;
    aio__tls_prepare(t);
    r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0) {
        t->wpending = 0;
        t->handshaken = 1;
        return r;
    }
    r = aio__tls_error(t, r);
    if (r == AIO__TLS_WANT) {
        t->wpending = 1;
        return -EAGAIN; /* renegotiation is off: a write only waits to write */
    }
    t->broken = r == AIO_EEND ? AIO_ETLS : r;
    return t->broken;
}

/* ---- contexts -------------------------------------------------------------- */

static int aio__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                                unsigned int inlen, void *arg)
{
    aio_tls_ctx *c = (aio_tls_ctx *)arg;
    unsigned char *o = NULL;
    (void)ssl;
    if (c->alpn_len == 0 ||
        SSL_select_next_proto(&o, outlen, c->alpn, c->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

AIO_IMPL int aio_tls_ctx_init(aio_tls_ctx *c, int side)
{
    if (!c || (side != AIO_TLS_CLIENT && side != AIO_TLS_SERVER))
        return AIO_EINVAL;
    memset(c, 0, sizeof *c);
    c->side = side;
    c->ctx = SSL_CTX_new(side == AIO_TLS_SERVER ? TLS_server_method() : TLS_client_method());
    c->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aio stream");
    if (!c->ctx || !c->bio || !BIO_meth_set_write(c->bio, aio__tls_bio_write) ||
        !BIO_meth_set_read(c->bio, aio__tls_bio_read) || !BIO_meth_set_ctrl(c->bio, aio__tls_bio_ctrl) ||
        !BIO_meth_set_create(c->bio, aio__tls_bio_create) ||
        !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION))
        goto fail;
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_clear_mode(c->ctx, SSL_MODE_AUTO_RETRY);
    if (side == AIO_TLS_CLIENT) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if (!SSL_CTX_set_default_verify_paths(c->ctx))
            goto fail;
    } else {
        SSL_CTX_set_alpn_select_cb(c->ctx, aio__tls_alpn_select, c);
    }
    return 0;
fail:
    ERR_clear_error();
    aio_tls_ctx_free(c);
    return AIO_ETLS;
}

AIO_IMPL void aio_tls_ctx_free(aio_tls_ctx *c)
{
    if (!c)
        return;
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->bio)
        BIO_meth_free(c->bio);
    c->ctx = NULL;
    c->bio = NULL;
}

AIO_IMPL int aio_tls_ctx_load_cert(aio_tls_ctx *c, const char *cert_file, const char *key_file)
{
    if (!c || !c->ctx || !cert_file || !key_file)
        return AIO_EINVAL;
    if (SSL_CTX_use_certificate_chain_file(c->ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(c->ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ctx) != 1) {
        ERR_clear_error();
        return AIO_ETLS;
    }
    return 0;
}

AIO_IMPL int aio_tls_ctx_trust(aio_tls_ctx *c, const char *ca_file)
{
    if (!c || !c->ctx || !ca_file)
        return AIO_EINVAL;
    if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
        ERR_clear_error();
        return AIO_ETLS;
    }
    return 0;
}

AIO_IMPL int aio_tls_ctx_set_verify(aio_tls_ctx *c, int on)
{
    int mode;
    if (!c || !c->ctx)
        return AIO_EINVAL;
    if (!on)
        mode = SSL_VERIFY_NONE;
    else if (c->side == AIO_TLS_SERVER)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else
        mode = SSL_VERIFY_PEER;
    SSL_CTX_set_verify(c->ctx, mode, NULL);
    return 0;
}

AIO_IMPL int aio_tls_ctx_set_alpn(aio_tls_ctx *c, const char *list)
{
    unsigned char wire[AIO_TLS_ALPN_MAX];
    unsigned n = 0;
    const char *p = list, *e;
    if (!c || !c->ctx || !list || !*list)
        return AIO_EINVAL;
    while (*p) {
        size_t k;
        e = strchr(p, ',');
        k = e ? (size_t)(e - p) : strlen(p);
        if (k == 0 || k > 255 || n + 1 + k > sizeof wire)
            return AIO_EINVAL;
        wire[n++] = (unsigned char)k;
        memcpy(wire + n, p, k);
        n += (unsigned)k;
        p += k + (e ? 1 : 0);
        if (e && !*p)
            return AIO_EINVAL; /* trailing comma: an empty name */
    }
    if (c->side == AIO_TLS_CLIENT) {
        if (SSL_CTX_set_alpn_protos(c->ctx, wire, n) != 0) /* 0 is success here */
            return AIO_ETLS;
    }
    memcpy(c->alpn, wire, n);
    c->alpn_len = n;
    return 0;
}

/* ---- wrapping -------------------------------------------------------------- */

static int aio__tls_wrap(aio_tls *t, aio_stream *s, aio_tls_ctx *c, int side)
{
    BIO *b;
    if (!t || !s || !c || !c->ctx || c->side != side || s->fd < 0)
        return AIO_EINVAL;
    if (aio_stream_buffered(s))
        return AIO_EBUSY;
    memset(t, 0, sizeof *t);
    t->s = s;
    t->raw = s->ops;
    t->ops = *aio_net_sys_ops();
    t->ops.recv = aio__tls_recv;
    t->ops.send = aio__tls_send;
    t->ops.ctx = t;
    t->ssl = SSL_new(c->ctx);
    b = t->ssl ? BIO_new(c->bio) : NULL;
    if (!b) {
        if (t->ssl)
            SSL_free(t->ssl);
        t->ssl = NULL;
        ERR_clear_error();
        return AIO_ETLS;
    }
    BIO_set_data(b, t);
    SSL_set_bio(t->ssl, b, b); /* the SSL owns the BIO now */
    if (side == AIO_TLS_SERVER)
        SSL_set_accept_state(t->ssl);
    else
        SSL_set_connect_state(t->ssl);
    s->ops = &t->ops;
    return 0;
}

AIO_IMPL int aio_tls_wrap_client(aio_tls *t, aio_stream *s, aio_tls_ctx *c, const char *host)
{
    int rc = aio__tls_wrap(t, s, c, AIO_TLS_CLIENT);
    unsigned char addr[16];
    if (rc || !host)
        return rc;
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        /* An address: no SNI (RFC 6066), matched against the IP entries. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
            rc = AIO_ETLS;
    } else if (SSL_set_tlsext_host_name(t->ssl, host) != 1 || SSL_set1_host(t->ssl, host) != 1) {
        rc = AIO_ETLS;
    }
    if (rc) {
        ERR_clear_error();
        aio_tls_free(t);
    }
    return rc;
}

AIO_IMPL int aio_tls_wrap_server(aio_tls *t, aio_stream *s, aio_tls_ctx *c)
{
    return aio__tls_wrap(t, s, c, AIO_TLS_SERVER);
}

AIO_IMPL void aio_tls_free(aio_tls *t)
{
    if (!t)
        return;
    if (t->ssl)
        SSL_free(t->ssl);
    t->ssl = NULL;
    if (t->s && t->s->ops == &t->ops)
        t->s->ops = t->raw;
}

AIO_IMPL int aio_tls_close(aio_loop *loop, aio_tls *t)
{
    aio_stream *s = t ? t->s : NULL;
    aio_tls_free(t);
    return s ? aio_stream_close(loop, s) : 0;
}

AIO_IMPL int aio_tls_broken(aio_tls *t)
{
    aio__tls_check_abandoned(t);
    return t->broken;
}

/* ---- handshake and shutdown ---------------------------------------------
 * The same engine as aio_net.h's operations: a begin that checks
 * cancellation and steps; a step that returns a result or parks on the
 * socket; one uncancellable yield for a result reached without waiting. */

static int aio__tls_step(aio_task *task, aio_tls *t)
{
    int r;
    for (;;) {
        aio__tls_prepare(t);
        if (t->op.kind == 1) { /* shutdown */
            r = SSL_shutdown(t->ssl);
            if (r >= 0) {
                t->sent_close = 1;
                return 0;
            }
        } else {
            r = SSL_do_handshake(t->ssl);
            if (r == 1) {
                t->handshaken = 1;
                return 0;
            }
        }
        r = aio__tls_error(t, r);
        if (r == AIO__TLS_WANT)
            return aio__fd_wait_begin(task, t->s->fd, t->want);
        if (r == AIO_EEND)
            r = t->op.kind == 1 ? 0 : AIO_ETLS_TRUNCATED;
        if (r)
            t->broken = r;
        return r;
    }
}

/* Ends the operation; a failure (cancellation, close) while it waited
 * leaves OpenSSL's state half done: the stream is broken. */
static int aio__tls_finish(aio_task *task, aio_tls *t, int r)
{
    if (r == AIO_PARKED) {
        t->op.phase = AIO__PH_WAIT;
        return r;
    }
    if (!t->op.waited) {
        t->op.phase = AIO__PH_DONE;
        t->op.result = r;
        aio__yield(task, 0);
        return AIO_PARKED;
    }
    t->op.phase = AIO__PH_IDLE;
    return r;
}

AIO_IMPL int aio__tls_begin(aio_task *task, aio_tls *t, int shutdown)
{
    int rc = aio_check_cancel(task);
    if (rc)
        return rc;
    if (!t || !t->ssl || !t->s || t->s->fd < 0)
        return AIO_EINVAL;
    if (t->op.phase != AIO__PH_IDLE)
        return AIO_EBUSY;
    aio__tls_check_abandoned(t);
    if (t->broken)
        return AIO_EBROKEN;
    if (shutdown && !t->handshaken)
        return AIO_EINVAL;
    t->op.kind = (uint8_t)(shutdown ? 1 : 0);
    t->op.waited = 0;
    if ((shutdown && t->sent_close) || (!shutdown && t->handshaken))
        return aio__tls_finish(task, t, 0);
    return aio__tls_finish(task, t, aio__tls_step(task, t));
}

AIO_IMPL int aio__tls_next(aio_task *task, aio_tls *t)
{
    int w = aio__resumed(task);
    if (t->op.phase == AIO__PH_DONE) {
        t->op.phase = AIO__PH_IDLE;
        return t->op.result;
    }
    t->op.waited = 1;
    if (w < 0) {
        t->op.phase = AIO__PH_IDLE;
        if (!t->broken)
            t->broken = w;
        return w;
    }
    return aio__tls_finish(task, t, aio__tls_step(task, t));
}

/* ---- after the handshake ----------------------------------------------------- */

AIO_IMPL int aio_tls_alpn(aio_tls *t, char *out, size_t n)
{
    const unsigned char *p = NULL;
    unsigned len = 0;
    if (!t || !out || n == 0)
        return AIO_EINVAL;
    out[0] = 0;
    if (!t->ssl)
        return 0;
    SSL_get0_alpn_selected(t->ssl, &p, &len);
    if (!p || len == 0)
        return 0;
    if (len + 1 > n)
        return AIO_EOVERFLOW;
    memcpy(out, p, len);
    out[len] = 0;
    return (int)len;
}

AIO_IMPL const char *aio_tls_version(aio_tls *t)
{
    return t && t->ssl && t->handshaken ? SSL_get_version(t->ssl) : "";
}

AIO_IMPL X509 *aio_tls_peer_cert(aio_tls *t)
{
    if (!t || !t->ssl)
        return NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get0_peer_certificate(t->ssl);
#else
    {
        X509 *x = SSL_get_peer_certificate(t->ssl);
        if (x)
            X509_free(x); /* the connection keeps its own reference */
        return x;
    }
#endif
}

AIO_IMPL int aio_tls_peer_name(aio_tls *t, char *out, size_t n)
{
    X509 *x = aio_tls_peer_cert(t);
    int len;
    if (!out || n == 0 || n > INT_MAX)
        return AIO_EINVAL;
    out[0] = 0;
    if (!x)
        return 0;
    len = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, NULL, 0);
    if (len <= 0)
        return 0;
    if ((size_t)len + 1 > n)
        return AIO_EOVERFLOW;
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)n);
    return len;
}

AIO_IMPL const char *aio_tls_server_name(aio_tls *t)
{
    return t && t->ssl ? SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}

AIO_IMPL long aio_tls_verify_result(aio_tls *t)
{
    return t && t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
}

AIO_IMPL char *aio_tls_error_string(aio_tls *t, char *out, size_t n)
{
    if (!out || n == 0)
        return out;
    out[0] = 0;
    if (t && aio__tls_verify_failed(t))
        snprintf(out, n, "%s", X509_verify_cert_error_string(aio_tls_verify_result(t)));
    else if (t && t->ssl_error)
        ERR_error_string_n(t->ssl_error, out, n);
    return out;
}

/* ---- server helper ------------------------------------------------------- */

/* The plain server's handler for each slot: handshake under a deadline,
 * the user's handler, close_notify, then the TLS state is freed (the plain
 * server closes the socket). */
static int aio__tls_conn_run(aio_task *task, void *frame)
{
    aio_tls_conn *c = (aio_tls_conn *)frame;
    aio_tls_server *ts = (aio_tls_server *)(void *)c->conn.server;
    aio_tls_handler *h = (aio_tls_handler *)(void *)((unsigned char *)frame + ts->handler_offset);
    int rc;
    AIO_BEGIN(task, c);
    c->rc = aio_tls_wrap_server(&c->tls, &c->conn.stream, ts->ctx);
    if (c->rc)
        AIO_RETURN(c->rc);
    aio_fail_after(task, &c->sc, ts->handshake_timeout);
    AIO_TLS_HANDSHAKE(rc, &c->tls);
    rc = aio_scope_exit(task, &c->sc, rc);
    if (rc < 0) {
        ts->handshake_failed++;
        ts->last_handshake_error = rc;
        aio_tls_free(&c->tls);
        AIO_RETURN(rc);
    }
    h->stream = &c->conn.stream;
    h->tls = &c->tls;
    h->peer = &c->conn.peer;
    h->server = ts;
    AIO_AWAIT(c->rc, ts->fn, h);
    if (c->rc >= 0 && !aio_tls_broken(&c->tls)) {
        aio_fail_after(task, &c->sc, ts->close_timeout);
        AIO_TLS_SHUTDOWN(rc, &c->tls);
        rc = aio_scope_exit(task, &c->sc, rc);
        (void)rc; /* the handler's work is done: a peer gone first is not its failure */
    }
    aio_tls_free(&c->tls);
    AIO_END(c->rc);
}

AIO_IMPL int aio_tls_server_init(aio_tls_server *ts, aio_listener *lst, aio_tls_ctx *ctx, void *slots,
                                 uint32_t nslots, size_t stride, size_t handler_offset, aio_fn fn)
{
    int rc;
    if (!ts || !ctx || !ctx->ctx || ctx->side != AIO_TLS_SERVER || !fn || handler_offset < sizeof(aio_tls_conn) ||
        handler_offset + sizeof(aio_tls_handler) > stride)
        return AIO_EINVAL;
    memset(ts, 0, sizeof *ts);
    rc = aio_server_init(&ts->srv, lst, slots, nslots, stride, aio__tls_conn_run);
    if (rc)
        return rc;
    ts->ctx = ctx;
    ts->fn = fn;
    ts->handler_offset = handler_offset;
    ts->handshake_timeout = AIO_SEC(10);
    ts->close_timeout = AIO_SEC(1);
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* AIO_IMPLEMENTATION && !AIO__TLS_IMPLEMENTED */
