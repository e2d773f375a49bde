/*
 * bench_scale.c - N concurrent sleeping tasks on the virtual clock: time to
 * spawn them, time to drain them (every sleep fires, every task finishes),
 * peak RSS and bytes per task.
 *
 *   bench_scale            runs N = 1,000,000 and 10,000,000, each in a fresh
 *                          child process so peak RSS is its own
 *   bench_scale N          one run with N tasks
 *
 * Each task is an aio_task plus a frame holding only the aio_frame header;
 * its sleep length is a hash of its frame address, so deadlines arrive in
 * no particular order.
 */
#define AIO_IMPLEMENTATION
#include "aio.h"

#include "bench_util.h"

#include <sys/wait.h>

struct slot {
    aio_task task;
    aio_frame frame;
};

static int sleeper(aio_task *t, void *frame)
{
    int rc;
    AIO_BEGIN(t, frame);
    {
        uint64_t x = (uint64_t)(uintptr_t)frame;
        x ^= x >> 31;
        x *= 0x9e3779b97f4a7c15ULL;
        x ^= x >> 29;
        AIO_SLEEP(rc, AIO_NS(1 + x % 1000000000u));
    }
    AIO_END(rc);
}

struct scale_main {
    aio_frame hdr;
    aio_group g;
    struct slot *slots;
    long n, i;
    uint64_t t_spawn, t_drain;
};

static int scale_main(aio_task *t, void *frame)
{
    struct scale_main *f = (struct scale_main *)frame;
    int rc;
    AIO_BEGIN(t, f);
    aio_group_enter(t, &f->g, AIO_GROUP_FAIL_FAST);
    f->t_spawn = bu_now();
    for (f->i = 0; f->i < f->n; f->i++)
        if (aio_spawn(&f->g, &f->slots[f->i].task, sleeper, &f->slots[f->i].frame))
            abort();
    f->t_spawn = bu_now() - f->t_spawn;
    f->t_drain = bu_now();
    AIO_GROUP_WAIT(rc, &f->g, 0);
    f->t_drain = bu_now() - f->t_drain;
    AIO_END(rc);
}

static int run_one(long n)
{
    static struct scale_main m;
    aio_config cfg;
    aio_loop L;
    aio_task main_task;
    long long rss0 = bu_peak_rss(), rss1;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.virtual_clock = 1;
    aio_loop_init(&L, &cfg);
    memset(&main_task, 0, sizeof main_task);
    memset(&m, 0, sizeof m);
    m.n = n;
    m.slots = (struct slot *)calloc((size_t)n, sizeof *m.slots);
    if (!m.slots)
        abort();
    rc = aio_run(&L, &main_task, scale_main, &m);
    rss1 = bu_peak_rss();
    if (rc != 0) {
        fprintf(stderr, "scale run failed: %s\n", aio_strerror(rc));
        return 1;
    }
    printf("| %ld | %.2f | %.1f | %.3f | %.1f | %.3f | %.1f | %u |\n", n, (double)rss1 / (1024.0 * 1024.0),
           (double)(rss1 - rss0) / (double)n, (double)m.t_spawn / 1e9, (double)m.t_spawn / (double)n,
           (double)m.t_drain / 1e9, (double)m.t_drain / (double)n, (unsigned)sizeof(struct slot));
    fflush(stdout);
    free(m.slots);
    return 0;
}

int main(int argc, char **argv)
{
    static const long sizes[] = { 1000000, 10000000 };
    size_t i;
    printf("## aio scale: concurrent sleeping tasks, virtual clock\n\n");
    bu_print_machine();
    printf("| tasks | peak RSS MiB | bytes/task (RSS growth / N) | spawn s | spawn ns/task | drain s | drain ns/task "
           "| sizeof task+frame |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    if (argc > 1)
        return run_one(atol(argv[1]));
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        pid_t pid = fork();
        int status;
        if (pid == 0)
            _exit(run_one(sizes[i]));
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
    }
    return 0;
}
