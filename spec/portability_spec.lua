-- Runs on every Lua the SDK supports (5.1 to 5.4 and LuaJIT): the module loads its C core built
-- for the running interpreter, works end to end against the local server, and says clearly what
-- to do when the core is missing or built for another Lua.
local venice = require "venice"
local mock = require "spec.helpers.mock"

local VERSION = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local LUA = rawget(_G, "jit") and "luajit" or ("lua" .. VERSION)

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function cwd()
  local p = io.popen("pwd")
  local d = p:read("*l")
  p:close()
  return d
end
local ROOT = cwd()

local function tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("*l")
  p:close()
  return d
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Runs `code` in a fresh interpreter of the running version with the given paths;
-- returns its combined output and whether it exited with 0.
local function run_lua(lpath, cpath, code, dir)
  local cmd = ("%senv LUA_PATH=%s LUA_CPATH=%s %s -e %s 2>&1; echo \"rc=$?\""):format(
    dir and ("cd " .. sh_quote(dir) .. " && ") or "", sh_quote(lpath), sh_quote(cpath), LUA, sh_quote(code))
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc == 0
end

local CHECKOUT_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua"

describe("the C core for " .. LUA, function()
  it("is the build for this interpreter and loads", function()
    assert.is_string(venice.version)
    assert.matches("^%d+%.%d+%.%d+", venice.version)
    local core = require "venice.core"
    assert.is_table(core.errors)
  end)

  it("links neither liblua (the interpreter provides the API) nor libcurl", function()
    local so = ROOT .. "/build/" .. VERSION .. "/venice/core.so"
    assert(exists(so), "no " .. so)
    local p = io.popen("ldd " .. sh_quote(so) .. " 2>&1")
    local out = p:read("*a")
    p:close()
    assert.not_matches("libcurl", out)   -- opened on first use, not linked
    assert.not_matches("liblua", out)
    assert.not_matches("libluajit", out)
  end)

  it("loads libcurl only when the first client needs it", function()
    local f = io.open("/proc/self/maps")
    assert(f, "no /proc/self/maps")
    f:close()
    local script = [[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/]] .. VERSION .. [[/?.so;" .. package.cpath
      local function curl_mapped()
        for line in io.lines("/proc/self/maps") do if line:find("libcurl", 1, true) then return true end end
        return false
      end
      local venice = require "venice"
      io.write(tostring(curl_mapped()), " ")
      venice.new { api_key = "k" }
      io.write(tostring(curl_mapped()))
    ]]
    local p = io.popen(LUA .. " -e " .. sh_quote(script) .. " 2>&1")
    local out = p:read("*a")
    p:close()
    assert.equal("false true", out)
  end)

  it("runs a chat completion against the local server", function()
    local client = venice.new { api_key = "portable-key", base_url = mock.url(), max_retries = 0 }
    local res, err = client.chat.completions.create {
      model = "llama-3.3-70b", messages = { { role = "user", content = "portable" } },
    }
    assert.is_nil(err)
    assert.matches("You said: portable", res.choices[1].message.content)
    local total = res.usage.total_tokens
    assert.is_true(total > 0)
    assert.equal(math.floor(total), total)
    if math.type then assert.equal("integer", math.type(total)) end
  end)

  it("streams and collects on this interpreter", function()
    local client = venice.new { api_key = "portable-key", base_url = mock.url(), max_retries = 0 }
    local parts = {}
    local s = client.chat.completions.stream {
      model = "llama-3.3-70b", messages = { { role = "user", content = "stream me" } },
    }
    for chunk in s do
      local c = chunk.choices and chunk.choices[1]
      if c and c.delta and type(c.delta.content) == "string" then parts[#parts + 1] = c.delta.content end
    end
    assert.is_true(#parts > 1)
    assert.matches("You said: stream me", table.concat(parts))
  end)

  it("reports failures as nil, err with the error classes", function()
    local client = venice.new { api_key = "portable-key", base_url = mock.url(), max_retries = 0 }
    local res, err = client.chat.completions.create(
      { model = "m", messages = { { role = "user", content = "x" } } },
      { headers = { ["x-mock-fault"] = mock.fault_header { status = 401 } } })
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.AuthenticationError))
    assert.is_true(err:is(venice.errors.APIError))
    assert.equal(401, err.status)
    assert.matches("^venice: AuthenticationError %(401%)", tostring(err))
  end)
end)

