# probe-heap: build, test, demo, bench.
#
#   make            the core library and the gdb bridge
#   make test       unit tests (plain and under ASan/UBSan) and integration tests
#   make demo       installs what is missing, builds, analyses a demo workload's core
#   make bench      the benchmark table (docs/performance.md)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC $(WARN) -Icore/include -Icore/src $(CFLAGS)
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
GDB     ?= gdb
PYTEST  ?= /usr/bin/python3 -m pytest

B = build
CORE_SRC := $(wildcard core/src/*/*.c)
CORE_OBJ := $(CORE_SRC:core/src/%.c=$(B)/core/%.o)
CORE_HDR := core/include/probeheap.h $(wildcard core/src/*/*.h)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
UNIT_SAN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit-san/%)

# The bridge is built for the Python that gdb embeds, whatever python3 is on PATH.
GDB_PY_INCLUDE = $(shell $(GDB) -nx -batch -ex 'python import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
GDB_PY_SUFFIX  = $(shell $(GDB) -nx -batch -ex 'python import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)

.PHONY: all test unit integration demo bench clean deps demo-deps
all: $(B)/libprobeheap.a $(B)/bridge.stamp

$(B)/core/%.o: core/src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libprobeheap.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

BRIDGE_SRC := $(wildcard plugin/*.c)

$(B)/bridge.stamp: $(BRIDGE_SRC) plugin/bridge.h $(B)/libprobeheap.a $(CORE_HDR)
	@inc="$(GDB_PY_INCLUDE)"; sfx="$(GDB_PY_SUFFIX)"; \
	if [ -z "$$inc" ] || [ ! -f "$$inc/Python.h" ]; then \
	  echo "gdb's Python headers were not found (is gdb built with Python, and python3-dev for its version installed?)" >&2; exit 1; fi; \
	echo "$(CC) ... -I$$inc $(BRIDGE_SRC) -> $(B)/_probeheap$$sfx"; \
	$(CC) $(ALL_CFLAGS) -I"$$inc" -Iplugin -shared $(BRIDGE_SRC) $(B)/libprobeheap.a -o $(B)/_probeheap$$sfx
	@touch $@

$(B)/ph-dump-layout: core/src/cpython/layout_tables.c tests/tools/dump_layout.c core/src/cpython/layout.h core/src/cpython/layout_fields.h
	@mkdir -p $(B)
	$(CC) -std=c11 -Wall -Wextra -Werror -Icore/src core/src/cpython/layout_tables.c tests/tools/dump_layout.c -o $@

$(B)/ph-dump-debug-offsets: tests/tools/dump_debug_offsets.c $(B)/libprobeheap.a
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -o $@

$(B)/unit/%: tests/unit/%.c $(B)/libprobeheap.a tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -lcmocka -o $@

$(B)/unit-san/%: tests/unit/%.c $(CORE_SRC) $(CORE_HDR) tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) $< $(CORE_SRC) -lcmocka -o $@

unit: $(UNIT_BIN) $(UNIT_SAN)
	@set -e; for t in $(UNIT_BIN) $(UNIT_SAN); do echo "== $$t"; $$t; done

integration: all $(B)/ph-dump-layout $(B)/ph-dump-debug-offsets
	$(PYTEST) -q tests/integration

test: unit integration fuzz-regress

deps:
	@tools/install-deps

demo-deps:
	@tools/install-deps --demo

demo: demo-deps all
	@tools/demo

bench: all $(B)/ph-walk
	@tools/bench

# The walk alone, without gdb: for perf and callgrind (tools/ph-walk.c says how).
$(B)/ph-walk: tools/ph-walk.c $(B)/libprobeheap.a $(CORE_HDR)
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -o $@

clean:
	rm -rf $(B)

# ---- fuzzing (tests/fuzz) ----------------------------------------------------------
#   make fuzz           libFuzzer over a corrupted synthetic runtime, FUZZ_SECONDS long
#                       (FUZZ_FLAGS='-fork=2 -ignore_crashes=1' to use two cores, go on after crashes);
#                       new inputs go to build/fuzz-corpus (tests/fuzz/corpus is only
#                       read: merge worthwhile inputs into it by hand), crashes to
#                       build/fuzz-crashes
#   make fuzz-regress   every input of tests/fuzz/regressions and tests/fuzz/corpus
#                       through the same harness, without libFuzzer (part of make test)
#   make fuzz-pending   the same over tests/fuzz/pending (known crashes, not yet fixed)

FUZZ_CC      ?= clang
FUZZ_REGRESS_CC ?= gcc
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_SRC      = tests/fuzz/fuzz_walk.c
FUZZ_DEPS     = $(FUZZ_SRC) $(CORE_SRC) $(CORE_HDR) tests/unit/image.h
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -Icore/include -Icore/src -Itests/unit -g -O1 \
                -fno-omit-frame-pointer -Wno-unused-function

$(B)/fuzz_walk: $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $(FUZZ_SRC) $(CORE_SRC) -o $@

$(B)/fuzz_regress: tests/fuzz/regress.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_REGRESS_CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  tests/fuzz/regress.c $(FUZZ_SRC) $(CORE_SRC) -o $@

.PHONY: fuzz fuzz-regress fuzz-pending
fuzz: $(B)/fuzz_walk
	@mkdir -p $(B)/fuzz-crashes $(B)/fuzz-corpus
	$(B)/fuzz_walk -max_total_time=$(FUZZ_SECONDS) -timeout=2 -rss_limit_mb=2048 \
	  -max_len=1200 -len_control=10 -print_final_stats=1 \
	  -artifact_prefix=$(B)/fuzz-crashes/ $(FUZZ_FLAGS) $(B)/fuzz-corpus tests/fuzz/corpus

FUZZ_REGRESS_DIRS = tests/fuzz/regressions tests/fuzz/corpus
# In-process (fast); when that fails, again with a child per input, to name every failing input.
fuzz-regress: $(B)/fuzz_regress
	@$(B)/fuzz_regress $(FUZZ_REGRESS_DIRS) || { \
	  echo "fuzz-regress: failed; again with a process per input, to name the failing ones:" >&2; \
	  $(B)/fuzz_regress -fork $(FUZZ_REGRESS_DIRS); exit 1; }

fuzz-pending: $(B)/fuzz_regress
	-$(B)/fuzz_regress -fork tests/fuzz/pending
