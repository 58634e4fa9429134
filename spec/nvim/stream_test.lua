-- Headless Neovim test: Neovim's own loop drives venice-lua (venice.use_uv(vim.loop)).
--
--   make LUA_VERSION=jit
--   nvim --headless -u NONE -i NONE -c "luafile spec/nvim/stream_test.lua" </dev/null
--
-- Against the local server at $VENICE_MOCK_URL (make test sets it; without it the test starts
-- bin/venice-mock itself). Checks that a 10 ms timer keeps ticking while a stream runs, that
-- callbacks run outside fast-event context and on_done fires once, that a cancelled stream closes
-- its connection (the server sees the disconnect), several streams at once, and the example
-- plugin (:VeniceAsk, :VeniceCancel). Prints one line per check and ends with
-- "nvim: N passed, N failed"; exits 0 (:qa!) or 1 (:cq). A watchdog ends it after 20 s.

-- luacheck: globals vim

local uv = vim.loop
local out = io.stdout

local function say(...)
  out:write(table.concat({ ... }))
  out:write("\n")
  out:flush()
end

local src = debug.getinfo(1, "S").source
local root = vim.fn.fnamemodify(src:sub(1, 1) == "@" and src:sub(2) or "spec/nvim/stream_test.lua", ":p:h:h:h")
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/jit/?.so;" .. package.cpath

local passed, failed = 0, 0
local mock_proc

local function check(name, ok, detail)
  if ok then
    passed = passed + 1
    say("ok   ", name)
  else
    failed = failed + 1
    say("FAIL ", name, detail and (": " .. tostring(detail)) or "")
  end
  return ok
end

local finished = false
local function finish()
  if finished then return end
  finished = true
  if mock_proc then pcall(uv.process_kill, mock_proc, "sigterm") end
  say(("nvim: %d passed, %d failed"):format(passed, failed))
  vim.cmd(failed == 0 and passed > 0 and "qa!" or "cq")
end

-- The watchdog fires in a fast callback and exits from there: it works even if the editor's
-- main loop were blocked.
local watchdog = uv.new_timer()
watchdog:start(20000, 0, function()
  failed = failed + 1
  say("FAIL the test did not finish within 20 s")
  say(("nvim: %d passed, %d failed"):format(passed, failed))
  if mock_proc then pcall(uv.process_kill, mock_proc, "sigterm") end
  os.exit(1)
end)

local function ms_since(t0) return (uv.hrtime() - t0) / 1e6 end

-- Inside the main coroutine: lets the editor run until cond() holds or ms pass.
local function wait_for(cond, ms)
  local co = coroutine.running()
  local deadline = uv.hrtime() + ms * 1e6
  local function poll()
    if cond() or uv.hrtime() > deadline then
      local ok, err = coroutine.resume(co)
      if not ok then
        check("no error in the test body", false, err)
        finish()
      end
    else
      vim.defer_fn(poll, 5)
    end
  end
  vim.defer_fn(poll, 5)
  coroutine.yield()
  return cond()
end

local function sleep(ms)
  local t0 = uv.hrtime()
  wait_for(function() return ms_since(t0) >= ms end, ms + 1000)
end

-- The local server: $VENICE_MOCK_URL, or one started here.
local function server_url()
  local env = os.getenv("VENICE_MOCK_URL")
  if env and env ~= "" then return (env:gsub("/+$", "")) end
  local port_file = os.tmpname()
  os.remove(port_file)
  local handle
  handle = uv.spawn("lua5.4", {
    args = { root .. "/bin/venice-mock", "--port", "0", "--port-file", port_file, "--quiet",
      "--parent-pid", tostring(vim.fn.getpid()) },
  }, function() if handle then handle:close() end end)
  if not handle then return nil end
  mock_proc = handle
  local port
  vim.wait(10000, function()
    local f = io.open(port_file, "r")
    if f then
      port = tonumber((f:read("*a") or ""):match("^(%d+)%s*$"))
      f:close()
    end
    return port ~= nil
  end, 20)
  os.remove(port_file)
  return port and ("http://127.0.0.1:" .. port .. "/api/v1")
end

