# mk/json.mk: the JSON codec's C tests, benchmark and fuzzer. Included by the top Makefile, whose
# CC, WARNINGS, SANITIZE, FUZZ_CC, LUA, LUA_PC and BUSTED it uses.
#
#   json-ctest   C-level tests (spec/c/test_json.c) under ASan + UBSan, for LUA_VERSION (make test)
#   json-check   spec/json_spec.lua and the C tests on 5.1, 5.2, 5.3, 5.4 and LuaJIT
#   json-bench   ops/s against lua-cjson (bench/json_bench.lua)
#   json-fuzz    libFuzzer + ASan + UBSan for FUZZ_SECONDS; outputs in build/

JSON_MK        := $(lastword $(MAKEFILE_LIST))
JSON_VERSIONS  ?= 5.4 5.3 5.2 5.1 jit
JSON_WARN       = -std=c99 $(WARNINGS) -Werror
JSON_DEPS       = src/json.c src/json.h src/compat.h $(JSON_MK)
FUZZ_SECONDS   ?= 60
JSON_CORPUS    ?= build/corpus/json

.PHONY: json-ctest json-check json-bench json-fuzz fuzz

$(BUILD)/test_json: spec/c/test_json.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(CC) $(JSON_WARN) $(SANITIZE) -g -O1 -I$(LUA_INCDIR) -Isrc \
	  -o $@ spec/c/test_json.c src/json.c $(shell $(PKG_CONFIG) --libs $(LUA_PC)) -lm

json-ctest: $(BUILD)/test_json
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 ./$(BUILD)/test_json

json-check:
	@set -e; for v in $(JSON_VERSIONS); do \
	  $(MAKE) --no-print-directory LUA_VERSION=$$v all json-ctest; \
	  if [ "$$v" = jit ]; then lua=luajit; else lua=lua$$v; fi; \
	  echo "== $$lua"; $$lua $(BUSTED) spec/json_spec.lua; \
	done

json-bench: all
	$(LUA) bench/json_bench.lua

build/json_fuzz: fuzz/json_fuzz.c $(JSON_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -I$(LUA_INCDIR) -Isrc \
	  -o $@ fuzz/json_fuzz.c src/json.c $(shell $(PKG_CONFIG) --libs $(LUA_PC)) -lm

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
