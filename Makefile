# hflow -- GNU Makefile.  `make` builds the libraries and the CLI;
# `make demo`, `make check`, `make bench`, `make fuzz`, `make install`.
VERSION  := 0.1.0
SOVER    := 0
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
SAN      ?=

HF_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
             -fPIC -fvisibility=hidden -Iinclude -Isrc
# gcc only: messages are cut to their buffers on purpose (snprintf), and
# gcc's guess at that changes with the optimisation level.
ifeq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
  HF_CFLAGS += -Wno-format-truncation
endif
ifneq ($(SAN),)
  HF_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
  LDSAN := -fsanitize=address,undefined
endif
LIBS     := -lssl -lcrypto -lz -lbrotlidec -lzstd -lpsl
# Encoders that only the unit tests use (to make inputs for the decoders).
TEST_LIBS := -lbrotlienc

LIB_SRC  := $(sort $(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
CLI_OBJ  := $(CLI_SRC:cli/%.c=$(BUILD)/cli/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all deps check check-fast demo bench fuzz install clean unit
all: $(BUILD)/libhflow.a $(BUILD)/libhflow.so $(BUILD)/hflow $(UNIT_BIN) $(TOOL_BIN)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: src/%.c include/hflow.h $(wildcard src/*.h) | $(BUILD)/obj
	$(CC) $(CFLAGS) $(HF_CFLAGS) -c -o $@ $<
$(BUILD)/cli/%.o: cli/%.c include/hflow.h $(wildcard cli/*.h) | $(BUILD)/cli
	$(CC) $(CFLAGS) $(HF_CFLAGS) -c -o $@ $<

# The archive holds one relocatable object whose hidden (internal) symbols
# are made local, so a program linking libhflow.a sees only hf_ names.
$(BUILD)/libhflow.a: $(LIB_OBJ)
	$(LD) -r -o $(BUILD)/obj/libhflow-all.o $^
	objcopy --localize-hidden $(BUILD)/obj/libhflow-all.o
	rm -f $@ && ar rcs $@ $(BUILD)/obj/libhflow-all.o
# Only hf_ symbols are exported: everything else is hidden by
# -fvisibility=hidden, and the public API is marked HF_EXTERN.
$(BUILD)/libhflow.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libhflow.so.$(SOVER) $(LDSAN) -o $@ $^ $(LIBS)
$(BUILD)/hflow: $(CLI_OBJ) $(BUILD)/libhflow.a
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(BUILD)/libhflow.a $(LIBS)
# Unit tests reach internal functions, so they link the objects.
$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(LIB_OBJ) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(HF_CFLAGS) $(LDSAN) -o $@ $< $(LIB_OBJ) $(LIBS) $(TEST_LIBS)
# test_cli_config includes cli/config.c (a pure CLI module) itself.
$(BUILD)/tests/test_cli_config: cli/config.c cli/config.h

# Test tools (drivers of internal modules for the integration suite and
# the benchmarks) link the objects too.
$(BUILD)/tools/%: tests/tools/%.c $(LIB_OBJ) | $(BUILD)/tools
	$(CC) $(CFLAGS) $(HF_CFLAGS) $(LDSAN) -o $@ $< $(LIB_OBJ) $(LIBS)

# failmalloc (tests/tools/failmalloc.c) stands between the library's
# objects and the allocator: --wrap sends their calls to malloc & co. to
# its __wrap_ functions, which count them and fail the Nth.
FM_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free \
           -Wl,--wrap=strdup,--wrap=strndup
$(BUILD)/tools/failmalloc: tests/tools/failmalloc.c $(LIB_OBJ) | $(BUILD)/tools
	$(CC) $(CFLAGS) $(HF_CFLAGS) $(LDSAN) $(FM_WRAP) -o $@ $< $(LIB_OBJ) $(LIBS)

$(BUILD)/obj $(BUILD)/cli $(BUILD)/tests $(BUILD)/tools:
	mkdir -p $@

unit: $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

fuzz: deps
	@sh tests/fuzz/run.sh 60

install: $(BUILD)/libhflow.a $(BUILD)/libhflow.so $(BUILD)/hflow
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/hflow $(DESTDIR)$(PREFIX)/bin/hflow
	install -m 644 include/hflow.h $(DESTDIR)$(PREFIX)/include/hflow.h
	install -m 644 $(BUILD)/libhflow.a $(DESTDIR)$(PREFIX)/lib/libhflow.a
	install -m 755 $(BUILD)/libhflow.so $(DESTDIR)$(PREFIX)/lib/libhflow.so.$(VERSION)
	ln -sf libhflow.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libhflow.so.$(SOVER)
	ln -sf libhflow.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libhflow.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' hflow.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hflow.pc
	install -m 644 docs/hflow.1 $(DESTDIR)$(PREFIX)/share/man/man1/hflow.1

clean:
	rm -rf build
