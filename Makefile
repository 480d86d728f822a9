# exalsiusfs: the exalsius workspace API mounted as files.
#
#   make            build build/exalsiusfs
#   make demo       mount a demo against the bundled emulator (installs deps)
#   make check      unit, contract and integration tests
#   make asan       the same suites under AddressSanitizer + UBSan
#   make valgrind   unit tests and the integration suite under valgrind
#   make tsan       unit tests and the concurrency suites under ThreadSanitizer
#   make stress     parallel load with random faults on the sanitizer build
#   make fuzz       libFuzzer on the JSON model, spec checks and names
#   make analyze    cppcheck over src/
#   make format-check  clang-format --dry-run --Werror over FORMAT_FILES
#   make layers     fail on a circle of calls among the filesystem's modules
#   make soak       10 minutes of 20-second tokens renewed under load (not in CI)
#   make bench      the benchmark (BENCH_ARGS=--large for N = 100,000)
#   make install    binary, man page and systemd user unit (PREFIX, DESTDIR)
#
# Project flags live in EXFS_*; CFLAGS/LDFLAGS stay the user's.

VERSION   := 0.1.0
BUILD     ?= build
SAN       ?=
CC        ?= cc
PKGS      := fuse3 libcurl jansson libsecret-1 yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

EXFS_WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Werror
EXFS_CFLAGS := $(EXFS_WARN) -D_GNU_SOURCE -DEXFS_VERSION='"$(VERSION)"' \
	-pthread -MMD -MP $(PKG_CFLAGS) -Isrc
EXFS_LDFLAGS := -pthread
ifneq ($(SAN),)
EXFS_CFLAGS += -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all
EXFS_LDFLAGS += -fsanitize=$(SAN)
else
EXFS_CFLAGS += -O2 -g
endif

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libexalsiusfs.a
BIN      := $(BUILD)/exalsiusfs

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-all check-unit check-contract check-integration asan ubsan \
	tsan stress fuzz soak bench valgrind demo deps analyze format format-check layers clean install uninstall

all: $(BIN)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(EXFS_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(EXFS_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(EXFS_CFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(EXFS_LDFLAGS) $(LDFLAGS) \
		$(PKG_LIBS) $(shell pkg-config --libs cmocka)

deps:
	./scripts/install-deps.sh

# check installs what is missing first, then builds in a fresh make so
# that pkg-config sees the installed libraries.
check: deps
	@$(MAKE) --no-print-directory check-all

check-all: $(BIN) $(UNIT_BINS)
	@$(MAKE) --no-print-directory check-unit check-contract check-integration

check-unit: $(UNIT_BINS)
	@./tests/run-unit.sh $(UNIT_BINS)

check-contract:
	@python3 tests/contract/test_emulator_contract.py

check-integration: $(BIN)
	@EXFS_BIN=$(abspath $(BIN)) ./tests/integration/run.sh

asan ubsan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=address,undefined \
		check-unit check-integration

# bounded load with random faults on the sanitizer build (STRESS_SECONDS)
stress:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=address,undefined build/asan/exalsiusfs
	@EXFS_BIN=$(abspath build/asan/exalsiusfs) ./tests/stress/stress.sh

# tokens that expire every 20 s for SOAK_SECONDS (default 600) under load
soak: $(BIN)
	@EXFS_BIN=$(abspath $(BIN)) ./tests/soak/soak.sh

# libFuzzer on the pure modules, FUZZ_SECONDS per target (default 30)
fuzz:
	@./tests/fuzz/run.sh

# the benchmark: ratios measured side by side (bench/bench.sh --large for N=100,000)
bench: $(BIN) $(BUILD)/baseline_fs
	@EXFS_BIN=$(abspath $(BIN)) ./bench/bench.sh $(BENCH_ARGS)

$(BUILD)/baseline_fs: bench/baseline_fs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror $(CFLAGS) -o $@ $< $(shell pkg-config --cflags --libs fuse3)

# the suites that exercise concurrency, on a ThreadSanitizer build of the
# daemon (lib.sh fails a suite whose daemon log holds a report)
TSAN_SUITES := t_core.sh t_wait.sh t_control.sh t_faults.sh t_cache.sh t_logs.sh
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN=thread check-unit build/tsan/exalsiusfs
	@SUITES="$(TSAN_SUITES)" EXFS_BIN=$(abspath build/tsan/exalsiusfs) \
		./tests/integration/run.sh

valgrind: $(BIN) $(UNIT_BINS)
	@VALGRIND=1 ./tests/run-unit.sh $(UNIT_BINS)
	@# the bad-input table (cache_ttl=0, 300-workspace cases) takes far over
	@# 20 minutes under valgrind; it runs plain in check and under ASan in asan
	@EXFS_VALGRIND=1 EXFS_BIN=$(abspath $(BIN)) \
		SUITES="$$(cd tests/integration && ls t_*.sh | grep -v '^t_badinput.sh$$')" \
		./tests/integration/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh $(abspath $(BIN))

analyze:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr -Isrc src

# The files clang-format (with .clang-format) leaves exactly as they are;
# format-check keeps them so. Add a file once
# `clang-format --dry-run --Werror FILE` passes (new files: from the start).
FORMAT_FILES := src/htab.c src/rfc3339.c src/utf8.c src/vfs_list.c src/vfs_render.c \
	src/api.h src/cred.h src/model_int.h src/rfc3339.h src/utf8.h \
	src/opts.c src/opts.h tests/unit/test_opts.c src/secret.c src/secret.h \
	tests/unit/test_secret.c tests/unit/quiet.h \
	src/fs.c src/fs.h src/inode.c src/inode.h src/vfs_wait.c src/vfs_state.c \
	tests/unit/test_inode.c src/logbuf.c src/logbuf.h src/logs.c src/logs.h \
	tests/unit/test_logbuf.c

# no circle of calls among the filesystem's modules (scripts/callgraph.sh)
LAYERS := fs|inode|vfs|vfs_.*|cache|snap|path|htab|logs|logbuf
layers: $(BIN)
	@./scripts/callgraph.sh $(BUILD) '$(LAYERS)' >/dev/null || \
		./scripts/callgraph.sh $(BUILD) '$(LAYERS)'

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# make format FILES="src/a.c src/b.h": restyle those (default FORMAT_FILES)
format:
	clang-format -i $(or $(FILES),$(FORMAT_FILES))

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/user

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/exalsiusfs
	install -m 0644 docs/exalsiusfs.1 $(DESTDIR)$(MANDIR)/man1/exalsiusfs.1
	sed 's|@BINDIR@|$(BINDIR)|g' scripts/exalsiusfs.service > $(DESTDIR)$(UNITDIR)/exalsiusfs.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/exalsiusfs.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/exalsiusfs $(DESTDIR)$(MANDIR)/man1/exalsiusfs.1 \
		$(DESTDIR)$(UNITDIR)/exalsiusfs.service

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/main.d
