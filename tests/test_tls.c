/*
 * tests/test_tls.c - aio_tls.h: TLS streams over loopback, between two
 * tasks of one loop (virtual clock for every deadline) and against
 * OpenSSL's own s_server and s_client.  The certificates are made at test
 * time with the openssl command in a temporary directory: a test CA, a
 * server certificate for localhost and 127.0.0.1, and an expired one.
 */
#define _GNU_SOURCE /* system headers come first here: the wrappers below need ssize_t */
#include <sys/types.h>
#include <sys/socket.h>
/* The fault sweep's counting wrappers of the calls under TLS (below). */
static ssize_t w_recv(int fd, void *buf, size_t n, int flags);
static ssize_t w_send(int fd, const void *buf, size_t n, int flags);
#define AIO_SYS_recv w_recv
#define AIO_SYS_send w_send
#define AIO_IMPLEMENTATION
#include "../aio_tls.h"
#include "harness.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char **environ;

static aio_loop L;
static aio_task mt;
static char dir[64];
static char ca_pem[128], srv_pem[128], srv_key[128], old_pem[128];

/* Under valgrind (its preload library is in LD_PRELOAD) a handshake costs
 * seconds: the seeded reruns are left out unless AIO_TEST_SEEDS asks for
 * them, and the fault sweep injects a short transfer and a reset only (the
 * EINTR and EAGAIN paths are the ops-hook test's), so the program stays
 * within the suite's per-program limit. */
static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

/* ---- loop setup (one place) ------------------------------------------------ */

/* The virtual clock for tests between tasks of this loop; the real clock
 * when a separate program is the peer (virtual time would run ahead of it). */
static int tls_run_clock(aio_fn fn, void *frame, int real)
{
    int rc;
    if (real) {
        aio_config cfg;
        memset(&cfg, 0, sizeof cfg);
        CHECK_EQ(aio_loop_init(&L, &cfg), 0);
        test_reactor_attach(&L);
    } else {
        test_loop_init(&L);
    }
    memset(&mt, 0, sizeof mt);
    rc = aio_run(&L, &mt, fn, frame);
    aio_loop_close(&L);
    return rc;
}

static int tls_run(aio_fn fn, void *frame)
{
    return tls_run_clock(fn, frame, 0);
}

/* ---- certificates ---------------------------------------------------------- */

static int sh(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof full, "cd %s && %s >/dev/null 2>&1", dir, cmd);
    return system(full);
}

static int make_certs(void)
{
    FILE *f;
    char ext[160];
    strcpy(dir, "/tmp/aio-tls-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
    snprintf(srv_pem, sizeof srv_pem, "%s/srv.pem", dir);
    snprintf(srv_key, sizeof srv_key, "%s/srv.key", dir);
    snprintf(old_pem, sizeof old_pem, "%s/old.pem", dir);
    snprintf(ext, sizeof ext, "%s/ext.cnf", dir);
    f = fopen(ext, "w");
    if (!f)
        return -1;
    fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n", f);
    fclose(f);
    if (sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem"
           " -days 2 -subj /CN=aio-test-ca") ||
        sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr"
           " -subj /CN=localhost") ||
        sh("openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf"
           " -out srv.pem") ||
        sh("openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days -1 -extfile ext.cnf"
           " -out old.pem"))
        return -1;
    return 0;
}

static void remove_certs(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("  could not remove %s\n", dir);
}

/* ---- contexts ---------------------------------------------------------------- */

static aio_tls_ctx cctx, sctx;

/* A client context that trusts the test CA (or not), and a server context
 * with the given certificate; both offer ALPN. */
static void ctx_setup(int trust, const char *cert)
{
    CHECK_EQ(aio_tls_ctx_init(&cctx, AIO_TLS_CLIENT), 0);
    if (trust)
        CHECK_EQ(aio_tls_ctx_trust(&cctx, ca_pem), 0);
    CHECK_EQ(aio_tls_ctx_set_alpn(&cctx, "x-aio,http/1.1"), 0);
    CHECK_EQ(aio_tls_ctx_init(&sctx, AIO_TLS_SERVER), 0);
    CHECK_EQ(aio_tls_ctx_load_cert(&sctx, cert, srv_key), 0);
    CHECK_EQ(aio_tls_ctx_set_alpn(&sctx, "http/1.1"), 0);
}

static void ctx_teardown(void)
{
    aio_tls_ctx_free(&cctx);
    aio_tls_ctx_free(&sctx);
}

/* ---- the in-process server ----------------------------------------------------- */

enum { H_ECHO, H_ECHO_ONE, H_SILENT, H_BYE_ABRUPT };

struct handler {
    aio_tls_handler h; /* first */
    unsigned char rbuf[256];
    int rc;
};
struct slot {
    aio_tls_conn tc;
    struct handler e;
};

static aio_listener lst;
static aio_tls_server ts;
static struct slot pool[4];
static int handler_kind;
static char seen_sni[64];
static int handler_rc;

/* H_ECHO echoes lines until end of stream; H_SILENT reads nothing and
 * sleeps until cancelled; H_BYE_ABRUPT writes a line and fails (so the
 * helper closes without close_notify). */
