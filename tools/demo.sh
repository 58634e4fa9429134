#!/bin/sh
# make demo: a streaming chat, against the real API when VENICE_API_KEY is set, otherwise against
# the local Venice-compatible server started here.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
LUA_CPATH="$ROOT/build/5.4/?.so;;"
export LUA_PATH LUA_CPATH
if [ -n "${VENICE_API_KEY:-}" ]; then
  echo "== streaming from ${VENICE_BASE_URL:-https://api.venice.ai/api/v1}"
  exec lua5.4 examples/stream_chat.lua "$@"
fi
TMP=$(mktemp -d)
lua5.4 bin/venice-mock --port 0 --port-file "$TMP/port" --quiet --chunk-delay-ms 40 >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
VENICE_BASE_URL="http://127.0.0.1:$(cat "$TMP/port")/api/v1"
VENICE_API_KEY=local-demo-key
export VENICE_BASE_URL VENICE_API_KEY
echo "== no VENICE_API_KEY set: streaming from the local server at $VENICE_BASE_URL"
lua5.4 examples/stream_chat.lua "${1:-Tell me about Venice.}"
