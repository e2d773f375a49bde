# mk/reliability.mk - reliability targets (included by the Makefile).
#
#   make test-valgrind   the hosted suite, built without sanitizers, under
#                        valgrind memcheck; any memcheck error fails the
#                        program (tests/reliability/valgrind.sh)

VG_BUILD ?= build/$(CCNAME)-vg

.PHONY: test-valgrind

test-valgrind:
	@command -v valgrind >/dev/null || sh tests/reliability/install.sh valgrind
	$(MAKE) $(patsubst tests/%.c,$(VG_BUILD)/tests/%,$(TEST_SRC)) BUILD=$(VG_BUILD) SAN=
	sh tests/reliability/valgrind.sh $(VG_BUILD) $(patsubst tests/%.c,$(VG_BUILD)/tests/%,$(TEST_SRC))

# ---------------------------------------------------------------------------
#   make coverage        the hosted suite built with gcc --coverage at -O0,
#                        run, then line and branch coverage of every aio*.h
#                        header (gcovr; installed from Debian when missing).
#                        HTML detail in build/gcc-cov/coverage/index.html.
#                        Counters are updated atomically: the threaded tests
#                        run header code on several threads at once, and
#                        lost updates would give gcov negative branch counts.
#                        Lines that stay uncovered, with the reason:
#                        tests/reliability/UNCOVERED.md.

COV_BUILD ?= build/gcc-cov
COV_BIN    = $(patsubst tests/%.c,$(COV_BUILD)/tests/%,$(TEST_SRC))
GCOVR_ARGS = -r . --filter '^aio[^/]*\.h$$' --exclude-unreachable-branches $(COV_BUILD)

.PHONY: coverage

coverage:
	@command -v gcovr >/dev/null || sh tests/reliability/install.sh gcovr
	$(MAKE) $(COV_BIN) CC=gcc BUILD=$(COV_BUILD) OPT="-O0 -g" SAN= EXTRA="--coverage -fprofile-update=atomic $(EXTRA)" \
	    LDLIBS_ALL="--coverage -lpthread"
	@find $(COV_BUILD) -name '*.gcda' -delete
	@mkdir -p $(COV_BUILD)/coverage
	@py=$$(sed -n "1s/^#!//p" "$$(command -v gcovr)"); \
	    sh tests/run.sh $(COV_BIN) > $(COV_BUILD)/coverage/suite.log 2>&1; st=$$?; \
	    tail -n 1 $(COV_BUILD)/coverage/suite.log; \
	    $$py tests/reliability/run_gcovr.py $(GCOVR_ARGS) --html-details $(COV_BUILD)/coverage/index.html >/dev/null; \
	    $$py tests/reliability/run_gcovr.py $(GCOVR_ARGS) --json-summary $(COV_BUILD)/coverage/summary.json >/dev/null; \
	    python3 tests/reliability/coverage_table.py $(COV_BUILD)/coverage/summary.json; \
	    exit $$st

# ---------------------------------------------------------------------------
#   make fuzz [FUZZ_SECONDS=60]   every libFuzzer harness tests/fuzz/fuzz_*.c
#                        (clang -fsanitize=fuzzer,address,undefined) for
#                        FUZZ_SECONDS each, starting from tests/fuzz/corpus;
#                        new inputs collect in build/fuzz/corpus-<harness>,
#                        crashes in build/fuzz/.
#   make fuzz-smoke      each harness for a short fixed time (CI).
#   make fuzz-replay     the corpus through the plain-C driver, built with
#                        $(CC) (tests/test_fuzz_corpus.c also runs it in the
#                        suite).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE   ?= 30
FUZZ_DIR     ?= build/fuzz
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_FLAGS   ?= -std=c99 -O1 -g -DAIO_DEBUG -DFUZZ_LIBFUZZER -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -I.

.PHONY: fuzz fuzz-smoke fuzz-replay

$(FUZZ_DIR)/%: tests/fuzz/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -o $@ $< -lpthread

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    n=$$(basename $$f); mkdir -p $(FUZZ_DIR)/corpus-$$n; \
	    echo "$$n: $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/$$n- $(FUZZ_DIR)/corpus-$$n tests/fuzz/corpus \
	        > $(FUZZ_DIR)/$$n.log 2>&1 || { tail -n 40 $(FUZZ_DIR)/$$n.log; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' $(FUZZ_DIR)/$$n.log; \
	    grep -E '^Done ' $(FUZZ_DIR)/$$n.log; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$$(( $(FUZZ_SMOKE) / $(words $(FUZZ_SRC)) ))