describe("require 'venice' without its C core", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. sh_quote(dir)) end)

  it("names the files it looked for and the make command", function()
    local out, ok = run_lua(CHECKOUT_PATH, dir .. "/?.so;" .. dir .. "/lib/?.so", 'require "venice"')
    assert.is_false(ok)
    assert.matches("cannot load its C core", out, 1, true)
    assert.matches("Looked for " .. dir .. "/venice/core.so, " .. dir .. "/lib/venice/core.so", out, 1, true)
    assert.matches("LUA_VERSION=" .. VERSION, out, 1, true)
    -- from a checkout: the build directory of this interpreter, by absolute path
    assert.matches(ROOT .. "/build/" .. VERSION, out, 1, true)
    assert.matches("make", out, 1, true)
  end)

  it("tells when a build exists but is not on package.cpath", function()
    assert(exists(ROOT .. "/build/" .. VERSION .. "/venice/core.so"), "not built")
    local out = run_lua(CHECKOUT_PATH, dir .. "/?.so", 'require "venice"')
    assert.matches("It is built in " .. ROOT .. "/build/" .. VERSION .. "/venice/core.so: add "
      .. ROOT .. "/build/" .. VERSION .. "/?.so to package.cpath", out, 1, true)
  end)

  it("names a file that is there but does not load", function()
    os.execute("mkdir -p " .. sh_quote(dir .. "/venice"))
    write(dir .. "/venice/core.so", "this is not a shared object\n")
    local out, ok = run_lua(CHECKOUT_PATH, dir .. "/?.so", 'require "venice"')
    assert.is_false(ok)
    assert.matches("Found " .. dir .. "/venice/core.so, but it failed to load: ", out, 1, true)
    assert.matches("make ", out, 1, true)
    assert.matches("LUA_VERSION=" .. VERSION, out, 1, true)
  end)

  it("says when the file was built for another Lua", function()
    local other
    for _, v in ipairs { "5.4", "5.3", "5.2", "5.1" } do
      -- the 5.1 build loads in LuaJIT, so it is no mismatch there
      local same = v == VERSION or (VERSION == "jit" and v == "5.1")
      if not same and exists(ROOT .. "/build/" .. v .. "/venice/core.so") then other = v break end
    end
    if not other then   -- none yet (make check builds 5.4 only): build the 5.1 (or 5.4) one
      other = VERSION == "5.4" and "5.1" or "5.4"
      assert(os.execute(("make --no-print-directory -C %s all LUA_VERSION=%s >/dev/null 2>&1")
        :format(sh_quote(ROOT), other)), "could not build for Lua " .. other)
    end
    os.execute(("mkdir -p %s && cp %s %s"):format(sh_quote(dir .. "/venice"),
      sh_quote(ROOT .. "/build/" .. other .. "/venice/core.so"), sh_quote(dir .. "/venice/core.so")))
    local out, ok = run_lua(CHECKOUT_PATH, dir .. "/?.so", 'require "venice"')
    assert.is_false(ok)
    assert.matches("Found " .. dir .. "/venice/core.so, but it failed to load", out, 1, true)
    assert.matches("built for another Lua version", out, 1, true)
  end)

  it("gives the generic build line outside a checkout", function()
    os.execute(("mkdir -p %s && cp -R %s %s"):format(sh_quote(dir .. "/share"), sh_quote(ROOT .. "/lua/venice"),
      sh_quote(dir .. "/share/venice")))
    local out, ok = run_lua(dir .. "/share/?.lua;" .. dir .. "/share/?/init.lua", dir .. "/?.so",
      'require "venice"', dir)
    assert.is_false(ok)
    assert.matches("Looked for " .. dir .. "/venice/core.so", out, 1, true)
    assert.matches("in the venice-lua checkout with: make LUA_VERSION=" .. VERSION, out, 1, true)
    assert.not_matches(ROOT, out, 1, true)
  end)

  it("loads once the build directory is on LUA_CPATH", function()
    local so = ROOT .. "/build/" .. VERSION .. "/?.so"
    local out, ok = run_lua(CHECKOUT_PATH, so, 'local v = require "venice"; io.write("version ", v.version)')
    assert.is_true(ok, out)
    assert.matches("^version %d+%.%d+%.%d+", out)
  end)
end)
