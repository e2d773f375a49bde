# mk/soak.mk - the soak run (included by the Makefile).
#
#   make soak [SECONDS=60] [CLIENTS=400] [SEED=n] [SOAK_SAN=1]
#                        tests/soak/soak.c: an echo server with CLIENTS
#                        concurrent client sessions on loopback (connect,
#                        stream, random deadlines, cancels and closes), with
#                        timer and channel churn, for SECONDS of wall-clock
#                        time; then checks the echo accounting and that
#                        descriptors, live tasks, armed timers, fd waits and
#                        the resident set are back to their baseline.
#                        Built with AIO_DEBUG; SOAK_SAN=1 adds AddressSanitizer
#                        and UndefinedBehaviorSanitizer (the resident-set slack
#                        is then SOAK_SAN_RSS_KB, for the sanitizer's own
#                        allocations).  Prints "N passed, M failed" last.
#   make soak-smoke      the short run CI makes (SOAK_SMOKE seconds, 200 clients).

SECONDS          ?= 60
CLIENTS          ?= 400
SEED             ?=
SOAK_SAN         ?=
SOAK_SMOKE       ?= 15
SOAK_RSS_KB      ?= 8192
SOAK_SAN_RSS_KB  ?= 32768

ifeq ($(SOAK_SAN),1)
SOAK_BUILD  = build/$(CCNAME)-soak-san
SOAK_SANFL  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SOAK_RSS    = $(SOAK_SAN_RSS_KB)
else
SOAK_BUILD  = build/$(CCNAME)-soak
SOAK_SANFL  =
SOAK_RSS    = $(SOAK_RSS_KB)
endif
SOAK_BIN  = $(SOAK_BUILD)/soak
SOAK_ARGS = --seconds $(SECONDS) --clients $(CLIENTS) --rss-slack-kb $(SOAK_RSS) $(if $(SEED),--seed $(SEED))

.PHONY: soak soak-smoke

$(SOAK_BIN): tests/soak/soak.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) -O2 -g -DAIO_DEBUG $(SOAK_SANFL) $(EXTRA) -I. -o $@ $< $(SOAK_SANFL) -lpthread

soak: $(SOAK_BIN)
	./$(SOAK_BIN) $(SOAK_ARGS)

soak-smoke:
	$(MAKE) soak SECONDS=$(SOAK_SMOKE) CLIENTS=200
