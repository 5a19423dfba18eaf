# tapstack - one non-recursive Makefile.
#
#   make               library, tools and tests (build/)
#   make check         every test: layers, unit (gcc, clang, ASan+UBSan),
#                      the fuzz targets (30 s each), integration (root:
#                      run; else SKIP)
#   make unit          unit tests only
#   make clang         build everything with clang (build/clang/), run unit
#   make integration   integration tests only (private network namespaces)
#   make asan          unit tests under AddressSanitizer + UBSan (build/asan/)
#   make asan-integration  the integration hostile battery and a short TCP
#                      suite against an ASan+UBSan tapstack (build/asan-int/;
#                      any sanitizer report fails)
#   make soak          a bounded soak of a running stack (SOAK_MIN=10 minutes)
#   make check-layers  fail if a file includes a higher layer (DESIGN.md §2)
#   make fuzz          every libFuzzer target of tests/fuzz/ for FUZZ_TIME
#                      seconds (30) under ASan + UBSan (build/fuzz/)
#   make install       programs, libraries, headers, pkg-config file and man
#                      pages under PREFIX (/usr/local), below DESTDIR if set
#   make uninstall     remove what make install puts there
#   make check-install install into a temporary DESTDIR, build a program on
#                      it with pkg-config (shared and static), uninstall
#   make bench         (root) one table of figures with ratios: tapstack, the
#                      kernel over veth, lwIP, the raw TAP floor (tools/bench.sh)
#   make bench-smoke   the same, 1 s per run, three rows: proves the script
#   make demo          install packages, build, run the demo in a namespace
#                      (ends with the HTML page of its capture, tapstack-draw)
#   make walkthrough   regenerate docs/walkthrough.md from a real run (root)
#   make deps          install the Debian packages the build and tests need
#   make CC=clang      the same with clang

CC ?= cc
BUILD ?= build
OPT ?= -O2 -g
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I. -MMD -MP
CFLAGS_ALL = $(CFLAGS_BASE) $(OPT) $(SANITIZE) $(CFLAGS)
LDLIBS_ALL = -lpcap -ljansson -pthread $(LDLIBS)

LAYERS := core eth arp ipv4 udp tcp socket_api
# The preload library's sources are not the stack's (see the preload block).
LIB_SRC := $(filter-out socket_api/ts_preload%.c,\
	$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtapstack.a

# libtapstack.so: the same sources built -fPIC into build/pic/, with
# -fvisibility=hidden so that only what the public headers mark TS_API
# (the ts_* API of tapstack.h and ts_server.h) is exported; every other
# function stays internal to the library. The version is tapstack's own
# (tools/tapstack.c); the soname's major number changes with the ABI.
VERSION := $(shell sed -n 's/^\#define TAPSTACK_VERSION "\(.*\)"$$/\1/p' tools/tapstack.c)
ifeq ($(VERSION),)
$(error cannot read '#define TAPSTACK_VERSION "X.Y.Z"' from tools/tapstack.c)
endif
SO_MAJOR := 0
SONAME := libtapstack.so.$(SO_MAJOR)
SO_REAL := $(BUILD)/libtapstack.so.$(VERSION)
SO_LINKS := $(BUILD)/$(SONAME) $(BUILD)/libtapstack.so
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)

