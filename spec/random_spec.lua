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

-- What n fresh Lua processes running prog write, each checked to be len bytes long.
local function outputs_of(prog, n, len)
  local outs = {}
  for i = 1, n do
    local p = assert(io.popen(lua_cmd() .. " -e \"" .. prog .. "\""))
    outs[i] = p:read("*a")
    assert.is_true(p:close())
    assert.equal(len, #outs[i])
  end
  return outs
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
    local outs = outputs_of(prog, 4, 32)
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

describe("core.idempotency_key", function()
  local version = jit and "jit" or _VERSION:match("%d+%.%d+")

  local function read_lines(path)
    local f = assert(io.open(path))
    local t = {}
    for line in f:lines() do t[#t + 1] = line end
    f:close()
    return t
  end

  -- A Lua interpreter with fork() (spec/c/lua_fork.c), for the Lua version of this run.
  local host
  local function fork_host()
    if host then return host end
    local pc = jit and "luajit" or "lua" .. version
    host = os.tmpname()
    local ok = os.execute(("cc -std=c99 -o %s spec/c/lua_fork.c $(pkg-config --cflags %s) $(pkg-config --libs %s)"
      .. " >/dev/null 2>&1"):format(host, pc, pc))
    assert.truthy(ok == true or ok == 0, "cannot build spec/c/lua_fork.c against " .. pc)
    return host
  end

  -- Runs in the fork host: a key (which fills the reserve), then fork(); parent and child each
  -- write n more keys to their file. Returns the parent's keys and the child's.
  local function keys_across_fork(cpath_dir, n)
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local script = dir .. "/fork.lua"
    local f = assert(io.open(script, "w"))
    f:write(([[
package.cpath = %q .. package.cpath
local core = require "venice.core"
local first = core.idempotency_key()
local function write(path)
  local out = assert(io.open(path, "w"))
  out:write(first, "\n")
  for _ = 1, %d do out:write(core.idempotency_key(), "\n") end
  out:close()
end
local pid = fork()
if pid == 0 then
  write(%q)
  _exit(0)
end
write(%q)
assert(waitpid(pid) == 0, "the child failed")
]]):format(cpath_dir .. "/?.so;", n, dir .. "/child", dir .. "/parent"))
    f:close()
    local ok = os.execute(fork_host() .. " " .. script)
    assert.truthy(ok == true or ok == 0, "the fork host failed")
    local parent, child = read_lines(dir .. "/parent"), read_lines(dir .. "/child")
    os.execute("rm -rf " .. dir)
    return parent, child
  end

  local function check_fork(cpath_dir)
    local parent, child = keys_across_fork(cpath_dir, 600)   -- past two refills of the reserve
    assert.equal(601, #parent)
    assert.equal(601, #child)
    assert.equal(parent[1], child[1])   -- made before the fork
    local seen = {}
    for i = 2, #parent do
      assert.matches("^venice%-lua%-" .. ("%x"):rep(32) .. "$", parent[i])
      assert.is_nil(seen[parent[i]], "a key repeats in the parent")
      seen[parent[i]] = true
    end
    for i = 2, #child do
      assert.matches("^venice%-lua%-" .. ("%x"):rep(32) .. "$", child[i])
      assert.is_nil(seen[child[i]], "the child handed out a key of the parent's (or its own twice)")
      seen[child[i]] = true
    end
  end

  it("has the form venice-lua- and 32 lowercase hex digits", function()
    for _ = 1, 100 do
      local k = core.idempotency_key()
      assert.equal(43, #k)
      assert.matches("^venice%-lua%-[0-9a-f]+$", k)
    end
  end)

  it("never repeats over many keys, and its digits are evenly spread", function()
    local seen, counts, n = {}, {}, 5000   -- about 20 refills of the reserve
    for _ = 1, n do
      local k = core.idempotency_key()
      assert.is_nil(seen[k])
      seen[k] = true
      for d in k:sub(12):gmatch(".") do counts[d] = (counts[d] or 0) + 1 end
    end
    for d in ("0123456789abcdef"):gmatch(".") do
      -- 10,000 expected of each digit; a fixed or narrow source misses digits or piles them up
      assert.is_true((counts[d] or 0) > 9000 and counts[d] < 11000, "digit " .. d)
    end
  end)

  it("differs across processes, even with math.random left unseeded", function()
    local prog = "package.cpath = 'build/" .. version .. "/?.so;' .. package.cpath; math.randomseed(1); "
      .. "io.write((require 'venice.core'.idempotency_key()))"
    local outs = outputs_of(prog, 3, 43)
    assert.not_equal(outs[1], outs[2])
    assert.not_equal(outs[2], outs[3])
    assert.not_equal(outs[1], outs[3])
  end)

  it("comes from the fork-safe reserve on this Linux", function()
    assert.is_true(core.random_reserve())
  end)

  it("gives a child after fork() keys of its own, never its parent's", function()
    check_fork("build/" .. version)
  end)

  it("gives the same guarantees when built without the reserve", function()
    local dir = os.tmpname()
    os.remove(dir)
    local ok = os.execute(("make -s LUA_VERSION=%s BUILD=%s CFLAGS='-O0 -DVN_RANDOM_NO_RESERVE' %s/venice/core.so"
      .. " >/dev/null 2>&1"):format(version, dir, dir))
    assert.truthy(ok == true or ok == 0, "the build failed")
    local p = io.popen(lua_cmd() .. " -e " .. ("%q"):format(("package.cpath = %q .. package.cpath; "
      .. "io.write(tostring(require 'venice.core'.random_reserve()))"):format(dir .. "/?.so;"):gsub("\\\n", "\\n")))
    local out = p:read("*a")
    p:close()
    local good, err = pcall(check_fork, dir)
    os.execute("rm -rf " .. dir)
    assert.equal("false", out)
    assert(good, err)
  end)
end)
