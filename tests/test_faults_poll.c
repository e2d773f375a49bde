/*
 * tests/test_faults_poll.c - the fault sweeps of tests/test_faults.c on the
 * poll backend (poll failing instead of epoll_create1, epoll_ctl and
 * epoll_wait).
 */
#define AIO_BACKEND_POLL
#include "test_faults.c"
