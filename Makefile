# probe-heap: build, test, demo, bench.
#
#   make            the core library and the gdb bridge
#   make test       unit tests (plain and under ASan/UBSan) and integration tests
#   make demo       installs what is missing, builds, analyses a demo workload's core
#                   (demo-out/demo.core; DEMO_OUT=DIR elsewhere)
#   make example-cores  the named cores the docs' examples use, in demo-out/NAME.core
#   make bench      the benchmark table (docs/performance.md); BIG=1: the 100M-object core
#   make layouts    core/src/cpython/layout{.h,_fields.h,_tables.c} from tools/layout_spec.py
#   make install    PREFIX=/usr/local DESTDIR= : bin, the plugin, man page, completion, docs
#   make version    the version (the VERSION file)
#   make deb        a Debian package of the committed tree, in build/deb

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

.PHONY: all test unit integration demo example-cores bench clean deps demo-deps install version layouts
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

# The layout files, made from the one spec (tools/layout_spec.py) and the DWARF of the
# CPython builds it names; test_layout_dwarf checks that they are current.
layouts:
	python3 tools/gen_layout.py

$(B)/ph-dump-debug-offsets: tests/tools/dump_debug_offsets.c $(B)/libprobeheap.a
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -o $@

$(B)/unit/%: tests/unit/%.c $(B)/libprobeheap.a tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -lcmocka -o $@

# The sanitized unit tests link one sanitized build of the core, compiled once.
CORE_SAN_OBJ := $(CORE_SRC:core/src/%.c=$(B)/core-san/%.o)

$(B)/core-san/%.o: core/src/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@

$(B)/libprobeheap-san.a: $(CORE_SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/unit-san/%: tests/unit/%.c $(B)/libprobeheap-san.a tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) $< $(B)/libprobeheap-san.a -lcmocka -o $@

# Every unit binary runs, failing or not; the target fails if one did.
unit: $(UNIT_BIN) $(UNIT_SAN)
	@rc=0; for t in $(UNIT_BIN) $(UNIT_SAN); do echo "== $$t"; $$t || rc=1; done; exit $$rc

# pytest-xdist (Debian's python3-pytest-xdist) runs the test files in parallel, a
# file per worker (--dist loadfile): a file's module fixtures and harness.Runs
# caches then serve all of its tests once.  PYTEST_JOBS=0 runs them serially.
PYTEST_JOBS ?= auto
PYTEST_PARALLEL = $(shell [ "$(PYTEST_JOBS)" != 0 ] && $(PYTEST) --version >/dev/null 2>&1 && \
                    /usr/bin/python3 -c 'import xdist' 2>/dev/null && echo "-n $(PYTEST_JOBS) --dist loadfile")

integration: all $(B)/ph-dump-layout $(B)/ph-dump-debug-offsets
	$(PYTEST) -q $(PYTEST_PARALLEL) tests/integration

# Each part runs whatever the others did; the last line sums them all
# (tools/test-summary), and the status is non-zero when anything failed.
# The test binaries are built first on every core (most of the unit part's time is
# building the sanitized ones), unless make already runs with -j.
TEST_LOGS = $(B)/test-logs
TEST_BUILD_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))
.PHONY: test-binaries
test-binaries: $(UNIT_BIN) $(UNIT_SAN) $(B)/fuzz_regress
test: all $(B)/ph-dump-layout $(B)/ph-dump-debug-offsets
	@mkdir -p $(TEST_LOGS)
	@$(MAKE) --no-print-directory $(TEST_BUILD_JOBS) test-binaries || true
	@{ $(MAKE) --no-print-directory unit 2>&1; echo $$? > $(TEST_LOGS)/unit.rc; } | tee $(TEST_LOGS)/unit.log
	@{ $(MAKE) --no-print-directory integration 2>&1; echo $$? > $(TEST_LOGS)/integration.rc; } \
	  | tee $(TEST_LOGS)/integration.log
	@{ $(MAKE) --no-print-directory fuzz-regress 2>&1; echo $$? > $(TEST_LOGS)/fuzz.rc; } | tee $(TEST_LOGS)/fuzz.log
	@tools/test-summary $(TEST_LOGS)

deps:
	@tools/install-deps

demo-deps:
	@tools/install-deps --demo