static int handler(aio_task *t, void *frame)
{
    struct handler *f = (struct handler *)frame;
    int rc;
    AIO_BEGIN(t, f);
    snprintf(seen_sni, sizeof seen_sni, "%s", aio_tls_server_name(f->h.tls) ? aio_tls_server_name(f->h.tls) : "");
    aio_stream_set_buffer(f->h.stream, f->rbuf, sizeof f->rbuf);
    if (handler_kind == H_SILENT) {
        AIO_SLEEP_FOREVER(rc);
        AIO_RETURN(rc);
    }
    if (handler_kind == H_BYE_ABRUPT) {
        AIO_STREAM_WRITE_ALL(rc, f->h.stream, "bye\n", 4);
        AIO_RETURN(AIO_EINVAL);
    }
    for (;;) {
        AIO_STREAM_READ_LINE(rc, f->h.stream, sizeof f->rbuf);
        if (rc < 0)
            break;
        f->rc = rc;
        AIO_STREAM_WRITE_ALL(rc, f->h.stream, aio_stream_line(f->h.stream), (size_t)f->rc);
        if (rc < 0 || handler_kind == H_ECHO_ONE)
            break;
    }
    handler_rc = rc;
    AIO_END(rc == AIO_EEND || rc > 0 ? 0 : rc);
}

static void server_setup(int kind, const char *cert, int trust)
{
    ctx_setup(trust, cert);
    handler_kind = kind;
    handler_rc = 1;
    seen_sni[0] = 0;
    memset(&lst, 0, sizeof lst);
    memset(pool, 0, sizeof pool);
    CHECK_EQ(aio_tcp_listen(&lst, "127.0.0.1", 0, 8), 0);
    CHECK_EQ(aio_tls_server_init(&ts, &lst, &sctx, pool, 4, sizeof pool[0], offsetof(struct slot, e), handler), 0);
}

/* ---- a client against it ----------------------------------------------------- */

enum { C_ECHO, C_HANDSHAKE, C_STALL_WRITE, C_CANCEL_READ, C_ABRUPT, C_PRECANCEL };

struct client {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    aio_scope sc;
    const char *host;
    int kind;
    int rc, hs_rc, rd_rc, wr_rc, rd2_rc, shut_rc, eof_rc, broken;
    size_t written;
    aio_time at;
    char alpn[32], peer[64], line[64], err[160];
    long vres;
    unsigned char rbuf[256];
};

static unsigned char big[1 << 20];

static int client_fn(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc, one = 16384;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->rbuf, sizeof f->rbuf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    if (rc < 0)
        AIO_RETURN(rc);
    if (f->kind == C_STALL_WRITE)
        setsockopt(f->s.fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof one);
    rc = aio_tls_wrap_client(&f->tls, &f->s, &cctx, f->host);
    if (rc < 0)
        AIO_RETURN(rc);
    if (f->kind == C_PRECANCEL) {
        aio_scope_enter(t, &f->sc, AIO_TIME_INF);
        aio_scope_cancel(&f->sc, "test");
        AIO_TLS_HANDSHAKE(rc, &f->tls);
        f->hs_rc = rc;
        aio_scope_exit(t, &f->sc, rc);
        f->broken = aio_tls_broken(&f->tls);
    }
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    if (f->kind != C_PRECANCEL)
        f->hs_rc = rc;
    f->at = aio_now(aio_task_loop(t));
    f->vres = aio_tls_verify_result(&f->tls);
    aio_tls_error_string(&f->tls, f->err, sizeof f->err);
    if (rc < 0)
        goto out;
    aio_tls_alpn(&f->tls, f->alpn, sizeof f->alpn);
    aio_tls_peer_name(&f->tls, f->peer, sizeof f->peer);
    if (f->kind == C_STALL_WRITE) {
        aio_move_on_after(t, &f->sc, AIO_SEC(1));
        AIO_STREAM_WRITE_ALL(rc, &f->s, big, sizeof big);
        f->wr_rc = aio_scope_exit(t, &f->sc, rc);
        f->written = aio_stream_written(&f->s);
        f->broken = aio_tls_broken(&f->tls);
        AIO_STREAM_WRITE_ALL(rc, &f->s, "x\n", 2);
        f->rd2_rc = rc;
        AIO_TLS_SHUTDOWN(rc, &f->tls);
        f->shut_rc = rc;
        goto out;
    }
    if (f->kind == C_ABRUPT) {
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
        f->rd_rc = rc;
        if (rc > 0)
            snprintf(f->line, sizeof f->line, "%.*s", rc, aio_stream_line(&f->s));
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
        f->eof_rc = rc;
        f->broken = aio_tls_broken(&f->tls);
        goto out;
    }
    if (f->kind == C_CANCEL_READ) {
        aio_move_on_after(t, &f->sc, AIO_SEC(1));
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
        f->rd2_rc = aio_scope_exit(t, &f->sc, rc);
        f->broken = aio_tls_broken(&f->tls);
    }
    if (f->kind == C_HANDSHAKE)
        goto out;
    AIO_STREAM_WRITE_ALL(rc, &f->s, "hello tls\n", 10);
    f->wr_rc = rc;
    AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
    f->rd_rc = rc;
    if (rc > 0)
        snprintf(f->line, sizeof f->line, "%.*s", rc, aio_stream_line(&f->s));
    AIO_TLS_SHUTDOWN(rc, &f->tls);
    f->shut_rc = rc;
    AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
    f->eof_rc = rc; /* the server's close_notify after our end of stream */
out:
    aio_tls_close(aio_task_loop(t), &f->tls);
    AIO_END(0);
}

struct pair {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    struct client *c;
};

