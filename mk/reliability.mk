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

COV_BUILD ?= build/gcc-cov
COV_BIN    = $(patsubst tests/%.c,$(COV_BUILD)/tests/%,$(TEST_SRC))
GCOVR_ARGS = -r . --filter '^aio[^/]*\.h$$' --exclude-unreachable-branches $(COV_BUILD)

.PHONY: coverage

coverage:
	@command -v gcovr >/dev/null || sh tests/reliability/install.sh gcovr
	$(MAKE) $(COV_BIN) CC=gcc BUILD=$(COV_BUILD) OPT="-O0 -g" SAN= EXTRA="--coverage $(EXTRA)" \
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
