-- Many requests and streams at once in one Lua state: tasks, poll, run, callbacks, cancel.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local socket = require "socket"

local client = helpers.client

local msgs = { { role = "user", content = "one two three four five six seven eight nine ten" } }

describe("tasks", function()
  before_each(function() mock.reset() end)

  it("runs delayed requests together, not one after the other", function()
    local c = client()
    mock.fault("/models", { delay_ms = 500 }, 30)
    local tasks = {}
    local t0 = socket.gettime()
    for i = 1, 30 do
      tasks[i] = venice.spawn(function() return c.models.list() end)
    end
    venice.run()
    local elapsed = socket.gettime() - t0
    for i = 1, 30 do
      local res, err = tasks[i]:result()
      assert.is_nil(err)
      assert.equal("list", res.object)
      assert.is_true(tasks[i]:done())
    end
    assert.is_true(elapsed < 30, "took " .. elapsed .. " s")   -- a generous ceiling
  end)

  it("poll(0) returns at once while requests are pending", function()
    local c = client()
    mock.fault("/models", { delay_ms = 2000 })
    local t = venice.spawn(function() return c.models.list() end)
    local t0 = socket.gettime()
    local n = venice.poll(0)
    assert.is_true(socket.gettime() - t0 < 1.5)   -- well below the answer's 2 s delay
    assert.equal(1, n)
    assert.is_false(t:done())
    while venice.poll(0.05) > 0 do end
    assert.truthy(t:result())
  end)

  it("keeps a task's error with the task", function()
    local t = venice.spawn(function() error({ "not a venice error" }) end)
    local res, err = t:result()
    assert.is_nil(res)
    assert.is_table(err)
    local t2 = venice.spawn(function() error("plain message") end)
    local _, err2 = t2:result()
    assert.is_true(err2:is(venice.errors.Error))
    assert.matches("plain message", err2.message)
  end)

  it("returns every value of a task's function", function()
    local t = venice.spawn(function(a, b) return a, nil, b end, 1, 3)
    local x, y, z = t:result()
    assert.equal(1, x)
    assert.is_nil(y)
    assert.equal(3, z)
  end)

  it("interleaves streams in one state", function()
    local c = client()
    local order = {}
    for i = 1, 3 do
      venice.spawn(function()
        for _ in c.chat.completions.stream({ model = "m", messages = msgs },
          { headers = { ["x-mock-fault"] = '{"chunk_delay_ms":20}' } }) do
          order[#order + 1] = i
        end
      end)
    end
    venice.run()
    -- each stream's chunks are spread among the others', not all in one block
    local first_switch
    for k = 2, #order do if order[k] ~= order[1] then first_switch = k break end end
    assert.truthy(first_switch)
    assert.is_true(first_switch < #order / 3)
  end)

  it("calls a callback exactly once, with the result", function()
    local c = client()
    local calls, got = 0, nil
    local task = c.models.list(nil, nil, function(err, res)
      calls = calls + 1
      got = { err = err, res = res }
    end)
    assert.equal("venice.Task", getmetatable(task).__name)
    venice.run()
    venice.run()
    assert.equal(1, calls)
    assert.is_nil(got.err)
    assert.equal("list", got.res.object)
  end)

  it("calls a callback with the error", function()
    local c = client { max_retries = 0 }
    mock.fault("/models", { status = 404, body = { error = "nope" } })
    local calls, e = 0, nil
    c.models.list(function(err) calls = calls + 1; e = err end)
    venice.run()
    assert.equal(1, calls)
    assert.equal("NotFoundError", e.name)
  end)

  it("streams with on_chunk and on_done", function()
    local c = client()
    local chunks, final, calls = 0, nil, 0
    c.chat.completions.stream({ model = "m", messages = msgs }, {
      on_chunk = function() chunks = chunks + 1 end,
      on_done = function(err, f) calls = calls + 1; final = f; assert.is_nil(err) end,
    })
    venice.run()
    assert.equal(1, calls)
    assert.is_true(chunks > 3)
    assert.matches("You said: one two", final.choices[1].message.content)
  end)

  it("cancels a stream at once, and the server sees the disconnect", function()
    local c = client()
    local got = 0
    local t = venice.spawn(function()
      for _ in c.chat.completions.stream({ model = "m", messages = msgs },
        { headers = { ["x-mock-fault"] = '{"chunk_delay_ms":100,"chunks":100}' } }) do
        got = got + 1
      end
    end)
    while got < 2 do venice.poll(0.05) end
    assert.is_true(t:cancel())
    local _, err = t:result()
    assert.equal("cancelled", err.code)
    local t0 = socket.gettime()
    local seen
    while socket.gettime() - t0 < 1 do
      local st = mock.stats()
      if #st.disconnects > 0 then seen = st.disconnects[1] break end
      socket.sleep(0.02)
    end
    assert.truthy(seen, "the server did not see the disconnect")
    assert.equal(0, venice.poll(0))
  end)

  it("reports a cancelled background stream to on_done exactly once", function()
    local c = client()
    local chunks, calls, e = 0, 0, nil
    local task = c.chat.completions.stream({ model = "m", messages = msgs }, {
      headers = { ["x-mock-fault"] = '{"chunk_delay_ms":50,"chunks":100}' },
      on_chunk = function() chunks = chunks + 1 end,
      on_done = function(err) calls = calls + 1; e = err end,
    })
    while chunks < 2 do venice.poll(0.05) end
    task:cancel()
    local seen = chunks
    venice.poll(0.2)
    assert.equal(1, calls)
    assert.equal("cancelled", e.code)
    assert.equal(seen, chunks)
  end)

  it("yields while sleeping inside a task", function()
    local log = {}
    venice.spawn(function() venice.sleep(0.15); log[#log + 1] = "slow" end)
    venice.spawn(function() venice.sleep(0.01); log[#log + 1] = "fast" end)
    venice.run()
    assert.same({ "fast", "slow" }, log)
  end)

  it("keeps count and spawn order while hundreds of tasks finish in any order", function()
    local tasks = require "venice.tasks"
    local base = tasks.count()
    local order, made = {}, {}
    -- task i yields (i * 7) % 13 times: they finish out of spawn order, in bursts
    local function body(i)
      for round = 1, (i * 7) % 13 do
        order[round] = order[round] or {}
        local o = order[round]
        o[#o + 1] = i
        coroutine.yield()
      end
      return i * 2
    end
    for i = 1, 300 do made[i] = venice.spawn(body, i) end
    -- one spawned inside a task and one from a callback while others finish around them
    local inner, from_cb
    made[301] = venice.spawn(function()
      coroutine.yield()
      inner = venice.spawn(function() coroutine.yield(); return "inner" end)
      return "outer"
    end)
    made[1].on_done = function() from_cb = venice.spawn(function() coroutine.yield(); return "cb" end) end
    local waiting = 1   -- the outer task; those that never yield have finished already
    for i = 1, 300 do if (i * 7) % 13 > 0 then waiting = waiting + 1 end end
    assert.equal(base + waiting, tasks.count())
    local polls = 0
    while venice.poll(0) > base do
      polls = polls + 1
      assert.is_true(polls < 100, "the tasks never finish")
    end
    assert.equal(base, tasks.count())
    for i = 1, 300 do
      assert.is_true(made[i]:done())
      assert.equal(i * 2, (made[i]:result()))
    end
    assert.equal("outer", (made[301]:result()))
    assert.equal("inner", (inner:result()))
    assert.equal("cb", (from_cb:result()))
    -- every round resumed the tasks still yielding in the order they were spawned
    for round = 1, #order do
      local o = order[round]
      for k = 2, #o do assert.is_true(o[k - 1] < o[k], "round " .. round .. " out of order") end
      local expect = 0
      for i = 1, 300 do if (i * 7) % 13 >= round then expect = expect + 1 end end
      assert.equal(expect, #o)
    end
  end)
end)

describe("venice.use_uv", function()
  local uv = require "luv"   -- a test dependency (lua-luv): missing, this fails

  before_each(function() mock.reset() end)

  it("lets a libuv loop drive requests and streams while its timer keeps firing", function()
    local c = client()
    local h = venice.use_uv(uv)
    mock.fault("/models", { delay_ms = 300 }, 10)
    local done, calls = 0, {}
    for i = 1, 10 do
      c.models.list(nil, nil, function(err)
        assert.is_nil(err)
        calls[i] = (calls[i] or 0) + 1
        done = done + 1
      end)
    end
    local chunks, final = 0, nil
    c.chat.completions.stream({ model = "m", messages = msgs },
      { headers = { ["x-mock-fault"] = '{"chunk_delay_ms":10}' },
        on_chunk = function() chunks = chunks + 1 end, on_done = function(_, f) final = f end })
    local ticks = 0
    local tick = uv.new_timer()
    local t0 = uv.hrtime()
    tick:start(10, 10, function()
      ticks = ticks + 1
      if done == 10 and final then tick:stop() tick:close() end
    end)
    uv.run()
    local ms = (uv.hrtime() - t0) / 1e6
    h.close()
    uv.run("nowait")
    assert.equal(10, done)
    for i = 1, 10 do assert.equal(1, calls[i]) end
    assert.is_true(chunks > 3)
    assert.matches("You said", final.choices[1].message.content)
    assert.is_true(ms < 30000, "took " .. ms .. " ms")   -- a generous ceiling
    assert.is_true(ticks >= 0.5 * ms / 10, ("only %d ticks in %.0f ms"):format(ticks, ms))
  end)
end)
