# mk/sse.mk: SSE decoder tests, benchmark and fuzzer. Included by the top Makefile, whose CC,
# WARNINGS, SANITIZE and FUZZ_CC it uses.
#
#   sse-test           C tests under ASan + UBSan
#   sse-test-valgrind  the same tests, plain build, under valgrind
#   sse-bench          throughput of an optimised build
#   fuzz / sse-fuzz    libFuzzer for FUZZ_SECONDS (new inputs go to build/, not fuzz/)

FUZZ_SECONDS ?= 60
SSE_WARN      = -std=c99 $(WARNINGS) -Werror
SSE_SRC       = src/sse.c src/sse.h
# the test program includes src/sse.c itself, to swap in a failing allocator
SSE_TEST_SRC  = spec/c/test_sse.c

.PHONY: sse-test sse-test-valgrind sse-bench sse-fuzz fuzz

build/sse_test: $(SSE_SRC) $(SSE_TEST_SRC) mk/sse.mk
	@mkdir -p build
	$(CC) $(SSE_WARN) $(SANITIZE) -g -O1 -Isrc -o $@ $(SSE_TEST_SRC)

build/sse_test_plain: $(SSE_SRC) $(SSE_TEST_SRC) mk/sse.mk
	@mkdir -p build
	$(CC) $(SSE_WARN) -g -O1 -Isrc -o $@ $(SSE_TEST_SRC)

build/sse_bench: $(SSE_SRC) $(SSE_TEST_SRC) mk/sse.mk
	@mkdir -p build
	$(CC) $(SSE_WARN) -O2 -DNDEBUG -Isrc -o $@ $(SSE_TEST_SRC)

build/sse_fuzz: $(SSE_SRC) fuzz/sse_fuzz.c mk/sse.mk
	@mkdir -p build
	$(FUZZ_CC) $(SSE_WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -Isrc -o $@ src/sse.c fuzz/sse_fuzz.c

sse-test: build/sse_test
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 ./build/sse_test

sse-test-valgrind: build/sse_test_plain
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --error-exitcode=99 ./build/sse_test_plain

sse-bench: build/sse_bench
	./build/sse_bench --bench

# build/corpus/sse is the writable corpus; fuzz/corpus/sse holds the seeds.
sse-fuzz: build/sse_fuzz
	@mkdir -p build/corpus/sse
	./build/sse_fuzz -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/sse.dict \
	  -artifact_prefix=build/sse- build/corpus/sse fuzz/corpus/sse

fuzz: sse-fuzz
