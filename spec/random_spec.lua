-- core.random_bytes: bytes from the operating system, never from math.random.
local core = require "venice.core"

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function lua_cmd()
  local i, cmd = -1, nil
  while arg and arg[i] do cmd = arg[i]; i = i - 1 end
  return cmd or "lua5.4"
end

describe("core.random_bytes", function()
  it("returns exactly n bytes", function()
    for _, n in ipairs { 0, 1, 7, 16, 32, 255, 256, 257, 4096, 65536 } do
      assert.equal(n, #core.random_bytes(n))
    end
  end)

  it("differs across calls", function()
    local seen = {}
    for _ = 1, 200 do
      local s = core.random_bytes(16)
      assert.is_nil(seen[s])
      seen[s] = true
    end
  end)

  it("uses every byte value over a large draw", function()
    local s, counts = core.random_bytes(65536), {}
    for i = 1, #s do
      local b = s:byte(i)
      counts[b] = (counts[b] or 0) + 1
    end
    for b = 0, 255 do
      -- 256 expected per value; a fixed or narrow generator misses values or piles them up
      assert.is_true((counts[b] or 0) > 100 and counts[b] < 450, "byte " .. b)
    end
  end)

  it("differs across processes, even with math.random left unseeded", function()
    local prog = "package.cpath = 'build/" .. (jit and "jit" or _VERSION:match("%d+%.%d+"))
      .. "/?.so;' .. package.cpath; math.randomseed(1); io.write((require 'venice.core'.random_bytes(16)"
      .. ":gsub('.', function(c) return ('%02x'):format(c:byte()) end)))"
    local outs = {}
    for i = 1, 4 do
      local p = assert(io.popen(lua_cmd() .. " -e \"" .. prog .. "\""))
      outs[i] = p:read("*a")
      assert.is_true(p:close())
      assert.equal(32, #outs[i])
    end
    for i = 1, 4 do
      for j = i + 1, 4 do assert.not_equal(outs[i], outs[j]) end
    end
    assert.not_equal(hex(core.random_bytes(16)), outs[1])
  end)

  it("does not touch math.random's sequence", function()
    math.randomseed(42)
    local a = { math.random(1073741824), math.random(1073741824) }
    math.randomseed(42)
    core.random_bytes(64)
    assert.same(a, { math.random(1073741824), math.random(1073741824) })
  end)

  it("refuses a bad n with a ValidationError", function()
    for _, n in ipairs { -1, 1.5, 0 / 0, math.huge, 2 ^ 21 } do
      local ok, err = pcall(core.random_bytes, n)
      assert.is_false(ok)
      assert.equal("ValidationError", err.name)
    end
    assert.has_error(function() core.random_bytes("x") end)
  end)
end)

describe("core.random_bytes from /dev/urandom (where getrandom is missing)", function()
  it("gives the same guarantees when built without getrandom", function()
    local version = jit and "jit" or _VERSION:match("%d+%.%d+")
    local dir = os.tmpname()
    os.remove(dir)
    local ok = os.execute(("make -s LUA_VERSION=%s BUILD=%s CFLAGS='-O0 -DVN_RANDOM_URANDOM_ONLY' %s/venice/core.so"
      .. " >/dev/null 2>&1"):format(version, dir, dir))
    assert.truthy(ok == true or ok == 0, "the build failed")
    local nm = io.popen("nm -D " .. dir .. "/venice/core.so")
    local symbols = nm:read("*a")
    nm:close()
    assert.is_nil(symbols:find("getrandom", 1, true))   -- this build cannot call it
    assert.truthy(symbols:find("open", 1, true))
    local prog = ("package.cpath = %q .. package.cpath; local c = require 'venice.core'; "
      .. "local a, b = c.random_bytes(32), c.random_bytes(32); "
      .. "io.write(#a, ' ', #b, ' ', tostring(a ~= b), ' ', #c.random_bytes(100000))"):format(dir .. "/?.so;")
    local p = io.popen(lua_cmd() .. " -e " .. ("%q"):format(prog):gsub("\\\n", "\\n"))
    local out = p:read("*a")
    p:close()
    os.execute("rm -rf " .. dir)
    assert.equal("32 32 true 100000", out)
  end)
end)
