/*
 * tests/test_reactor_epoll.c - the reactor suite (tests/reactor_cases.h) on the
 * epoll backend, natively.
 */
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_EPOLL
#include "reactor_cases.h"

int main(void)
{
    reactor_cases();
    return harness_report();
}
