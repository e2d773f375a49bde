# mk/tls.mk - the programs that use aio_tls.h link OpenSSL; no other does.
#
#   TLS_LIBS   how to link OpenSSL (default: pkg-config's openssl, else
#              -lssl -lcrypto)
#   TLS_TESTS, TLS_EXAMPLES, TLS_BENCH   the sources that include aio_tls.h;
#              targets that cannot link OpenSSL (the cross and matrix runs,
#              the embedded and freestanding builds) leave them out.
TLS_LIBS     ?= $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
TLS_TESTS    := tests/test_tls.c
TLS_EXAMPLES := $(wildcard examples/tls_*.c)
TLS_BENCH    := $(wildcard bench/bench_tls.c)

$(BUILD)/tests/test_tls $(patsubst examples/%.c,$(BUILD)/examples/%,$(TLS_EXAMPLES)) \
    $(patsubst bench/%.c,$(BUILD)/bench/%,$(TLS_BENCH)): EXTRA_LIBS = $(TLS_LIBS)
