# aio - build, test, examples and benchmarks.
#
#   make                 build everything and run the main demo
#   make test            run the whole suite; prints "N passed, M failed" last
#   make test-sanitize   the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan       the threaded tests under ThreadSanitizer
#   make test-release    the suite without AIO_DEBUG, at -O2
#   make test-cxx        the headers compiled as C++ (g++; aio_tls.h where OpenSSL is)
#   make test-freestanding  aio.h/aio_sync.h/aio_chan.h with -ffreestanding and AIO_NO_OS
#   make test-labels     the core suite with labels-as-values resume points
#   make examples        build every example
#   make test-examples   run every example and check its output (and count lines against Python)
#   make lint-locals     plain coroutine locals used after an await (FILES=...)
#   make bench           benchmarks at -O2 (see bench/bench.mk for the rest)
#
# CC=clang works for every target.  Every test file is a separate program:
# tests/test_*.c, each defining AIO_IMPLEMENTATION itself.

CC      ?= cc
CXX     ?= g++
STD     ?= -std=c99
WARN    ?= -Wall -Wextra -Wpedantic -Werror -Wimplicit-fallthrough -Wshadow
OPT     ?= -O1 -g
DEFS    ?= -DAIO_DEBUG
SAN     ?=
CCNAME  := $(notdir $(firstword $(CC)))
BUILD   ?= build/$(CCNAME)
# Compiler-written dependencies (BINARY.d beside each binary), so that
# editing any header a program includes, the test helpers too, rebuilds it.
# Empty for a compiler without -MMD (tcc).
DEPFLAGS ?= -MMD -MP
CFLAGS_ALL = $(STD) $(WARN) $(OPT) $(DEFS) $(SAN) $(EXTRA) $(DEPFLAGS) -I.
LDLIBS_ALL = $(SAN) -lpthread
# Per-program extra libraries: mk/tls.mk sets EXTRA_LIBS for the OpenSSL users.
EXTRA_LIBS ?=

