# mk/json.mk: the JSON codec's test module, tests, benchmark and fuzzer.
# Included by the top Makefile; also usable alone: make -f mk/json.mk json-check
#
#   json         build/test/venice/jsontest.so for Lua 5.4 (the spec falls back
#                to it while venice.core has no json_decode)
#   json-test    spec/json_spec.lua on Lua 5.4
#   json-ctest   C-level tests (spec/c/test_json.c) on Lua 5.4
#   json-check   spec and C tests on 5.1, 5.2, 5.3, 5.4 and LuaJIT; the test
#                module goes to build/<ver>/venice/ (ver = 5.x or jit), which
#                spec/helpers/setup.lua puts first on package.cpath
#   json-bench   ops/s against lua-cjson (bench/json_bench.lua)
#   json-fuzz    libFuzzer + ASan + UBSan for FUZZ_SECONDS; outputs in build/

JSON_MK        := $(lastword $(MAKEFILE_LIST))
JSON_VERSIONS  ?= 5.4 5.3 5.2 5.1 jit
JSON_CC        ?= cc
JSON_CFLAGS    ?= -std=c99 -O2 -fPIC -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
JSON_BUSTED    ?= /usr/bin/busted
JSON_DEPS       = src/json.c src/json.h src/compat.h $(JSON_MK)
FUZZ_SECONDS   ?= 60
JSON_FUZZ_CC   ?= clang
JSON_FUZZ_LUA  ?= lua5.4
JSON_CORPUS    ?= build/corpus/json

# Lua interpreter (and pkg-config name) for a version: 5.x -> lua5.x, jit -> luajit.
json_lua = $(if $(filter jit,$(1)),luajit,lua$(1))

.PHONY: json json-test json-ctest json-check json-bench json-fuzz fuzz

json: build/test/venice/jsontest.so

build/test/venice/jsontest.so: spec/c/json_testmod.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(JSON_CC) $(JSON_CFLAGS) $(shell pkg-config --cflags lua5.4) -Isrc -fvisibility=hidden \
	  -shared -o $@ spec/c/json_testmod.c src/json.c

build/%/venice/jsontest.so: spec/c/json_testmod.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(JSON_CC) $(JSON_CFLAGS) $(shell pkg-config --cflags $(call json_lua,$*)) -Isrc \
	  -fvisibility=hidden -shared -o $@ spec/c/json_testmod.c src/json.c

build/%/test_json: spec/c/test_json.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(JSON_CC) $(JSON_CFLAGS) $(shell pkg-config --cflags $(call json_lua,$*)) -Isrc \
	  -o $@ spec/c/test_json.c src/json.c $(shell pkg-config --libs $(call json_lua,$*)) -lm

json-test: build/test/venice/jsontest.so build/5.4/venice/jsontest.so
	lua5.4 $(JSON_BUSTED) spec/json_spec.lua

json-ctest: build/5.4/test_json
	build/5.4/test_json

json-check: $(foreach v,$(JSON_VERSIONS),build/$(v)/venice/jsontest.so build/$(v)/test_json)
	@set -e; for v in $(JSON_VERSIONS); do \
	  if [ "$$v" = jit ]; then lua=luajit; else lua=lua$$v; fi; \
	  echo "== $$lua"; \
	  $$lua $(JSON_BUSTED) spec/json_spec.lua; \
	  build/$$v/test_json; \
	done

json-bench: build/5.4/venice/jsontest.so
	LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/json_bench.lua

build/json_fuzz: fuzz/json_fuzz.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(JSON_FUZZ_CC) -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $(shell pkg-config --cflags $(JSON_FUZZ_LUA)) -Isrc \
	  -o $@ fuzz/json_fuzz.c src/json.c $(shell pkg-config --libs $(JSON_FUZZ_LUA)) -lm

# Seeds and the dictionary are written here so that fuzz/ stays untouched.
json-fuzz: build/json_fuzz
	@mkdir -p $(JSON_CORPUS) $(JSON_CORPUS)-seeds
	@printf '{"id":"x","object":"chat.completion.chunk","created":1700000000,"choices":[{"index":0,"delta":{"content":"Hi \\n\\u00e9\\ud83d\\ude00"},"finish_reason":null}],"usage":{"t":1.5e-3}}' > $(JSON_CORPUS)-seeds/chunk.json
	@printf '[[],{},[null,true,false],-0,0.1,1E400,-9223372036854775808,18446744073709551616,"\\/\\b\\f\\r\\t\\"\\\\"]' > $(JSON_CORPUS)-seeds/mix.json
	@printf '"\\ud800\\u0041\\udc00x"' > $(JSON_CORPUS)-seeds/surrogates.json
	@printf '%s\n' '"{"' '"}"' '"["' '"]"' '":"' '","' '"null"' '"true"' '"false"' \
	  '"\\u"' '"\\ud83d"' '"\\udc00"' '"e+"' '"E-"' '"0."' '"-0"' > build/json.dict
	./build/json_fuzz -max_total_time=$(FUZZ_SECONDS) -dict=build/json.dict -max_len=4096 \
	  -artifact_prefix=build/json- $(JSON_CORPUS) $(JSON_CORPUS)-seeds

fuzz: json-fuzz