static int pair_fn(aio_task *t, void *frame)
{
    struct pair *f = (struct pair *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, client_fn, f->c);
    AIO_JOIN(rc, &f->ct);
    f->c->rc = rc;
    aio_server_shutdown(&ts.srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

static void run_pair(struct client *c)
{
    static struct pair p;
    memset(&p, 0, sizeof p);
    p.c = c;
    CHECK_EQ(tls_run(pair_fn, &p), 0);
    ctx_teardown();
}

/* ---- bad input ------------------------------------------------------------------ */

TEST(bad_arguments_get_clear_codes)
{
    static aio_tls_ctx c, srvc;
    static aio_tls t;
    static aio_stream s;
    static aio_tls_server bad;
    static struct slot slots[1];
    char name[300], out[4];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = 0;
    CHECK_EQ(aio_tls_ctx_init(&c, 7), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_init(&c, AIO_TLS_CLIENT), 0);
    CHECK_EQ(aio_tls_ctx_init(&srvc, AIO_TLS_SERVER), 0);
    CHECK_EQ(aio_tls_ctx_set_alpn(&c, ""), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_set_alpn(&c, "h2,,x"), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_set_alpn(&c, "h2,"), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_set_alpn(&c, name), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_set_alpn(&c, "h2,http/1.1"), 0);
    CHECK_EQ(aio_tls_ctx_load_cert(&srvc, "/nonexistent.pem", "/nonexistent.key"), AIO_ETLS);
    CHECK_EQ(aio_tls_ctx_load_cert(&srvc, srv_pem, NULL), AIO_EINVAL);
    CHECK_EQ(aio_tls_ctx_trust(&c, "/nonexistent.pem"), AIO_ETLS);
    aio_stream_init(&s, -1, NULL, 0);
    CHECK_EQ(aio_tls_wrap_client(&t, &s, &c, "localhost"), AIO_EINVAL); /* no fd */
    s.fd = 0;
    CHECK_EQ(aio_tls_wrap_client(&t, &s, &srvc, "localhost"), AIO_EINVAL); /* a server context */
    CHECK_EQ(aio_tls_wrap_server(&t, &s, &c), AIO_EINVAL);
    CHECK_EQ(aio_tls_wrap_client(&t, &s, &c, "localhost"), 0);
    CHECK(s.ops == &t.ops);
    CHECK_EQ(aio_tls_alpn(&t, out, sizeof out), 0); /* before the handshake */
    CHECK(strcmp(aio_tls_version(&t), "") == 0);
    CHECK(aio_tls_peer_cert(&t) == NULL);
    aio_tls_free(&t);
    CHECK(s.ops == NULL);
    CHECK_EQ(aio_tls_server_init(&bad, &lst, &srvc, slots, 1, sizeof slots[0], 0, handler), AIO_EINVAL);
    CHECK_EQ(aio_tls_server_init(&bad, &lst, &c, slots, 1, sizeof slots[0], offsetof(struct slot, e), handler),
             AIO_EINVAL);
    CHECK(strcmp(aio_tls_strerror(AIO_ECANCELED), aio_strerror(AIO_ECANCELED)) == 0);
    aio_tls_ctx_free(&c);
    aio_tls_ctx_free(&srvc);
    aio_tls_ctx_free(&c); /* twice is harmless */
}

/* ---- in-process tests --------------------------------------------------------- */

TEST(echo_over_tls_runs_plain_stream_code)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 1);
    c.host = "localhost";
    c.kind = C_ECHO;
    run_pair(&c);
    CHECK_EQ(c.rc, 0);
    CHECK_EQ(c.hs_rc, 0);
    CHECK_EQ(c.wr_rc, 10);
    CHECK_EQ(c.rd_rc, 10);
    CHECK(strcmp(c.line, "hello tls\n") == 0);
    CHECK(strcmp(c.alpn, "http/1.1") == 0);
    CHECK(strcmp(c.peer, "localhost") == 0);
    CHECK(strcmp(seen_sni, "localhost") == 0);
    CHECK_EQ(c.shut_rc, 0);
    CHECK_EQ(c.eof_rc, AIO_EEND);
    CHECK_EQ(handler_rc, AIO_EEND); /* our close_notify read as end of stream */
    CHECK_EQ(ts.handshake_failed, 0);
}

TEST(numeric_host_is_checked_against_ip_entries)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 1);
    c.host = "127.0.0.1";
    c.kind = C_HANDSHAKE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, 0);
    CHECK(strcmp(seen_sni, "") == 0); /* no SNI for an address */
}

TEST(wrong_host_name_fails_with_etls_hostname)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 1);
    c.host = "wrong.example";
    c.kind = C_HANDSHAKE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, AIO_ETLS_HOSTNAME);
    CHECK_EQ(c.vres, X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(strstr(c.err, "mismatch") != NULL);
    CHECK(strstr(aio_tls_strerror(c.hs_rc), "host name") != NULL);
    CHECK_EQ(ts.handshake_failed, 1);
    CHECK_EQ(ts.last_handshake_error, AIO_ETLS); /* the client's alert */
}

TEST(expired_certificate_fails_with_etls_expired)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, old_pem, 1);
    c.host = "localhost";
    c.kind = C_HANDSHAKE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, AIO_ETLS_EXPIRED);
}

TEST(untrusted_ca_fails_with_etls_untrusted)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 0); /* the client has the system store only */
    c.host = "localhost";
    c.kind = C_HANDSHAKE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, AIO_ETLS_UNTRUSTED);
    CHECK(c.err[0] != 0);
}

TEST(verification_off_accepts_an_untrusted_certificate)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, old_pem, 0); /* expired, and its CA not trusted */
    CHECK_EQ(aio_tls_ctx_set_verify(&cctx, 0), 0);
    c.host = "wrong.example";
    c.kind = C_HANDSHAKE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, 0);
    CHECK(c.vres != X509_V_OK); /* recorded, not enforced */
    CHECK_EQ(c.err[0], 0);
}

