# make install / make install-mock / make uninstall (sourced by tools/run-tests.sh): installs into a
# temporary DESTDIR or PREFIX, then uses the installed copy from a clean environment (env -i, with
# only LUA_PATH and LUA_CPATH pointing into the prefix) for a chat completion against the local
# server; the installed commands run from any prefix, the local server's too.

INST_DIR="$TMP/install"
mkdir -p "$INST_DIR"

# A chat completion with the installed module; checks that the module came from the prefix.
cat > "$INST_DIR/check.lua" <<'EOF'
local url, prefix = arg[1], arg[2]
local venice = require "venice"
local src = debug.getinfo(venice.new, "S").source
assert(src:sub(1, #prefix + 1) == "@" .. prefix, "venice was loaded from " .. src .. ", not from " .. prefix)
local core = package.loaded["venice.core"]
assert(core and core.version == venice.version)
local client = venice.new { base_url = url, api_key = "install-test-key", max_retries = 0 }
local res, err = client.chat.completions.create {
  model = "llama-3.3-70b", messages = { { role = "user", content = "installed" } },
}
assert(res, tostring(err))
local text = res.choices[1].message.content
assert(text:find("You said: installed", 1, true), text)
print(_VERSION .. ": " .. text)
EOF

# inst_use LUA ABI PREFIX: run check.lua with nothing but the prefix on the paths.
inst_use() {
  env -i LUA_PATH="$3/share/lua/$2/?.lua;$3/share/lua/$2/?/init.lua" LUA_CPATH="$3/lib/lua/$2/?.so" \
    "$1" "$INST_DIR/check.lua" "${INST_URL:-$VENICE_MOCK_URL}" "$3"
}

# The SDK alone: no module of the local server, no venice-mock command.
inst_sdk_only() {
  left=$(find "$1" -path '*/venice/mock*' -o -name venice-mock)
  [ -z "$left" ] || { echo "installed with the SDK:"; echo "$left"; return 1; }
}

# The installed venice-mock, started from an empty environment outside the checkout, answers the
# SDK installed in the same prefix.
inst_mock() {
  rm -f "$INST_DIR/mock.port"
  (cd "$INST_DIR" && exec env -i "$1/bin/venice-mock" --port 0 --port-file "$INST_DIR/mock.port" --quiet) &
  inst_mock_pid=$!
  i=0
  while [ ! -s "$INST_DIR/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  if [ ! -s "$INST_DIR/mock.port" ]; then
    echo "the installed venice-mock did not start"; kill "$inst_mock_pid" 2>/dev/null; return 1
  fi
  INST_URL="http://127.0.0.1:$(cat "$INST_DIR/mock.port")/api/v1" inst_use lua5.4 5.4 "$1"
  rc=$?
  kill "$inst_mock_pid" 2>/dev/null
  wait "$inst_mock_pid" 2>/dev/null
  return $rc
}

# The installed command, relocated with DESTDIR, from an environment with only the API settings.
inst_cli() {
  out=$(cd "$INST_DIR" && env -i VENICE_BASE_URL="$VENICE_MOCK_URL" VENICE_API_KEY=install-test-key \
    "$1/bin/venice" chat "from the installed command") || return 1
  echo "$out"
  case "$out" in *"You said: from the installed command"*) return 0 ;; esac
  return 1
}

# The default PREFIX (/usr/local) puts the files on lua5.4's own default paths.
inst_default_paths() {
  paths=";$(env -i lua5.4 -e 'io.write(package.path, ";", package.cpath)');"
  for f in share/lua/5.4/venice/init.lua lib/lua/5.4/venice/core.so; do
    [ -f "$1/usr/local/$f" ] || { echo "not installed: /usr/local/$f"; return 1; }
  done
  for t in /usr/local/share/lua/5.4/?/init.lua /usr/local/lib/lua/5.4/?.so; do
    case "$paths" in *";$t;"*) ;; *) echo "lua5.4 does not search $t: $paths"; return 1 ;; esac
  done
}

# No file left once uninstalled (empty directories may stay).
inst_gone() {
  left=$(find "$1" -type f)
  [ -z "$left" ] || { echo "left behind:"; echo "$left"; return 1; }
}

check "install-5.4" make --no-print-directory install DESTDIR="$INST_DIR/d54" PREFIX=/usr/local
check "install-5.4-sdk-only" inst_sdk_only "$INST_DIR/d54"
check "install-5.4-default-paths" inst_default_paths "$INST_DIR/d54"
check "install-5.4-clean-env" inst_use lua5.4 5.4 "$INST_DIR/d54/usr/local"
check "install-5.4-command" inst_cli "$INST_DIR/d54/usr/local"
check "install-mock-5.4" make --no-print-directory install-mock DESTDIR="$INST_DIR/d54" PREFIX=/usr/local
check "uninstall-5.4" make --no-print-directory uninstall DESTDIR="$INST_DIR/d54" PREFIX=/usr/local
check "uninstall-mock-5.4" make --no-print-directory uninstall-mock DESTDIR="$INST_DIR/d54" PREFIX=/usr/local
check "uninstall-5.4-clean" inst_gone "$INST_DIR/d54"

# A custom PREFIX: both commands find their modules there.
check "install-5.4-prefix" make --no-print-directory install PREFIX="$INST_DIR/p54"
check "install-mock-5.4-prefix" make --no-print-directory install-mock PREFIX="$INST_DIR/p54"
check "install-5.4-prefix-command" inst_cli "$INST_DIR/p54"
check "install-mock-5.4-prefix-command" inst_mock "$INST_DIR/p54"

# The 5.1 build under a plain PREFIX serves Lua 5.1 and LuaJIT alike.
check "install-5.1" make --no-print-directory install LUA_VERSION=5.1 PREFIX="$INST_DIR/p51"
check "install-5.1-clean-env" inst_use lua5.1 5.1 "$INST_DIR/p51"
check "install-5.1-luajit" inst_use luajit 5.1 "$INST_DIR/p51"
