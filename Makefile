# tapstack - one non-recursive Makefile.
#
#   make               library, tools and tests (build/)
#   make check         every test: layers, unit (gcc, clang, ASan+UBSan),
#                      integration (root: run; else SKIP)
#   make unit          unit tests only
#   make clang         build everything with clang (build/clang/), run unit
#   make integration   integration tests only (private network namespaces)
#   make asan          unit tests under AddressSanitizer + UBSan (build/asan/)
#   make check-layers  fail if a file includes a higher layer (DESIGN.md §2)
#   make demo          install packages, build, run the demo in a namespace
#   make deps          install the Debian packages the build and tests need
#   make CC=clang      the same with clang

CC ?= cc
BUILD ?= build
OPT ?= -O2 -g
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I. -MMD -MP
CFLAGS_ALL = $(CFLAGS_BASE) $(OPT) $(SANITIZE) $(CFLAGS)
LDLIBS_ALL = -lpcap -pthread $(LDLIBS)

LAYERS := core eth arp ipv4 udp tcp socket_api
LIB_SRC := $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtapstack.a

TOOL_SRC := $(wildcard tools/*.c)
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/%)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
UNIT := $(BUILD)/unit_tests

ITEST_SRC := $(wildcard tests/integration/*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/%)

.PHONY: all check unit integration asan tsan clang check-layers demo deps clean bench
all: $(LIB) $(TOOLS) $(UNIT) $(ITEST_BIN)

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

$(BUILD)/%: $(BUILD)/tools/%.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

$(BUILD)/%: $(BUILD)/tests/integration/%.o $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

$(UNIT): $(UNIT_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $(UNIT_OBJ) $(LIB) -lcunit $(LDLIBS_ALL)

unit: $(UNIT)
	$(UNIT)

integration: $(TOOLS) $(ITEST_BIN)
	BUILD=$(BUILD) tests/integration/run.sh

check: all check-layers
	@echo "== unit tests (gcc)"
	$(UNIT)
	@echo "== unit tests (clang)"
	$(MAKE) --no-print-directory clang
	@echo "== unit tests (ASan + UBSan)"
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory tsan
	@echo "== integration tests"
	BUILD=$(BUILD) tests/integration/run.sh

clang:
	$(MAKE) --no-print-directory CC=clang BUILD=build/clang all
	build/clang/unit_tests

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g" \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build/asan/unit_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/unit_tests

# make tsan: the socket API suites (the multi-threaded ones: stack threads,
# application threads, ts_server) under ThreadSanitizer, built with clang
# in build/tsan/. Each suite runs on its own; any report fails the target.
tsan:
	@echo "== socket API suites (TSan)"
	$(MAKE) --no-print-directory CC=clang BUILD=build/tsan OPT="-O1 -g" \
	  SANITIZE="-fsanitize=thread -fno-omit-frame-pointer" \
	  build/tsan/unit_tests
	for s in socket_api socket_opts socket_io socket_udp socket_poll \
	         socket_threads socket_loop host; do \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	    build/tsan/unit_tests $$s || exit 1; \
	done

# Every demo app (tools/ts-*.c) twice: build/APP on tapstack (the tool rule
# above) and build/APP-kernel, the same source compiled with
# -DTS_BACKEND_KERNEL on the kernel's own sockets (socket_api/ts_kernel.h),
# with the public-API helpers built the same way and no libtapstack.
KAPPS := $(patsubst tools/%.c,$(BUILD)/%-kernel,$(wildcard tools/ts-*.c))
KHELPER_OBJ := $(patsubst %.c,$(BUILD)/kernel/%.o,\
	$(wildcard socket_api/ts_server.c socket_api/ts_app.c socket_api/ts_http.c))
KHELPER_LIB := $(BUILD)/kernel/libts-helpers.a
all: $(KAPPS)
integration: $(KAPPS)
$(BUILD)/kernel/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DTS_BACKEND_KERNEL -c $< -o $@
$(KHELPER_LIB): $(KHELPER_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/%-kernel: $(BUILD)/kernel/tools/%.o $(KHELPER_LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(KHELPER_LIB) $(LDLIBS)
-include $(KAPPS:$(BUILD)/%-kernel=$(BUILD)/kernel/tools/%.d) $(KHELPER_OBJ:.o=.d)

check-layers:
	@tools/check-layers.sh

deps:
	@tools/install-deps.sh

demo: deps all
	tools/demo.sh

bench: all
	BUILD=$(BUILD) tools/bench.sh
	BUILD=$(BUILD) tools/bench-http.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/%.d) $(ITEST_SRC:%.c=$(BUILD)/%.d)
