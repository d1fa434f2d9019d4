# Makefile - build, install and check arbench.  See README.md.
#
#   make run      install missing Debian packages (root) or say which, build, run arbench here
#   make check    the same install step, build, run every test (tests/run.sh)
#   make install PREFIX=/opt/arbench
#   make fuzz     build the libFuzzer targets tests/fuzz/fuzz_*.c (clang, ASan+UBSan) and run each
#                 for FUZZ_SECONDS (600); FUZZ_TARGETS=NAME... runs some only (tests/fuzz/run.sh)
#
# Sources are found by wildcard: a new .c file in a directory joins its library, a new
# tests/unit/test_*.c becomes a unit-test binary, a new tests/mpi/*.c an MPI test program.

BUILD   ?= build
PREFIX  ?= /usr/local
MPICC   ?= mpicc
CC      ?= cc
OPT     ?= -O3 -g
WERROR  ?= -Werror
MPIRUN  ?= mpirun
# make run: one rank per core, at least 2 (so there is something to reduce)
RUN_NP  ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; echo $$n)

# chromium ... tidy: the report's browser and validation test (tests/sh/report_browser.sh)
DEBIAN_PKGS := build-essential pkg-config openmpi-bin libopenmpi-dev libibverbs-dev \
	libhwloc-dev hwloc libcyaml-dev libjansson-dev libcmocka-dev libgsl-dev gnuplot-nox iproute2 \
	iperf3 procps util-linux jq clang llvm \
	chromium chromium-driver python3 python3-selenium python3-html5lib tidy

PKG_LIBS   := jansson libcyaml hwloc
# '=' not ':=': evaluated when a recipe runs, i.e. after 'deps' installed the packages.
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
# One variable per library, so that each program names only what it uses (see "programs").
JANSSON_LIBS = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
CYAML_LIBS   = $(shell pkg-config --libs libcyaml 2>/dev/null || echo -lcyaml -lyaml)
HWLOC_LIBS   = $(shell pkg-config --libs hwloc 2>/dev/null || echo -lhwloc)
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
VERBS_LIBS   = -libverbs
GSL_LIBS     = $(shell pkg-config --libs gsl 2>/dev/null || echo -lgsl -lgslcblas)
ALL_LIBS     = $(JANSSON_LIBS) $(CYAML_LIBS) $(HWLOC_LIBS) $(GSL_LIBS) $(VERBS_LIBS)

# MPICH defines MPI_STATUSES_IGNORE as (MPI_Status *)1, which GCC 12 reports as an overflow
# of the array parameter of MPI_Testall/MPI_Waitall (a false positive): off for MPICH only.
MPI_WARN := $(if $(findstring mpich,$(shell $(MPICC) -show 2>/dev/null)),-Wno-stringop-overflow)
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter $(MPI_WARN) $(WERROR)
CPPFLAGS += -D_GNU_SOURCE -I. -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(WARN) -pthread
LDLIBS   += -lm -pthread
# A binary records only the shared libraries it calls into (some toolchains default to this,
# some do not): a test of the reduction kernels does not load libibverbs or MPI.
LDFLAGS  += -Wl,--as-needed