TEST(peer_closing_without_close_notify_reads_truncated)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_BYE_ABRUPT, srv_pem, 1);
    c.host = "localhost";
    c.kind = C_ABRUPT;
    run_pair(&c);
    CHECK_EQ(c.rd_rc, 4);
    CHECK(strcmp(c.line, "bye\n") == 0);
    CHECK_EQ(c.eof_rc, AIO_ETLS_TRUNCATED);
    CHECK_EQ(c.broken, AIO_ETLS_TRUNCATED);
}

TEST(cancel_mid_write_breaks_the_stream_and_says_so)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_SILENT, srv_pem, 1);
    c.host = "localhost";
    c.kind = C_STALL_WRITE;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, 0);
    CHECK_EQ(c.wr_rc, 0); /* the move_on scope caught it */
    CHECK(c.written < sizeof big);
    CHECK_EQ(c.broken, AIO_ECANCELED);
    CHECK_EQ(c.rd2_rc, AIO_EBROKEN);
    CHECK_EQ(c.shut_rc, AIO_EBROKEN);
}

TEST(cancelled_read_leaves_the_stream_usable)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 1);
    c.host = "localhost";
    c.kind = C_CANCEL_READ;
    run_pair(&c);
    CHECK_EQ(c.rd2_rc, 0);
    CHECK_EQ(c.broken, 0);
    CHECK_EQ(c.rd_rc, 10);
    CHECK(strcmp(c.line, "hello tls\n") == 0);
    CHECK_EQ(c.eof_rc, AIO_EEND);
}

TEST(precancelled_handshake_has_no_side_effect)
{
    static struct client c;
    memset(&c, 0, sizeof c);
    server_setup(H_ECHO, srv_pem, 1);
    c.host = "localhost";
    c.kind = C_PRECANCEL;
    run_pair(&c);
    CHECK_EQ(c.hs_rc, AIO_ECANCELED);
    CHECK_EQ(c.broken, 0);
    CHECK_EQ(c.rd_rc, 10); /* the second handshake and the echo worked */
}

/* A listener nobody accepts from: the connection completes in the backlog
 * and no byte ever answers the ClientHello. */
struct stall {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    aio_scope sc;
    int port, rc, broken, wr_rc;
    aio_time at;
};

static int stall_fn(aio_task *t, void *frame)
{
    struct stall *f = (struct stall *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc < 0)
        AIO_RETURN(rc);
    aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
    aio_fail_after(t, &f->sc, AIO_SEC(5));
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    f->rc = aio_scope_exit(t, &f->sc, rc);
    f->at = aio_now(aio_task_loop(t));
    f->broken = aio_tls_broken(&f->tls);
    AIO_STREAM_WRITE_ALL(rc, &f->s, "x", 1);
    f->wr_rc = rc;
    aio_tls_close(aio_task_loop(t), &f->tls);
    AIO_END(0);
}

TEST(stalled_server_handshake_is_cut_off_by_a_deadline)
{
    static struct stall m;
    aio_listener l;
    memset(&m, 0, sizeof m);
    memset(&l, 0, sizeof l);
    ctx_setup(1, srv_pem);
    CHECK_EQ(aio_tcp_listen(&l, "127.0.0.1", 0, 4), 0);
    m.port = l.port;
    CHECK_EQ(tls_run(stall_fn, &m), 0);
    CHECK_EQ(m.rc, AIO_ETIMEDOUT);
    CHECK_EQ(m.at, AIO_SEC(5));
    CHECK_EQ(m.broken, AIO_ECANCELED);
    CHECK_EQ(m.wr_rc, AIO_EBROKEN);
    aio_listener_close(&L, &l);
    ctx_teardown();
}

/* A client that connects and says nothing: the server helper's handshake
 * deadline frees the slot. */
struct mute_c {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_time at;
    int rc;
    unsigned char b[16];
};

struct mute {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    struct mute_c c;
};

