-- The client-side limiter: requests_per_minute (a token bucket) and max_concurrent.
local venice = require "venice"
local core = require "venice.core"
local limiter = require "venice.limiter"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local client = helpers.client

local chat = helpers.chat

local function chat_requests() return mock.requests("/chat/completions") end

describe("venice.limiter", function()
  it("is nil when no limit is asked for", function()
    assert.is_nil(limiter.new {})
  end)

  it("spaces acquisitions by 60 / requests_per_minute seconds", function()
    local l = limiter.new { requests_per_minute = 600 }
    local t0 = core.now()
    for _ = 1, 6 do l:acquire() end
    local took = core.now() - t0
    assert.is_true(took >= 0.49 and took < 30, ("took %.3fs"):format(took))   -- a generous ceiling
  end)

  it("lets a burst through at once, then refills", function()
    local l = limiter.new { requests_per_minute = 600, burst = 3 }
    local t0 = core.now()
    for _ = 1, 3 do l:acquire() end
    assert.is_true(core.now() - t0 < 0.05)
    l:acquire()
    assert.is_true(core.now() - t0 >= 0.09)
  end)

  it("says what it limits", function()
    assert.equal("venice.Limiter (20/min, 2 at once)",
      tostring(limiter.new { requests_per_minute = 20, max_concurrent = 2 }))
  end)
end)

describe("requests_per_minute", function()
  before_each(function() mock.reset() end)

  it("keeps the requests the server sees inside the rate", function()
    local c = client { requests_per_minute = 300 }   -- one every 0.2 s
    for _ = 1, 4 do assert(chat(c)) end
    local reqs = chat_requests()
    assert.equal(4, #reqs)
    for i = 1, 3 do
      local g = reqs[i + 1].time - reqs[i].time
      assert.is_true(g >= 0.18, ("gap %d: %.3fs"):format(i, g))
    end
  end)

  it("counts retries as requests", function()
    mock.fault("/chat/completions", { status = 503 }, 1)
    local c = require("venice.retry").tune(client { requests_per_minute = 300, max_retries = 2 },
      { backoff_base = 0.001 })
    assert(chat(c))
    local reqs = chat_requests()
    assert.equal(2, #reqs)
    assert.is_true(reqs[2].time - reqs[1].time >= 0.18)
  end)

  it("yields inside tasks while it waits", function()
    local c = client { requests_per_minute = 600 }   -- one every 0.1 s
    local ticks = 0
    local tasks = {}
    for i = 1, 4 do tasks[i] = venice.spawn(function() return chat(c) end) end
    local ticker = venice.spawn(function()
      while ticks < 1000 do
        ticks = ticks + 1
        local all = true
        for _, t in ipairs(tasks) do all = all and t:done() end
        if all then return end
        require("venice.tasks").sleep(0.01)
      end
    end)
    venice.run()
    for _, t in ipairs(tasks) do assert.is_table((t:result())) end
    assert.is_true(ticker:done())
    assert.is_true(ticks >= 8, "the other task ran while the limited ones waited: " .. ticks)
  end)
end)

describe("max_concurrent", function()
  before_each(function() mock.reset() end)

  it("keeps at most N requests in flight", function()
    mock.fault("/chat/completions", { delay_ms = 200 }, -1)
    local c = client { max_concurrent = 2 }
    local t0 = core.now()
    local tasks = {}
    for i = 1, 5 do tasks[i] = venice.spawn(function() return chat(c) end) end
    venice.run()
    local took = core.now() - t0
    for _, t in ipairs(tasks) do assert.is_table((t:result())) end
    assert.is_true(took >= 0.55, ("took %.3fs"):format(took))   -- three rounds of 0.2 s
    -- never three arrivals within one 0.2 s round
    local reqs = chat_requests()
    assert.equal(5, #reqs)
    for i = 3, #reqs do
      assert.is_true(reqs[i].time - reqs[i - 2].time >= 0.15, ("arrival %d too early"):format(i))
    end
  end)

  it("lets all through at once when the limit allows", function()
    mock.fault("/chat/completions", { delay_ms = 300 }, -1)
    local c = client { max_concurrent = 5 }
    local t0 = core.now()
    for _ = 1, 5 do venice.spawn(function() return chat(c) end) end
    venice.run()
    assert.is_true(core.now() - t0 < 0.9)   -- one at a time: 1.5 s
  end)

  it("holds a place for an open stream until it ends or is closed", function()
    local c = client { max_concurrent = 1 }
    local s = c.chat.completions.stream({ model = "m", messages = { { role = "user", content = "x" } } },
      { headers = { ["x-mock-fault"] = '{"chunk_delay_ms":100}' } })
    assert.is_table(s:read())
    local task = venice.spawn(function() return chat(c) end)
    for _ = 1, 20 do venice.poll(0.01) end
    assert.is_false(task:done())
    assert.equal(1, #chat_requests())
    s:close()
    venice.run()
    assert.is_table((task:result()))
    assert.equal(2, #chat_requests())
  end)
end)
