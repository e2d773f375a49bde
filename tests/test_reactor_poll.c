/*
 * tests/test_reactor_poll.c - the reactor suite (tests/reactor_cases.h) on the
 * poll backend, natively.
 */
#define AIO_IMPLEMENTATION
#define AIO_BACKEND_POLL
#include "reactor_cases.h"

int main(void)
{
    reactor_cases();
    return harness_report();
}
