/*
 * tests/test_proc_aio_first.c - the whole of test_proc.c again, in an
 * implementation file that includes aio.h before aio_proc.h (aio.h asks for
 * POSIX alone): exit waits through a pidfd, a working directory for the
 * child and every other aio_proc.h feature must work in either order.
 */
#define AIO_TEST_AIO_H_FIRST
#include "test_proc.c"
