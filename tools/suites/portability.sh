# Lua 5.1, 5.2 and 5.3 (sourced by tools/run-tests.sh, which covers 5.4 and LuaJIT in full):
# the build for each, the build with every warning an error on 5.1, and a smoke subset of the
# specs run by busted on each interpreter against the local server.
#
# Debian installs busted and its dependencies (and luv, cjson, socket) for every Lua version
# present on the machine. Where busted cannot run under an interpreter, a plain Lua script
# does the smoke test instead (load the module, a chat completion, a stream, an error class).

PORT_SPECS="spec/core_spec.lua spec/errors_spec.lua spec/json_spec.lua spec/portability_spec.lua"

# A smoke test without busted: prints "smoke: N passed, N failed".
port_smoke() {   # interpreter version
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/build/$2/?.so;;" \
  VENICE_BASE_URL="$VENICE_MOCK_URL" VENICE_API_KEY=portability-key "$1" - <<'EOF'
local passed, failed = 0, 0
local function check(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1 else failed = failed + 1; print("FAIL " .. name .. ": " .. tostring(err)) end
end
local venice
check("require", function() venice = require "venice" end)
local msgs = { { role = "user", content = "smoke" } }
check("chat", function()
  local res = assert(venice.new({ max_retries = 0 }).chat.completions.create { model = "m", messages = msgs })
  assert(res.choices[1].message.content:find("You said: smoke", 1, true))
  assert(res.usage.total_tokens == math.floor(res.usage.total_tokens))
end)
check("stream", function()
  local out = {}
  for chunk in venice.new({ max_retries = 0 }).chat.completions.stream { model = "m", messages = msgs } do
    out[#out + 1] = chunk.choices[1].delta.content or ""
  end
  assert(table.concat(out):find("You said: smoke", 1, true))
end)
check("error", function()
  local c = venice.new { max_retries = 0, api_key = "bad-key" }
  local res, err = c.chat.completions.create { model = "m", messages = msgs }
  assert(res == nil and err:is(venice.errors.AuthenticationError) and err.status == 401)
end)
print(("smoke: %d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
EOF
}

for port_v in 5.1 5.2 5.3; do
  port_lua="lua$port_v"
  if ! command -v "$port_lua" >/dev/null 2>&1; then
    echo "---- portability-$port_v: $port_lua is not installed (run: make deps)"
    record "portability-$port_v" 0 1
    continue
  fi
  check "build-$port_v" make --no-print-directory all LUA_VERSION=$port_v
  # what the specs and the local server's helpers load (Debian ships them for every version)
  check "modules-$port_v" "$port_lua" -e 'for _, m in ipairs { "cjson", "socket", "luv" } do
    local ok, err = pcall(require, m)
    if not ok then error(m .. " does not load: " .. tostring(err) .. " (run: make deps)") end
  end'
  if "$port_lua" -e 'require "busted.runner"; require "luassert"' >/dev/null 2>&1; then
    busted_suite "busted-$port_v-smoke" "$port_lua" $BUSTED $PORT_SPECS
  else
    echo "busted does not load under $port_lua: running the plain smoke test instead"
    counted_suite "smoke-$port_v" port_smoke "$port_lua" "$port_v"
  fi
done
check "build-strict-5.1" make --no-print-directory strict LUA_VERSION=5.1
