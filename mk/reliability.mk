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
