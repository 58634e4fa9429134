# Packaging (sourced by tools/run-tests.sh): the rockspecs, `luarocks make` into a temporary tree
# for Lua 5.4 and 5.1 with the installed copy used from a clean environment, the local server's
# rock installed beside it and run from that tree. (spec/types_spec.lua checks the LuaLS types
# against every public function; tools/suites/generated.sh keeps them in sync with the endpoints.)

ROCKS_DIR="$TMP/rocks"
mkdir -p "$ROCKS_DIR"

# The SDK's rockspecs list every module under lua/venice with its file, and nothing else; their C
# sources are the Makefile's; they install the `venice` command; both build the same way. The
# local server's rockspec lists every module under mock/lua and installs `venice-mock`.
rocks_modules() {
  lua5.4 - <<'EOF'
local function load_spec(path)
  local env = {}
  local chunk = assert(loadfile(path, "t", env))
  chunk()
  return env
end
local failed = false
local function bad(fmt, ...) print(fmt:format(...)) failed = true end

local function modules_under(dir)
  local files = {}
  local p = io.popen("find " .. dir .. " -name '*.lua' | sort")
  for f in p:lines() do
    local m = f:sub(#dir + 2):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    files[m] = f
  end
  p:close()
  return files
end
local function same_modules(path, mods, files, dir)
  for m, f in pairs(files) do
    if mods[m] == nil then bad('%s: missing module, add:    ["%s"] = "%s",', path, m, f)
    elseif mods[m] ~= f then bad("%s: %s is %s, not %s", path, m, tostring(mods[m]), f) end
  end
  for m, f in pairs(mods) do
    if m ~= "venice.core" and not files[m] then bad("%s: %s (%s) is not in %s", path, m, tostring(f), dir) end
  end
end
local files = modules_under("lua")

local mk = io.open("Makefile"):read("*a")
local src = {}
for f in ((mk:gsub("\\\n", " ")):match("\nSRC%s*:=%s*([^\n]+)") or ""):gmatch("%S+") do src[#src + 1] = f end

local specs = { "rockspec/venice-scm-1.rockspec", "rockspec/venice-0.1.0-1.rockspec" }
local builds = {}
for _, path in ipairs(specs) do
  local spec = load_spec(path)
  local mods = spec.build.modules
  same_modules(path, mods, files, "lua/venice")
  local core = mods["venice.core"]
  if type(core) ~= "table" or table.concat(core.sources, " ") ~= table.concat(src, " ") then
    bad("%s: venice.core sources differ from the Makefile's SRC (%s)", path, table.concat(src, " "))
  end
  local bin = spec.build.install and spec.build.install.bin or {}
  if bin.venice ~= "bin/venice" then bad("%s: build.install.bin lacks venice", path) end
  for cmd in pairs(bin) do
    if cmd ~= "venice" then bad("%s: build.install.bin has %s (the SDK installs venice only)", path, cmd) end
  end
  builds[#builds + 1] = spec
end
local mock_path = "rockspec/venice-mock-scm-1.rockspec"
local mock_spec = load_spec(mock_path)
local mock_files = modules_under("mock/lua")
same_modules(mock_path, mock_spec.build.modules, mock_files, "mock/lua")
local mock_bin = mock_spec.build.install and mock_spec.build.install.bin or {}
if mock_bin["venice-mock"] ~= "mock/bin/venice-mock" then bad("%s: build.install.bin lacks venice-mock", mock_path) end
local deps = table.concat(mock_spec.dependencies or {}, " ")
for _, d in ipairs { "venice", "luv", "lua%-cjson" } do
  if not (" " .. deps .. " "):find(" " .. d .. "[ ,<>=~]") then bad("%s: does not depend on %s", mock_path, d) end
end
-- the two rockspecs differ only in version and source
local function dump(v, out)
  if type(v) ~= "table" then out[#out + 1] = tostring(v) return out end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    out[#out + 1] = k .. "="
    dump(v[k] ~= nil and v[k] or v[tonumber(k)], out)
  end
  return out
end
for _, field in ipairs { "build", "dependencies", "external_dependencies", "description" } do
  if table.concat(dump(builds[1][field], {}), ";") ~= table.concat(dump(builds[2][field], {}), ";") then
    bad("%s differs between the two rockspecs", field)
  end
end
local n = 0
for _ in pairs(files) do n = n + 1 end
print(("rockspecs: %d modules checked"):format(n))
os.exit(failed and 1 or 0)
EOF
}

# rocks_make VERSION: luarocks make from a copy of the checkout (the build writes objects into it).
rocks_make() {
  rm -rf "$ROCKS_DIR/src-$1" "$ROCKS_DIR/tree-$1"
  mkdir -p "$ROCKS_DIR/src-$1"
  cp -R src lua bin mock docs types rockspec "$ROCKS_DIR/src-$1/" || return 1
  (cd "$ROCKS_DIR/src-$1" && luarocks --lua-version "$1" make --deps-mode=none --tree "$ROCKS_DIR/tree-$1" \
    rockspec/venice-scm-1.rockspec)
}

# rocks_exports VERSION: the rock's venice/core.so exports luaopen_venice_core and nothing else.
rocks_exports() {
  so="$ROCKS_DIR/tree-$1/lib/lua/$1/venice/core.so"
  syms=$(nm -D --defined-only "$so" | awk '{ print $3 }') || return 1
  [ "$syms" = "luaopen_venice_core" ] || { echo "$so exports: $syms"; return 1; }
}

# rocks_use LUA VERSION [with-mock]: require venice from the tree alone, then a chat completion;
# the SDK's rock alone has no venice.mock module.
rocks_use() {
  tree="$ROCKS_DIR/tree-$2"
  (cd "$ROCKS_DIR" && env -i LUA_PATH="$tree/share/lua/$2/?.lua;$tree/share/lua/$2/?/init.lua" \
    LUA_CPATH="$tree/lib/lua/$2/?.so" "$1" - "$VENICE_MOCK_URL" "$tree" "${3:-}" <<'EOF'
local url, tree, with_mock = arg[1], arg[2], arg[3] == "with-mock"
local venice = require "venice"
local src = debug.getinfo(venice.new, "S").source
assert(src:sub(1, #tree + 1) == "@" .. tree, "venice came from " .. src)
local function installed(m)
  for t in package.path:gmatch("[^;]+") do
    local f = io.open((t:gsub("%?", (m:gsub("%.", "/")))), "r")
    if f then f:close() return true end
  end
  return false
end
for _, m in ipairs { "venice.stream", "venice.tasks" } do assert(installed(m), m .. " is not installed") end
for _, m in ipairs { "venice.mock", "venice.mock.routes" } do
  assert(installed(m) == with_mock, m .. (with_mock and " is not installed" or " is installed with the SDK"))
end
local res = assert(venice.new({ base_url = url, api_key = "rocks-key", max_retries = 0 }).chat.completions.create {
  model = "m", messages = { { role = "user", content = "from the rock" } },
})
assert(res.choices[1].message.content:find("You said: from the rock", 1, true))
print(_VERSION .. ": " .. res.choices[1].message.content)
EOF
  )
}

# The command LuaRocks installed, from an environment with only the API settings.
rocks_cli() {
  out=$(cd "$ROCKS_DIR" && env -i VENICE_BASE_URL="$VENICE_MOCK_URL" VENICE_API_KEY=rocks-key \
    "$ROCKS_DIR/tree-$1/bin/venice" chat "from the rock command") || return 1
  echo "$out"
  case "$out" in *"You said: from the rock command"*) return 0 ;; esac
  return 1
}

# The local server's rock, installed into the SDK's tree, then its command started from that tree
# alone and answering the installed SDK.
rocks_mock() {
  tree="$ROCKS_DIR/tree-5.4"
  (cd "$ROCKS_DIR/src-5.4" && luarocks --lua-version 5.4 make --deps-mode=none --tree "$tree" \
    rockspec/venice-mock-scm-1.rockspec) || return 1
  [ -f "$tree/share/lua/5.4/venice/mock/rules.lua" ] || { echo "venice.mock.rules is not installed"; return 1; }
  rm -f "$ROCKS_DIR/mock.port"
  (cd "$ROCKS_DIR" && exec env -i PATH=/usr/bin:/bin "$tree/bin/venice-mock" --port 0 \
    --port-file "$ROCKS_DIR/mock.port" --quiet) &
  rocks_mock_pid=$!
  i=0
  while [ ! -s "$ROCKS_DIR/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  VENICE_MOCK_URL="http://127.0.0.1:$(cat "$ROCKS_DIR/mock.port" 2>/dev/null)/api/v1" rocks_use lua5.4 5.4 with-mock
  rc=$?
  kill "$rocks_mock_pid" 2>/dev/null
  wait "$rocks_mock_pid" 2>/dev/null
  return $rc
}

check "rockspec-lint-scm" luarocks lint rockspec/venice-scm-1.rockspec
check "rockspec-lint-0.1.0" luarocks lint rockspec/venice-0.1.0-1.rockspec
check "rockspec-modules" rocks_modules
for rocks_v in 5.4 5.1; do
  check "rock-make-$rocks_v" rocks_make $rocks_v
  check "rock-exports-$rocks_v" rocks_exports $rocks_v
  check "rock-use-$rocks_v" rocks_use "lua$rocks_v" $rocks_v
  check "rock-command-$rocks_v" rocks_cli $rocks_v
done
check "rock-use-5.1-luajit" rocks_use luajit 5.1
check "rock-mock-5.4" rocks_mock
