# venice-lua: the Lua SDK for the Venice AI API.
#   make            build venice/core.so for Lua 5.4 (LUA_VERSION=5.1|5.2|5.3|5.4|jit)
#   make demo       install what is missing, build, start the local server, stream a chat
#   make test       install what is missing, build, run every test suite
#   make check      luacheck, the strict build and busted on Lua 5.4: the day-to-day check
# Every variable below can be overridden on the command line.

LUA_VERSION ?= 5.4
ifeq ($(filter $(LUA_VERSION),5.1 5.2 5.3 5.4 jit),)
$(error LUA_VERSION must be one of 5.1 5.2 5.3 5.4 jit (got "$(LUA_VERSION)"))
endif
ifeq ($(LUA_VERSION),jit)
LUA_PC      ?= luajit
LUA         ?= luajit
LUA_ABI     ?= 5.1
else
LUA_PC      ?= lua$(LUA_VERSION)
LUA         ?= lua$(LUA_VERSION)
LUA_ABI     ?= $(LUA_VERSION)
endif

PKG_CONFIG  ?= pkg-config
LUA_INCDIR  ?= $(patsubst -I%,%,$(firstword $(shell $(PKG_CONFIG) --cflags-only-I $(LUA_PC) 2>/dev/null)))
CURL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
# libcurl is opened on first use (src/curlapi.c), not linked: only its headers are needed here
LIBS        ?= -ldl
CC          ?= cc
CFLAGS      ?= -O2 -g
WARNINGS    ?= -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter
LIBFLAG     ?= -shared
SANITIZE    ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CC     ?= clang
BUSTED      ?= /usr/bin/busted
LUACHECK    ?= luacheck
PREFIX      ?= /usr/local
DESTDIR     ?=
LIBDIR      ?= $(PREFIX)/lib/lua/$(LUA_ABI)
LUADIR      ?= $(PREFIX)/share/lua/$(LUA_ABI)
BINDIR      ?= $(PREFIX)/bin

BUILD       := build/$(LUA_VERSION)
SRC         := src/core.c src/errors.c src/engine.c src/transfer.c src/curlapi.c src/sse.c src/json.c src/random.c \
               src/keccak.c src/sslapi.c src/crypto.c src/base64.c src/tdx.c