# tools/lib/: what the programs share and a library user never needs (the
# HTTP server, the demo services, the demo apps' command line, the kernel
# backend). Linked into the tools, never into libtapstack.
TLIB_SRC := $(wildcard tools/lib/*.c)
TLIB_OBJ := $(TLIB_SRC:%.c=$(BUILD)/%.o)
TLIB := $(BUILD)/libts-tools.a

TOOL_SRC := $(wildcard tools/*.c)
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/%)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
UNIT := $(BUILD)/unit_tests

ITEST_SRC := $(wildcard tests/integration/*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/%)

.PHONY: all check unit integration asan tsan clang check-layers demo deps clean bench \
	bench-tools bench-smoke \
	install uninstall check-install
all: $(LIB) $(SO_REAL) $(SO_LINKS) $(TOOLS) $(UNIT) $(ITEST_BIN)

# Rebuild everything when the compiler or flags change (make CC=clang after a
# gcc build must not link stale objects).
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(CFLAGS_ALL) $(LDLIBS_ALL)
$(shell mkdir -p $(BUILD); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_STAMP))

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pic/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -c $< -o $@

$(SO_REAL): $(PIC_OBJ)
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
	  -o $@ $^ $(LDLIBS_ALL)

$(SO_LINKS): $(SO_REAL)
	ln -sf $(notdir $<) $@

$(TLIB): $(TLIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: $(BUILD)/tools/%.o $(TLIB) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(TLIB) $(LIB) $(LDLIBS_ALL)

$(BUILD)/%: $(BUILD)/tests/integration/%.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

# The unit tests link tools/lib/ too, for its pure parts (the HTTP
# server's request parser); only what they name is pulled in.
$(UNIT): $(UNIT_OBJ) $(TLIB) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $(UNIT_OBJ) $(TLIB) $(LIB) -lcunit $(LDLIBS_ALL)

unit: $(UNIT)
	$(UNIT)

integration: $(TOOLS) $(ITEST_BIN)
	BUILD=$(BUILD) tests/integration/run.sh

check: all check-layers
	@echo "== unit tests (gcc)"
	$(UNIT)
	@echo "== conformance scripts and the RFC 9293 MUST matrix"
	$(MAKE) --no-print-directory scripts check-must
	@echo "== fuzz targets (libFuzzer, ASan + UBSan, 30 s each)"
	$(MAKE) --no-print-directory fuzz
	@echo "== install and uninstall"
	$(MAKE) --no-print-directory check-install
	@echo "== unit tests (clang)"
	$(MAKE) --no-print-directory clang
	@echo "== unit tests (ASan + UBSan)"
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory tsan
	@echo "== integration under ASan + UBSan (hostile battery, short TCP suite)"
	$(MAKE) --no-print-directory asan-integration
	@echo "== integration tests"
	BUILD=$(BUILD) tests/integration/run.sh

clang:
	$(MAKE) --no-print-directory CC=clang BUILD=build/clang all
	build/clang/unit_tests

ASAN_SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g" SANITIZE="$(ASAN_SANITIZE)" \
	  build/asan/unit_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/unit_tests

# make asan-integration (issue 10): tapstack and inject built with make
# asan's flags (ASAN_SANITIZE) but by clang, into build/asan-int/: clang's
# runtime writes UBSan's reports to UBSAN_OPTIONS' log_path too (gcc's,
# combined with ASan, prints them on stderr only). Then
# tests/integration/asan.sh runs run.sh's main part (the hostile battery)
# and a short TCP suite against them with halt_on_error and log_path set
# for both sanitizers: a failed check or any report file fails the target.
# Under a minute once built; needs root (else SKIP).
ASAN_INT := build/asan-int
.PHONY: asan-integration soak
asan-integration:
	$(MAKE) --no-print-directory CC=clang BUILD=$(ASAN_INT) OPT="-O1 -g" \
	  SANITIZE="$(ASAN_SANITIZE)" $(ASAN_INT)/tapstack $(ASAN_INT)/inject
	BUILD=$(ASAN_INT) tests/integration/asan.sh

# make soak (issue 10; not in make check): tests/integration/soak.sh runs
# the stack for SOAK_MIN minutes (10) under TCP echo/discard/chargen, UDP
# echo, fragmented pings, 2% loss/dup/reorder and rounds of hostile frames,
# then checks every byte, no leak and flat memory, and prints a summary.
SOAK_MIN ?= 10
soak: $(BUILD)/tapstack $(BUILD)/inject
	BUILD=$(BUILD) SOAK_MIN=$(SOAK_MIN) tests/integration/soak.sh

# make tsan: the socket API suites (the multi-threaded ones: stack threads,
# application threads, ts_server) and the preload library's (its table,
# its control connection, a fake host thread) under ThreadSanitizer, built
# with clang in build/tsan/. Each suite runs on its own; any report fails
# the target.
tsan:
	@echo "== socket API suites (TSan)"
	$(MAKE) --no-print-directory CC=clang BUILD=build/tsan OPT="-O1 -g" \
	  SANITIZE="-fsanitize=thread -fno-omit-frame-pointer" \
	  build/tsan/unit_tests
	for s in socket_api socket_opts socket_io socket_udp socket_poll \
	         socket_threads socket_loop host host_review preload_fd preload; do \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	    build/tsan/unit_tests $$s || exit 1; \
	done

# Every demo app (tools/ts-*.c) twice: build/APP on tapstack (the tool rule
# above) and build/APP-kernel, the same source compiled on the kernel's own
# sockets: tools/lib/ts_kernel.h, included before anything else, stands in
# for socket_api/tapstack.h. ts_server.c and tools/lib/ are built the same
# way; no libtapstack.
KAPPS := $(patsubst tools/%.c,$(BUILD)/%-kernel,$(wildcard tools/ts-*.c))
KHELPER_OBJ := $(patsubst %.c,$(BUILD)/kernel/%.o,socket_api/ts_server.c $(TLIB_SRC))
KHELPER_LIB := $(BUILD)/kernel/libts-helpers.a
all: $(KAPPS)
integration: $(KAPPS)
$(BUILD)/kernel/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -include tools/lib/ts_kernel.h -c $< -o $@
$(KHELPER_LIB): $(KHELPER_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/%-kernel: $(BUILD)/kernel/tools/%.o $(KHELPER_LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(KHELPER_LIB) $(LDLIBS)
-include $(KAPPS:$(BUILD)/%-kernel=$(BUILD)/kernel/tools/%.d) $(KHELPER_OBJ:.o=.d)

# libtapstack-preload.so and tapstack-run (issue 7): unmodified programs on
# a running tapstack. The library is built from its own sources only (never
# libtapstack: it runs inside other people's programs) as -fPIC objects in
# $(BUILD)/pic/, with every symbol hidden but the C library functions it
# interposes. The unit tests link the parts that interpose nothing
# (PRELOAD_CORE) and run the .so and tapstack-run in child processes.
PRELOAD_SRC := $(wildcard socket_api/ts_preload*.c)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(BUILD)/pic/%.o)
PRELOAD_SO := $(BUILD)/libtapstack-preload.so
PRELOAD_CORE := $(patsubst %,$(BUILD)/socket_api/ts_preload_%.o,fd ctl real)
TSRUN := $(BUILD)/tapstack-run
all: $(PRELOAD_SO) $(TSRUN)
INSTALL_BIN += $(TSRUN) $(BUILD)/tapstack-ctl
INSTALL_LIB += $(PRELOAD_SO)
# ($(BUILD)/pic/%.o, -fPIC -fvisibility=hidden, is the rule libtapstack.so
# uses too.) -z defs catches a missing symbol at link time; a sanitizer's runtime is
# the executable's, so sanitized builds leave it undefined in the .so.
$(PRELOAD_SO): $(PRELOAD_OBJ)
	$(CC) $(CFLAGS_ALL) -shared $(if $(SANITIZE),,-Wl,-z,defs) \
	  -o $@ $^ -ldl -pthread $(LDLIBS)
$(TSRUN): $(BUILD)/tools/tapstack-run.o
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDLIBS)
UNIT_OBJ += $(PRELOAD_CORE)
$(UNIT): $(PRELOAD_CORE) $(PRELOAD_SO) $(TSRUN)
$(UNIT): LDLIBS_ALL += -ldl
-include $(PRELOAD_OBJ:.o=.d)

# tapstack-draw (issue 9, "Pictures"): tools/draw/ is its own library
# (capture reading on the stack's wire parsers, connections, the trace
# through jansson, the SVG emitter, the diagrams), linked into
# tapstack-draw and the unit tests (their draw suite), never into the
# other tools or libtapstack.
DRAW_SRC := $(wildcard tools/draw/*.c)
DRAW_OBJ := $(DRAW_SRC:%.c=$(BUILD)/%.o)
DRAW_LIB := $(BUILD)/libts-draw.a
$(DRAW_LIB): $(DRAW_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/tapstack-draw: $(BUILD)/tools/tapstack-draw.o $(DRAW_LIB) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(DRAW_LIB) $(LIB) -ljansson $(LDLIBS_ALL)
$(UNIT): $(DRAW_LIB)
$(UNIT): LDLIBS_ALL += $(DRAW_LIB) $(LIB) -ljansson -lpcap
INSTALL_BIN += $(BUILD)/tapstack-draw
-include $(DRAW_OBJ:.o=.d)

check-layers:
	@tools/check-layers.sh

check-install: all
	BUILD=$(BUILD) MAKE="$(MAKE)" tests/install/run.sh

deps:
	@tools/install-deps.sh

demo: deps all
	tools/demo.sh

# docs/walkthrough.md and docs/walkthrough-ladder.svg, rewritten from a
# real run (one curl to tapstack's HTTP server, in a namespace; root).
.PHONY: walkthrough
walkthrough: all
	BUILD=$(BUILD) tools/walkthrough.sh

# make bench (issue 8): one run, one table with ratios (tools/bench.sh).
# The lwIP harness needs Debian's liblwip-dev and is built here only, never
# by `make all` (CI does not need lwIP); without it the lwIP rows SKIP.
LWIP_BENCH := $(BUILD)/lwip-bench
LWIP_INC := /usr/include/lwip
$(LWIP_BENCH): tools/bench/lwip-bench.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -isystem $(LWIP_INC) -o $@ $< -llwip -pthread

bench-tools: all
	@if [ -f $(LWIP_INC)/lwip/tcp.h ]; then $(MAKE) --no-print-directory $(LWIP_BENCH); \
	else echo "bench: liblwip-dev is not installed: the lwIP rows will SKIP"; fi

bench: bench-tools
	BUILD=$(BUILD) tools/bench.sh

# A quick proof that the script works (not a measurement, not in CI).
bench-smoke: bench-tools
	BUILD=$(BUILD) BENCH_TIME=1 BENCH_ONLY=ping,rr64,cps tools/bench.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(TLIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) \
	$(TOOL_SRC:%.c=$(BUILD)/%.d) $(ITEST_SRC:%.c=$(BUILD)/%.d)

# ---- make fuzz (issue 10) --------------------------------------------------
# libFuzzer targets of tests/fuzz/ (fuzz_*.c), built with clang,
# -fsanitize=fuzzer,address,undefined, into build/fuzz/: the stack's sources
# again with -DTS_FUZZ_NO_CKSUM (core/cksum.h: received checksums are not
# verified, so mutations get past the first check; no other build has it).
# make fuzz runs every target for FUZZ_TIME seconds (30) from its corpus,
# tests/fuzz/corpus/TARGET/ (committed seeds and regression inputs, all
# replayed first) plus build/fuzz/corpus/TARGET/ (what the runs found);
# a crash, leak, time-out or out-of-memory is written to build/fuzz/ and
# fails the target (tests/fuzz/run.sh prints one line per target and
# "fuzz: N passed, N failed"). make fuzz FUZZ_TIME=600 for a campaign, or
# FUZZ_RUNS=10000000 for that many executions per target; make fuzz
# FUZZ_TARGETS="frame session" for some targets only.
FUZZ_DIR := build/fuzz
FUZZ_TIME ?= 30
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := $(CFLAGS_BASE) -O1 -g -DTS_FUZZ_NO_CKSUM $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_TLIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(wildcard tools/lib/ts_http_parse.c))
FUZZ_COMMON_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(filter-out \
	tests/fuzz/fuzz_%.c tests/fuzz/pcap2corpus.c,$(wildcard tests/fuzz/*.c)))
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
.PHONY: fuzz fuzz-build
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
# The harness's own helpers (tests/fuzz/fz*.c: the wire, the clock, the
# invariant walks) are not instrumented for coverage: their loops are not
# the stack's code and would only slow every run and blur the coverage.
$(FUZZ_COMMON_OBJ): $(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_COMMON_OBJ) \
		$(FUZZ_TLIB_OBJ) $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpcap -ljansson -pthread
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	FUZZ_DIR=$(FUZZ_DIR) FUZZ_TIME=$(FUZZ_TIME) FUZZ_RUNS=$(FUZZ_RUNS) \
	  tests/fuzz/run.sh $(FUZZ_TARGETS)
# make fuzz-cov: what the corpora reach, measured by llvm-cov. The targets
# again with clang's source-based coverage (no sanitizers) in
# build/fuzz/cov/; tests/fuzz/cov.sh runs each once over its corpora
# (tests/fuzz/corpus/ and build/fuzz/corpus/, so after a campaign it shows
# the campaign's reach) and prints line, function and region coverage of
# the stack's sources per target and for all targets together (the
# per-file table goes to build/fuzz/cov/report.txt).
FUZZ_COV_DIR := $(FUZZ_DIR)/cov
FUZZ_COV_CFLAGS := $(CFLAGS_BASE) -O1 -g -DTS_FUZZ_NO_CKSUM \
	-fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_BINS := $(patsubst %,$(FUZZ_COV_DIR)/fuzz_%,$(FUZZ_TARGETS))
.PHONY: fuzz-cov
$(FUZZ_COV_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_COV_DIR)/fuzz_%: $(FUZZ_COV_DIR)/obj/tests/fuzz/fuzz_%.o \
		$(patsubst $(FUZZ_DIR)/obj/%,$(FUZZ_COV_DIR)/obj/%,$(FUZZ_COMMON_OBJ) \
		$(FUZZ_TLIB_OBJ) $(FUZZ_LIB_OBJ))
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpcap -ljansson -pthread
$(FUZZ_COV_DIR)/fuzz_draw: \
	$(patsubst $(FUZZ_DIR)/obj/%,$(FUZZ_COV_DIR)/obj/%,$(FUZZ_DRAW_OBJ))
fuzz-cov: $(FUZZ_COV_BINS)
	FUZZ_DIR=$(FUZZ_DIR) tests/fuzz/cov.sh $(FUZZ_TARGETS)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_COMMON_OBJ:.o=.d) \
	$(FUZZ_BINS:$(FUZZ_DIR)/%=$(FUZZ_DIR)/obj/tests/fuzz/%.d)
# fuzz_draw (issue 9) also links tapstack-draw's capture side (tools/draw/
# without the trace reader and the page, which need jansson).
FUZZ_DRAW_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(filter-out \
	tools/draw/dtrace.c tools/draw/dhtml.c,$(wildcard tools/draw/*.c)))
$(FUZZ_DIR)/fuzz_draw: $(FUZZ_DRAW_OBJ)
-include $(FUZZ_DRAW_OBJ:.o=.d)

# ---- make install, make uninstall -----------------------------------------
# make install PREFIX=/usr/local [DESTDIR=/tmp/stage] puts
#   $(PREFIX)/bin/               the programs of INSTALL_BIN
#   $(PREFIX)/lib/               libtapstack.so.$(VERSION) with the links
#                                libtapstack.so.$(SO_MAJOR) and libtapstack.so,
#                                libtapstack.a, and the libraries of INSTALL_LIB
#   $(PREFIX)/include/tapstack/  the public headers (tapstack.h, ts_server.h)
#   $(PREFIX)/lib/pkgconfig/     tapstack.pc, made for this PREFIX
#   $(PREFIX)/share/man/man1,3,8 the man pages of docs/man/: tapstack.3, and
#                                NAME.1 or NAME.8 for each installed program
# make uninstall with the same PREFIX and DESTDIR removes exactly those.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# The lists to extend (with +=, anywhere in this Makefile) when a part
# builds something to install. The shared host and preload work adds:
#     INSTALL_BIN += $(BUILD)/tapstack-run
#     INSTALL_LIB += $(BUILD)/libtapstack-preload.so
# A program's man page, docs/man/NAME.1 or docs/man/NAME.8, installs with it.
INSTALL_BIN += $(BUILD)/tapstack
INSTALL_HEADERS := socket_api/tapstack.h socket_api/ts_server.h
INSTALL_MAN = docs/man/tapstack.3 \
	$(wildcard $(patsubst $(BUILD)/%,docs/man/%.[18],$(INSTALL_BIN)))

# Refresh the loader's cache after a real install as root (the libraries go
# to a directory it searches, such as /usr/local/lib); never for a DESTDIR.
LDCONFIG = @if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	  command -v ldconfig >/dev/null; then ldconfig; fi

define TAPSTACK_PC
prefix=$(PREFIX)
libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

Name: tapstack
Description: userspace TCP/IP stack on a Linux TAP device, BSD-like socket API
Version: $(VERSION)
Cflags: -I$${includedir}
Libs: -L$${libdir} -ltapstack
Libs.private: -lpcap -ljansson -pthread
endef
export TAPSTACK_PC

# Second expansion: the prerequisites see INSTALL_BIN and INSTALL_LIB as the
# whole Makefile leaves them, also when they are extended further down.
.SECONDEXPANSION:
install: $$(INSTALL_BIN) $$(INSTALL_LIB) $(SO_REAL) $(LIB)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(INCLUDEDIR)/tapstack $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(SO_REAL) $(INSTALL_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SO_REAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libtapstack.so
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/tapstack/
	printf '%s\n' "$$TAPSTACK_PC" > $(DESTDIR)$(PKGCONFIGDIR)/tapstack.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/tapstack.pc
	for m in $(INSTALL_MAN); do \
	  d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
	  install -d $$d && install -m 0644 $$m $$d/ || exit 1; \
	done
	$(LDCONFIG)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BIN)))
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,$(notdir $(SO_REAL) $(INSTALL_LIB) \
	  $(LIB)) $(SONAME) libtapstack.so)
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/tapstack/,$(notdir $(INSTALL_HEADERS)))
	rmdir $(DESTDIR)$(INCLUDEDIR)/tapstack 2>/dev/null || true
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/tapstack.pc
	for m in $(INSTALL_MAN); do \
	  rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done
	$(LDCONFIG)

# ---- make scripts (issue 10) -----------------------------------------------
# The packetdrill-like conformance scripts of tests/scripts/*.pkt, played by
# build/ts-script (tests/scripts/tsr_*.c) against one stack on a memdev pair
# with a virtual clock; prints "N passed, N failed" and fails when any
# failed. tests/scripts/fail/*.pkt are broken on purpose: each must fail,
# or the runner has stopped checking something. make check-must checks that every test and script the RFC 9293
# MUST matrix (docs/rfc9293-must.md) names exists.
TSR_SRC := $(wildcard tests/scripts/tsr_*.c)
TSR_OBJ := $(TSR_SRC:%.c=$(BUILD)/%.o)
TSR := $(BUILD)/ts-script
SCRIPTS := $(sort $(wildcard tests/scripts/*.pkt))
.PHONY: scripts check-must
all: $(TSR)
$(TSR): $(TSR_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $(TSR_OBJ) $(LIB) $(LDLIBS_ALL)
SCRIPTS_FAIL := $(sort $(wildcard tests/scripts/fail/*.pkt))
scripts: $(TSR)
	@echo "ts-script: $(words $(SCRIPTS)) scripts of tests/scripts/"
	@$(TSR) $(SCRIPTS)
	@for f in $(SCRIPTS_FAIL); do \
	  if $(TSR) $$f >/dev/null 2>&1; then \
	    echo "ts-script passed $$f, which must fail"; exit 1; fi; \
	done; echo "ts-script self-check: $(words $(SCRIPTS_FAIL)) broken scripts all fail"
check-must:
	@tests/scripts/check-must.sh
-include $(TSR_OBJ:.o=.d)
