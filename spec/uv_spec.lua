-- venice.uv on the scheduler's driver interface, and a close that is safe on Debian's luv 1.44
-- (exiting without running the loop after handle:close() crashed with signal 11 there).
local venice = require "venice"
local core = require "venice.core"
local tasks = require "venice.tasks"
local mock = require "spec.helpers.mock"

local VERSION = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local LUA = rawget(_G, "jit") and "luajit" or ("lua" .. VERSION)

-- Runs a Lua program in a child process; returns its output and exit status (as the shell says).
local function child(program)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(("package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path\n"
    .. "package.cpath = 'build/%s/?.so;' .. package.cpath\n"):format(VERSION), program)
  f:close()
  local p = io.popen(LUA .. " " .. path .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

describe("venice.use_uv", function()
  local uv = require "luv"

  it("installs a driver through tasks.set_driver and restores the previous one on close", function()
    local step = core.step
    local before = tasks.driver()
    local h = venice.use_uv(uv)
    assert.not_equal(before, tasks.driver())
    assert.equal(step, core.step)   -- the C module's table is left alone
    h:close()
    assert.equal(before, tasks.driver())
    assert.equal(step, core.step)
    h:close()   -- twice is nothing
    h.close()
    assert.equal(before, tasks.driver())
  end)

  it("drives a request with the loop, then gives the engine back", function()
    local c = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    local h = venice.use_uv(uv)
    local got
    c.models.list({}, function(err, res) got = err or res end)
    local t = uv.new_timer()
    t:start(10000, 0, function() end)   -- a generous ceiling: the run ends when the answer came
    while not got do uv.run("once") end
    t:stop()
    t:close()
    assert.is_table(got.data)
    h:close()
    uv.run("nowait")
    -- without the loop, venice.run drives the next request again
    local again = assert(c.models.list())
    assert.is_table(again.data)
  end)

  for _, case in ipairs {
    { "close, then exit without running the loop", "local h = venice.use_uv(uv); h:close()" },
    { "close called as a function", "local h = venice.use_uv(uv); h.close()" },
    { "attach again after close, close again", "venice.use_uv(uv):close(); venice.use_uv(uv):close()" },
    { "a blocking request while attached, close, exit", [[
local c = venice.new { api_key = "k", base_url = os.getenv("MOCK_URL"), max_retries = 0 }
local h = venice.use_uv(uv)
assert(c.models.list())
h:close()]] },
  } do
    it("exits cleanly: " .. case[1], function()
      local out, status = child("local venice = require 'venice'; local uv = require 'luv'\n"
        .. case[2]:gsub('os.getenv%("MOCK_URL"%)', ("%q"):format(mock.url())) .. "\nio.write('done\\n')\n")
      assert.equal(0, status, out)
      assert.matches("^done\n", out)
    end)
  end
end)
