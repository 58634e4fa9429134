# Conformance (sourced by tools/run-tests.sh): every request the SDK builds is validated against
# Venice's OpenAPI file by Stoplight Prism, a mock server generated from that file.
#
# Installs Prism into build/prism when it is missing (npm), writes the fixed copy of the OpenAPI
# file (tools/prism-spec.js, from the copy committed in spec/fixtures/) into build/prism, starts
# Prism on a free loopback port, runs spec/conformance_spec.lua against it, and stops it. Without
# npm and node the suite fails (tools/deps.sh installs Debian's nodejs and npm where node is missing).
# Alone: sh tools/suites/conformance.sh   (or: make conformance)

PRISM_VERSION=5.14.2
PRISM_DIR=build/prism
PRISM_BIN=$PRISM_DIR/node_modules/.bin/prism

conformance_run() {
  if ! command -v node >/dev/null 2>&1; then
    echo "---- conformance: node is not installed (Prism needs node and npm)"
    record "conformance" 0 1
    return 0
  fi
  if [ ! -x "$PRISM_BIN" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "---- conformance: npm is not installed: cannot install Prism"
      record "conformance" 0 1
      return 0
    fi
    echo "installing Prism $PRISM_VERSION into $PRISM_DIR (npm)"
    mkdir -p "$PRISM_DIR"
    if ! npm install --prefix "$PRISM_DIR" --no-audit --no-fund --loglevel=error \
         "@stoplight/prism-cli@$PRISM_VERSION" > "$TMP/prism-install.log" 2>&1; then
      echo "---- conformance: npm could not install Prism; its output:"
      tail -n 20 "$TMP/prism-install.log"
      record "conformance" 0 1
      return 0
    fi
  fi
  if ! NODE_PATH="$PRISM_DIR/node_modules" node tools/prism-spec.js spec/fixtures/venice-openapi.yaml \
       "$PRISM_DIR/venice-openapi.json" > "$TMP/prism-spec.log" 2>&1; then
    echo "---- conformance: could not write the fixed OpenAPI file:"
    cat "$TMP/prism-spec.log"
    record "conformance" 0 1
    return 0
  fi
  prism_pid=""
  prism_port=""
  for try in 1 2 3 4 5; do
    port=$(lua5.4 -e 'local s = require "socket"; local t = assert(s.bind("127.0.0.1", 0)); local _, p = t:getsockname(); t:close(); print(p)' 2>/dev/null)
    [ -n "$port" ] || port=$((20000 + ($$ * 7 + try * 131) % 20000))
    "$PRISM_BIN" mock -h 127.0.0.1 -p "$port" "$PRISM_DIR/venice-openapi.json" > "$TMP/prism.log" 2>&1 &
    prism_pid=$!
    i=0
    while [ $i -lt 200 ]; do   # about 2 s to start; up to 20 s on a loaded machine
      if grep -q "Prism is listening" "$TMP/prism.log" 2>/dev/null; then prism_port=$port; break; fi
      kill -0 "$prism_pid" 2>/dev/null || break
      sleep 0.1
      i=$((i + 1))
    done
    [ -n "$prism_port" ] && break
    kill "$prism_pid" 2>/dev/null
    wait "$prism_pid" 2>/dev/null
    prism_pid=""
  done
  if [ -z "$prism_port" ]; then
    echo "---- conformance: Prism did not start; its output:"
    tail -n 20 "$TMP/prism.log"
    record "conformance" 0 1
    return 0
  fi
  busted_suite "conformance" env VENICE_PRISM_URL="http://127.0.0.1:$prism_port" \
    VENICE_PRISM_SPEC="$PRISM_DIR/venice-openapi.json" \
    lua5.4 "${BUSTED:-/usr/bin/busted}" spec/conformance_spec.lua
  kill "$prism_pid" 2>/dev/null
  wait "$prism_pid" 2>/dev/null
}

if [ -z "${RESULTS:-}" ]; then
  # run alone: the same helpers as tools/run-tests.sh, in short
  cd "$(dirname "$0")/../.." || exit 2
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT INT TERM
  failed=0
  record() { printf '%-28s %s passed, %s failed\n' "$1" "$2" "$3"; [ "$3" = 0 ] || failed=1; }
  busted_suite() {
    name=$1; shift
    "$@"
    rc=$?
    [ $rc = 0 ] && record "$name" 1 0 || record "$name" 0 1
  }
  conformance_run
  exit $failed
fi

conformance_run
