/*
 * tests/cxx/cxx_smoke.cc - the headers, implementation included, compiled as
 * C++: a coroutine with a group, a timeout and a sub-coroutine runs on the
 * virtual clock.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"
#if defined(__has_include)
#if __has_include("aio_sync.h")
#include "aio_sync.h"
#endif
#if __has_include("aio_chan.h")
#include "aio_chan.h"
#endif
#if __has_include("aio_trace.h")
#include "aio_trace.h"
#endif
#if __has_include("aio_easy.h")
#include "aio_easy.h"
#endif
#endif
#include <cstdio>
#include <cstring>

struct child_frame { aio_frame hdr; int n; };
static int child(aio_task *t, void *p)
{
    child_frame *f = static_cast<child_frame *>(p);
    int rc;
    AIO_BEGIN(t, f);
    AIO_SLEEP(rc, AIO_MS(2));
    f->n = rc == 0 ? 1 : rc;
    AIO_END(rc);
}

struct main_frame { aio_frame hdr; aio_group g; aio_task t[2]; child_frame c[2]; aio_scope sc; int grc, trc; };
static int main_coro(aio_task *t, void *p)
{
    main_frame *f = static_cast<main_frame *>(p);
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    aio_spawn(&f->g, &f->t[0], child, &f->c[0]);
    aio_spawn(&f->g, &f->t[1], child, &f->c[1]);
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->grc = rc;
    aio_fail_after(t, &f->sc, AIO_MS(1));
    AIO_SLEEP(rc, AIO_MS(5));
    f->trc = aio_scope_exit(t, &f->sc, rc);
    AIO_END(0);
}

int main()
{
    aio_loop loop;
    aio_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&loop, &cfg);
    static aio_task mt;
    static main_frame f;
    int rc = aio_run(&loop, &mt, main_coro, &f);
    bool ok = rc == 0 && f.grc == 0 && f.c[0].n == 1 && f.c[1].n == 1 && f.trc == AIO_ETIMEDOUT &&
              aio_now(&loop) == AIO_MS(3);
    std::printf("%s\n", ok ? "C++ build ok" : "C++ build FAILED");
    return ok ? 0 : 1;
}