HDR         := $(wildcard src/*.h)
MODULE      := $(BUILD)/venice/core.so
ALL_CFLAGS   = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden $(WARNINGS) $(CFLAGS) \
               -I$(LUA_INCDIR) $(CURL_CFLAGS)

.PHONY: all deps demo test test-quick check lint strict install uninstall clean bench fuzz

all: $(MODULE)

$(MODULE): $(SRC) $(HDR) Makefile
	@test -n "$(LUA_INCDIR)" -a -f "$(LUA_INCDIR)/lua.h" || { \
	  echo "Lua $(LUA_VERSION) headers not found (LUA_INCDIR=$(LUA_INCDIR)); run: make deps" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBFLAG) -o $@ $(SRC) $(LIBS)

# The same build with every warning an error.
strict:
	@mkdir -p build/strict
	$(CC) $(ALL_CFLAGS) -Werror $(LIBFLAG) -o build/strict/core-$(LUA_VERSION).so $(SRC) $(LIBS)

deps:
	@sh tools/deps.sh

demo:
	@sh tools/deps.sh
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

# tools/run-tests.sh reads LUA and BUSTED from the environment
TEST_ENV     = LUA='$(LUA)' BUSTED='$(BUSTED)' LUACHECK='$(LUACHECK)'

test:
	@sh tools/deps.sh
	@$(MAKE) --no-print-directory all
	@$(TEST_ENV) sh tools/run-tests.sh

# Only the busted suite (on LUA), for quick iterations.
test-quick: all
	@$(TEST_ENV) sh tools/run-tests.sh quick

LINT_DIRS   := lua bin mock spec examples tools bench

lint:
	$(LUACHECK) --no-color -q $(LINT_DIRS)

# Day-to-day: luacheck, the strict build and the busted suite, in about half a minute.
check: lint strict test-quick

# make install: venice.core, the SDK's Lua modules and the `venice` command under
# $(DESTDIR)$(PREFIX); make install-mock: the local server (its modules and `venice-mock`, which
# need luv and lua-cjson). A command's #! line names the interpreter of LUA_VERSION.
LUA_FILES   := $(sort $(shell find lua/venice -name '*.lua' 2>/dev/null))
BIN_FILES   := bin/venice
MOCK_FILES  := $(sort $(shell find mock/lua -name '*.lua' 2>/dev/null))
MOCK_BIN    := mock/bin/venice-mock

# install_lua BASE FILES: each file below BASE to the same place below $(LUADIR)
define install_lua
	@set -e; for f in $(2); do \
	  rel=$${f#$(1)/}; install -d "$(DESTDIR)$(LUADIR)/$${rel%/*}"; \
	  echo "install -m 644 $$f $(DESTDIR)$(LUADIR)/$$rel"; install -m 644 "$$f" "$(DESTDIR)$(LUADIR)/$$rel"; \
	done
endef

# install_bin FILES: each command to $(BINDIR), its #! line naming $(LUA)
define install_bin
	@set -e; for f in $(1); do \
	  n=$${f##*/}; echo "install -m 755 $$f $(DESTDIR)$(BINDIR)/$$n"; \
	  sed '1s|^#!.*|#!/usr/bin/env $(LUA)|' "$$f" > "$(DESTDIR)$(BINDIR)/$$n"; \
	  chmod 755 "$(DESTDIR)$(BINDIR)/$$n"; \
	done
endef

# uninstall_files BASE FILES: remove what install_lua put there, then the directories left empty
define uninstall_files
	@for f in $(2); do rm -f "$(DESTDIR)$(LUADIR)/$${f#$(1)/}"; done
	@find "$(DESTDIR)$(LUADIR)/venice" -depth -type d -empty -exec rmdir {} \; 2>/dev/null || :
endef

.PHONY: install-mock uninstall-mock generate generate-check

# The generated files, from the committed OpenAPI file (spec/fixtures/venice-openapi.yaml; another
# with VENICE_OPENAPI=...): the endpoint table and docs/endpoints.md, the LuaLS types, the local
# server's samples and request rules. generate-check changes nothing and fails when one is stale.
GENERATORS  := tools/gen-endpoints.lua tools/gen-types.lua tools/gen-mock-samples.lua tools/gen-mock-rules.lua

generate:
	@set -e; for g in $(GENERATORS); do lua5.4 $$g; done

generate-check:
	@set -e; for g in $(GENERATORS); do lua5.4 $$g --check; done

install: $(MODULE)
	install -d $(DESTDIR)$(LIBDIR)/venice $(DESTDIR)$(LUADIR) $(DESTDIR)$(BINDIR)
	install -m 755 $(MODULE) $(DESTDIR)$(LIBDIR)/venice/core.so
	$(call install_lua,lua,$(LUA_FILES))
	$(call install_bin,$(BIN_FILES))

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/venice/core.so $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(BIN_FILES)))
	@rmdir $(DESTDIR)$(LIBDIR)/venice 2>/dev/null || :
	$(call uninstall_files,lua,$(LUA_FILES))

install-mock:
	install -d $(DESTDIR)$(LUADIR) $(DESTDIR)$(BINDIR)
	$(call install_lua,mock/lua,$(MOCK_FILES))
	$(call install_bin,$(MOCK_BIN))

uninstall-mock:
	rm -f $(DESTDIR)$(BINDIR)/venice-mock
	$(call uninstall_files,mock/lua,$(MOCK_FILES))

clean:
	rm -rf build

-include mk/*.mk
