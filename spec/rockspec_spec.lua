-- The rockspecs list what the build has: every module under lua/venice (the SDK's two rockspecs)
-- and under mock/lua (the local server's), and the Makefile's C sources. Run by busted, so a new
-- module or C file shows up in make check; tools/suites/rocks.sh also builds the rocks.

local function load_spec(path)
  local env = {}
  local chunk = assert((loadfile(path, "t", env)))
  local setfenv = rawget(_G, "setfenv")   -- Lua 5.1: loadfile takes no environment
  if setfenv then setfenv(chunk, env) end
  chunk()
  return env
end

local function modules_under(dir)
  local files = {}
  local p = assert(io.popen("find " .. dir .. " -name '*.lua' | sort"))
  for f in p:lines() do
    local m = f:sub(#dir + 2):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    files[m] = f
  end
  p:close()
  return files
end

local function makefile_src()
  local f = assert(io.open("Makefile", "rb"))
  local mk = f:read("*a"):gsub("\\\n", " ")
  f:close()
  local src = {}
  for s in (mk:match("\nSRC%s*:=%s*([^\n]+)") or ""):gmatch("%S+") do src[#src + 1] = s end
  return src
end

local function check_modules(path, dir, skip)
  local mods = load_spec(path).build.modules
  local files = modules_under(dir)
  local missing, extra = {}, {}
  for m, f in pairs(files) do
    if mods[m] ~= f then missing[#missing + 1] = ('["%s"] = "%s",'):format(m, f) end
  end
  for m in pairs(mods) do
    if not files[m] and m ~= skip then extra[#extra + 1] = m end
  end
  table.sort(missing)
  table.sort(extra)
  assert(#missing == 0, path .. " lacks (add):\n    " .. table.concat(missing, "\n    "))
  assert(#extra == 0, path .. " lists modules that are not in " .. dir .. ": " .. table.concat(extra, ", "))
end

describe("the rockspecs", function()
  for _, path in ipairs { "rockspec/venice-scm-1.rockspec", "rockspec/venice-0.1.0-1.rockspec" } do
    it(path .. " lists every module of lua/venice and the Makefile's C sources", function()
      check_modules(path, "lua", "venice.core")
      local core = load_spec(path).build.modules["venice.core"]
      assert.same(makefile_src(), core.sources)
    end)
  end

  it("rockspec/venice-mock-scm-1.rockspec lists every module of mock/lua", function()
    check_modules("rockspec/venice-mock-scm-1.rockspec", "mock/lua")
  end)
end)
