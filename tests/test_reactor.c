/*
 * tests/test_reactor.c - the reactor suite (tests/reactor_cases.h) on the
 * backend chosen automatically for this platform.
 */
#define AIO_IMPLEMENTATION
#include "reactor_cases.h"

TEST(the_automatic_backend_fits_the_platform)
{
#if defined(__linux__)
    CHECK(strcmp(AIO_BACKEND_NAME, "epoll") == 0);
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
    CHECK(strcmp(AIO_BACKEND_NAME, "kqueue") == 0);
#else
    CHECK(strcmp(AIO_BACKEND_NAME, "poll") == 0);
#endif
}

int main(void)
{
    RUN_ONCE(the_automatic_backend_fits_the_platform);
    reactor_cases();
    return harness_report();
}
