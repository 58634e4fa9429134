-- A turn that ends without an answer leaves a conversation's history as it was: an error, a
-- cancelled task, a raise inside on_text or a tool, a real Ctrl-C (SIGINT); the next turn sends
-- a well-formed history (never user, user).
local venice = require "venice"
local mock = require "spec.helpers.mock"

local VERSION = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local LUA = rawget(_G, "jit") and "luajit" or ("lua" .. VERSION)
local SLOW = { chunk_delay_ms = 200, chunks = 200 }   -- 40 s: never ends by itself here

local function roles(messages)
  local out = {}
  for i, m in ipairs(messages) do out[i] = m.role end
  return table.concat(out, ",")
end

local function snapshot(conv)
  local out = {}
  for i, m in ipairs(conv.messages) do out[i] = { role = m.role, content = m.content } end
  return { messages = out, trimmed = conv.trimmed }
end

describe("a conversation turn that ends without an answer", function()
  local client, conv, before
  before_each(function()
    mock.reset()
    client = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    conv = venice.conversation { client = client, model = "llama-3.3-70b", system = "Be brief." }
    assert(conv:say "first")
    before = snapshot(conv)
  end)

  -- the next turn goes out as system, user, assistant, user and lands in the history
  local function next_turn_is_clean()
    assert.same(before, snapshot(conv))
    assert(conv:say "again")
    local reqs = mock.requests("/chat/completions")
    assert.equal("system,user,assistant,user", roles(reqs[#reqs].json.messages))
    assert.equal("user,assistant,user,assistant", roles(conv.messages))
  end

  it("on an error", function()
    mock.fault("/chat/completions", { status = 500 }, 1)
    local text, err = conv:say "boom"
    assert.is_nil(text)
    assert.is_table(err)
    next_turn_is_clean()
  end)

  it("when on_text raises", function()
    local ok, err = pcall(conv.stream, conv, "stream this", function() error("stop here") end)
    assert.is_false(ok)
    assert.matches("stop here", tostring(err))
    next_turn_is_clean()
  end)

  it("when on_text raises Lua's interrupt error", function()
    local ok, err = pcall(conv.stream, conv, "stream this", function() error("interrupted!", 0) end)
    assert.is_false(ok)
    assert.equal("interrupted!", err)
    next_turn_is_clean()
  end)

  it("when its task is cancelled mid-stream", function()
    mock.fault("/chat/completions", SLOW, 1)
    local pieces = 0
    local task = venice.spawn(function()
      return conv:stream("a long story", function() pieces = pieces + 1 end)
    end)
    while pieces < 2 do venice.poll(0.05) end
    assert.is_true(task:cancel())
    local _, err = task:result()
    assert.equal("cancelled", err.code)
    next_turn_is_clean()
  end)

  it("when the task cancels itself from on_text", function()
    mock.fault("/chat/completions", SLOW, 1)
    local task
    task = venice.spawn(function()
      return conv:stream("a long story", function() task:cancel() end)
    end)
    venice.run()
    assert.is_true(task:done())
    next_turn_is_clean()
  end)

  it("when a tool raises inside a chat.run turn", function()
    local tconv = venice.conversation { client = client, model = "m",
      tools = { get_weather = { fn = function() error("tool broke") end } } }
    assert(tconv:say "hello")
    local snap = snapshot(tconv)
    local res = tconv:say "call get_weather for me"
    -- a tool's raise becomes the tool's error result, or fails the turn: either way no half turn
    if res then
      assert.equal("user,assistant,user,assistant,tool,assistant", roles(tconv.messages))
    else
      assert.same(snap, snapshot(tconv))
    end
    local ok = pcall(tconv.stream, tconv, "call get_weather again", function() error("stop") end)
    assert.is_false(ok)
    assert.equal(res and 6 or 2, #tconv.messages)
  end)

  it("when Ctrl-C interrupts a tool of a chat.run turn", function()
    local calls = 0
    local tconv = venice.conversation { client = client, model = "m",
      tools = { get_weather = { fn = function() calls = calls + 1; error("interrupted!") end } } }
    assert(tconv:say "hello")
    local snap = snapshot(tconv)
    local ok, err = pcall(tconv.say, tconv, "call get_weather for me")
    assert.is_false(ok)
    assert.matches("interrupted!$", err)
    assert.equal(1, calls)   -- the loop stopped: the interrupt was not sent back as the tool's answer
    assert.same(snap, snapshot(tconv))
    -- chat.run itself leaves the caller's list alone
    local messages = { { role = "user", content = "call get_weather for me" } }
    ok = pcall(client.chat.run, { model = "m", messages = messages,
      tools = { get_weather = { fn = function() error("interrupted!") end } } })
    assert.is_false(ok)
    assert.equal(1, #messages)
  end)

  it("when Ctrl-C (a real SIGINT) interrupts the stream", function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(([[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/%s/?.so;" .. package.cpath
local venice = require "venice"
local client = venice.new { api_key = "k", base_url = %q, max_retries = 0 }
local conv = venice.conversation { client = client, model = "llama-3.3-70b" }
assert(conv:say "first")
local n = #conv.messages
local sent = false
local ok, err = pcall(conv.stream, conv, "slow", function()
  if not sent then sent = true; os.execute("(sleep 0.2; kill -INT $PPID) &") end
end, { headers = { ["x-mock-fault"] = %q } })
io.write(tostring(ok), " ", tostring(err), " ", n, " ", #conv.messages, " ",
  conv.messages[#conv.messages].role, "\n")
]]):format(VERSION, mock.url(), venice.json.encode(SLOW)))
    f:close()
    local p = io.popen(LUA .. " " .. script .. " 2>&1")
    local out = p:read("*a")
    p:close()
    os.remove(script)
    local ok, err, n, after, last = out:match("^(%S+) (.-) (%d+) (%d+) (%a+)\n$")
    assert.equal("false", ok, out)
    assert.matches("interrupted", err)
    assert.equal("2", n)
    assert.equal("2", after)
    assert.equal("assistant", last)
  end)
end)

describe("venice.Conversation", function()
  it("has a method table apart from its metatable", function()
    local conv = venice.conversation { client = venice.new { api_key = "k", base_url = mock.url() }, model = "m" }
    local mt = getmetatable(conv)
    assert.equal("venice.Conversation", mt.__name)
    assert.not_equal(mt, mt.__index)
    assert.is_function(mt.__index.say)
    assert.is_nil(conv.__index)
    assert.is_nil(conv.__tostring)
    assert.matches("^venice.Conversation %(m, 0 messages%)$", tostring(conv))
  end)
end)