# DEMO_OUT=DIR: where the demo's core (demo.core) and report go (default demo-out)
demo: demo-deps all
	@tools/demo

# The named cores the docs' examples use (demo-out/NAME.core, DEMO_OUT=DIR
# elsewhere): tools/example_cores.py says how each is made.
example-cores: all
	@tools/example-cores

bench: all $(B)/ph-walk
	@BIG=$(BIG) tools/bench

# The walk alone, without gdb: for perf and callgrind (tools/ph-walk.c says how).
$(B)/ph-walk: tools/ph-walk.c $(B)/libprobeheap.a $(CORE_HDR)
	$(CC) $(ALL_CFLAGS) $< $(B)/libprobeheap.a -o $@

clean:
	rm -rf $(B)

# ---- install ---------------------------------------------------------------------------
# The plugin keeps the checkout's layout under $(PKGLIBDIR) (bin/, gdbinit, VERSION,
# plugin/probeheap, build/_probeheap*.so), so bin/probe-heap and gdbinit find their
# home the same way in both; $(BINDIR)/probe-heap is a relative symlink to its script
# (bin/probe-heap resolves links).  gdb reads every *.gdb in its system gdbinit
# directory (gdb --configuration: --with-system-gdbinit-dir; /etc/gdb/gdbinit.d on
# Debian): the snippet there sources the installed gdbinit, so gdb has probe-heap
# with no -x.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
PKGLIBDIR  ?= $(PREFIX)/lib/probe-heap
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/probe-heap
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
GDBINITDIR ?= /etc/gdb/gdbinit.d
INSTALL    ?= install

version:
	@cat VERSION

# A Debian package, built by Debian's tools (debian/) from the tracked files as
# they are (tools/build-deb; tools/build-deb ROOT builds it inside another root
# file system, as test_package.py does in Debian trixie); the .deb lands in
# $(B)/deb.  Needs debhelper.
.PHONY: deb
deb:
	@tools/build-deb

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR)/bin $(DESTDIR)$(PKGLIBDIR)/build \
	  $(DESTDIR)$(PKGLIBDIR)/plugin/probeheap $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(GDBINITDIR)
	$(INSTALL) -m 755 bin/probe-heap $(DESTDIR)$(PKGLIBDIR)/bin/probe-heap
	$(INSTALL) -m 644 gdbinit VERSION $(DESTDIR)$(PKGLIBDIR)/
	$(INSTALL) -m 644 plugin/probeheap/*.py $(DESTDIR)$(PKGLIBDIR)/plugin/probeheap/
	cd plugin/probeheap && find report -type d -exec $(INSTALL) -d '$(DESTDIR)$(PKGLIBDIR)/plugin/probeheap/{}' ';' \
	  && find report -type f -exec $(INSTALL) -m 644 '{}' '$(DESTDIR)$(PKGLIBDIR)/plugin/probeheap/{}' ';'
	$(INSTALL) -m 644 $(B)/_probeheap*.so $(DESTDIR)$(PKGLIBDIR)/build/
	ln -sf $$(realpath -m --relative-to=$(BINDIR) $(PKGLIBDIR)/bin/probe-heap) $(DESTDIR)$(BINDIR)/probe-heap
	$(INSTALL) -m 644 docs/probe-heap.1 $(DESTDIR)$(MANDIR)/man1/probe-heap.1
	$(INSTALL) -m 644 tools/probe-heap.bash-completion $(DESTDIR)$(BASHCOMPDIR)/probe-heap
	$(INSTALL) -m 644 README.md CHANGELOG.md LICENSE docs/*.md $(DESTDIR)$(DOCDIR)/
	printf '# probe-heap: the probe-heap commands in every gdb (installed by make install)\nsource %s/gdbinit\n' \
	  '$(PKGLIBDIR)' > $(DESTDIR)$(GDBINITDIR)/probe-heap.gdb
	chmod 644 $(DESTDIR)$(GDBINITDIR)/probe-heap.gdb

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
FUZZ_DEPS     = $(FUZZ_SRC) $(CORE_SRC) $(CORE_HDR) tests/unit/image.h tests/unit/world.h \
                tests/unit/versions.h tests/unit/releases.h tests/unit/ft_world.h
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
