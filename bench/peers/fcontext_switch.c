/* Stackful switch floor with Boost.Context's fcontext (libboost-context-dev):
 * two contexts passing control back and forth with jump_fcontext, which
 * saves and restores only the callee-saved registers (no signal mask).
 * The header is C++; its three entry points are plain C symbols, declared
 * here with the signatures of boost/context/detail/fcontext.hpp (1.61+). */
#define _GNU_SOURCE
#include <stddef.h>
#include "peer_util.h"

typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
extern transfer_t jump_fcontext(fcontext_t const to, void *vp);
extern fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static long co_n;
static char co_stack[64 * 1024] __attribute__((aligned(64)));

static void co_body(transfer_t t)
{
    long i;
    for (i = 0; i < co_n; i++)
        t = jump_fcontext(t.fctx, NULL);
    jump_fcontext(t.fctx, NULL); /* never resumed again */
}

static uint64_t run(void *ctx, long n)
{
    fcontext_t co;
    uint64_t t0;
    long i;
    (void)ctx;
    co_n = n / 2;
    co = make_fcontext(co_stack + sizeof co_stack, sizeof co_stack, co_body);
    t0 = peer_now();
    for (i = 0; i <= co_n; i++)
        co = jump_fcontext(co, NULL).fctx;
    return peer_now() - t0;
}

int main(void)
{
    peer_report("Boost.Context fcontext jump_fcontext switch", run, NULL, 20000000);
    return 0;
}
