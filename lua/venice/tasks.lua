-- venice.tasks: many requests and streams at once in one Lua state, without threads.
--
-- A task is a coroutine. Inside one, every wait for the network yields to the scheduler instead
-- of blocking; the scheduler drives libcurl's multi handle (core.step) and resumes each task
-- whose transfer has something for it. Outside a task the same waits block on core.step.

local core = require "venice.core"

local M = {}

--{==================== the driver ====================
--
-- How the scheduler reaches the event loop. The default drives libcurl itself (core.step); an
-- event loop that drives libcurl (venice.uv) installs its own with tasks.set_driver:
--
--   step(ms) -> running, activity   drive the engine for at most ms milliseconds (what blocking
--                                   waits outside a task, venice.poll and venice.run call)
--   on_wait(task)                   a task has just started waiting (a transfer or a deadline)
--   in_fast() -> boolean            whether the caller is inside a callback where a task's
--                                   on_done must not run (Neovim's fast libuv callbacks)
--   defer(fn)                       runs fn later, outside such a callback (vim.schedule)
--
-- Fields left out take the default's. set_driver(nil) restores the default.

local function no_op() end
local DEFAULT = {
  step = core.step,   -- step(ms) -> running, activity
  on_wait = no_op,
  in_fast = function() return false end,
  defer = function(fn) fn() end,
}
local driver = DEFAULT
local complete = setmetatable({ [DEFAULT] = true }, { __mode = "k" })   -- drivers made here

--- tasks.set_driver(d | nil) -> the driver it replaces.
function M.set_driver(d)
  if d ~= nil and type(d) ~= "table" then error("venice.tasks.set_driver: a table or nil is required", 2) end
  local previous = driver
  if d == nil then
    driver = DEFAULT
  elseif complete[d] then   -- one set_driver or driver() returned: put back as it is
    driver = d
  else
    local full = {}
    for k, f in pairs(DEFAULT) do
      local v = d[k]
      if v ~= nil and type(v) ~= "function" then
        error(("venice.tasks.set_driver: %s must be a function"):format(k), 2)
      end
      full[k] = v or f
    end
    for k in pairs(d) do
      if DEFAULT[k] == nil then error(("venice.tasks.set_driver: unknown field '%s'"):format(tostring(k)), 2) end
    end
    complete[full] = true
    driver = full
  end
  return previous
end

--- tasks.driver() -> the driver in use.
function M.driver()
  return driver
end

--}====================

local Task = { __name = "venice.Task" }
local TaskMethods = {}
Task.__index = TaskMethods

local WAIT, SLEEP, ENDED = {}, {}, {}   -- what a task yields: a transfer, a deadline, its own end
local by_co = setmetatable({}, { __mode = "k" })   -- coroutine -> task
-- The tasks not finished, in spawn order. A task that finishes leaves `false` in its place (its
-- index is task._i), so that finishing costs the same however many tasks run; once the gaps
-- outnumber the tasks, the list is made again without them (a new table: a wake going through the
-- old one goes on undisturbed).
local live = {}
local nlive, gaps = 0, 0
local co_close = rawget(coroutine, "close")   -- Lua 5.4
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

-- The task running now, if the caller is a task's own coroutine (not a coroutine of the user's
-- made inside a task, which must block rather than yield into foreign hands).
function M.current()
  local co = coroutine.running()
  return co and by_co[co] or nil
end

local function finish(task, ok, err)
  task.status = "done"
  task.waiting, task.transfer, task.deadline = nil, nil, nil
  local i = task._i
  if live[i] == task then
    live[i] = false
    nlive, gaps = nlive - 1, gaps + 1
    if gaps > 16 and gaps > nlive then
      local list, n = {}, 0
      for j = 1, #live do
        local t = live[j]
        if t then
          n = n + 1
          list[n], t._i = t, n
        end
      end
      live, gaps = list, 0
    end
  end
  if ok then
    task.results = task._r or { n = 0 }
  else
    if type(err) ~= "table" then
      err = core.error("Error", { message = tostring(err), code = "task_error",
        traceback = debug.traceback(task.co) })
    end
    task.results = { nil, err, n = 2 }
  end
  task._r = nil
  local cb = task.on_done
  if cb then
    task.on_done = nil
    if driver.in_fast() then
      driver.defer(function() cb(task) end)
    else
      cb(task)
    end
  end
end

-- Runs the task until its next wait, and notes what it waits for.
local function resume(task)
  if task.status ~= "running" then return end
  local ok, a, b, c = coroutine.resume(task.co)
  if a == ENDED and task.status ~= "running" then
    -- it cancelled itself: its function ends where it stands (to-be-closed variables close)
    if co_close then co_close(task.co) end
    return
  end
  if not ok then return finish(task, false, a) end
  if coroutine.status(task.co) == "dead" then return finish(task, true) end
  if a == WAIT then
    -- the transfer's ready method, looked up once per wait rather than at every wake
    task.waiting, task.transfer, task.what, task.deadline, task._ready = "transfer", b, c, nil, b.ready
  elseif a == SLEEP then
    task.waiting, task.transfer, task.deadline = "sleep", nil, b
  else   -- a bare coroutine.yield() from user code: run it again on the next step
    task.waiting, task.transfer, task.deadline = "sleep", nil, 0
  end
  local on_wait = driver.on_wait
  if on_wait ~= no_op then on_wait(task) end
end

