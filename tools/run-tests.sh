#!/bin/sh
# Runs every test suite of venice-lua and ends with one line summing them all:
#   tests: N passed, N failed
# `run-tests.sh quick` runs only the busted suite (on $LUA, default lua5.4).
# The Makefile passes LUA, BUSTED and LUACHECK.
set -u
LUA=${LUA:-lua5.4}
BUSTED=${BUSTED:-/usr/bin/busted}
LUACHECK=${LUACHECK:-luacheck}
mode=${1:-full}
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
TMP=$(mktemp -d)
RESULTS=$TMP/results
: > "$RESULTS"
MOCK_PID=""

cleanup() {
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

record() {   # suite passed failed
  echo "$1 $2 $3" >> "$RESULTS"
  printf '%-28s %s passed, %s failed\n' "$1" "$2" "$3"
}

# A suite run by busted: its closing line "N successes / N failures / N errors / N pending".
busted_suite() {
  name=$1; shift
  "$@" > "$TMP/$name.log" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$TMP/$name.log" | tail -n 1)
  if [ -n "$line" ]; then
    ok=$(echo "$line" | awk '{print $1}')
    bad=$(echo "$line" | awk '{print $4 + $7}')
  else
    ok=0; bad=1
  fi
  [ "$rc" != 0 ] && [ "$bad" = 0 ] && bad=1
  if [ "$bad" != 0 ]; then
    echo "---- $name failed; its output:"
    tail -n 80 "$TMP/$name.log"
    echo "----"
  fi
  record "$name" "$ok" "$bad"
}

# A suite that prints "label: N passed, N failed".
counted_suite() {
  name=$1; shift
  "$@" > "$TMP/$name.log" 2>&1
  rc=$?
  line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$TMP/$name.log" | tail -n 1)
  ok=$(echo "$line" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed.*/\1/p;s/^\([0-9][0-9]*\) passed.*/\1/p' | head -n 1)
  bad=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
  ok=${ok:-0}; bad=${bad:-1}
  [ "$rc" != 0 ] && [ "$bad" = 0 ] && bad=1
  if [ "$bad" != 0 ]; then
    echo "---- $name failed; its output:"
    tail -n 60 "$TMP/$name.log"
    echo "----"
  fi
  record "$name" "$ok" "$bad"
}

# A check that passes or fails as a whole.
check() {
  name=$1; shift
  if "$@" > "$TMP/$name.log" 2>&1; then
    record "$name" 1 0
  else
    echo "---- $name failed; its output:"
    tail -n 60 "$TMP/$name.log"
    echo "----"
    record "$name" 0 1
  fi
}

start_mock() {
  lua5.4 bin/venice-mock --port 0 --port-file "$TMP/port" --quiet > "$TMP/mock.log" 2>&1 &
  MOCK_PID=$!
  i=0
  while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  if [ ! -s "$TMP/port" ]; then
    echo "the local server did not start:"; cat "$TMP/mock.log"; exit 1
  fi
  VENICE_MOCK_URL="http://127.0.0.1:$(cat "$TMP/port")/api/v1"
  export VENICE_MOCK_URL
}

start_mock

if [ "$mode" = quick ]; then
  busted_suite "busted-$("$LUA" -e 'io.write(jit and "jit" or _VERSION:match("%d.%d"))')" "$LUA" "$BUSTED" spec
else
  check "build-strict-5.4" make --no-print-directory strict LUA_VERSION=5.4
  check "build-luajit" make --no-print-directory all LUA_VERSION=jit
  check "build-curl-typecheck" make --no-print-directory typecheck-curl
  counted_suite "sse-c-asan-ubsan" make --no-print-directory sse-test
  check "json-c-asan-ubsan" make --no-print-directory json-ctest
  busted_suite "busted-5.4" lua5.4 $BUSTED spec
  busted_suite "busted-luajit" luajit $BUSTED spec
  busted_suite "valgrind-5.4" valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    lua5.4 $BUSTED spec
  check "luacheck" make --no-print-directory lint LUACHECK="$LUACHECK"
  # suites added beside this script: each file calls check, busted_suite or counted_suite
  for s in tools/suites/*.sh; do
    [ -f "$s" ] && . "./$s"
  done
  for f in examples/*.lua; do
    [ -f "$f" ] || continue
    check "example-$(basename "$f" .lua)" env VENICE_BASE_URL="$VENICE_MOCK_URL" VENICE_API_KEY=local-test-key \
      LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/build/5.4/?.so;;" lua5.4 "$f" </dev/null
  done
fi

awk '{p += $2; f += $3} END {printf "tests: %d passed, %d failed\n", p, f; exit (f > 0)}' "$RESULTS"
