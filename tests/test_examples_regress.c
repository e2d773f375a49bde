/*
 * tests/test_examples_regress.c - regressions found while writing the
 * examples.
 *
 * This file is built the way a single-file program uses aio.h: with
 * AIO_STATIC, so every function is static, and most of them are never
 * called here.  Under -Wall -Werror that compiles only if unused static
 * functions are marked as such.
 */
#define AIO_IMPLEMENTATION
#define AIO_STATIC
#include "harness.h"

struct napper { aio_frame hdr; aio_time dur; int rc; };
static int napper(aio_task *t, void *p)
{
    struct napper *f = (struct napper *)p;
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, f->dur);
    f->rc = rc;
    AIO_END(rc);
}

TEST(a_static_build_that_calls_few_functions_runs)
{
    aio_loop L;
    aio_task mt;
    struct napper f;
    memset(&mt, 0, sizeof mt);
    memset(&f, 0, sizeof f);
    f.dur = AIO_MS(3);
    test_loop_init(&L);
    CHECK_EQ(aio_run(&L, &mt, napper, &f), 0);
    CHECK_EQ(aio_now(&L), AIO_MS(3));
}

int main(void)
{
    RUN(a_static_build_that_calls_few_functions_runs);
    return harness_report();
}
