/*
 * tests/test_fuzz_corpus.c - replays every input of the fuzzing corpus
 * (tests/fuzz/corpus/) through the operation-program harness as part of the
 * suite, so every build runs the inputs the fuzzer found interesting.  A
 * broken invariant aborts the program (see tests/fuzz/fuzz_ops.c).
 *
 * 64-bit directory offsets: a 32-bit program reading a directory of a 64-bit
 * file system otherwise gets EOVERFLOW from readdir (seen under qemu-user).
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#define FUZZ_NO_MAIN
#include "fuzz/fuzz_ops.c"
#include "harness.h"
#include <dirent.h>
#include <errno.h>

#define CORPUS "tests/fuzz/corpus"

TEST(every_corpus_program_keeps_the_invariants)
{
    static unsigned char buf[1 << 16];
    DIR *d = opendir(CORPUS);
    struct dirent *e;
    int n = 0;
    CHECK(d != NULL);
    if (!d)
        return;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        FILE *fp;
        size_t len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", CORPUS, e->d_name);
        fp = fopen(path, "rb");
        CHECK(fp != NULL);
        if (!fp)
            continue;
        len = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        fuzz_one(buf, len);
        n++;
        errno = 0;
    }
    CHECK_EQ(errno, 0); /* the listing ended, it did not fail */
    closedir(d);
    CHECK(n >= 10);
}

TEST(a_failing_worker_decides_the_group_result)
{
    /* Two workers: worker 0 fails at once, worker 1 sleeps 9 ms. */
    static const unsigned char prog[] = { 0x10, OP_FAIL, 0, OP_SLEEP, 9 };
    fuzz_one(prog, sizeof prog);
    CHECK_EQ(W.first_fail, FAIL_CODE(0));
    CHECK_EQ(aio_task_rc(&W.tasks[1]), 0);
}

TEST(a_rendezvous_item_cancelled_in_flight_is_neither_lost_nor_duplicated)
{
    /* Worker 0 sends with a 1 ms bound, worker 1 receives after 2 ms. */
    static const unsigned char prog[] = { 0x10, OP_SEND, 0, OP_SLEEP, 2, OP_SEND, 4, OP_RECV, 4 };
    fuzz_one(prog, sizeof prog);
    CHECK_EQ(W.nsent[0], 1);
    CHECK_EQ(W.nrecv[0], 1);
}

int main(void)
{
    RUN_ONCE(every_corpus_program_keeps_the_invariants);
    RUN_ONCE(a_failing_worker_decides_the_group_result);
    RUN_ONCE(a_rendezvous_item_cancelled_in_flight_is_neither_lost_nor_duplicated);
    return harness_report();
}
