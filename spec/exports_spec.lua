-- venice.core exports luaopen_venice_core and nothing else, in the Makefile's build and in the
-- LuaRocks one (which compiles the rockspec's sources without -fvisibility=hidden); and it never
-- calls libcurl's own symbols (libcurl is opened on first use, not linked).
local version = jit and "jit" or _VERSION:match("%d+%.%d+")
local LUA_PC = version == "jit" and "luajit" or ("lua" .. version)

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  if ok == true or code == 0 then return out, true end
  return out, false
end

local function defined_symbols(so)
  local out, ok = sh("nm -D --defined-only " .. so)
  assert(ok, "nm failed: " .. out)
  local names = {}
  for name in out:gmatch("%x+%s+%u%s+([%w_@.]+)") do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function undefined_curl(so)
  local out, ok = sh("nm -D --undefined-only " .. so)
  assert(ok, "nm failed: " .. out)
  local names = {}
  for name in out:gmatch("(curl_[%w_]+)") do names[#names + 1] = name end
  return names
end

-- The C sources and defines of venice.core as the rockspec lists them.
local function rockspec_module(path)
  local f = assert(io.open(path))
  local text = f:read("*a")
  f:close()
  local block = assert(text:match('%["venice%.core"%]%s*=%s*(%b{})'), "no venice.core module in " .. path)
  local function list(key)
    local items = {}
    local inner = block:match(key .. "%s*=%s*(%b{})")
    for s in (inner or ""):gmatch('"([^"]+)"') do items[#items + 1] = s end
    return items
  end
  return list("sources"), list("defines")
end

describe("exported symbols", function()
  it("the Makefile's build exports only luaopen_venice_core", function()
    local so = ("build/%s/venice/core.so"):format(version)
    assert.same({ "luaopen_venice_core" }, defined_symbols(so))
    assert.same({}, undefined_curl(so))
  end)

  for _, rock in ipairs { "rockspec/venice-0.1.0-1.rockspec", "rockspec/venice-scm-1.rockspec" } do
    it("the build of " .. rock .. " (no -fvisibility=hidden) exports only luaopen_venice_core", function()
      local sources, defines = rockspec_module(rock)
      assert.is_true(#sources > 0)
      local incs = sh("pkg-config --cflags " .. LUA_PC .. " libcurl")
      local defs = {}
      for _, d in ipairs(defines) do defs[#defs + 1] = "-D" .. d end
      local so = os.tmpname() .. ".so"
      local cmd = ("cc -O2 -fPIC -shared -Isrc %s %s -o %s %s -ldl"):format(incs:gsub("\n", " "),
        table.concat(defs, " "), so, table.concat(sources, " "))
      local out, ok = sh(cmd)
      assert(ok, "the rockspec's build failed: " .. cmd .. "\n" .. out)
      local names, curl = defined_symbols(so), undefined_curl(so)
      os.remove(so)
      assert.same({ "luaopen_venice_core" }, names)
      assert.same({}, curl)
    end)
  end
end)
