# Benchmarks (included by the top-level Makefile).
#
#   make bench            every bench/bench_*.c at -O2 without AIO_DEBUG: one
#                         markdown table per program (ns/op median, min, max,
#                         floor, ratio), sizeof of the public structs, and the
#                         1M / 10M sleeping-task scale run
#   make bench-check      instructions per operation under callgrind against
#                         bench/budget.txt; fails when one exceeds its budget
#   make bench-peers      the same work in libuv, libev, ucontext, Boost.Context
#                         fcontext, asyncio, trio
#   make bench-hyperfine  whole-process comparisons with hyperfine (markdown)
#   make bench-report     regenerates bench/RESULTS.md from measured runs, with
#                         the headline table (targets met or missed) and the
#                         gnuplot scaling plot bench/scaling.png
#
# Benchmarks measure; nothing here asserts a time bound.

BENCH_BUILD  ?= build-bench/$(CCNAME)
BENCH_OPT    ?= -O2
BENCH_DEFS   ?= -DNDEBUG
BENCH_VARS    = BUILD=$(BENCH_BUILD) OPT="$(BENCH_OPT)" DEFS="$(BENCH_DEFS)" SAN=
BENCH_FLAGS   = $(STD) $(BENCH_OPT) $(BENCH_DEFS)
BENCH_OUT    ?= $(BENCH_BUILD)/out
PEER_SRC     := $(sort $(wildcard bench/peers/*.c))

.PHONY: bench bench-build bench-run bench-check bench-peers bench-peers-run bench-hyperfine bench-report

$(BUILD)/bench/%: bench/%.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL) $(EXTRA_LIBS)

bench:
	@$(MAKE) --no-print-directory bench-run $(BENCH_VARS)

bench-build: $(BENCH_BIN) $(BUILD)/bench/check_icount

bench-run: bench-build
	@mkdir -p $(BENCH_OUT)
	@for b in $(BENCH_BIN); do \
	    BENCH_FLAGS="$(BENCH_FLAGS)" ./$$b || exit 1; echo; \
	done | tee $(BENCH_OUT)/bench.md

$(BUILD)/bench/check_icount: bench/check_icount.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL)

# Deterministic: instruction counts do not depend on machine noise.
bench-check:
	@$(MAKE) --no-print-directory $(BENCH_BUILD)/bench/check_icount $(BENCH_VARS)
	@sh bench/check.sh $(BENCH_BUILD)/bench/check_icount bench/budget.txt

bench-peers:
	@sh bench/peers/install.sh
	@$(MAKE) --no-print-directory bench-peers-run $(BENCH_VARS)

bench-peers-run: bench-build
	@mkdir -p $(BENCH_OUT)
	@sh bench/peers/run.sh $(BUILD) "$(CC)" "$(BENCH_FLAGS)" | tee $(BENCH_OUT)/peers.md

bench-hyperfine:
	@sh bench/peers/install.sh
	@$(MAKE) --no-print-directory bench-build $(BENCH_VARS)
	@sh bench/hyperfine.sh $(BENCH_BUILD) "$(CC)" "$(BENCH_FLAGS)" $(BENCH_OUT)

bench-report:
	@$(MAKE) --no-print-directory bench
	@$(MAKE) --no-print-directory bench-peers
	@$(MAKE) --no-print-directory bench-hyperfine
	@rm -f bench/scaling.png
	@sh bench/plot.sh $(BENCH_OUT) bench/scaling.png || echo "bench-report: no plot (gnuplot missing)"
	@sh bench/report.sh $(BENCH_BUILD) $(BENCH_OUT) > bench/RESULTS.md.tmp && mv bench/RESULTS.md.tmp bench/RESULTS.md
	@echo "wrote bench/RESULTS.md"