AR_SRC    := $(wildcard allreduce/*.c)
TOPO_SRC  := $(wildcard topo/*.c)
PLAN_SRC  := $(filter-out planner/arplan.c,$(wildcard planner/*.c))
BENCH_SRC := $(filter-out bench/arbench.c,$(wildcard bench/*.c))
LAB_SRC   := $(filter-out bench/lab/arlab.c,$(wildcard bench/lab/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
MPIT_SRC  := $(wildcard tests/mpi/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_AR    := $(BUILD)/lib/libar_allreduce.a
LIB_TOPO  := $(BUILD)/lib/libar_topo.a
LIB_PLAN  := $(BUILD)/lib/libar_planner.a
LIB_BENCH := $(BUILD)/lib/libar_bench.a
LIB_LAB   := $(BUILD)/lib/libar_lab.a

BINS := $(BUILD)/arbench $(BUILD)/arplan $(BUILD)/arlab
# the userspace libibverbs emulator for the verbs tests (tests/verbs-emulator/emu.c)
VERBS_EMU := $(BUILD)/tests/verbs-emulator/libibverbs.so.1
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
MPIT_BINS := $(patsubst tests/mpi/%.c,$(BUILD)/tests/mpi/%,$(MPIT_SRC))

.PHONY: all deps build run check test install uninstall clean format help fuzz fuzz-build
.DEFAULT_GOAL := all
# keep objects of test programs (otherwise make deletes them as intermediates and rebuilds)
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(MPIT_BINS) $(VERBS_EMU)

# the comment block at the top of this file, after its first line
help:
	@awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' $(firstword $(MAKEFILE_LIST))

# Install the Debian packages that are missing (as root), or print the one line that would.
deps:
	@missing=""; for p in $(DEBIAN_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 2; \
	else \
	  echo "missing Debian packages; run:  sudo apt-get install -y$$missing" >&2; exit 2; \
	fi

build: deps
	@$(MAKE) --no-print-directory all

run: build
	@$(MPIRUN) $$( [ "$$(id -u)" = 0 ] && echo --allow-run-as-root ) --oversubscribe -np $(RUN_NP) \
	  $(BUILD)/arbench -b 8 -e 64M -f 4 -A all -c 1

check test: build
	@BUILD=$(BUILD) MPIRUN=$(MPIRUN) bash tests/run.sh

# ---- compile -------------------------------------------------------------------------------
# MPI code (allreduce/, bench/ but not bench/lab/, tests/) goes through the MPI wrapper.
$(BUILD)/obj/allreduce/%.o $(BUILD)/obj/tests/%.o: COMPILER = $(MPICC)
# planner/ includes allreduce/allreduce.h (the layout code its schedules are built from), whose
# prototypes name MPI types: compiled through the wrapper, linked without MPI (arplan calls no
# MPI function; only allreduce/layout.o joins it).
$(BUILD)/obj/bench/%.o $(BUILD)/obj/planner/%.o: COMPILER = $(MPICC)
$(BUILD)/obj/bench/lab/%.o $(BUILD)/obj/topo/%.o: COMPILER = $(CC)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(COMPILER) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# ---- libraries -----------------------------------------------------------------------------
$(LIB_AR): $(call obj,$(AR_SRC))
$(LIB_TOPO): $(call obj,$(TOPO_SRC))
$(LIB_PLAN): $(call obj,$(PLAN_SRC))
$(LIB_BENCH): $(call obj,$(BENCH_SRC))
$(LIB_LAB): $(call obj,$(LAB_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

# ---- programs ------------------------------------------------------------------------------
# Each names the libraries its code calls: arbench the results JSON (jansson), hwloc discovery
# and the verbs transport (MPI through the wrapper); arplan topology and planner YAML (libcyaml),
# results JSON and the fit (GSL), no MPI; arlab topology YAML only.
# arbench overlap emulates the training step arplan models: it links the planner (libcyaml, GSL)
$(BUILD)/arbench: $(call obj,bench/arbench.c) $(LIB_BENCH) $(LIB_PLAN) $(LIB_AR) $(LIB_TOPO)
	$(MPICC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(JANSSON_LIBS) $(CYAML_LIBS) $(GSL_LIBS) $(HWLOC_LIBS) $(VERBS_LIBS) $(LDLIBS)

$(BUILD)/arplan: $(call obj,planner/arplan.c) $(LIB_PLAN) $(call obj,allreduce/layout.c) $(LIB_TOPO)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(JANSSON_LIBS) $(CYAML_LIBS) $(GSL_LIBS) $(LDLIBS)

$(BUILD)/arlab: $(call obj,bench/lab/arlab.c) $(LIB_LAB) $(LIB_TOPO)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CYAML_LIBS) $(LDLIBS)

# ---- tests ---------------------------------------------------------------------------------
# A test takes what it calls from any of our libraries (only the objects it needs are linked)
# and, through --as-needed, records only the shared libraries those objects call: test_reduce
# needs no libibverbs, MPI or YAML (check: readelf -d build/tests/unit/test_reduce).
TEST_LIBS := $(LIB_BENCH) $(LIB_PLAN) $(LIB_LAB) $(LIB_AR) $(LIB_TOPO)

$(BUILD)/tests/unit/%: $(call obj,tests/unit/%.c) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(MPICC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(ALL_LIBS) $(LDLIBS)

$(BUILD)/tests/mpi/%: $(call obj,tests/mpi/%.c) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(MPICC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(LDLIBS)

# Not linked against the real libibverbs: it replaces it (LD_LIBRARY_PATH), with the real
# library's symbol versions from the map.
$(VERBS_EMU): tests/verbs-emulator/emu.c tests/verbs-emulator/libibverbs.map
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -std=c11 $(OPT) $(WARN) -fPIC -shared -pthread \
	  -Wl,-soname,libibverbs.so.1 -Wl,--version-script=tests/verbs-emulator/libibverbs.map \
	  -o $@ tests/verbs-emulator/emu.c -lrt

# ---- fuzzing -------------------------------------------------------------------------------
# Each tests/fuzz/fuzz_NAME.c is a libFuzzer target: built with clang, ASan and UBSan (any UB
# aborts) against its own sanitized copies of topo/, planner/ and allreduce/layout.c (the
# planner's schedules use the library's layout code), into $(BUILD)/fuzz/bin/fuzz_NAME.
# tests/fuzz/run.sh runs each with its corpus in $(BUILD)/fuzz/corpus/NAME.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_MPI_CFLAGS = $(shell $(MPICC) --showme:compile 2>/dev/null)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/bin/%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(TOPO_SRC) $(PLAN_SRC) allreduce/layout.c
fobj = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(1))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -DARB_SRCDIR='"$(CURDIR)"' -std=c11 -O1 -g $(FUZZ_SAN) \
	  -fsanitize=fuzzer-no-link $(WARN) $(PKG_CFLAGS) $(FUZZ_MPI_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libfuzzed.a: $(call fobj,$(FUZZ_LIB_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/bin/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(BUILD)/fuzz/libfuzzed.a
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $(LDFLAGS) -o $@ $^ $(JANSSON_LIBS) $(CYAML_LIBS) \
	  $(HWLOC_LIBS) $(GSL_LIBS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)

# ---- install -------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/arbench
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	cp -r configs $(DESTDIR)$(PREFIX)/share/arbench/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(BINS)))
	rm -rf $(DESTDIR)$(PREFIX)/share/arbench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