static int mute_client(aio_task *t, void *frame)
{
    struct mute_c *f = (struct mute_c *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    if (rc < 0)
        AIO_RETURN(rc);
    AIO_STREAM_READ_SOME(rc, &f->s, f->b, sizeof f->b); /* the server hangs up */
    f->rc = rc;
    f->at = aio_now(aio_task_loop(t));
    aio_stream_close(aio_task_loop(t), &f->s);
    AIO_END(0);
}

static int mute_fn(aio_task *t, void *frame)
{
    struct mute *f = (struct mute *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, mute_client, &f->c);
    AIO_JOIN(rc, &f->ct);
    aio_server_shutdown(&ts.srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(stalled_client_is_cut_off_by_the_server_handshake_timeout)
{
    static struct mute m;
    memset(&m, 0, sizeof m);
    server_setup(H_ECHO, srv_pem, 1);
    ts.handshake_timeout = AIO_SEC(2);
    CHECK_EQ(tls_run(mute_fn, &m), 0);
    CHECK_EQ(ts.handshake_failed, 1);
    CHECK_EQ(ts.last_handshake_error, AIO_ETIMEDOUT);
    CHECK_EQ(m.c.rc, AIO_EEND);
    CHECK_EQ(m.c.at, AIO_SEC(2));
    ctx_teardown();
}

/* ---- a cancellation at each await ----------------------------------------------- */

/* Cancels task `victim` after `yields` schedule points of its own. */
struct killer {
    aio_frame hdr;
    aio_task *victim;
    int yields, i;
};

static int killer_fn(aio_task *t, void *frame)
{
    struct killer *f = (struct killer *)frame;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < f->yields && !aio_task_done(f->victim); f->i++)
        AIO_YIELD();
    if (!aio_task_done(f->victim))
        aio_task_cancel(f->victim);
    AIO_END(0);
}

struct sweep {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct, kt;
    struct client c;
    struct killer k;
};

static int sweep_fn(aio_task *t, void *frame)
{
    struct sweep *f = (struct sweep *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, client_fn, &f->c);
    f->k.victim = &f->ct;
    aio_spawn(&f->g, &f->kt, killer_fn, &f->k);
    AIO_JOIN(rc, &f->ct);
    f->c.rc = rc;
    aio_server_shutdown(&ts.srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

/* The first operation of the client that reported AIO_ECANCELED:
 * 1 connect, 2 handshake, 3 write, 4 read, 5 shutdown, 6 final read,
 * 0 none (the session completed). */
static int first_cancelled(const struct client *c, int task_rc)
{
    if (task_rc == AIO_ECANCELED)
        return 1;
    if (c->hs_rc == AIO_ECANCELED)
        return 2;
    if (c->wr_rc == AIO_ECANCELED)
        return 3;
    if (c->rd_rc == AIO_ECANCELED)
        return 4;
    if (c->shut_rc == AIO_ECANCELED)
        return 5;
    if (c->eof_rc == AIO_ECANCELED)
        return 6;
    return 0;
}

TEST(a_cancel_at_each_await_leaves_nothing_behind)
{
    static struct sweep m;
    int k, where, seen[7] = { 0 }, fds = harness_open_fds();
    for (k = 0; k < 400; k++) {
        memset(&m, 0, sizeof m);
        server_setup(H_ECHO, srv_pem, 1);
        m.c.host = "localhost";
        m.c.kind = C_ECHO;
        m.k.yields = k;
        CHECK_EQ(tls_run(sweep_fn, &m), 0);
        where = first_cancelled(&m.c, m.c.rc);
        seen[where]++;
        /* Whatever was cancelled, what did happen is whole: an echoed line
         * is the line sent, and a handshake cut short broke the stream. */
        if (m.c.rd_rc == 10)
            CHECK(strcmp(m.c.line, "hello tls\n") == 0);
        if (where == 2 && m.c.hs_rc == AIO_ECANCELED)
            CHECK(m.c.broken == 0 || m.c.broken == AIO_ECANCELED);
        CHECK_EQ(ts.srv.active, 0);
        ctx_teardown();
        if (where == 0)
            break; /* the killer came too late: every await was reached */
    }
    CHECK_EQ(harness_open_fds(), fds);
    CHECK(seen[2] > 0); /* mid-handshake */
    CHECK(seen[3] + seen[4] > 0); /* at the write or the read */
    CHECK(seen[5] + seen[6] > 0); /* at the close */
    CHECK_EQ(seen[0], 1);
}

/* ---- one reader and one writer task on one TLS stream ------------------------ */

#define DUPLEX_BYTES 300000 /* whole lines of 100 bytes: the echo handler reads lines */
static unsigned char duplex_out[DUPLEX_BYTES], duplex_in[DUPLEX_BYTES];

struct duplex_w {
    aio_frame hdr;
    aio_stream *s;
    int rc;
};
struct duplex_r {
    aio_frame hdr;
    aio_stream *s;
    int rc;
};

static int duplex_writer(aio_task *t, void *frame)
{
    struct duplex_w *f = (struct duplex_w *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_WRITE_ALL(rc, f->s, duplex_out, DUPLEX_BYTES);
    f->rc = rc;
    AIO_END(0);
}

static int duplex_reader(aio_task *t, void *frame)
{
    struct duplex_r *f = (struct duplex_r *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_STREAM_READ_EXACT(rc, f->s, duplex_in, DUPLEX_BYTES);
    f->rc = rc;
    AIO_END(0);
}

struct duplex {
    aio_frame hdr;
    aio_group g, g2;
    aio_task st, wt, rt;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    struct duplex_w w;
    struct duplex_r r;
    int hs_rc, shut_rc;
    unsigned char rbuf[256];
};

static int duplex_fn(aio_task *t, void *frame)
{
    struct duplex *f = (struct duplex *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_stream_init(&f->s, -1, f->rbuf, sizeof f->rbuf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    f->hs_rc = rc;
    if (rc == 0) {
        f->w.s = f->r.s = &f->s;
        aio_group_enter(t, &f->g2, 0);
        aio_spawn(&f->g2, &f->wt, duplex_writer, &f->w);
        aio_spawn(&f->g2, &f->rt, duplex_reader, &f->r);
        AIO_GROUP_WAIT(rc, &f->g2, 0);
        AIO_TLS_SHUTDOWN(rc, &f->tls);
        f->shut_rc = rc;
    }
    aio_tls_close(aio_task_loop(t), &f->tls);
    aio_server_shutdown(&ts.srv, AIO_SEC(1));
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(a_reader_and_a_writer_share_one_tls_stream)
{
    static struct duplex m;
    int i;
    memset(&m, 0, sizeof m);
    for (i = 0; i < DUPLEX_BYTES; i++)
        duplex_out[i] = i % 100 == 99 ? '\n' : (unsigned char)('a' + (i * 7) % 26);
    memset(duplex_in, 0, sizeof duplex_in);
    server_setup(H_ECHO, srv_pem, 1);
    CHECK_EQ(tls_run(duplex_fn, &m), 0);
    CHECK_EQ(m.hs_rc, 0);
    CHECK_EQ(m.w.rc, DUPLEX_BYTES);
    CHECK_EQ(m.r.rc, DUPLEX_BYTES);
    CHECK(memcmp(duplex_in, duplex_out, DUPLEX_BYTES) == 0);
    CHECK_EQ(m.shut_rc, 0);
    ctx_teardown();
}

/* ---- the fault sweep: each recv and send under TLS made to fail ---------------- */

/* sweep_call: 0 off, 1 fail the sweep_k-th recv, 2 the sweep_k-th send;
 * sweep_err: an errno, or 0 for a short transfer (half, at least 1). */
static int sweep_call, sweep_k, sweep_err, n_recv, n_send;

static ssize_t w_recv(int fd, void *buf, size_t n, int flags)
{
    if (++n_recv == sweep_k && sweep_call == 1) {
        if (sweep_err) {
            errno = sweep_err;
            return -1;
        }
        n = n > 1 ? n / 2 : n;
    }
    return recv(fd, buf, n, flags);
}

static ssize_t w_send(int fd, const void *buf, size_t n, int flags)
{
    if (++n_send == sweep_k && sweep_call == 2) {
        if (sweep_err) {
            errno = sweep_err;
            return -1;
        }
        n = n > 1 ? n / 2 : n;
    }
    return send(fd, buf, n, flags);
}

struct fsweep {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    aio_scope sc;
    struct client c;
    int hung;
};

/* The echo session of echo_over_tls_runs_plain_stream_code; a session that
 * is not over after 30 s (virtual) counts as hung. */
static int fsweep_fn(aio_task *t, void *frame)
{
    struct fsweep *f = (struct fsweep *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_ALL_SETTLED);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, client_fn, &f->c);
    aio_fail_after(t, &f->sc, AIO_SEC(30));
    AIO_JOIN(rc, &f->ct);
    rc = aio_scope_exit(t, &f->sc, rc);
    if (rc == AIO_ETIMEDOUT) {
        f->hung = 1;
        aio_task_cancel(&f->ct);
    }
    aio_server_shutdown(&ts.srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(0);
}

static void fsweep_once(struct fsweep *m, int call, int k, int err)
{
    memset(m, 0, sizeof *m);
    server_setup(H_ECHO, srv_pem, 1);
    ts.handshake_timeout = AIO_SEC(60);
    m->c.host = "localhost";
    m->c.kind = C_ECHO;
    sweep_call = call;
    sweep_k = k;
    sweep_err = err;
    n_recv = n_send = 0;
    CHECK_EQ(tls_run(fsweep_fn, m), 0);
    sweep_call = 0;
    ctx_teardown();
}

TEST(each_recv_and_send_under_tls_fails_cleanly)
{
    static struct fsweep m;
    static const int recv_errs[] = { EINTR, EAGAIN, 0, ECONNRESET, ENOMEM };
    static const int send_errs[] = { EINTR, EAGAIN, 0, ECONNRESET, EPIPE };
    int call, k, e, nk[3], fds = harness_open_fds(), runs = 0;
    fsweep_once(&m, 0, 0, 0); /* clean: count the calls */
    CHECK_EQ(m.c.rd_rc, 10);
    nk[1] = n_recv;
    nk[2] = n_send;
    CHECK(nk[1] > 4 && nk[2] > 4);
    for (call = 1; call <= 2; call++)
        for (k = 1; k <= nk[call]; k++)
            for (e = 0; e < 5; e++) {
                int err = call == 1 ? recv_errs[e] : send_errs[e];
                int absorbed = err == EINTR || err == EAGAIN || err == 0;
                if (under_valgrind() && err != 0 && err != ECONNRESET)
                    continue;
                fsweep_once(&m, call, k, err);
                runs++;
                CHECK_EQ(m.hung, 0);
                if (absorbed) {
                    CHECK_EQ(m.c.hs_rc, 0);
                    CHECK_EQ(m.c.rd_rc, 10);
                    CHECK(strcmp(m.c.line, "hello tls\n") == 0);
                    CHECK_EQ(m.c.eof_rc, AIO_EEND);
                } else if (m.c.rd_rc == 10) {
                    CHECK(strcmp(m.c.line, "hello tls\n") == 0); /* what arrived is whole */
                }
                CHECK_EQ(ts.srv.active, 0);
                if (harness_failed_checks) {
                    printf("  fault: %s #%d, errno %d\n", call == 1 ? "recv" : "send", k, err);
                    return;
                }
            }
    CHECK_EQ(harness_open_fds(), fds);
    CHECK(runs > (under_valgrind() ? 16 : 40));
}

/* ---- the system calls under TLS: EINTR, EAGAIN, short writes, a reset ------ */

static int fault_n, fault_reset_at;

static long f_recv(void *ctx, int fd, void *buf, size_t len)
{
    const aio_net_ops *o = aio_net_sys_ops();
    (void)ctx;
    fault_n++;
    if (fault_reset_at && fault_n >= fault_reset_at)
        return -ECONNRESET;
    if (fault_n % 3 == 1)
        return -EINTR;
    if (fault_n % 3 == 2)
        return -EAGAIN;
    return o->recv(o->ctx, fd, buf, len);
}

static long f_send(void *ctx, int fd, const void *buf, size_t len)
{
    const aio_net_ops *o = aio_net_sys_ops();
    (void)ctx;
    fault_n++;
    if (fault_n % 4 == 1)
        return -EINTR;
    if (fault_n % 4 == 2)
        return -EAGAIN;
    return o->send(o->ctx, fd, buf, len > 7 ? 7 : len); /* short writes */
}

static const aio_net_ops fault_ops = { f_recv, f_send, NULL, NULL, NULL, NULL, NULL };

static int fault_client(aio_task *t, void *frame)
{
    struct client *f = (struct client *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, f->rbuf, sizeof f->rbuf);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", lst.port);
    if (rc < 0)
        AIO_RETURN(rc);
    aio_stream_set_ops(&f->s, &fault_ops);
    aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    f->hs_rc = rc;
    if (rc == 0) {
        AIO_STREAM_WRITE_ALL(rc, &f->s, "hello tls\n", 10);
        f->wr_rc = rc;
        AIO_STREAM_READ_LINE(rc, &f->s, sizeof f->rbuf);
        f->rd_rc = rc;
        f->broken = aio_tls_broken(&f->tls);
    }
    aio_tls_close(aio_task_loop(t), &f->tls);
    AIO_END(0);
}

struct fpair {
    aio_frame hdr;
    aio_group g;
    aio_task st, ct;
    struct client c;
};

static int fpair_fn(aio_task *t, void *frame)
{
    struct fpair *f = (struct fpair *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    aio_spawn(&f->g, &f->ct, fault_client, &f->c);
    AIO_JOIN(rc, &f->ct);
    aio_server_shutdown(&ts.srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(eintr_eagain_and_short_writes_under_tls_are_retried)
{
    static struct fpair p;
    memset(&p, 0, sizeof p);
    fault_n = 0;
    fault_reset_at = 0;
    server_setup(H_ECHO, srv_pem, 1);
    CHECK_EQ(tls_run(fpair_fn, &p), 0);
    CHECK_EQ(p.c.hs_rc, 0);
    CHECK_EQ(p.c.wr_rc, 10);
    CHECK_EQ(p.c.rd_rc, 10);
    CHECK(fault_n > 6);
    ctx_teardown();
}

TEST(reset_under_tls_reports_econnreset_and_breaks)
{
    static struct fpair p;
    int at;
    /* The reset at each of the first receive calls: during the handshake,
     * then in the read of the echo. */
    for (at = 1; at <= 12; at++) {
        memset(&p, 0, sizeof p);
        fault_n = 0;
        fault_reset_at = at;
        server_setup(H_ECHO, srv_pem, 1);
        CHECK_EQ(tls_run(fpair_fn, &p), 0);
        if (p.c.hs_rc == 0 && p.c.rd_rc == 10)
            break; /* past the last receive: no reset was hit */
        CHECK(p.c.hs_rc == -ECONNRESET || (p.c.hs_rc == 0 && p.c.rd_rc == -ECONNRESET));
        if (p.c.hs_rc == 0)
            CHECK_EQ(p.c.broken, -ECONNRESET);
        ctx_teardown();
    }
    fault_reset_at = 0;
}

/* ---- against OpenSSL's own tools ---------------------------------------------- */

static pid_t spawn(char *const argv[], int in_fd, int out_fd)
{
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int free_port(void)
{
    aio_listener l;
    int port;
    memset(&l, 0, sizeof l);
    if (aio_tcp_listen(&l, "127.0.0.1", 0, 1) != 0)
        return -1;
    port = l.port;
    close(l.fd);
    return port;
}

struct get {
    aio_frame hdr;
    aio_stream s;
    aio_connect op;
    aio_tls tls;
    int port, hs_rc, wr_rc, end_rc;
    size_t got;
    char alpn[32];
    char body[8192];
};

static int get_fn(aio_task *t, void *frame)
{
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    struct get *f = (struct get *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_stream_init(&f->s, -1, NULL, 0);
    AIO_TCP_CONNECT(rc, &f->op, &f->s, "127.0.0.1", f->port);
    if (rc < 0)
        AIO_RETURN(rc);
    aio_tls_wrap_client(&f->tls, &f->s, &cctx, "localhost");
    AIO_TLS_HANDSHAKE(rc, &f->tls);
    f->hs_rc = rc;
    if (rc == 0) {
        aio_tls_alpn(&f->tls, f->alpn, sizeof f->alpn);
        AIO_STREAM_WRITE_ALL(rc, &f->s, req, sizeof req - 1);
        f->wr_rc = rc;
        for (;;) {
            AIO_STREAM_READ_SOME(rc, &f->s, f->body + f->got, sizeof f->body - 1 - f->got);
            if (rc <= 0)
                break;
            f->got += (size_t)rc;
            if (f->got == sizeof f->body - 1)
                break;
        }
        f->end_rc = rc;
    }
    aio_tls_close(aio_task_loop(t), &f->tls);
    AIO_END(0);
}

/* Waits until s_server printed its ACCEPT line (it is listening then). */
static int wait_accept(int fd)
{
    char buf[512];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) {
        n += (size_t)r;
        buf[n] = 0;
        if (strstr(buf, "ACCEPT"))
            return 0;
    }
    return -1;
}

TEST(https_get_from_openssl_s_server)
{
    static struct get g;
    char port_s[16];
    int p[2], st = 0;
    pid_t pid;
    char *argv[] = { "openssl", "s_server", "-accept", port_s, "-cert", srv_pem, "-key", srv_key, "-www",
                     "-alpn", "http/1.1", "-naccept", "1", NULL };
    memset(&g, 0, sizeof g);
    ctx_setup(1, srv_pem);
    g.port = free_port();
    snprintf(port_s, sizeof port_s, "%d", g.port);
    CHECK_EQ(pipe(p), 0);
    pid = spawn(argv, -1, p[1]);
    close(p[1]);
    CHECK(pid > 0);
    CHECK_EQ(wait_accept(p[0]), 0);
    CHECK_EQ(tls_run_clock(get_fn, &g, 1), 0);
    CHECK_EQ(g.hs_rc, 0);
    CHECK_EQ(g.wr_rc, 18);
    CHECK(strncmp(g.body, "HTTP/1.0 200 ok", 15) == 0);
    CHECK(g.end_rc == AIO_EEND || g.end_rc == AIO_ETLS_TRUNCATED);
    CHECK(strcmp(g.alpn, "http/1.1") == 0);
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    close(p[0]);
    ctx_teardown();
}

struct one {
    aio_frame hdr;
    aio_group g;
    aio_task st;
    int rc;
};

/* Serves until the one connection's handler is done. */
static int one_fn(aio_task *t, void *frame)
{
    struct one *f = (struct one *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, 0);
    aio_spawn(&f->g, &f->st, aio_server_serve, &ts.srv);
    while (ts.srv.accepted == 0 || ts.srv.active > 0) {
        AIO_SLEEP(rc, AIO_MS(10));
        (void)rc;
    }
    aio_server_shutdown(&ts.srv, 0);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    AIO_END(rc);
}

TEST(openssl_s_client_talks_to_the_tls_server)
{
    static struct one o;
    char conn[32], in_path[128], out_path[128], out[4096];
    int in_fd, out_fd, st = -1;
    ssize_t n;
    pid_t pid;
    char *argv[] = { "openssl", "s_client", "-connect", conn, "-servername", "localhost", "-CAfile", ca_pem,
                     "-verify_return_error", "-alpn", "http/1.1", "-ign_eof", NULL };
    memset(&o, 0, sizeof o);
    server_setup(H_ECHO, srv_pem, 1);
    snprintf(conn, sizeof conn, "127.0.0.1:%d", lst.port);
    snprintf(in_path, sizeof in_path, "%s/in.txt", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    in_fd = open(in_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(write(in_fd, "hello tls\n", 10) == 10);
    lseek(in_fd, 0, SEEK_SET);
    out_fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    pid = spawn(argv, in_fd, out_fd);
    CHECK(pid > 0);
    /* s_client sends its input and (-ign_eof) reads until the server's
     * close_notify, which the helper sends after the handler echoed a line. */
    handler_kind = H_ECHO_ONE;
    CHECK_EQ(tls_run_clock(one_fn, &o, 1), 0);
    waitpid(pid, &st, 0);
    n = pread(out_fd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = 0;
    CHECK(strstr(out, "hello tls\n") != NULL);
    CHECK(strstr(out, "ALPN protocol: http/1.1") != NULL);
    CHECK(strstr(out, "Verify return code: 0 (ok)") != NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(seen_sni, "localhost") == 0);
    close(in_fd);
    close(out_fd);
    ctx_teardown();
}

/* A hung handshake ends the program, not the suite: a watchdog per test of
 * 120 s, or 30 min under valgrind (its preload library is in LD_PRELOAD),
 * where a handshake costs seconds and the sweeps run a hundred sessions. */
static unsigned watchdog(void)
{
    return under_valgrind() ? 1800 : 120;
}
#define TLS_RUN(fn) do { alarm(watchdog()); RUN(fn); } while (0)
#define TLS_RUN_ONCE(fn) do { alarm(watchdog()); RUN_ONCE(fn); } while (0)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (under_valgrind() && !getenv("AIO_TEST_SEEDS"))
        setenv("AIO_TEST_SEEDS", "0", 1);
    if (make_certs() != 0) {
        printf("  the openssl command could not make the test certificates\n");
        remove_certs();
        printf("RESULT 0 1\n");
        return 1;
    }
    TLS_RUN_ONCE(bad_arguments_get_clear_codes);
    TLS_RUN(echo_over_tls_runs_plain_stream_code);
    TLS_RUN(numeric_host_is_checked_against_ip_entries);
    TLS_RUN(wrong_host_name_fails_with_etls_hostname);
    TLS_RUN(expired_certificate_fails_with_etls_expired);
    TLS_RUN(untrusted_ca_fails_with_etls_untrusted);
    TLS_RUN(verification_off_accepts_an_untrusted_certificate);
    TLS_RUN(peer_closing_without_close_notify_reads_truncated);
    TLS_RUN(cancel_mid_write_breaks_the_stream_and_says_so);
    TLS_RUN(cancelled_read_leaves_the_stream_usable);
    TLS_RUN(precancelled_handshake_has_no_side_effect);
    TLS_RUN(stalled_server_handshake_is_cut_off_by_a_deadline);
    TLS_RUN(stalled_client_is_cut_off_by_the_server_handshake_timeout);
    TLS_RUN(eintr_eagain_and_short_writes_under_tls_are_retried);
    TLS_RUN_ONCE(a_cancel_at_each_await_leaves_nothing_behind);
    TLS_RUN_ONCE(each_recv_and_send_under_tls_fails_cleanly);
    TLS_RUN(a_reader_and_a_writer_share_one_tls_stream);
    TLS_RUN_ONCE(reset_under_tls_reports_econnreset_and_breaks);
    TLS_RUN_ONCE(https_get_from_openssl_s_server);
    TLS_RUN_ONCE(openssl_s_client_talks_to_the_tls_server);
    remove_certs();
    return harness_report();
}
