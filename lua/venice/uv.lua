-- venice.uv: lets a libuv loop (Neovim's vim.uv / vim.loop, or luv) drive every transfer and task.
--
--   venice.use_uv(vim.uv or vim.loop)
--
-- libcurl says which sockets to watch and when its timer is due (core.set_loop_hook); a poll
-- handle per socket and one timer call core.socket_action when the loop sees activity. Tasks are
-- then resumed through `schedule` (vim.schedule in Neovim), so user code and callbacks run where
-- the editor API is allowed, never inside a fast libuv callback. Nothing ever blocks the loop.
--
-- What runs inside libuv callbacks (Neovim's "fast" context) is only this file and the C core:
-- core.socket_action, poll and timer handles, and `schedule`. The hook itself is called from
-- inside libcurl, so it does nothing but start and stop handles.

local core = require "venice.core"
local tasks = require "venice.tasks"

local M = {}

-- libcurl announces a socket only when what it wants from it changes, so the sockets it watches
-- and its timer are mirrored here for the life of the Lua state, attached or not: a loop attached
-- later (or again, after handle.close) starts watching exactly what libcurl expects to be watched.
local wanted = {}     -- fd -> 1 (in), 2 (out), 3 (both)
local timer_due       -- core.now() seconds when libcurl's timer is due; nil when unset
local attached        -- the attachment receiving libcurl's news
local hooked = false

local function hook(kind, a, b)
  if kind == "socket" then
    if b == 4 then wanted[a] = nil else wanted[a] = b end
    if attached then attached.socket(a, b) end
  else
    timer_due = a >= 0 and core.now() + a / 1000 or nil
    if attached then attached.timer(a) end
  end
end

local function floor_ms(ms)
  ms = math.floor(ms + 0.5)
  return ms < 1 and 1 or ms
end

local SAFETY_MS = 1000   -- while tasks live, a run at least this often (as venice.run does)

--- Attaches the engine to the loop `uv`; returns a handle with :close() to detach.
--- opts.schedule(fn) runs fn outside fast callbacks (default: vim.schedule in Neovim, else at once).
function M.attach(uv, opts)
  if type(uv) ~= "table" or type(uv.new_timer) ~= "function" or type(uv.new_poll) ~= "function" then
    error("venice.use_uv: a luv module is required (vim.uv or vim.loop in Neovim, require 'luv' elsewhere)", 3)
  end
  if attached then
    if attached.uv ~= uv then error("venice.use_uv: already attached to another loop", 3) end
    return attached.handle
  end
  opts = opts or {}
  if opts.schedule ~= nil and type(opts.schedule) ~= "function" then
    error("venice.use_uv: opts.schedule must be a function", 3)
  end
  local nvim = rawget(_G, "vim")
  local schedule = opts.schedule or (nvim and nvim.schedule) or function(f) f() end
  local new_poll = uv.new_socket_poll or uv.new_poll

  local polls = {}                -- fd -> poll handle
  local on_poll = {}              -- fd -> its callback (made once per socket)
  local curl_timer = uv.new_timer()
  local wake_timer = uv.new_timer()
  local run_pending = false
  local soon = false              -- a run is due at the next turn of the loop
  local idle_next                 -- seconds to the nearest idle-timeout deadline
  local att = { uv = uv }
  local handle = {}
  att.handle = handle
  local arm

  local function request_run()
    if not run_pending then
      run_pending = true
      schedule(att.run)
    end
  end

  -- Resumes the tasks whose wait is over, outside fast callbacks. A callback raising (an
  -- on_done of the callback form runs here) must not leave the other tasks unattended.
  function att.run()
    run_pending = false
    if attached ~= att then return end
    local ok, err = pcall(tasks.wake)
    arm()
    if not ok then
      request_run()
      error(err, 0)
    end
  end

  local function act(fd, ev)
    if attached ~= att then return end
    local _, activity, idle = core.socket_action(fd, ev)
    idle_next = idle
    if activity then request_run() end
    arm()
  end

  -- The wake timer: the nearest sleeping task or idle-timeout deadline, and while tasks live at
  -- most SAFETY_MS away (a task whose transfer was closed from elsewhere still gets resumed).
  arm = function()
    if attached ~= att then return end
    local ms = tasks.next_deadline_ms()
    if idle_next then
      local i = idle_next * 1000 + 1
      if not ms or i < ms then ms = i end
    end
    if tasks.count() > 0 and (not ms or ms > SAFETY_MS) then ms = SAFETY_MS end
    if soon then ms = 0 end
    wake_timer:stop()
    if ms then
      wake_timer:start(floor_ms(ms), 0, function()
        soon = false
        act(-1, 0)
        request_run()
      end)
    end
  end

  local function poll_cb(fd)
    local cb = on_poll[fd]
    if not cb then
      cb = function(err, events)
        local ev = 0
        if err then
          ev = 4
        elseif events then
          if events:find("r", 1, true) then ev = ev + 1 end
          if events:find("w", 1, true) then ev = ev + 2 end
        end
        act(fd, ev)
      end
      on_poll[fd] = cb
    end
    return cb
  end

  -- libcurl is about to close a socket (4) or wants other events from it. Called from inside
  -- libcurl: only handles are touched here.
  function att.socket(fd, what)
    local p = polls[fd]
    if what == 4 then   -- stop watching before the socket is closed (its number may come back)
      if p then
        polls[fd], on_poll[fd] = nil, nil
        p:stop()
        p:close()
      end
    else
      if not p then
        p = new_poll(fd)
        polls[fd] = p
      end
      p:start(what == 1 and "r" or what == 2 and "w" or "rw", poll_cb(fd))
    end
  end

  function att.timer(ms)
    curl_timer:stop()
    if ms >= 0 then
      curl_timer:start(ms, 0, function() act(-1, 0) end)
    end
  end

  -- A wait outside any task (a blocking call made while attached) drives the engine itself and
  -- takes the news of activity with it: the tasks get a run at the loop's next turn (not from
  -- inside that wait, which may be deep in someone else's coroutine).
  local step = core.step
  local function step_and_tell(ms)
    local running, activity = step(ms)
    if activity and attached == att then
      soon = true
      arm()
    end
    return running, activity
  end

  --- handle:close(): detaches; the engine goes back to venice.run / venice.poll.
  function handle.close()
    if attached ~= att then return end
    attached = nil
    tasks.on_wait, tasks.in_fast, tasks.defer = nil, nil, nil
    if core.step == step_and_tell then core.step = step end
    for fd, p in pairs(polls) do
      polls[fd] = nil
      p:stop()
      p:close()
    end
    curl_timer:stop()
    curl_timer:close()
    wake_timer:stop()
    wake_timer:close()
  end
  handle.uv = uv

  attached = att
  if not hooked then
    core.set_loop_hook(hook)
    hooked = true
  end
  core.step = step_and_tell
  tasks.on_wait = function() arm() end
  -- a task finished from inside a fast callback (task:cancel() there) reports through schedule
  tasks.in_fast = nvim and nvim.in_fast_event or nil
  tasks.defer = schedule
  -- what libcurl already expects to be watched (from an earlier attachment)
  for fd, what in pairs(wanted) do att.socket(fd, what) end
  if timer_due then
    local ms = (timer_due - core.now()) * 1000
    att.timer(ms > 0 and math.floor(ms) or 0)
  end
  act(-1, 0)
  request_run()   -- tasks that became ready while nothing drove them
  return handle
end

return M
