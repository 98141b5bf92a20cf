# Pylon: build, test, demo, bench, fuzz, install.
#
# No file list lives here: every runtime/*.c and actors/**/*.c goes into one static library,
# every tests/unit/test_*.c is a test program, every tests/fuzz/fuzz_*.c a fuzz target (and a
# corpus replayer), every bench/bench_*.c a benchmark. Adding a file needs no edit here.
#
#   make            optimised build of ./build/pylon
#   make check      install what is missing, build with ASan+UBSan, run every test
#   make demo       install what is missing, run one full local job end to end
#   make bench      optimised benchmarks; figures printed with the command that gave them
#   make fuzz       libFuzzer (clang) on every decoder, FUZZ_SECONDS each

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
PKGS     := libczmq libzmq libsecp256k1 libsodium msgpack sqlite3 libcurl libwebsockets json-c libcrypto
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 -Wstrict-prototypes
CPPFLAGS += -D_GNU_SOURCE -Iruntime -Iactors -Ischemas -Itests/support -I$(BUILD)/gen
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

# SAN=1 builds everything with AddressSanitizer + UndefinedBehaviorSanitizer into build/san.
ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD    ?= build
endif

LIB_SRC   := $(wildcard runtime/*.c) $(wildcard actors/*.c) $(wildcard actors/*/*.c)
LIB_SRC   := $(filter-out actors/pylon.c,$(LIB_SRC))
# Data files compiled into the binary (see scripts/embed.sh): name = file name, dots to '_'.
EMBED     := $(wildcard runtime/data/*) $(wildcard schemas/*.sql)
EMBED_SRC := $(patsubst %,$(BUILD)/gen/embed_%.c,$(subst -,_,$(subst .,_,$(notdir $(EMBED)))))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(EMBED_SRC:%.c=%.o)
# Fixtures shared by tests, tools and benchmarks (a probe socket, a forwarding actor).
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
TESTS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
REPLAYS   := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/replay_%,$(wildcard tests/fuzz/fuzz_*.c))
TOOLS     := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))
FUZZERS   := $(patsubst tests/fuzz/fuzz_%.c,build/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps check tests demo bench fuzz clean install
all: $(BUILD)/pylon

deps:
	@scripts/setup-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

define EMBED_RULE
$(BUILD)/gen/embed_$(subst -,_,$(subst .,_,$(notdir $(1)))).c: $(1) scripts/embed.sh
	@mkdir -p $$(dir $$@)
	scripts/embed.sh $(subst -,_,$(subst .,_,$(notdir $(1)))) $(1) > $$@
endef
$(foreach f,$(EMBED),$(eval $(call EMBED_RULE,$(f))))

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libpylon.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pylon: $(BUILD)/obj/actors/pylon.o $(BUILD)/libpylon.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(SUPPORT_OBJ) $(BUILD)/libpylon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# A fuzz target linked with a plain main() that replays its committed corpus (tests/fuzz/replay.c).
$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libpylon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Small C programs that integration tests drive (e.g. sign here, verify in nostr-tools).
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(SUPPORT_OBJ) $(BUILD)/libpylon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(SUPPORT_OBJ) $(BUILD)/libpylon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

tests: $(BUILD)/pylon $(TESTS) $(REPLAYS) $(TOOLS)

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) SAN=1 tests
	@scripts/run-tests.sh build/san

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@scripts/demo.sh build

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(BENCHES)
	@scripts/run-bench.sh build

# libFuzzer needs clang; the library is rebuilt with the fuzzer's instrumentation in build/fuzz.
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang \
	    SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz/libpylon.a
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang $(FUZZERS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libpylon.a
	clang $(CPPFLAGS) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(shell pkg-config --cflags $(PKGS)) -o $@ $^ $(LDLIBS)

install: $(BUILD)/pylon
	install -D -m 0755 $(BUILD)/pylon $(DESTDIR)/usr/local/bin/pylon

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