--- Starts fn(...) as a task and runs it until its first wait. Returns the task.
function M.spawn(fn, ...)
  assert(type(fn) == "function", "venice.spawn: a function is required")
  local i = #live + 1
  -- made with room for the fields a task gets while it runs
  local task = setmetatable({ status = "running", _i = i, co = nil, waiting = nil, transfer = nil,
    what = nil, deadline = nil, _r = nil, results = nil, on_done = nil }, Task)
  local co
  if select("#", ...) == 0 then
    co = coroutine.create(function() task._r = pack(fn()) end)
  else
    local args = pack(...)
    co = coroutine.create(function() task._r = pack(fn(unpack(args, 1, args.n))) end)
  end
  task.co = co
  by_co[co] = task
  live[i] = task
  nlive = nlive + 1
  resume(task)
  return task
end

-- PUC Lua 5.1 cannot yield from a for loop's iterator (`for chunk in stream`) or through a C
-- function (pcall). Rather than the interpreter's "attempt to yield across metamethod/C-call
-- boundary" (or blocking every other task), a task waiting there gets an error that says what to
-- do. LuaJIT and Lua 5.2+ yield there.
local function check_yield() end
if _VERSION == "Lua 5.1" and not rawget(_G, "jit") then
  local getinfo = debug.getinfo
  check_yield = function()
    for level = 3, 250 do
      local info = getinfo(level, "nS")
      if not info then return end
      if info.what == "C" or info.name == "(for generator)" then
        error(core.error("Error", { code = "cannot_yield", message = "on Lua 5.1 a task cannot wait "
          .. "inside a for loop's iterator or a pcall: read a stream with stream:read() in a while loop "
          .. "(or collect(), on_chunk)" }), 0)
      end
    end
  end
end

--- Waits until the transfer is ready for `what`: yields inside a task, blocks outside.
function M.await(t, what)
  if t:ready(what) then return end
  local co = coroutine.running()   -- M.current(), without its call
  local task = co and by_co[co]
  if task then
    check_yield()
    coroutine.yield(WAIT, t, what)
  else
    repeat driver.step(1000) until t:ready(what)
  end
end

--- Sleeps `seconds`: yields inside a task (other tasks go on), drives the engine outside.
function M.sleep(seconds)
  local deadline = core.now() + seconds
  if M.current() then
    check_yield()
    coroutine.yield(SLEEP, deadline)
    return
  end
  while true do
    local left = deadline - core.now()
    if left <= 0 then return end
    driver.step(left * 1000)
  end
end

--- Resumes every task whose wait is over; returns how many were resumed.
local function wake()
  local now, n = nil, 0
  local list = live   -- the tasks spawned while it runs are not in this round
  for i = 1, #list do
    local task = list[i]
    if task and task.status == "running" then
      local go
      if task.waiting == "transfer" then
        go = task._ready(task.transfer, task.what)
      else
        now = now or core.now()
        go = (task.deadline or 0) <= now
      end
      if go then
        n = n + 1
        resume(task)
      end
    end
  end
  return n
end

--- Milliseconds until the nearest sleeping task wakes (nil when none sleeps).
local function next_deadline_ms()
  local best
  for i = 1, #live do
    local task = live[i]
    if task and task.waiting == "sleep" then
      local d = task.deadline or 0
      if not best or d < best then best = d end
    end
  end
  if best then
    local ms = (best - core.now()) * 1000
    return ms > 0 and ms or 0
  end
end

--- One non-blocking (timeout 0) or bounded step: drives the network, resumes the tasks whose wait
--- is over, and returns the number of tasks still running.
function M.poll(timeout)
  assert(not M.current(), "venice.poll cannot be called from inside a task")
  local ms = (timeout or 0) * 1000
  if wake() == 0 and nlive > 0 then
    local d = next_deadline_ms()
    if d and d < ms then ms = d end
    driver.step(ms)
    wake()
  end
  return nlive
end

--- Runs until every task is done.
function M.run()
  assert(not M.current(), "venice.run cannot be called from inside a task")
  while nlive > 0 do
    if wake() == 0 then
      local ms = next_deadline_ms() or 1000
      if ms > 1000 then ms = 1000 end
      driver.step(ms)
    end
  end
end

M.wake = wake
M.next_deadline_ms = next_deadline_ms

function M.count()
  return nlive
end

--- task:done() -> whether it finished
function TaskMethods:done()
  return self.status ~= "running"
end

--- task:result() -> the task's return values, or nil, err. Waits (blocking, or yielding inside
--- another task) when it has not finished.
function TaskMethods:result()
  while self.status == "running" do
    if M.current() then
      coroutine.yield(SLEEP, 0)
    else
      M.poll(1)
    end
  end
  return unpack(self.results, 1, self.results.n)
end

--- task:cancel(): aborts its transfer at once; the task finishes with a cancelled error. Called
--- from inside the task's own function, that function ends there (cancel does not return).
function TaskMethods:cancel()
  if self.status ~= "running" then return false end
  if self.transfer then self.transfer:cancel() end
  self.cancelled = true
  local err = core.error("Error", { message = "the task was cancelled", code = "cancelled" })
  finish(self, false, err)
  if coroutine.running() == self.co then
    coroutine.yield(ENDED)   -- never resumed: resume() sees ENDED and closes the coroutine
    error("venice: internal: a cancelled task was resumed")
  end
  return true
end

M.Task = Task
M.TaskMethods = TaskMethods
return M