local function main()
  local url = server_url()
  if not check("the local server is reachable", url ~= nil, "set VENICE_MOCK_URL or install lua5.4 with luv") then
    return
  end
  local origin = url:match("^(%a+://[^/]+)")

  local ok, venice = pcall(require, "venice")
  if not check("require 'venice' with build/jit/venice/core.so", ok, venice) then return end

  local h = venice.use_uv(uv)
  check("venice.use_uv(vim.loop) returns a handle", type(h) == "table" and type(h.close) == "function")
  check("venice.use_uv again returns the same handle", venice.use_uv(uv) == h)

  local c = venice.new { base_url = url, api_key = "nvim-test-key", max_retries = 0 }
  local ctl = venice.new { base_url = origin, api_key = "nvim-test-key", max_retries = 0 }
  local msgs = { { role = "user", content = "hello from neovim" } }

  -- The server's counters, through the SDK itself (the control routes live at /_mock/).
  local function stats()
    local got, res, err = false, nil, nil
    ctl.request({ method = "GET", path = "/_mock/stats" }, function(e, r) got, res, err = true, r, e end)
    wait_for(function() return got end, 5000)
    return res, err
  end

  -- faults left queued by an earlier suite would get in the way
  local reset_done, reset_err = false, nil
  ctl.request({ method = "POST", path = "/_mock/reset" }, function(e) reset_done, reset_err = true, e end)
  wait_for(function() return reset_done end, 5000)
  check("POST /_mock/reset through client.request", reset_done and reset_err == nil, reset_err)

  -- {{ 1. a stream while a 10 ms timer keeps firing
  local ticks, last_tick, max_gap = 0, nil, 0
  local ticker = uv.new_timer()
  ticker:start(10, 10, function()
    local now = uv.hrtime()
    if last_tick then max_gap = math.max(max_gap, (now - last_tick) / 1e6) end
    last_tick = now
    ticks = ticks + 1
  end)

  local chunks, dones, fast, first_chunk_ms = 0, 0, {}, nil
  local final, stream_err, end_ticks, end_ms
  local t0, ticks0 = uv.hrtime(), ticks
  local task = c.chat.completions.stream({ model = "m", messages = msgs }, {
    headers = { ["x-mock-fault"] = '{"chunk_delay_ms":20,"chunks":40}' },
    on_chunk = function()
      chunks = chunks + 1
      first_chunk_ms = first_chunk_ms or ms_since(t0)
      if vim.in_fast_event() then fast.on_chunk = (fast.on_chunk or 0) + 1 end
    end,
    on_done = function(err, res)
      dones = dones + 1
      if vim.in_fast_event() then fast.on_done = (fast.on_done or 0) + 1 end
      stream_err, final = err, res
      end_ticks, end_ms = ticks, ms_since(t0)
    end,
  })
  local started_ms = ms_since(t0)
  check("stream() with on_chunk returns a task at once", type(task) == "table" and started_ms < 200,
    ("%.0f ms"):format(started_ms))
  wait_for(function() return dones > 0 end, 8000)
  check("the stream finished", dones > 0 and end_ms ~= nil)
  if end_ms then
    local expected = math.floor(end_ms / 10)
    local got = end_ticks - ticks0
    say(("     stream: %d chunks in %.0f ms, first after %.0f ms; timer: %d of %d ticks, longest gap %.1f ms")
      :format(chunks, end_ms, first_chunk_ms or -1, got, expected, max_gap))
    check("the stream lasted long enough to measure (0.5 s to 5 s)", end_ms >= 500 and end_ms < 5000,
      ("%.0f ms"):format(end_ms))
    check("at least 80% of the 10 ms ticks arrived during the stream", got >= 0.8 * expected,
      ("%d of %d"):format(got, expected))
    check("no tick waited more than 400 ms", max_gap < 400, ("%.0f ms"):format(max_gap))
  end
  check("no error", stream_err == nil, stream_err)
  check("every chunk arrived (40 pieces)", chunks >= 40, chunks)
  local content = final and final.choices and final.choices[1] and final.choices[1].message.content
  check("on_done got the collected answer", type(content) == "string"
    and content:find("Hello from the local Venice server", 1, true) ~= nil, content)
  check("the task's result is the answer", task:done() and (task:result()) == final)
  sleep(100)
  check("on_done fired exactly once", dones == 1, dones)
  check("on_chunk and on_done ran outside fast-event context", next(fast) == nil,
    ("in fast context: %d on_chunk, %d on_done"):format(fast.on_chunk or 0, fast.on_done or 0))
  ticker:stop()
  ticker:close()
  -- }}

  -- {{ 2. the callback form
  local got, cb_err, cb_res, cb_fast, calls = false, nil, nil, nil, 0
  c.models.list(nil, nil, function(err, res)
    calls = calls + 1
    got, cb_err, cb_res, cb_fast = true, err, res, vim.in_fast_event()
  end)
  wait_for(function() return got end, 5000)
  check("callback form: models.list answered", got and cb_err == nil and type(cb_res) == "table"
    and type(cb_res.data) == "table", cb_err)
  check("callback form: the callback ran once, outside fast-event context", calls == 1 and cb_fast == false)

  -- a callback that raises (Neovim reports it) leaves the other tasks running. (After showing an
  -- error message Neovim may hold scheduled callbacks for about a second, so no tight timing.)
  local t_raise, t_other
  local slow = { headers = { ["x-mock-fault"] = '{"delay_ms":100}' } }
  c.models.list(nil, slow, function()
    t_raise = uv.hrtime()
    error("a deliberate error from a callback (part of the test)", 0)
  end)
  c.models.list(nil, slow, function() t_other = uv.hrtime() end)
  wait_for(function() return t_raise and t_other end, 4000)
  check("a raising callback does not stop the others", t_raise and t_other,
    t_raise and "the other callback never ran" or "the raising callback never ran")
  if t_raise and t_other then say(("     the other callback ran %.0f ms later"):format((t_other - t_raise) / 1e6)) end
  -- }}

  -- {{ 3. cancelling a stream mid-way closes its connection
  local before, serr = stats()
  check("GET /_mock/stats through client.request", type(before) == "table"
    and type(before.disconnects) == "table", serr)
  before = before or { disconnects = {} }
  local n0 = #before.disconnects
  local chunks2, dones2 = 0, 0
  local task2 = c.chat.completions.stream({ model = "m", messages = msgs }, {
    headers = { ["x-mock-fault"] = '{"chunk_delay_ms":20,"chunks":300}' },
    on_chunk = function() chunks2 = chunks2 + 1 end,
    on_done = function() dones2 = dones2 + 1 end,
  })
  wait_for(function() return chunks2 >= 5 end, 5000)
  check("the second stream started", chunks2 >= 5, chunks2)
  local tc = uv.hrtime()
  check("task:cancel() returns true", task2:cancel() == true)
  local at_cancel = chunks2
  local r1, r2 = task2:result()
  check("the cancelled task is done with a 'cancelled' error", task2:done() and r1 == nil
    and type(r2) == "table" and r2.code == "cancelled", r2)
  local seen, delay_ms
  while not seen and ms_since(tc) < 1000 do
    local s = stats()
    if s and #s.disconnects > n0 then
      seen, delay_ms = s.disconnects[#s.disconnects], ms_since(tc)
    else
      sleep(20)
    end
  end
  check("the server saw the disconnect within 1 s", seen ~= nil,
    seen == nil and "no disconnect recorded" or nil)
  if seen then
    say(("     disconnect seen after %.0f ms (path %s, phase %s, %s events sent)")
      :format(delay_ms, tostring(seen.path), tostring(seen.phase), tostring(seen.events)))
    check("the disconnect is the chat stream's", tostring(seen.path):find("/chat/completions", 1, true) ~= nil,
      seen.path)
  end
  sleep(150)
  check("no chunk arrived after the cancel", chunks2 == at_cancel, chunks2 - at_cancel)
  check("on_done did not fire twice for the cancelled stream", dones2 <= 1, dones2)
  check("task:cancel() on a finished task returns false", task2:cancel() == false and task:cancel() == false)
  -- }}

  -- {{ 3b. a cancel from inside a fast libuv callback: on_done still runs outside it
  local fast_done, fast_err, fast_in = 0, nil, nil
  local task3 = c.chat.completions.stream({ model = "m", messages = { { role = "user", content = "cancel me" } } }, {
    headers = { ["x-mock-fault"] = '{"chunk_delay_ms":50,"chunks":100}' },
    on_done = function(err)
      fast_done = fast_done + 1
      fast_err, fast_in = err, vim.in_fast_event()
    end,
  })
  local killer = uv.new_timer()
  killer:start(120, 0, function() killer:close(); task3:cancel() end)   -- a fast callback
  wait_for(function() return fast_done > 0 end, 3000)
  check("a cancel made in a fast callback reports once, with 'cancelled', outside fast context",
    fast_done == 1 and fast_err and fast_err.code == "cancelled" and fast_in == false,
    ("%d calls, %s, fast=%s"):format(fast_done, tostring(fast_err and fast_err.code), tostring(fast_in)))
  -- }}

  -- {{ 4. several streams at once
  local N, done_n, fast_n, per = 8, 0, 0, {}
  local t4 = uv.hrtime()
  for i = 1, N do
    per[i] = 0
    c.chat.completions.stream({ model = "m", messages = { { role = "user", content = "stream " .. i } } }, {
      headers = { ["x-mock-fault"] = '{"chunk_delay_ms":15}' },
      on_done = function(err, res)
        per[i] = per[i] + 1
        if vim.in_fast_event() then fast_n = fast_n + 1 end
        local text = not err and res.choices[1].message.content or ""
        if text:find("You said: stream " .. i, 1, true) then done_n = done_n + 1 end
      end,
    })
  end
  wait_for(function() return done_n == N end, 8000)
  check(("%d streams at once all answered correctly"):format(N), done_n == N, done_n)
  local once = true
  for i = 1, N do if per[i] ~= 1 then once = false end end
  check("each on_done fired once, outside fast-event context", once and fast_n == 0)
  say(("     %d streams in %.0f ms"):format(N, ms_since(t4)))
  -- }}

  -- {{ 5. the example plugin: :VeniceAsk and :VeniceCancel
  vim.opt.runtimepath:append(root .. "/examples/nvim")
  vim.cmd("runtime plugin/venice.lua")
  check("the plugin defines :VeniceAsk and :VeniceCancel",
    vim.fn.exists(":VeniceAsk") == 2 and vim.fn.exists(":VeniceCancel") == 2)
  local ask = require("venice_ask")
  ask.setup { model = "m", client = { base_url = url, api_key = "nvim-test-key", max_retries = 0 } }
  vim.cmd("VeniceAsk what is a gondola?")
  check(":VeniceAsk returns at once, the answer still streaming", ask.status().busy)
  wait_for(function() return not ask.status().busy end, 5000)
  local buf = ask.status().buf
  local lines = buf and vim.api.nvim_buf_get_lines(buf, 0, -1, false) or {}
  local text = table.concat(lines, "\n")
  check("the answer buffer holds the question", lines[1] == "> what is a gondola?", lines[1])
  check("the answer streamed into the buffer",
    text:find("Hello from the local Venice server. You said: what is a gondola?", 1, true) ~= nil, text)
  check("the buffer ends with the done note", (lines[#lines] or ""):find("^%[done in") ~= nil, lines[#lines])
  check("the buffer is shown in a window", buf and vim.fn.bufwinid(buf) ~= -1)

  ask.setup { client = { base_url = url, api_key = "nvim-test-key", max_retries = 0,
    headers = { ["x-mock-fault"] = '{"chunk_delay_ms":20,"chunks":300}' } } }
  vim.cmd("VeniceAsk a long answer please")
  wait_for(function()
    local l = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    return #table.concat(l, "\n") > 60
  end, 5000)
  vim.cmd("VeniceCancel")
  check(":VeniceCancel stops the answer", not ask.status().busy)
  local after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  sleep(150)
  local later = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  check("the buffer ends with the cancelled note", after:find("%[cancelled%]$") ~= nil, after:sub(-80))
  check("nothing was appended after the cancel", later == after)
  -- }}

  -- {{ warnings: with no log function, a deprecated model's notice goes to vim.notify (scheduled,
  -- level WARN, outside fast callbacks), once per client and model
  do
    local notes = {}
    local real_notify = vim.notify
    vim.notify = function(msg, level)
      notes[#notes + 1] = { msg = msg, level = level, fast = vim.in_fast_event() }
    end
    local c1 = venice.new { base_url = url, api_key = "nvim-test-key", max_retries = 0 }
    local c2 = venice.new { base_url = url, api_key = "nvim-test-key", max_retries = 0 }
    local done = 0
    local dep = { model = "deprecated-model", messages = msgs }
    for _, cl in ipairs { c1, c1, c2 } do
      cl.chat.completions.create(dep, function() done = done + 1 end)
    end
    c1.chat.completions.stream(dep, { on_done = function() done = done + 1 end })
    c1.chat.completions.create({ model = "other-deprecated-model", messages = msgs }, function() done = done + 1 end)
    wait_for(function() return done == 5 end, 5000)
    sleep(100)
    vim.notify = real_notify
    check("deprecation warnings reach vim.notify once per client and model", #notes == 3, #notes)
    local all_warn, none_fast, named = true, true, 0
    for _, n in ipairs(notes) do
      all_warn = all_warn and n.level == vim.log.levels.WARN
      none_fast = none_fast and not n.fast
      if n.msg:find("deprecated-model", 1, true) then named = named + 1 end
    end
    check("... at level WARN", all_warn)
    check("... outside fast callbacks", none_fast)
    check("... naming the model", named == 3, named)
  end
  -- }}
end

local co = coroutine.create(function()
  local ok, err = xpcall(main, debug.traceback)
  check("the test body ran to its end", ok, err)
  finish()
end)
local ok, err = coroutine.resume(co)
if not ok then
  check("the test body started", false, err)
  finish()
end
