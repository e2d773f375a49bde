/* Stackful switch floor: two ucontext coroutines passing control back and
 * forth with swapcontext (which also saves and restores the signal mask). */
#define _GNU_SOURCE
#include <ucontext.h>
#include "peer_util.h"

static ucontext_t main_ctx, co_ctx;
static long co_n;
static char co_stack[64 * 1024];

static void co_body(void)
{
    long i;
    for (i = 0; i < co_n; i++)
        swapcontext(&co_ctx, &main_ctx);
}

static uint64_t run(void *ctx, long n)
{
    uint64_t t0;
    long i;
    (void)ctx;
    co_n = n / 2;
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = co_stack;
    co_ctx.uc_stack.ss_size = sizeof co_stack;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, co_body, 0);
    t0 = peer_now();
    for (i = 0; i <= co_n; i++)
        swapcontext(&main_ctx, &co_ctx);
    return peer_now() - t0;
}

int main(void)
{
    peer_report("ucontext swapcontext switch", run, NULL, 2000000);
    return 0;
}
