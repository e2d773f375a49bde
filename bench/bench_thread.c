/*
 * bench/bench_thread.c - cross-thread costs of aio_thread.h:
 *  - one-way wake-up latency: a thread posts a callback into an idle loop
 *    (blocked in its backend wait) and the callback reads the clock; the
 *    figure is the time from just before aio_loop_post to the callback
 *    (libuv's uv_async_send is the peer);
 *  - AIO_TO_THREAD round trip: submit a function that returns at once, wait
 *    for its completion, resume the task; one task, back to back.
 */
#define AIO_IMPLEMENTATION
#include "../aio_thread.h"
#include "bench_util.h"
#include <pthread.h>

#define LAT_N 20000
#define RT_N 50000

static aio_loop L;
static aio_reactor io;
static aio_task mt;
static uint64_t samples[LAT_N];
static int acked;        /* loop -> poster: the last callback ran */
static uint64_t t_post;  /* poster's clock just before the post */
static int lat_done;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- wake-up latency -------------------------------------------------------- */

struct idle { aio_frame hdr; aio_task *self; };
static int idle_begin(aio_task *t, struct idle *f)
{
    f->self = t;
    aio_park_noabort(t);
    return AIO_PARKED;
}
static int idle_main(aio_task *t, void *frame)
{
    struct idle *f = (struct idle *)frame;
    int rc;
    AIO_BEGIN(t, f);
    AIO_OP(rc, idle_begin(t, f));
    AIO_END(rc);
}
static struct idle idle;
static int idx;

static void on_post(aio_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    samples[idx++] = bu_now() - __atomic_load_n(&t_post, __ATOMIC_ACQUIRE);
    if (idx == LAT_N) {
        lat_done = 1;
        aio_reschedule(idle.self, 0);
    }
    __atomic_store_n(&acked, 1, __ATOMIC_RELEASE);
}

static void *poster(void *arg)
{
    static aio_post node;
    int i;
    struct timespec gap = { 0, 20000 }; /* let the loop fall back asleep */
    (void)arg;
    for (i = 0; i < LAT_N; i++) {
        nanosleep(&gap, NULL);
        __atomic_store_n(&acked, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&t_post, bu_now(), __ATOMIC_RELEASE);
        aio_loop_post(&L, &node, on_post, NULL);
        while (!__atomic_load_n(&acked, __ATOMIC_ACQUIRE)) {
        }
    }
    return NULL;
}

/* ---- to_thread round trip ---------------------------------------------------- */

static int nothing(void *arg)
{
    return arg != NULL;
}
struct rt { aio_frame hdr; aio_job job; aio_pool *pool; int i; };
static int rt_main(aio_task *t, void *frame)
{
    struct rt *f = (struct rt *)frame;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < RT_N; f->i++) {
        aio_job_init(&f->job, nothing, NULL, NULL, 0);
        AIO_TO_THREAD(rc, f->pool, &f->job);
        if (rc != 0)
            AIO_RETURN(rc);
    }
    AIO_END(0);
}

int main(void)
{
    pthread_t th, workers[1];
    aio_pool pool;
    static struct rt rt;
    uint64_t t0, t1;
    printf("## aio_thread.h: cross-thread costs\n\n");
    printf("| measure | median | p90 | p99 | min |\n|---|---|---|---|---|\n");

    aio_loop_init(&L, NULL);
    aio_reactor_init(&io, &L);
    aio_loop_wake_enable(&L);
    pthread_create(&th, NULL, poster, NULL);
    aio_run(&L, &mt, idle_main, &idle);
    pthread_join(th, NULL);
    aio_loop_close(&L);
    qsort(samples, LAT_N, sizeof samples[0], cmp_u64);
    printf("| post -> callback, idle loop (ns) | %llu | %llu | %llu | %llu |\n",
           (unsigned long long)samples[LAT_N / 2], (unsigned long long)samples[LAT_N * 9 / 10],
           (unsigned long long)samples[LAT_N * 99 / 100], (unsigned long long)samples[0]);

    aio_pool_init(&pool, workers, 1);
    aio_loop_init(&L, NULL);
    aio_reactor_init(&io, &L);
    memset(&rt, 0, sizeof rt);
    rt.pool = &pool;
    t0 = bu_now();
    aio_run(&L, &mt, rt_main, &rt);
    t1 = bu_now();
    aio_pool_shutdown(&pool);
    aio_loop_close(&L);
    printf("| AIO_TO_THREAD round trip, 1 worker (ns/op, mean of %d) | %llu | | | |\n", RT_N,
           (unsigned long long)((t1 - t0) / RT_N));
    printf("\nsizeof: aio_job %zu, aio_pool %zu, aio_tevent %zu, aio_file_op %zu\n", sizeof(aio_job),
           sizeof(aio_pool), sizeof(aio_tevent), sizeof(aio_file_op));
    return lat_done ? 0 : 1;
}
