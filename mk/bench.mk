# mk/bench.mk: the benchmark (bench/). Included by the top Makefile, whose CC, WARNINGS and LUA
# it uses.
#
#   bench        every client on the same work against bench/server.c, medians and ratios, the
#                targets, then instruction counts under valgrind (which the machine's
#                load does not change); a few minutes; writes build/bench/results.md too. Not part
#                of make test. Installs openai-node under bench/node when node and npm are present.
#                Then the TLS section (bench/tls_run.lua): nginx with a certificate from a throwaway
#                CA, HTTP/1.1 and HTTP/2, against raw libcurl, luasocket + luasec, httpx, openai-node
#                and curl processes, connections and handshakes counted at the server.
#   bench-smoke  the same harnesses with tiny sizes, once: checks that they run (make test does this)
#
# Sizes: BENCH_SEQ, BENCH_CURL, BENCH_CHUNKS, BENCH_STREAMS, BENCH_STREAM_CHUNKS, BENCH_DELAY_MS,
# BENCH_REPEAT (see bench/run.lua).

BENCH_DIR     := build/bench
BENCH_CURL_LIBS ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
BENCH_CFLAGS   = -std=c99 -O2 -g $(WARNINGS)
BENCH_BINS    := $(BENCH_DIR)/server $(BENCH_DIR)/rawcurl

.PHONY: bench bench-smoke bench-bins bench-node

$(BENCH_DIR)/server: bench/server.c mk/bench.mk
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/server.c

$(BENCH_DIR)/rawcurl: bench/rawcurl.c mk/bench.mk
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(CURL_CFLAGS) -o $@ bench/rawcurl.c $(BENCH_CURL_LIBS)

bench-bins: $(BENCH_BINS)

# openai-node, pinned in bench/node/package.json; skipped (the harness says so) without node/npm.
bench-node:
	@if [ -f bench/node/node_modules/openai/package.json ]; then :; \
	elif command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then \
	  echo "installing openai-node into bench/node"; \
	  npm install --prefix bench/node --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || \
	    echo "npm install failed: the openai-node client will be skipped"; \
	else echo "node or npm missing: the openai-node client will be skipped"; fi

bench: all bench-bins bench-node
	@if command -v luajit >/dev/null 2>&1; then $(MAKE) --no-print-directory all LUA_VERSION=jit >/dev/null; fi
	$(LUA) bench/run.lua --instructions --markdown $(BENCH_DIR)/results.md
	$(LUA) bench/tls_run.lua --markdown $(BENCH_DIR)/results.md

bench-smoke: all bench-bins
	$(LUA) bench/run.lua --smoke --instructions
	$(LUA) bench/tls_run.lua --smoke
