-- The machinery under venice.use_uv (what Neovim relies on), driven here by plain luv:
-- detaching and attaching again mid-stream, a blocking call made while attached, many streams
-- and a cancel at once, and the collector running while libcurl calls the loop hook.
local venice = require "venice"
local core = require "venice.core"
local mock = require "spec.helpers.mock"

local ok_luv, uv = pcall(require, "luv")

local msgs = { { role = "user", content = "hi" } }

local function client(headers)
  return venice.new { api_key = "test-key", base_url = mock.url(), max_retries = 0, headers = headers }
end

-- Runs the loop until cond() holds or ms pass; returns whether cond() held.
local function run_until(cond, ms)
  local t0 = uv.hrtime()
  local check = uv.new_timer()
  check:start(2, 2, function()
    if cond() or (uv.hrtime() - t0) / 1e6 > ms then
      check:stop()
      uv.stop()
    end
  end)
  uv.run()
  if not check:is_closing() then check:close() end
  uv.run("nowait")
  return cond()
end

describe("venice.use_uv with luv", function()
  if not ok_luv then
    pending("luv is not installed")
    return
  end

  before_each(function() mock.reset() end)

  it("finishes a stream that was detached and attached again mid-way", function()
    local c = client { ["x-mock-fault"] = '{"chunk_delay_ms":10,"chunks":40}' }
    local chunks, final, err
    c.chat.completions.stream({ model = "m", messages = msgs }, {
      on_chunk = function() chunks = (chunks or 0) + 1 end,
      on_done = function(e, f) err, final = e, f end,
    })
    local h = venice.use_uv(uv)
    run_until(function() return (chunks or 0) >= 5 end, 3000)
    h.close()
    uv.run("nowait")
    local n0 = chunks
    while chunks < n0 + 5 and not final do venice.poll(0.05) end   -- venice.poll drives it meanwhile
    h = venice.use_uv(uv)
    local done = run_until(function() return final ~= nil or err ~= nil end, 3000)
    h.close()
    uv.run("nowait")
    assert.is_true(done, "the stream stalled after attaching again")
    assert.is_nil(err)
    assert.is_true(chunks >= 40)
  end)

  it("resumes a background stream that ended during a blocking call", function()
    local c = client()
    local h = venice.use_uv(uv)
    local final
    c.chat.completions.stream({ model = "m", messages = msgs },
      { headers = { ["x-mock-fault"] = '{"chunk_delay_ms":5}' }, on_done = function(_, f) final = f end })
    -- a blocking call outside any task, long enough for the stream to end meanwhile
    local res = c.models.list(nil, { headers = { ["x-mock-fault"] = '{"delay_ms":300}' } })
    assert.is_table(res)
    assert.is_nil(final)   -- the stream's task is resumed by the loop, not inside the blocking call
    local t0 = uv.hrtime()
    local done = run_until(function() return final ~= nil end, 3000)
    local ms = (uv.hrtime() - t0) / 1e6
    h.close()
    uv.run("nowait")
    assert.is_true(done)
    assert.is_true(ms < 500, ("resumed only after %.0f ms"):format(ms))
  end)

  it("keeps resuming the other tasks when a callback raises", function()
    -- a scheduler like vim.schedule: runs fn at the loop's next turn and reports its errors
    local errors = {}
    local function schedule(fn)
      local t = uv.new_timer()
      t:start(0, 0, function()
        t:close()
        local ok, err = pcall(fn)
        if not ok then errors[#errors + 1] = err end
      end)
    end
    local c = client()
    local h = venice.use_uv(uv, { schedule = schedule })
    local t_raise, t_other
    local slow = { headers = { ["x-mock-fault"] = '{"delay_ms":100}' } }
    for _ = 1, 5 do
      t_raise, t_other = nil, nil
      c.models.list(nil, slow, function()
        t_raise = uv.hrtime()
        error("deliberate", 0)
      end)
      c.models.list(nil, slow, function() t_other = uv.hrtime() end)
      run_until(function() return t_raise and t_other end, 3000)
      assert.is_truthy(t_raise and t_other)
      local ms = (t_other - t_raise) / 1e6
      assert.is_true(ms < 500, ("the other callback ran %.0f ms later"):format(ms))
    end
    h.close()
    uv.run("nowait")
    assert.equal(5, #errors)
    assert.equal("deliberate", errors[1])
  end)

  it("runs many streams at once and cancels one, closing its connection", function()
    local c = client()
    local h = venice.use_uv(uv)
    local N, finals, dones = 12, {}, {}
    for i = 1, N do
      c.chat.completions.stream({ model = "m", messages = { { role = "user", content = "n" .. i } } }, {
        headers = { ["x-mock-fault"] = '{"chunk_delay_ms":10}' },
        on_done = function(e, f)
          dones[i] = (dones[i] or 0) + 1
          finals[i] = not e and f.choices[1].message.content or tostring(e)
        end,
      })
    end
    local cancelled_chunks = 0
    local victim = c.chat.completions.stream({ model = "m", messages = msgs }, {
      headers = { ["x-mock-fault"] = '{"chunk_delay_ms":10,"chunks":500}' },
      on_chunk = function() cancelled_chunks = cancelled_chunks + 1 end,
    })
    run_until(function() return cancelled_chunks >= 3 end, 3000)
    assert.is_true(victim:cancel())
    local at_cancel = cancelled_chunks
    local all = run_until(function()
      for i = 1, N do if not finals[i] then return false end end
      return true
    end, 5000)
    h.close()
    uv.run("nowait")
    assert.is_true(all)
    for i = 1, N do
      assert.equal(1, dones[i])
      assert.matches("You said: n" .. i .. "$", finals[i])
    end
    assert.equal(at_cancel, cancelled_chunks)
    local _, err = victim:result()
    assert.equal("cancelled", err.code)
    local seen = false
    for _ = 1, 50 do
      for _, d in ipairs(mock.stats().disconnects) do
        if tostring(d.path):find("/chat/completions", 1, true) then seen = true end
      end
      if seen then break end
      venice.sleep(0.02)
    end
    assert.is_true(seen, "the server saw no disconnect")
  end)
end)

describe("the loop hook", function()
  -- Last in this file: it replaces the hook venice.use_uv installs, and removes it at the end.
  it("keeps the engine sound when the collector runs while libcurl calls the hook", function()
    local url = mock.url()
    local calls = 0
    core.set_loop_hook(function()
      local junk = {}
      for i = 1, 200 do junk[i] = { i, tostring(i) } end   -- garbage: collection steps would run here
      calls = calls + #junk / 200
    end)
    local ok, err = pcall(function()
      for _ = 1, 15 do
        for _ = 1, 8 do   -- transfers dropped while running: their finalizers close them
          core.request { url = url .. "/chat/completions", method = "POST", sse = true,
            headers = { "Content-Type: application/json", "Authorization: Bearer test-key",
              'x-mock-fault: {"chunk_delay_ms":50}' },
            body = '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}' }
        end
        for _ = 1, 10 do
          core.socket_action(-1, 0)
          core.step(2)
        end
      end
    end)
    core.set_loop_hook(nil)
    collectgarbage()
    assert.is_true(ok, tostring(err))
    assert.is_true(calls > 0)
    local res = client().models.list()   -- the engine still works
    assert.is_table(res)
  end)
end)