HEADERS   := $(wildcard aio*.h)
TEST_SRC  ?= $(sort $(wildcard tests/test_*.c))
TEST_BIN  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
EX_SRC    := $(sort $(wildcard examples/*.c))
EX_BIN    := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EX_SRC))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: lint-locals all demo test test-sanitize test-tsan test-release test-cxx test-freestanding test-labels examples test-examples clean

all: $(TEST_BIN) $(EX_BIN) demo

demo: $(BUILD)/examples/demo
	./$(BUILD)/examples/demo

$(BUILD)/tests/%: tests/%.c tests/harness.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL) $(EXTRA_LIBS)

$(BUILD)/examples/%: examples/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL) $(EXTRA_LIBS)

# Check scripts run with the suite: every public name is in docs/API.md;
# every assertion message of the headers is tested by tests/test_misuse.c;
# every header builds alone, first or after <stdio.h>, in C99, C11 and gnu11, with
# and without the implementation; files that disagree on AIO_DEBUG fail to link;
# the Arduino and PlatformIO manifests are valid, name files that exist, and
# their example builds and runs (tests/check_manifests.sh); the mistakes
# aio_easy.h turns into compile errors do not compile (tests/check_easy_compile.sh);
# the locals lint finds its fixture's mistakes and nothing in examples/; the
# echo example serves parallel socat clients byte for byte, and keeps serving
# probes while hostile socat clients (idle, slowloris, floods that never read,
# garbage) hold more connections than it has slots; the Markdown pages'
# links resolve and the names they write exist (tests/check_doc_links.sh).
TEST_SCRIPTS ?= tests/check_api_docs.sh tests/check_misuse_coverage.sh tests/check_headers.sh tests/check_build_mix.sh \
    tests/check_manifests.sh tests/check_easy_compile.sh tests/check_lint_locals.sh tests/check_echo_real_clients.sh \
    tests/check_hostile_real_clients.sh tests/check_doc_links.sh

test: $(TEST_BIN)
	@sh tests/run.sh $(TEST_BIN) $(TEST_SCRIPTS)

test-sanitize:
	$(MAKE) test BUILD=build/$(CCNAME)-san OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"

# The threaded parts under ThreadSanitizer.
test-tsan:
	$(MAKE) test BUILD=build/$(CCNAME)-tsan SAN=-fsanitize=thread TEST_SRC="$(wildcard tests/test_thread.c tests/test_thread_portal.c $(filter-out %_cov.c,$(wildcard tests/test_reactor*.c)) tests/test_core_isr.c)"

test-release:
	$(MAKE) test BUILD=build/$(CCNAME)-rel OPT="-O2" DEFS=""

test-cxx:
	@mkdir -p $(BUILD)
	$(CXX) -std=c++11 -Wall -Wextra -Wpedantic -Werror -I. -x c++ tests/cxx/cxx_smoke.cc -o $(BUILD)/cxx_smoke -lpthread
	./$(BUILD)/cxx_smoke
	@if printf '#include <openssl/ssl.h>\n' | $(CXX) -x c++ -fsyntax-only - 2>/dev/null; then \
	    $(CXX) -std=c++11 -Wall -Wextra -Wpedantic -Werror -I. -x c++ tests/cxx/cxx_tls.cc -o $(BUILD)/cxx_tls \
	        -lpthread $(TLS_LIBS) && ./$(BUILD)/cxx_tls; \
	else echo "test-cxx: no OpenSSL headers for $(CXX): aio_tls.h left out"; fi

# The firmware configuration: compiles with -ffreestanding and AIO_NO_OS, and
# the object may need nothing but the four functions GCC and clang require
# of every freestanding environment (memcpy, memmove, memset, memcmp).
test-freestanding:
	@mkdir -p $(BUILD)
	@for o in -O0 -O2 -Os; do \
	    $(CC) -std=c99 -ffreestanding -DAIO_NO_OS $(WARN) -I. $$o -c tests/freestanding/freestanding.c \
	        -o $(BUILD)/freestanding.o || exit 1; \
	    extra=$$(nm -u $(BUILD)/freestanding.o | awk '{print $$2}' | grep -v -x -E 'memcpy|memmove|memset|memcmp'); \
	    if [ -n "$$extra" ]; then echo "freestanding $$o needs: $$extra"; exit 1; fi; \
	done
	@echo "freestanding build ok ($(CC), -O0 -O2 -Os)"

# The core suite with labels-as-values resume points (GCC and clang).
test-labels:
	$(MAKE) test BUILD=build/$(CCNAME)-labels DEFS="-DAIO_DEBUG -DAIO_USE_LABELS" TEST_SCRIPTS= TEST_SRC="$(wildcard tests/test_core.c tests/test_core_scope.c tests/test_core_group.c tests/test_misuse.c tests/test_easy.c)"

examples: $(EX_BIN)

# Plain locals of a coroutine used after an await (tests/lint_locals.sh):
#   make lint-locals FILES="src/a.c src/b.c"   (default: every example)
FILES ?= $(EX_SRC)
lint-locals:
	@sh tests/lint_locals.sh $(FILES) && echo "lint-locals: no local used across an await in $(words $(FILES)) files"

# Runs every example and checks its output against examples/expected/<name>.txt
# (format: examples/check_output.sh); each must also exit 0.
test-examples: $(EX_BIN)
	@sh examples/count_lines.sh
	@sh examples/check_output.sh $(EX_BIN)

# Benchmark targets (bench, bench-peers, bench-hyperfine, bench-check,
# bench-report) live in bench/bench.mk.
-include bench/bench.mk
-include $(sort $(wildcard mk/*.mk))
-include $(wildcard $(BUILD)/tests/*.d $(BUILD)/examples/*.d $(BUILD)/bench/*.d)

clean:
	rm -rf build build-*
