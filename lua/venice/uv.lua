-- venice.uv: lets a libuv loop (Neovim's vim.uv / vim.loop, or luv) drive every transfer and task.
--
--   local handle = venice.use_uv(vim.uv or vim.loop)
--   ...
--   handle:close()          -- back to venice.run / venice.poll
--
-- libcurl says which sockets to watch and when its timer is due (core.set_loop_hook); a poll
-- handle per socket and one timer call core.socket_action when the loop sees activity. Tasks are
-- then resumed through `schedule` (vim.schedule in Neovim), so user code and callbacks run where
-- the editor API is allowed, never inside a fast libuv callback. Nothing ever blocks the loop.
--
-- The scheduler is reached through its driver interface (tasks.set_driver): an attachment
-- installs one while it lasts and puts the previous one back when it closes.
--
-- What runs inside libuv callbacks (Neovim's "fast" context) is only this file and the C core:
-- core.socket_action, poll and timer handles, and `schedule`. The hook itself is called from
-- inside libcurl, so it does nothing but start and stop handles.

local core = require "venice.core"
local tasks = require "venice.tasks"

local M = {}

-- libcurl announces a socket only when what it wants from it changes, so the sockets it watches
-- and its timer are mirrored here for the life of the Lua state, attached or not: a loop attached
-- later (or again, after handle:close) starts watching exactly what libcurl expects to be watched.
local wanted = {}     -- fd -> 1 (in), 2 (out), 3 (both)
local timer_due       -- core.now() seconds when libcurl's timer is due; nil when unset
local attached        -- the attachment receiving libcurl's news
local hooked = false

local function hook(kind, a, b)
  if kind == "socket" then
    if b == 4 then wanted[a] = nil else wanted[a] = b end
    if attached then attached:socket(a, b) end
  else
    timer_due = a >= 0 and core.now() + a / 1000 or nil
    if attached then attached:timer(a) end
  end
end

local function floor_ms(ms)
  ms = math.floor(ms + 0.5)
  return ms < 1 and 1 or ms
end

local SAFETY_MS = 1000   -- while tasks live, a run at least this often (as venice.run does)

--{==================== an attachment ====================

local Attachment = { __name = "venice.uv.Attachment" }
local A = {}
Attachment.__index = A

local function new_attachment(uv, schedule, nvim)
  local self = setmetatable({
    uv = uv,
    nvim = nvim,
    schedule = schedule,
    new_poll = uv.new_socket_poll or uv.new_poll,
    polls = {},              -- fd -> poll handle
    on_poll = {},            -- fd -> its callback (made once per socket)
    stale = {},              -- fd -> a stopped poll whose close waits for the loop to run
    curl_timer = uv.new_timer(),
    wake_timer = uv.new_timer(),
    run_pending = false,
    soon = false,            -- a run is due at the next turn of the loop
    idle_next = nil,         -- seconds to the nearest idle-timeout deadline
  }, Attachment)
  self.run_cb = function() self:run() end
  self.curl_cb = function() self:act(-1, 0) end
  self.wake_cb = function()
    self.soon = false
    self:act(-1, 0)
    self:request_run()
  end
  return self
end

-- Whether the loop is running now. Neovim's loop always is (its callbacks, vim.schedule'd
-- functions and user commands run inside it); luv says so through loop_mode.
function A:loop_running()
  if self.nvim or not self.uv.loop_mode then return true end
  return self.uv.loop_mode() ~= nil
end

function A:request_run()
  if not self.run_pending then
    self.run_pending = true
    self.schedule(self.run_cb)
  end
end

-- Resumes the tasks whose wait is over, outside fast callbacks. A callback raising (an
-- on_done of the callback form runs here) must not leave the other tasks unattended.
function A:run()
  self.run_pending = false
  if attached ~= self then return end
  local ok, err = pcall(tasks.wake)
  self:arm()
  if not ok then
    self:request_run()
    error(err, 0)
  end
end

function A:act(fd, ev)
  if attached ~= self then return end
  self:close_stale()
  local _, activity, idle = core.socket_action(fd, ev)
  self.idle_next = idle
  if activity then self:request_run() end
  self:arm()
end

-- The wake timer: the nearest sleeping task or idle-timeout deadline, and while tasks live at
-- most SAFETY_MS away (a task whose transfer was closed from elsewhere still gets resumed).
function A:arm()
  if attached ~= self then return end
  local ms = tasks.next_deadline_ms()
  if self.idle_next then
    local i = self.idle_next * 1000 + 1
    if not ms or i < ms then ms = i end
  end
  if tasks.count() > 0 and (not ms or ms > SAFETY_MS) then ms = SAFETY_MS end
  if self.soon then ms = 0 end
  self.wake_timer:stop()
  if ms then self.wake_timer:start(floor_ms(ms), 0, self.wake_cb) end
end

function A:poll_cb(fd)
  local cb = self.on_poll[fd]
  if not cb then
    cb = function(err, events)
      local ev = 0
      if err then
        ev = 4
      elseif events then
        if events:find("r", 1, true) then ev = ev + 1 end
        if events:find("w", 1, true) then ev = ev + 2 end
      end
      self:act(fd, ev)
    end
    self.on_poll[fd] = cb
  end
  return cb
end

-- Closes the polls stopped while the loop was not running (their close completes in the loop).
function A:close_stale()
  for fd, p in pairs(self.stale) do
    self.stale[fd] = nil
    p:close()
  end
end

-- libcurl is about to close a socket (4) or wants other events from it. Called from inside
-- libcurl: only handles are touched here.
function A:socket(fd, what)
  local p = self.polls[fd]
  if what == 4 then   -- stop watching before the socket is closed (its number may come back)
    if p then
      self.polls[fd], self.on_poll[fd] = nil, nil
      p:stop()
      -- a handle closed while the loop does not run is finished only when it runs again (luv
      -- 1.44 crashes at exit on one left half-closed): keep it stopped until then
      if self:loop_running() then p:close() else self.stale[fd] = p end
    end
  else
    if not p then
      -- the same number again: reuse its stopped poll (a second handle on one fd would lose the
      -- new socket's registration when the old one closes)
      p = self.stale[fd] or self.new_poll(fd)
      self.stale[fd] = nil
      self.polls[fd] = p
    end
    p:start(what == 1 and "r" or what == 2 and "w" or "rw", self:poll_cb(fd))
  end
end

function A:timer(ms)
  self.curl_timer:stop()
  if ms >= 0 then self.curl_timer:start(ms, 0, self.curl_cb) end
end

-- A wait outside any task (a blocking call made while attached) drives the engine itself and
-- takes the news of activity with it: the tasks get a run at the loop's next turn (not from
-- inside that wait, which may be deep in someone else's coroutine).
function A:step(ms)
  local running, activity = core.step(ms)
  if activity and attached == self then
    self.soon = true
    self:arm()
  end
  return running, activity
end

function A:start()
  attached = self
  if not hooked then
    core.set_loop_hook(hook)
    hooked = true
  end
  self.previous_driver = tasks.set_driver {
    step = function(ms) return self:step(ms) end,
    on_wait = function() self:arm() end,
    -- a task finished from inside a fast callback (task:cancel() there) reports through schedule
    in_fast = self.nvim and self.nvim.in_fast_event or nil,
    defer = self.schedule,
  }
  -- what libcurl already expects to be watched (from an earlier attachment)
  for fd, what in pairs(wanted) do self:socket(fd, what) end
  if timer_due then
    local ms = (timer_due - core.now()) * 1000
    self:timer(ms > 0 and math.floor(ms) or 0)
  end
  self:act(-1, 0)
  self:request_run()   -- tasks that became ready while nothing drove them
end

-- Detaches: every handle stopped and closed, the previous driver back. When the loop is not
-- running (a script that attached luv and never ran it), it is run once without waiting so that
-- the closes complete: luv 1.44 crashes at exit on handles left half-closed.
function A:close()
  if attached ~= self then return end
  attached = nil
  tasks.set_driver(self.previous_driver)
  require("venice.warnings").set_sink(self.previous_sink)
  for fd, p in pairs(self.polls) do
    self.polls[fd] = nil
    p:stop()
    p:close()
  end
  self:close_stale()
  self.curl_timer:stop()
  self.curl_timer:close()
  self.wake_timer:stop()
  self.wake_timer:close()
  if not self:loop_running() then self.uv.run("nowait") end
end

--}====================

-- The handle use_uv returns. Its close works called as handle:close() and as handle.close().
local Handle = { __name = "venice.UvHandle" }

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
  local att = new_attachment(uv, schedule, nvim)
  -- in Neovim, warnings of clients without a log function are shown with vim.notify
  local warnings = require "venice.warnings"
  att.previous_sink = warnings.sink()
  if nvim and type(nvim.notify) == "function" then
    local level = nvim.log and nvim.log.levels and nvim.log.levels.WARN
    warnings.set_sink(function(line) schedule(function() nvim.notify(line, level) end) end)
  end
  --- handle:close(): detaches; the engine goes back to venice.run / venice.poll. Closing twice,
  --- or after another attachment replaced this one, does nothing.
  local handle = setmetatable({ uv = uv, close = function() att:close() end }, Handle)
  att.handle = handle
  att:start()
  return handle
end

return M
