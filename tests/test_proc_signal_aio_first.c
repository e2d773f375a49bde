/*
 * tests/test_proc_signal_aio_first.c - the whole of test_proc_signal.c
 * again, in an implementation file that includes aio.h before aio_proc.h
 * (aio.h asks for POSIX alone): signal receivers must work in either order.
 */
#define AIO_TEST_AIO_H_FIRST
#include "test_proc_signal.c"
