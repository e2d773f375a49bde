/*
 * tests/cxx/cxx_tls.cc - aio_tls.h, implementation included, compiled as
 * C++ (make test-cxx, when OpenSSL's headers are there): a context is made,
 * given ALPN and freed, and a stream wrapped and unwrapped.
 */
#define AIO_IMPLEMENTATION
#include "aio_tls.h"
#include <cstdio>

int main()
{
    aio_tls_ctx c;
    aio_tls t;
    aio_stream s;
    if (aio_tls_ctx_init(&c, AIO_TLS_CLIENT) != 0 || aio_tls_ctx_set_alpn(&c, "h2,http/1.1") != 0)
        return 1;
    aio_stream_init(&s, -1, NULL, 0);
    s.fd = 0; /* never read: wrapping makes no system call */
    if (aio_tls_wrap_client(&t, &s, &c, "localhost") != 0 || s.ops != &t.ops)
        return 1;
    aio_tls_free(&t);
    aio_tls_ctx_free(&c);
    std::printf("aio_tls.h as C++: ok\n");
    return s.ops == NULL ? 0 : 1;
}