fuzz-replay:
	@mkdir -p $(BUILD)/fuzz
	@for s in $(FUZZ_SRC); do \
	    n=$$(basename $$s .c); \
	    $(CC) $(CFLAGS_ALL) -o $(BUILD)/fuzz/$$n $$s $(LDLIBS_ALL) || exit 1; \
	    ./$(BUILD)/fuzz/$$n tests/fuzz/corpus/* | tail -n 2 || exit 1; \
	done

# ---------------------------------------------------------------------------
#   make fuzz-afl [FUZZ_SECONDS=60]   the same harnesses under AFL++ instead
#                        of libFuzzer (Debian's afl++, installed when
#                        missing).  Each is built with afl-clang-fast
#                        -fsanitize=fuzzer, which links AFL++'s own driver
#                        for LLVMFuzzerTestOneInput (persistent mode, input
#                        in shared memory), with ASan and UBSan
#                        (AFL_USE_ASAN, AFL_USE_UBSAN; UBSan traps, so a
#                        finding shows as SIGILL without a message).
#                        afl-fuzz then runs FUZZ_SECONDS per harness on one
#                        core, starting from tests/fuzz/corpus, into
#                        build/fuzz-afl/out-<harness> (removed at the start
#                        of each run).  The environment suits a container:
#                        no CPU frequency or core_pattern checks, no status
#                        screen, no core pinning.  Prints execs done,
#                        execs/s, corpus size and the crashes and hangs
#                        saved (fuzzer_stats), and fails if one was saved; it
#                        is then copied to build/fuzz-afl/<harness>-crashes-N
#                        (or -hangs-N): replay it with the plain-C driver
#                        built with -fsanitize=address,undefined for the
#                        report.  A hang is an input that runs longer than
#                        AFL_TIMEOUT ms.  Not run by CI.

AFL_CC      ?= afl-clang-fast
AFL_DIR     ?= build/fuzz-afl
AFL_TIMEOUT ?= 1000
AFL_BIN     := $(patsubst tests/fuzz/%.c,$(AFL_DIR)/%,$(FUZZ_SRC))
AFL_FLAGS   ?= -std=c99 -O1 -g -DAIO_DEBUG -DFUZZ_LIBFUZZER -fsanitize=fuzzer -I.
AFL_ENV     ?= AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1

.PHONY: fuzz-afl

$(AFL_DIR)/%: tests/fuzz/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 $(AFL_CC) $(AFL_FLAGS) $(WARN) -o $@ $< -lpthread

fuzz-afl:
	@{ command -v afl-fuzz && command -v $(AFL_CC); } >/dev/null || sh tests/reliability/install.sh afl++
	$(MAKE) $(AFL_BIN)
	@st=0; for f in $(AFL_BIN); do \
	    n=$$(basename $$f); o=$(AFL_DIR)/out-$$n; s=$$o/default; \
	    rm -rf $$o $(AFL_DIR)/$$n-crashes-* $(AFL_DIR)/$$n-hangs-*; \
	    echo "$$n: afl-fuzz $(FUZZ_SECONDS) s"; \
	    $(AFL_ENV) afl-fuzz -V $(FUZZ_SECONDS) -t $(AFL_TIMEOUT) -i tests/fuzz/corpus -o $$o -- $$f \
	        > $(AFL_DIR)/$$n.log 2>&1 && [ -f $$s/fuzzer_stats ] || { tail -n 40 $(AFL_DIR)/$$n.log; exit 1; }; \
	    grep -E '^(execs_done|execs_per_sec|corpus_count|corpus_found|stability|saved_crashes|saved_hangs) ' $$s/fuzzer_stats; \
	    for d in crashes hangs; do \
	        i=0; for c in $$(find $$s/$$d -name 'id:*' -type f | sort); do \
	            i=$$((i + 1)); cp "$$c" $(AFL_DIR)/$$n-$$d-$$i; \
	            echo "$$n: saved in $$d: $(AFL_DIR)/$$n-$$d-$$i ($$(basename $$c))"; st=1; \
	        done; \
	    done; \
	done; exit $$st
